#!/usr/bin/env bash
# Bulk import end to end with the real executable: a 100,000-row persons file with 1 % bad rows is imported into
# one database in one clean run, and into another by a run killed (SIGKILL) half-way and started again. Both must
# end the same: the same persons, the same job figures, the same error report; importing the file again adds nothing.
# Databases: two PostgreSQL URLs as arguments, else two temporary SQLite files.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/jumys
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-import.XXXXXX)
RUNNER=""
cleanup() { if [ -n "$RUNNER" ]; then kill -9 "$RUNNER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
A=${1:-sqlite:$WORK/a.sqlite}
B=${2:-sqlite:$WORK/b.sqlite}
export BCRYPT_COST=8 JUMYS_PASSWORD=importer-password-1
q() { # q URL SQL: one value per line
  case "$1" in
    sqlite:*) sqlite3 "${1#sqlite:}" "$2" ;;
    *) psql "$1" -Atc "$2" ;;
  esac
}
python3 bench/persons_csv.py 100000 "$WORK/persons.csv"
for db in "$A" "$B"; do DATABASE_URL="$db" "$BIN" user add --login importer --role administrator >/dev/null; done

echo "-- one clean run"
DATABASE_URL="$A" "$BIN" import persons "$WORK/persons.csv" --as importer --errors "$WORK/a.errors.csv" 2>/dev/null

echo "-- a run killed half-way, then started again"
DATABASE_URL="$B" "$BIN" import persons "$WORK/persons.csv" --as importer --errors "$WORK/b.errors.csv" >"$WORK/b1.log" 2>&1 &
RUNNER=$!
for _ in $(seq 1 600); do
  done_rows=$(q "$B" "SELECT COALESCE(MAX(rows_done), 0) FROM import_jobs" 2>/dev/null || echo 0)
  [ "${done_rows:-0}" -ge 40000 ] && break
  sleep 0.1
done
kill -9 "$RUNNER"; wait "$RUNNER" 2>/dev/null || true; RUNNER=""
echo "killed at $(q "$B" "SELECT rows_done || ' of ' || rows_total || ' rows, state ' || state FROM import_jobs")"
[ "$(q "$B" "SELECT state FROM import_jobs")" = running ] || { echo "FAIL: the run was not killed half-way"; exit 1; }
DATABASE_URL="$B" "$BIN" import persons "$WORK/persons.csv" --as importer --errors "$WORK/b.errors.csv" 2>/dev/null

echo "-- the same file again"
DATABASE_URL="$A" "$BIN" import persons "$WORK/persons.csv" --as importer --errors "$WORK/a2.errors.csv" 2>/dev/null | tee "$WORK/again.log"
grep -q "nothing is added again" "$WORK/again.log"

summary() {
  q "$1" "SELECT state || ' ' || rows_done || ' ' || added || ' ' || present || ' ' || failed FROM import_jobs"
  q "$1" "SELECT COUNT(*) FROM persons"
  q "$1" "SELECT COUNT(*) FROM person_events"
  q "$1" "SELECT COUNT(*) FROM person_categories"
  q "$1" "SELECT iin FROM persons ORDER BY iin" | sha256sum
}
summary "$A" >"$WORK/a.txt"; summary "$B" >"$WORK/b.txt"
cat "$WORK/a.txt"
diff "$WORK/a.txt" "$WORK/b.txt" || { echo "FAIL: the resumed run differs from the clean run"; exit 1; }
cmp "$WORK/a.errors.csv" "$WORK/b.errors.csv" || { echo "FAIL: the error reports differ"; exit 1; }
[ "$(head -1 "$WORK/a.txt")" = "done 100000 99000 0 1000" ] || { echo "FAIL: expected 99,000 added and 1,000 bad rows"; exit 1; }
[ "$(($(wc -l <"$WORK/a.errors.csv") - 1))" = 1000 ] || { echo "FAIL: expected 1,000 lines in the error report"; exit 1; }
for db in "$A" "$B"; do DATABASE_URL="$db" "$BIN" audit verify >/dev/null; done
echo "import check passed: clean run = killed and resumed run; the file again added nothing; audit chains intact"
