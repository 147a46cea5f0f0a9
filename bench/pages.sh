#!/usr/bin/env bash
# Pages and API under load (issue 11): wrk at 64 connections against a release build of `jumys serve` on a
# database filled by `jumys seed`, next to the same server's /healthz (the bare baseline: routing, middleware and
# a response, no database). Prints requests per second and p50/p99 latency for each, as a Markdown table.
#   swift build -c release --product jumys
#   DATABASE_URL=sqlite:national.sqlite .build/release/jumys seed --scale national
#   bash bench/pages.sh sqlite:national.sqlite [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:?usage: bench/pages.sh DATABASE_URL [SECONDS]}
SECONDS_EACH=${2:-20}
BIN=.build/release/jumys
[ -x "$BIN" ] || { echo "build it first: swift build -c release --product jumys"; exit 1; }
command -v wrk >/dev/null || { echo "install wrk (Debian: apt-get install wrk)"; exit 1; }
WORK=$(mktemp -d /tmp/jumys-pages.XXXXXX)
PORT=${BENCH_PORT:-18161}
BASE="http://127.0.0.1:$PORT"
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
DATABASE_URL="$DB" HOST=127.0.0.1 PORT=$PORT COOKIE_SECURE=false LOG_LEVEL=warning "$BIN" serve --demo >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do curl -fs "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$BASE/readyz" >/dev/null || { cat "$WORK/server.log"; exit 1; }

session() { # session LOGIN -> "COOKIE_HEADER CSRF"
  local jar="$WORK/$1.jar" csrf
  csrf=$(curl -s -c "$jar" -b "$jar" "$BASE/signin" | grep -o 'name="_csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//;s/"//')
  curl -s -c "$jar" -b "$jar" -o /dev/null -d "login=$1&password=demo&_csrf=$csrf" "$BASE/signin"
  csrf=$(curl -s -b "$jar" "$BASE/people" | grep -o 'name="_csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//;s/"//')
  echo "$(sed 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF >= 7 { printf "%s=%s; ", $6, $7 }' | sed 's/; $//')|$csrf"
}
IFS='|' read -r CW CW_CSRF <<<"$(session caseworker.KZ-71)"
IFS='|' read -r AN _ <<<"$(session analyst)"
# A person of the caseworker's district, and a surname to search for.
PERSON=$(curl -s -H "Cookie: $CW" "$BASE/people" | grep -o 'href="/people/[0-9]*"' | head -1 | grep -o '[0-9]*')
SURNAME=$(curl -s -H "Cookie: $CW" "$BASE/people/$PERSON" | grep -o '<h1>[^<]*' | head -1 | sed 's/<h1>//' | awk '{print $1}')
cat >"$WORK/search.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "$CW"
wrk.body = "q=" .. "$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$SURNAME")" .. "&_csrf=$CW_CSRF"
LUA

idle() { # waits until the server has worked off what the last run left queued (a cheap request answers at once)
  for _ in $(seq 1 120); do
    t=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/healthz")
    awk -v t="$t" 'BEGIN { exit !(t < 0.02) }' && return 0
    sleep 1
  done
}
run() { # run NAME HEADER PATH [LUA]
  local out="$WORK/${1//[^a-z]/_}.txt"
  idle
  if [ -n "${4:-}" ]; then wrk -t2 -c64 -d"${SECONDS_EACH}s" --timeout 30s --latency -s "$4" "$BASE$3" >"$out"
  else wrk -t2 -c64 -d"${SECONDS_EACH}s" --timeout 30s --latency -H "$2" "$BASE$3" >"$out"; fi
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$out")
  printf '| %s | `%s` | %s | %s | %s | %s |\n' "$1" "$3" "$rps" "$p50" "$p99" "${non2xx:-0}"
}
echo "| what | address | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
TOKEN=$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"login":"caseworker.KZ-71","password":"demo"}' "$BASE/api/v1/auth/token" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
run "baseline: /healthz" "X-Bench: 1" /healthz
run "caseworker's worklist (home page)" "Cookie: $CW" /
run "person card" "Cookie: $CW" "/people/$PERSON"
run "people search (POST, by surname)" "Cookie: $CW" /people/search "$WORK/search.lua"
run "API: a person (caseworker's token)" "Authorization: Bearer $TOKEN" "/api/v1/persons/$PERSON"
run "API: persons list, first page" "Authorization: Bearer $TOKEN" "/api/v1/persons?limit=50"
run "project board (analyst)" "Cookie: $AN" /projects/board
