#!/usr/bin/env bash
# Import throughput: `jumys import persons` of a 100,000-row file (1 % bad rows) next to the database's own bulk
# load of the same file into a bare table (SQLite's `.import`, PostgreSQL's `\copy`), in the same run.
#   swift build -c release --product jumys
#   bash bench/import.sh [ROWS] [postgres://…/db]     # the PostgreSQL URL is optional
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-100000}
PG=${2:-}
BIN=$(swift build -c release --show-bin-path)/jumys
[ -x "$BIN" ] || { echo "build it first: swift build -c release --product jumys"; exit 1; }
WORK=$(mktemp -d /tmp/jumys-bench-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 bench/persons_csv.py "$ROWS" "$WORK/persons.csv"
export BCRYPT_COST=8 JUMYS_PASSWORD=importer-password-1
now() { date +%s.%N; }
rate() { python3 -c "import sys; n, t = int(sys.argv[1]), float(sys.argv[2]); print(f'{t:.2f} s, {n / t:,.0f} rows/s')" "$1" "$2"; }
COLS="iin TEXT, last_name TEXT, first_name TEXT, middle_name TEXT, district TEXT, rural TEXT, phone TEXT, categories TEXT, consent TEXT"

run() { # run LABEL DATABASE_URL
  DATABASE_URL="$2" "$BIN" user add --login importer --role administrator >/dev/null
  local t0 t1; t0=$(now)
  DATABASE_URL="$2" "$BIN" import persons "$WORK/persons.csv" --as importer --errors "$WORK/errors.csv" >/dev/null 2>&1
  t1=$(now)
  echo "$1 jumys import: $(rate "$ROWS" "$(echo "$t1 - $t0" | bc)")"
}

echo "== SQLite ($ROWS rows)"
run sqlite "sqlite:$WORK/jumys.sqlite"
t0=$(now)
sqlite3 "$WORK/bare.sqlite" "PRAGMA journal_mode=WAL; CREATE TABLE persons_raw ($COLS);" >/dev/null
sqlite3 "$WORK/bare.sqlite" ".separator ;" ".import --skip 1 $WORK/persons.csv persons_raw"
t1=$(now)
echo "sqlite .import (bare table, no checks): $(rate "$ROWS" "$(echo "$t1 - $t0" | bc)")"

if [ -n "$PG" ]; then
  echo "== PostgreSQL ($ROWS rows)"
  run postgres "$PG"
  psql "$PG" -q -c "DROP TABLE IF EXISTS persons_raw; CREATE TABLE persons_raw ($COLS);"
  t0=$(now)
  psql "$PG" -q -c "\\copy persons_raw FROM '$WORK/persons.csv' WITH (FORMAT csv, DELIMITER ';', HEADER true)"
  t1=$(now)
  echo "postgres \\copy (bare table, no checks): $(rate "$ROWS" "$(echo "$t1 - $t0" | bc)")"
  psql "$PG" -q -c "DROP TABLE persons_raw"
fi
