#!/usr/bin/env bash
# Concurrency with the real server (tests/concurrency.py): quotas, limits, payroll and imports stay exact when many
# clients ask at the same moment — a cap with room for N and about 3N parallel attempts gives exactly N, the others
# a clear 4xx, never a 5xx; sums agree; the audit chain verifies. One `serve --demo` on a fresh database.
# Usage: scripts/concurrency_check.sh [POSTGRES_URL]   (an empty PostgreSQL database; else a new SQLite file)
# JUMYS_BIN: a built jumys (default: the package's debug build); CONCURRENCY_PORT (default 18141).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${JUMYS_BIN:-$(swift build --show-bin-path)/jumys}
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-concurrency.XXXXXX)
PORT=${CONCURRENCY_PORT:-18141}
DB=${1:-sqlite:$WORK/concurrency.sqlite}
SERVER=
stop() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap stop EXIT
export HOST=127.0.0.1 COOKIE_SECURE=false BCRYPT_COST=8
DATABASE_URL="$DB" PORT=$PORT "$BIN" serve --demo >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 240); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "the server exited:"; tail -30 "$WORK/server.log"; exit 1; }
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "the server did not get ready:"; tail -30 "$WORK/server.log"; exit 1; }
status=0
JUMYS_BIN="$BIN" CONCURRENCY_LOG="$WORK/server.log" python3 tests/concurrency.py "http://127.0.0.1:$PORT" "$DB" || status=1
if [ $status -ne 0 ]; then
  echo "-- the server's last errors:"
  grep -E "error|warning" "$WORK/server.log" | tail -15 || true
fi
exit $status
