#!/usr/bin/env bash
# Backup and restore with the real executable: `jumys backup` while the server runs (SQLite: VACUUM INTO;
# PostgreSQL: pg_dump), more writes after it, then `jumys restore` into another database: the copy holds what the
# live database held when the backup was taken, its audit chain verifies and its foreign keys hold; on SQLite,
# `restore --replace` puts the live database back to the backup (the old file kept aside).
# Usage: scripts/backup_check.sh [LIVE_POSTGRES_URL RESTORE_POSTGRES_URL]   (two empty databases; else SQLite files)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/jumys
[ -x "$BIN" ] || swift build --product jumys
WORK=$(mktemp -d /tmp/jumys-backup.XXXXXX)
PORT=${BACKUP_PORT:-18111}
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
LIVE=${1:-sqlite:$WORK/live.sqlite}
COPY=${2:-sqlite:$WORK/restored.sqlite}
export HOST=127.0.0.1 PORT COOKIE_SECURE=false BCRYPT_COST=8
q() { case "$1" in sqlite:*) sqlite3 "${1#sqlite:}" "$2" ;; *) psql "$1" -Atc "$2" ;; esac; }
counts() { q "$1" "SELECT (SELECT COUNT(*) FROM persons) || ' persons, ' || (SELECT COUNT(*) FROM audit_log) || ' audit records, ' || (SELECT COUNT(*) FROM users) || ' users'"; }

DATABASE_URL="$LIVE" "$BIN" serve --demo >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$WORK/server.log"; echo "FAIL: the server did not start"; exit 1; }

echo "-- the backup, taken while the server runs"
at_backup=$(counts "$LIVE")
if [[ "$LIVE" == sqlite:* ]]; then BACKUP="$WORK/jumys-backup.sqlite"; else BACKUP="$WORK/jumys-backup.dump"; fi
DATABASE_URL="$LIVE" "$BIN" backup "$BACKUP"
if DATABASE_URL="$LIVE" "$BIN" backup "$BACKUP" 2>/dev/null; then echo "FAIL: a backup overwrote a file"; exit 1; fi

echo "-- more writes after it: 100 persons imported through the API"
python3 bench/persons_csv.py 100 "$WORK/persons.csv" >/dev/null
token=$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"login":"admin","password":"demo"}' "http://127.0.0.1:$PORT/api/v1/auth/token" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
job=$(curl -fsS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' --data-binary "@$WORK/persons.csv" "http://127.0.0.1:$PORT/api/v1/imports/persons" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
for _ in $(seq 1 120); do
  state=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/v1/imports/$job" | python3 -c 'import sys,json; print(json.load(sys.stdin)["state"])')
  [ "$state" = done ] && break; sleep 0.5
done
[ "$state" = done ] || { echo "FAIL: the import did not finish"; exit 1; }
after=$(counts "$LIVE")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
echo "live at the backup: $at_backup"
echo "live now:           $after"

echo "-- restored into another database"
DATABASE_URL="$COPY" "$BIN" restore "$BACKUP"
restored=$(counts "$COPY")
echo "restored:           $restored"
[ "$restored" = "$at_backup" ] || { echo "FAIL: the restored copy is not what the live database held at the backup"; exit 1; }
[ "$restored" != "$after" ] || { echo "FAIL: the writes after the backup should not be in it"; exit 1; }
DATABASE_URL="$COPY" "$BIN" audit verify

if [[ "$LIVE" == sqlite:* ]]; then
  echo "-- restore --replace puts the live database back to the backup"
  if DATABASE_URL="$LIVE" "$BIN" restore "$BACKUP" 2>/dev/null; then echo "FAIL: a restore overwrote a database without --replace"; exit 1; fi
  DATABASE_URL="$LIVE" "$BIN" restore "$BACKUP" --replace >/dev/null
  [ "$(counts "$LIVE")" = "$at_backup" ] || { echo "FAIL: the replaced database is not the backup"; exit 1; }
  [ -f "${LIVE#sqlite:}.before-restore" ] || { echo "FAIL: the replaced database was not kept aside"; exit 1; }
fi
echo "backup check: passed"
