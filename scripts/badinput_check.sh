#!/usr/bin/env bash
# Bad input corpus (issue "Reliability and security"): tests/badinput.py feeds every form and API operation of
# `jumys serve --demo` malformed IINs and BINs, impossible dates, negative and huge money, empty and 10 MB strings,
# wrong enum values, NUL bytes and wrong encodings, and broken CSV and XLSX files; every one must get a clear
# refusal (no 5xx) and write nothing (row counts of every table and the audit log, before and after each request).
# The server runs under a small supervisor: if a bad request kills it, it is started again (the crash is reported,
# with the request and the runtime's message, and the corpus goes on).
# Usage: scripts/badinput_check.sh [POSTGRES_URL]   (an empty database; else a temporary SQLite file)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${JUMYS_BIN:-$(swift build --show-bin-path)/jumys}
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-badinput.XXXXXX)
PORT=${BADINPUT_PORT:-18131}
DB=${1:-sqlite:$WORK/jumys.sqlite}
SUPERVISOR=""
cleanup() {
  touch "$WORK/stop"
  if [ -f "$WORK/server.pid" ]; then kill "$(cat "$WORK/server.pid")" 2>/dev/null || true; fi
  if [ -n "$SUPERVISOR" ]; then wait "$SUPERVISOR" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export DATABASE_URL="$DB" HOST=127.0.0.1 PORT COOKIE_SECURE=false BCRYPT_COST=8

# The server, started again whenever it dies (until $WORK/stop exists).
(
  while [ ! -e "$WORK/stop" ]; do
    "$BIN" serve --demo >>"$WORK/server.log" 2>&1 &
    echo $! >"$WORK/server.pid"
    rc=0; wait $! || rc=$?
    [ -e "$WORK/stop" ] && break
    echo "the server exited with status $rc; starting it again" | tee -a "$WORK/restarts.log" >>"$WORK/server.log"
    sleep 0.5
  done
) &
SUPERVISOR=$!
for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { tail -50 "$WORK/server.log"; echo "FAIL: the server did not start"; exit 1; }

status=0
python3 tests/badinput.py "http://127.0.0.1:$PORT" "$DB" "$WORK/server.log" ${BADINPUT_JSON:+--json "$BADINPUT_JSON"} || status=$?
if [ -s "$WORK/restarts.log" ]; then
  echo "FAIL: the server died $(wc -l <"$WORK/restarts.log") time(s) under bad input; its last words:"
  grep -a -m 5 -A 6 -E "Fatal error|Swift runtime failure|Segmentation fault" "$WORK/server.log" | cut -c1-300 || true
  status=1
fi
# The audit chain is intact after all that.
touch "$WORK/stop"; kill "$(cat "$WORK/server.pid")" 2>/dev/null || true; wait "$SUPERVISOR" 2>/dev/null || true; SUPERVISOR=""
"$BIN" audit verify || { echo "FAIL: the audit chain does not verify"; status=1; }
exit $status
