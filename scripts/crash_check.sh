#!/usr/bin/env bash
# Crash safety with the real server: SIGKILL in the middle of a payroll, a report pack and an import, then start
# again (tests/crash.py). Two databases are seeded alike: the crashed one and a clean one the payroll is run on
# without a crash, to compare.
# Usage: scripts/crash_check.sh [CRASH_POSTGRES_URL CLEAN_POSTGRES_URL]   (two empty databases; else SQLite files)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/jumys
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-crash.XXXXXX)
PORT=${CRASH_PORT:-18121}
trap 'rm -rf "$WORK"' EXIT
A=${1:-sqlite:$WORK/crash.sqlite}
B=${2:-sqlite:$WORK/clean.sqlite}
export HOST=127.0.0.1 COOKIE_SECURE=false BCRYPT_COST=8
for db in "$A" "$B"; do
  DATABASE_URL="$db" "$BIN" seed --scale 0.02 --seed 11 >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log"; exit 1; }
done
# The clean database gets the demonstration accounts and limits the crashed one gets when its server starts.
DATABASE_URL="$B" PORT=$PORT "$BIN" serve --demo >"$WORK/clean.log" 2>&1 &
CLEAN=$!
for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
kill "$CLEAN"; wait "$CLEAN" 2>/dev/null || true
python3 bench/persons_csv.py 20000 "$WORK/persons.csv" >/dev/null
python3 tests/crash.py "$BIN" "$A" "$B" "$PORT" "$WORK" "$WORK/persons.csv"
