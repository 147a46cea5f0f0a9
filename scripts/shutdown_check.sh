#!/usr/bin/env bash
# Graceful shutdown with the real server: SIGTERM arrives while a large import file is still being uploaded. The
# upload must be received and answered (202 and a job), the server must exit by itself with status 0, and the
# database must be closed cleanly (SQLite: no WAL left behind); started again, the server finishes the job.
# Usage: scripts/shutdown_check.sh [POSTGRES_URL]   (else a temporary SQLite file)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/jumys
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-shutdown.XXXXXX)
PORT=${SHUTDOWN_PORT:-18151}
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill -9 "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
export DATABASE_URL=${1:-sqlite:$WORK/jumys.sqlite} HOST=127.0.0.1 PORT COOKIE_SECURE=false BCRYPT_COST=8
q() { case "$DATABASE_URL" in sqlite:*) sqlite3 "${DATABASE_URL#sqlite:}" "$1" ;; *) psql "$DATABASE_URL" -Atc "$1" ;; esac; }
start() {
  "$BIN" serve --demo >>"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0; sleep 0.5; done
  cat "$WORK/server.log"; echo "FAIL: the server did not start"; exit 1
}
start
python3 bench/persons_csv.py 100000 "$WORK/persons.csv" >/dev/null
token=$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"login":"admin","password":"demo"}' "http://127.0.0.1:$PORT/api/v1/auth/token" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
# 8.8 MB at 2 MB/s: the upload is still going when the signal comes.
curl -s --limit-rate 2M -X POST -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' --data-binary "@$WORK/persons.csv" \
     -o "$WORK/answer.json" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/imports/persons" >"$WORK/status" &
UPLOAD=$!
sleep 1
kill -TERM "$SERVER"
set +e; wait "$SERVER"; code=$?; set -e; SERVER=""
wait "$UPLOAD" || true
echo "server exit status $code; the upload was answered $(cat "$WORK/status")"
[ "$code" = 0 ] || { tail -20 "$WORK/server.log"; echo "FAIL: the server did not exit cleanly"; exit 1; }
[ "$(cat "$WORK/status")" = 202 ] || { echo "FAIL: the request in flight was not finished"; exit 1; }
job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/answer.json")
if [[ "$DATABASE_URL" == sqlite:* ]] && [ -s "${DATABASE_URL#sqlite:}-wal" ]; then echo "FAIL: the database was not closed cleanly (WAL left)"; exit 1; fi
echo "job $job: $(q "SELECT state || ', ' || rows_done || ' of ' || rows_total FROM import_jobs WHERE id = $job") at the stop"
start
for _ in $(seq 1 600); do [ "$(q "SELECT state FROM import_jobs WHERE id = $job")" = done ] && break; sleep 0.5; done
[ "$(q "SELECT state FROM import_jobs WHERE id = $job")" = done ] || { echo "FAIL: the job did not finish after the restart"; exit 1; }
echo "job $job: $(q "SELECT state || ', ' || added || ' added, ' || failed || ' refused' FROM import_jobs WHERE id = $job") after the restart"
kill -TERM "$SERVER"; wait "$SERVER"; SERVER=""
"$BIN" audit verify
echo "shutdown check: passed"
