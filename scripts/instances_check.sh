#!/usr/bin/env bash
# Two app instances behind one PostgreSQL (issue 11): `jumys serve` on two ports against one empty database. A
# session started on one is valid on the other; a payroll, a report pack and an import asked for on both at the
# same moment each run once (tests/instances.py checks the database afterwards).
# Usage: scripts/instances_check.sh POSTGRES_URL   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:?usage: scripts/instances_check.sh POSTGRES_URL}
BIN=$(swift build --show-bin-path)/jumys
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-instances.XXXXXX)
PORT_A=${INSTANCE_PORT_A:-18101}
PORT_B=${INSTANCE_PORT_B:-18102}
A="" B=""
cleanup() {
  for p in $A $B; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export DATABASE_URL="$DB" HOST=127.0.0.1 COOKIE_SECURE=false BCRYPT_COST=8

ready() { # ready PORT PID LOG
  for _ in $(seq 1 240); do
    curl -fs "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3"; echo "FAIL: the instance on port $1 exited"; return 1; }
    sleep 0.5
  done
  cat "$3"; echo "FAIL: the instance on port $1 did not become ready"; return 1
}

# A small synthetic registry with its history (placements running this month, for a payroll worth the name), then
# the first instance loads the demonstration accounts; the second finds everything there.
"$BIN" seed --scale 0.002 >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log"; exit 1; }
PORT=$PORT_A "$BIN" serve --demo >"$WORK/a.log" 2>&1 &
A=$!
ready "$PORT_A" "$A" "$WORK/a.log"
PORT=$PORT_B "$BIN" serve --demo >"$WORK/b.log" 2>&1 &
B=$!
ready "$PORT_B" "$B" "$WORK/b.log"
echo "instance A: pid $A, port $PORT_A; instance B: pid $B, port $PORT_B"

python3 bench/persons_csv.py 20000 "$WORK/persons.csv" >/dev/null
python3 tests/instances.py "http://127.0.0.1:$PORT_A" "http://127.0.0.1:$PORT_B" "$DB" "$A" "$B" "$WORK/persons.csv"
# Both instances wrote to one audit chain: it must still verify.
"$BIN" audit verify
