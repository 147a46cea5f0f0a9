#!/usr/bin/env bash
# Smoke test of the real executable: `jumys serve --demo` twice on one database (nothing duplicated),
# the operations endpoints, an API sign-in, and `jumys audit verify` before and after tampering.
# Uses DATABASE_URL if set (PostgreSQL), else a temporary SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/jumys
[ -x "$BIN" ] || swift build --product jumys
PORT=${SMOKE_PORT:-18080}
WORK=$(mktemp -d /tmp/jumys-smoke.XXXXXX)
if [ -z "${DATABASE_URL:-}" ]; then export DATABASE_URL="sqlite:$WORK/jumys.sqlite"; fi
export HOST=127.0.0.1 PORT COOKIE_SECURE=false BCRYPT_COST=${BCRYPT_COST:-8}
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT

start() {
  "$BIN" serve --demo >"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$SERVER" 2>/dev/null; then cat "$WORK/server.log"; echo "server exited"; return 1; fi
    sleep 0.5
  done
  cat "$WORK/server.log"; echo "server did not become ready"; return 1
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

count_persons() {
  local token
  token=$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"login":"analyst","password":"demo"}' "http://127.0.0.1:$PORT/api/v1/auth/token" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
  python3 - "$token" "$PORT" <<'PY'
import json, sys, urllib.request
token, port = sys.argv[1], sys.argv[2]
n, cursor = 0, None
while True:
    url = f"http://127.0.0.1:{port}/api/v1/persons?limit=200" + (f"&cursor={cursor}" if cursor else "")
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    page = json.load(urllib.request.urlopen(req))
    n += len(page["items"])
    cursor = page["next_cursor"]
    if not cursor:
        break
print(n)
PY
}

start
grep -q "Jumys is running at http://127.0.0.1:$PORT" "$WORK/server.log"
grep -q "caseworker.KZ-71" "$WORK/server.log"
curl -fsS "http://127.0.0.1:$PORT/healthz" | grep -q ok
curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -q jumys_http_requests_total
first=$(count_persons)
stop
start
second=$(count_persons)
stop
echo "persons after first start: $first, after second: $second"
[ "$first" -ge 5000 ] && [ "$first" = "$second" ]

"$BIN" audit verify
case "$DATABASE_URL" in
  postgres*) psql "${DATABASE_URL%%\?*}" -qc "UPDATE audit_log SET actor = 'intruder' WHERE seq = 5" ;;
  sqlite:*) python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_log SET actor='intruder' WHERE seq=5\"); c.commit()" "${DATABASE_URL#sqlite:}" ;;
esac
if "$BIN" audit verify; then echo "audit verify should have failed after tampering"; exit 1; fi
# The rules from the command line: a table, JSON, an invalid input (exit 2), and a batch.
"$BIN" calc youth_practice_subsidy month=1 --date 2021-05-01 | grep -q "50172.40 KZT"
"$BIN" calc youth_practice_subsidy month=1 --date 2021-05-01 --json | grep -q '"effective_from":"2021-01-01"'
set +e; "$BIN" calc social_job_subsidy wage=abc month=1 2>"$WORK/calc.err"; status=$?; set -e
[ "$status" = 2 ] && grep -q "wage" "$WORK/calc.err"
printf '%s\n' '{"rule":"relocation_subsidy","date":"2021-05-01","inputs":{"move":"other_region","family_members":1}}' '{"rule":"nope"}' >"$WORK/in.jsonl"
"$BIN" calc-batch --input "$WORK/in.jsonl" --output "$WORK/out.jsonl"
grep -q '"result":"247945.00"' "$WORK/out.jsonl" && grep -q '"error"' "$WORK/out.jsonl"
"$BIN" bench rules --count 20000 | tail -n 1 | grep -q "persons/s:"
echo "smoke: passed"
