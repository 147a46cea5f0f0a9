"""Two app instances on one PostgreSQL (started by scripts/instances_check.sh): a session started on one is valid on
the other (and ended on either); a payroll, a report pack and a persons import asked for on both at the same moment
each run once — checked in the database: no job of the same work was active twice at once, none was taken up twice,
the payroll's lines and the import's rows and errors are there once.
Usage: python3 tests/instances.py URL_A URL_B POSTGRES_URL PID_A PID_B PERSONS_CSV"""
import datetime
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

a, b, db, pid_a, pid_b, persons_csv = sys.argv[1:7]
instance = {pid_a: "A", pid_b: "B"}
passed, failed = 0, []


def check(cond, what):
    global passed
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        passed += 1
    else:
        failed.append(what)


def psql(sql):
    return subprocess.run(["psql", db, "-Atc", sql], capture_output=True, text=True, check=True).stdout.strip()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


class Client:
    """A browser's cookies, sent to whichever instance is asked."""

    def __init__(self):
        self.cookies, self.csrf = {}, ""

    def request(self, url, data=None, headers=None, method=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        req = urllib.request.Request(url, data=data, headers=h, method=method)
        try:
            r = opener.open(req)
        except urllib.error.HTTPError as e:
            r = e
        body = r.read().decode("utf-8", "replace")
        for c in r.headers.get_all("Set-Cookie") or []:
            name, value = c.split(";")[0].split("=", 1)
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        m = re.search(r'name="_csrf" value="([0-9a-f]+)"', body)
        if m:
            self.csrf = m.group(1)
        return r.status, body, r.headers

    def get(self, url):
        return self.request(url)

    def post(self, url, fields):
        data = urllib.parse.urlencode({**fields, "_csrf": self.csrf}).encode()
        return self.request(url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, base, login):
        self.get(base + "/signin")
        return self.post(base + "/signin", {"login": login, "password": "demo"})


def at_once(*calls):
    """Runs the calls in threads released together; returns their results in order."""
    gate, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, f):
        gate.wait()
        out[i] = f()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def wait_job(client, base, location, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        status, body, headers = client.get(base + location)
        if status == 200 and headers.get("Refresh") is None:
            return body
        time.sleep(0.3)
    raise SystemExit(f"the job at {location} did not finish")


def ran_once(kind, subject):
    """Every job of this work was taken up once, by one instance, and no two were waiting or running at once."""
    rows = [r.split("|") for r in psql(f"SELECT id, runs, ran_by, created_at, finished_at, state FROM background_jobs "
                                       f"WHERE kind = '{kind}' AND subject = '{subject}' ORDER BY id").splitlines()]
    check(rows and all(r[1] == "1" and r[5] == "done" for r in rows), f"{kind} {subject}: {len(rows)} job(s), each taken up once and done")
    overlap = any(rows[i + 1][3] < rows[i][4] for i in range(len(rows) - 1))
    check(not overlap, f"{kind} {subject}: no two jobs of it were active at the same time")
    print("     ran on: " + ", ".join(f"job {r[0]} on instance {instance.get(r[2].split(':')[1], '?')}" for r in rows))
    return rows


# A session started on A is valid on B, and ended on B it is ended on A.
admin = Client()
status, _, headers = admin.sign_in(a, "admin")
check(status == 303 and headers.get("Location") == "/", "the administrator signs in on instance A")
status, body, _ = admin.get(b + "/")
check(status == 200 and "/signout" in body, "the same session is valid on instance B")
kept = dict(admin.cookies)
admin.post(b + "/signout", {})
admin.cookies = kept  # the old session cookie, replayed on A after signing out on B
status, _, headers = admin.get(a + "/")
check(status == 303 and "/signin" in (headers.get("Location") or ""), "signed out on B, the same cookie no longer opens A")
admin = Client()
admin.sign_in(b, "admin")

# The month's payroll asked for on both at the same moment.
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
month = f"{today.year:04d}-{today.month:02d}"
admin.get(a + f"/payroll?month={month}")
ra, rb = at_once(lambda: admin.post(a + "/payroll/run", {"month": month}), lambda: admin.post(b + "/payroll/run", {"month": month}))
check(ra[0] == 303 and rb[0] == 303, "the payroll is asked for on A and on B at once: both go to a job's page")
for base, r in ((a, ra), (b, rb)):
    wait_job(admin, base, r[2]["Location"])
print(f"     A went to {ra[2]['Location']}, B to {rb[2]['Location']}")
rows = ran_once("payroll", month)
lines, distinct = psql(f"SELECT COUNT(*), COUNT(DISTINCT placement_id) FROM payroll_lines WHERE month = '{month}' AND kind = 'regular'").split("|")
added = sum(int(json.loads(psql(f"SELECT result FROM background_jobs WHERE id = {r[0]}"))["added"]) for r in rows)
check(int(lines) == int(distinct) == added, f"payroll {month}: {lines} lines, one per placement, all added by one run ({added})")

# The API's run on both at once: the same job, or the later run adds nothing.
token = json.loads(urllib.request.urlopen(urllib.request.Request(a + "/api/v1/auth/token", data=b'{"login":"admin","password":"demo"}',
                                                                  headers={"Content-Type": "application/json"})).read())["token"]
api = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
next_month = (today.replace(day=28) + datetime.timedelta(days=4)).strftime("%Y-%m")
pa, pb = at_once(lambda: Client().request(a + f"/api/v1/payroll/{next_month}/run", data=b"{}", headers=api),
                 lambda: Client().request(b + f"/api/v1/payroll/{next_month}/run", data=b"{}", headers=api))
ja, jb = json.loads(pa[1]), json.loads(pb[1])
check(pa[0] == 200 and pb[0] == 200 and (ja["job_id"] == jb["job_id"] or min(ja["added"], jb["added"]) == 0),
      f"the API's payroll for {next_month} on A and B at once: jobs {ja['job_id']} and {jb['job_id']}, added {ja['added']} and {jb['added']}")
ran_once("payroll", next_month)

# A report pack asked for on both at once by the same analyst.
analyst = Client()
analyst.sign_in(a, "analyst")
last = today.replace(day=1) - datetime.timedelta(days=1)
period = f"{last.year:04d}-{last.month:02d}"
analyst.get(a + f"/reports/programme_monthly/{period}")
ra, rb = at_once(lambda: analyst.post(a + f"/reports/programme_monthly/{period}/pack", {}), lambda: analyst.post(b + f"/reports/programme_monthly/{period}/pack", {}))
check(ra[0] == 303 and rb[0] == 303, "the report pack is asked for on A and on B at once")
for base, r in ((a, ra), (b, rb)):
    body = wait_job(analyst, base, r[2]["Location"])
print(f"     A went to {ra[2]['Location']}, B to {rb[2]['Location']}")
ran_once("report_pack", f"programme_monthly/{period}")
status, _, headers = analyst.get(b + ra[2]["Location"] + "/file")
check(status == 200 and "spreadsheetml" in headers.get("Content-Type", ""), "the workbook made on one instance downloads from the other")

# The same persons file sent to both at once: one job, run by one instance, every row once.
data = open(persons_csv, "rb").read()
up = {"Authorization": "Bearer " + token, "Content-Type": "text/csv", "X-File-Name": "persons.csv"}
before = int(psql("SELECT COUNT(*) FROM persons"))
ia, ib = at_once(lambda: Client().request(a + "/api/v1/imports/persons", data=data, headers=up),
                 lambda: Client().request(b + "/api/v1/imports/persons", data=data, headers=up))
job_a, job_b = json.loads(ia[1]), json.loads(ib[1])
check(job_a["id"] == job_b["id"] and sorted([ia[0], ib[0]]) in ([200, 202], [202, 202], [200, 200]), f"the file sent to A and B at once is one import job ({job_a['id']})")
end = time.time() + 600
while time.time() < end:
    job = json.loads(Client().request(b + f"/api/v1/imports/{job_a['id']}", headers=api)[1])
    if job["state"] in ("done", "failed"):
        break
    time.sleep(0.5)
errors = int(psql(f"SELECT COUNT(*) FROM import_errors WHERE job_id = {job_a['id']}"))
after = int(psql("SELECT COUNT(*) FROM persons"))
check(job["state"] == "done" and job["rows_done"] == job["rows_total"] == 20000 and job["added"] + job["failed"] + job["present"] == 20000,
      f"the import ran to its end: {job['added']} added, {job['failed']} refused, {job['present']} present")
check(after - before == job["added"] and errors == job["failed"] == 200, f"every row once: {after - before} persons added, {errors} errors reported (not doubled)")
print(f"     the import's audit: {psql(f'''SELECT COUNT(*) FROM audit_log WHERE entity = 'import_job' AND entity_id = '{job_a['id']}' AND action = 'import' ''')} batches")

print(f"instances: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
