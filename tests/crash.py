"""Crash safety with the real server (started and killed here): SIGKILL in the middle of a payroll, a report pack and
an import, then start again. Each interrupted job must be taken up again by itself and end as the same work done
without a crash (the payroll: the same lines as a clean run on an identical database; the import: every row once),
and the database must stay consistent: the audit chain verifies, the foreign keys hold, the month's lines add up to
what was committed against the limits.
Usage: python3 tests/crash.py JUMYS_BIN CRASH_DB_URL CLEAN_DB_URL PORT WORKDIR PERSONS_CSV   (both databases seeded alike)"""
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import threading
import zipfile
import io

binary, crash_db, clean_db, port, work, persons_csv = sys.argv[1:7]
base = f"http://127.0.0.1:{port}"
passed, failed = 0, []


def check(cond, what):
    global passed
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if cond:
        passed += 1
    else:
        failed.append(what)


def q(db, sql):
    if db.startswith("sqlite:"):
        out = subprocess.run(["sqlite3", db[len("sqlite:"):], sql], capture_output=True, text=True, check=True).stdout
    else:
        out = subprocess.run(["psql", db, "-Atc", sql], capture_output=True, text=True, check=True).stdout
    return out.strip()


env = dict(os.environ, DATABASE_URL=crash_db, HOST="127.0.0.1", PORT=port, COOKIE_SECURE="false", BCRYPT_COST="8")
server = None


def start():
    global server
    server = subprocess.Popen([binary, "serve", "--demo"], env=env, stdout=open(os.path.join(work, "server.log"), "a"), stderr=subprocess.STDOUT)
    for _ in range(480):
        try:
            urllib.request.urlopen(base + "/readyz", timeout=2)
            return
        except Exception:
            time.sleep(0.25)
    raise SystemExit("the server did not start")


def kill_when(sql, what, timeout=120):
    """Polls the crash database until `sql` answers 1 (the job is half-way), then kills the server with SIGKILL."""
    end = time.time() + timeout
    while time.time() < end:
        if q(crash_db, sql) == "1":
            server.send_signal(signal.SIGKILL)
            server.wait()
            print(f"     killed half-way through {what}", flush=True)
            return True
        if server.poll() is not None:
            raise SystemExit("the server exited by itself")
        time.sleep(0.02)
    return False


def wait_for(sql, timeout=180):
    end = time.time() + timeout
    while time.time() < end:
        if q(crash_db, sql) == "1":
            return True
        time.sleep(0.25)
    return False


def api(path, data=None, token=None, content_type="application/json"):
    h = {"Content-Type": content_type}
    if token:
        h["Authorization"] = "Bearer " + token
    try:
        r = urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=h), timeout=600)
    except urllib.error.HTTPError as e:
        r = e
    except Exception as e:  # the server killed under the request
        return 0, str(e)
    return r.status, r.read().decode()


today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
month = f"{today.year:04d}-{today.month:02d}"
last = today.replace(day=1) - datetime.timedelta(days=1)
period = f"{last.year:04d}-{last.month:02d}"
start()
token = json.loads(api("/api/v1/auth/token", b'{"login":"admin","password":"demo"}')[1])["token"]

# 1. The month's payroll, killed half-way (the API's request dies with the server; the job stays in the database).
threading.Thread(target=lambda: api(f"/api/v1/payroll/{month}/run", b"{}", token), daemon=True).start()
half = f"SELECT COUNT(*) FROM background_jobs WHERE kind = 'payroll' AND subject = '{month}' AND state = 'running' AND done > 0 AND done < total"
check(kill_when(half, f"the payroll of {month}"), "the payroll was interrupted half-way")
lines_at_kill = q(crash_db, f"SELECT COUNT(*) FROM payroll_lines WHERE month = '{month}'")
start()
check(wait_for(f"SELECT COUNT(*) FROM background_jobs WHERE kind = 'payroll' AND subject = '{month}' AND state = 'done' AND runs = 2"),
      f"started again, the server took the payroll up by itself and finished it ({lines_at_kill} lines were there at the kill)")
subprocess.run([binary, "payroll", "--month", month, "--out", work], env=dict(env, DATABASE_URL=clean_db), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
lines = f"SELECT placement_id || ':' || amount || ':' || month_index FROM payroll_lines WHERE month = '{month}' ORDER BY placement_id"
crashed, clean = q(crash_db, lines).splitlines(), q(clean_db, lines).splitlines()
check(len(crashed) > 0 and crashed == clean, f"the interrupted payroll's {len(crashed)} lines are those of a clean run ({len(clean)})")
paid = q(crash_db, f"SELECT COALESCE(SUM(amount), 0) FROM payroll_lines WHERE month = '{month}'")
committed = q(crash_db, f"SELECT COALESCE(SUM(amount), 0) FROM limit_commitments WHERE reference LIKE 'payroll:{month}:%'")
check(paid == committed, f"the month's lines add up to what was committed against the limits ({paid} = {committed} tiyn)")

# 2. A report pack, killed half-way.
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener, cookies = urllib.request.build_opener(NoRedirect), {}


def page(path, fields=None):
    h = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    data = None
    if fields is not None:
        data = urllib.parse.urlencode(fields).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        r = opener.open(urllib.request.Request(base + path, data=data, headers=h))
    except urllib.error.HTTPError as e:
        r = e
    for c in r.headers.get_all("Set-Cookie") or []:
        name, value = c.split(";")[0].split("=", 1)
        cookies[name] = value
    body = r.read()
    m = re.search(rb'name="_csrf" value="([0-9a-f]+)"', body)
    return r, body, (m.group(1).decode() if m else "")


_, _, csrf = page("/signin")
page("/signin", {"login": "analyst", "password": "demo", "_csrf": csrf})
_, _, csrf = page(f"/reports/programme_monthly/{period}")
threading.Thread(target=lambda: page(f"/reports/programme_monthly/{period}/pack", {"_csrf": csrf}), daemon=True).start()
half = f"SELECT COUNT(*) FROM background_jobs WHERE kind = 'report_pack' AND state = 'running' AND done > 0 AND done < total"
check(kill_when(half, "the report pack"), "the report pack was interrupted half-way")
start()
check(wait_for("SELECT COUNT(*) FROM background_jobs WHERE kind = 'report_pack' AND state = 'done' AND runs = 2"), "started again, the pack was made by itself")
job = q(crash_db, "SELECT id FROM background_jobs WHERE kind = 'report_pack'")
r, body, _ = page(f"/jobs/{job}/file")
sheets = [n for n in zipfile.ZipFile(io.BytesIO(body)).namelist() if n.startswith("xl/worksheets/")] if r.status == 200 else []
check(len(sheets) == 21, f"its workbook has the nation and the 20 regions ({len(sheets)} sheets)")

# 3. A persons import through the API, killed half-way.
before = int(q(crash_db, "SELECT COUNT(*) FROM persons"))
status, body = api("/api/v1/imports/persons", open(persons_csv, "rb").read(), token, "text/csv")
imp = json.loads(body)["id"]
check(kill_when(f"SELECT COUNT(*) FROM import_jobs WHERE id = {imp} AND state = 'running' AND rows_done > 0 AND rows_done < rows_total", "the import"),
      "the import was interrupted half-way")
start()
check(wait_for(f"SELECT COUNT(*) FROM import_jobs WHERE id = {imp} AND state = 'done'"), "started again, the import finished by itself")
added, present, failed_rows, total = map(int, q(crash_db, f"SELECT added || '|' || present || '|' || failed || '|' || rows_total FROM import_jobs WHERE id = {imp}").split("|"))
errors = int(q(crash_db, f"SELECT COUNT(*) FROM import_errors WHERE job_id = {imp}"))
after = int(q(crash_db, "SELECT COUNT(*) FROM persons"))
check(added + present + failed_rows == total and after - before == added and errors == failed_rows,
      f"every row once: {added} added, {present} already registered, {failed_rows} refused, {errors} errors reported")

server.send_signal(signal.SIGTERM)
server.wait()

# 4. The database as a whole.
verify = subprocess.run([binary, "audit", "verify"], env=env, capture_output=True, text=True)
check(verify.returncode == 0, "the audit chain verifies: " + verify.stdout.strip())
if crash_db.startswith("sqlite:"):
    check(q(crash_db, "PRAGMA integrity_check") == "ok" and q(crash_db, "PRAGMA foreign_key_check") == "", "SQLite: integrity ok, no foreign key broken")
print(f"crash: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
