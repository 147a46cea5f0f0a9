"""Concurrency with the real server (started by scripts/concurrency_check.sh): quotas, limits, payroll and imports stay
exact when many clients ask at the same moment, on SQLite (one writer) and on PostgreSQL (row locks). Each scenario
sets up a cap that is really contended (room for exactly N and about 3N parallel attempts, released together by a
barrier), then checks the database directly: the cap holds exactly (not over, not under), every refused request got a
clear 4xx and none a 5xx, the sums agree (commitments with the limit's committed amount, disbursements with the credit's
used amount), and at the end the audit chain verifies.
Usage: python3 tests/concurrency.py BASE_URL DATABASE_URL   (JUMYS_BIN for `jumys audit verify`; CONCURRENCY_LOG: the
server's log, to name the errors behind a 5xx; CONCURRENCY_ONLY=name,name runs some scenarios only)"""
import csv
import datetime
import io
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

base, database = sys.argv[1].rstrip("/"), sys.argv[2]
binary = os.environ.get("JUMYS_BIN", "")
server_log = os.environ.get("CONCURRENCY_LOG", "")
only = {s for s in os.environ.get("CONCURRENCY_ONLY", "").split(",") if s}
passed, failed = 0, []
seed = int(os.environ.get("CONCURRENCY_SEED", str(int(time.time()))))
rng = random.Random(seed)


def check(cond, what):
    global passed
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if cond:
        passed += 1
    else:
        failed.append(what)
    return cond


def note(text):
    print("     " + text, flush=True)


# ---------------------------------------------------------------- the database, read directly

def q(sql):
    """Rows of a query as tuples of strings (None for NULL), read-only."""
    if database.startswith("sqlite:"):
        path = database[len("sqlite:"):]
        if path.startswith("//"):
            path = path[2:]
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return [tuple(None if v is None else str(v) for v in r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()
    out = subprocess.run(["psql", database, "-X", "-q", "-At", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, check=True).stdout
    return [tuple(None if v == "" else v for v in line.split("\x1f")) for line in out.splitlines()]


def q1(sql):
    rows = q(sql)
    return rows[0][0] if rows else None


def qi(sql):
    v = q1(sql)
    return int(v) if v is not None else 0


# ---------------------------------------------------------------- HTTP: the API and the pages

class Response:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return {}

    def __repr__(self):
        return f"{self.status} {self.body[:300]!r}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def http(method, path, data=None, headers=None, timeout=300):
    req = urllib.request.Request(base + path, data=data, headers=dict(headers or {}), method=method)
    try:
        r = opener.open(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        r = e
    except Exception as e:  # a dropped connection counts as a server failure
        return Response(0, f"{type(e).__name__}: {e}", {})
    return Response(r.status, r.read().decode("utf-8", "replace"), r.headers)


def api(method, path, body=None, token=None, headers=None, raw=None, content_type="application/json"):
    h = {"Content-Type": content_type, "Accept-Language": "en"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return http(method, path, data, h)


tokens = {}


def token(login):
    if login not in tokens:
        r = api("POST", "/api/v1/auth/token", {"login": login, "password": "demo"})
        if r.status != 200:
            raise SystemExit(f"no token for {login}: {r}")
        tokens[login] = r.json()["token"]
    return tokens[login]


class Browser:
    """A signed-in user of the pages: its session cookie and CSRF token, shared by many threads (read-only)."""

    def __init__(self, login):
        self.cookies, self.csrf = {}, ""
        self._request("GET", "/signin")
        r = self._request("POST", "/signin", {"login": login, "password": "demo", "_csrf": self.csrf})
        if r.status != 303:
            raise SystemExit(f"{login} could not sign in: {r.status}")
        self._request("GET", "/")

    def _request(self, method, path, fields=None):
        h = {"Accept-Language": "en"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if fields is not None:
            data = urllib.parse.urlencode(fields).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        r = http(method, path, data, h)
        for c in (r.headers.get_all("Set-Cookie") if hasattr(r.headers, "get_all") else None) or []:
            name, value = c.split(";")[0].split("=", 1)
            if value:
                self.cookies[name] = value
        m = re.search(r'name="_csrf" value="([0-9a-f]+)"', r.body)
        if m:
            self.csrf = m.group(1)
        return r

    def post(self, path, fields):
        h = {"Accept-Language": "en", "Content-Type": "application/x-www-form-urlencoded",
             "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        return http("POST", path, urllib.parse.urlencode({**fields, "_csrf": self.csrf}).encode(), h)


def at_once(calls):
    """Runs the calls in threads released together by a barrier; their results in order."""
    gate, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, f):
        gate.wait()
        try:
            out[i] = f()
        except BaseException as e:  # noqa: B036 — a client that broke is reported, never lost
            out[i] = Response(0, f"{type(e).__name__}: {e}", {})

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def tally(results):
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n}×{s}" for s, n in sorted(counts.items()))


def statuses_ok(results, ok, refused=(409, 422), what=""):
    """Every answer is a success or a clear refusal; returns the number of successes. A 5xx (or a dropped
    connection) fails the check, with one of its bodies shown."""
    bad = [r for r in results if r.status not in ok and r.status not in refused]
    allowed = "/".join(map(str, ok)) + (" or a clear " + "/".join(map(str, refused)) if refused else "")
    check(not bad, f"{what}: every answer is {allowed} ({tally(results)})")
    if bad:
        note(f"e.g. {bad[0]!r}")
    return sum(1 for r in results if r.status in ok)


# ---------------------------------------------------------------- fixtures

today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
month = f"{today.year:04d}-{today.month:02d}"
last_month_day = today.replace(day=1) - datetime.timedelta(days=1)
last_month = f"{last_month_day.year:04d}-{last_month_day.month:02d}"
iso = today.isoformat


# The IIN/BIN check digit as the bench's persons file computes it (one copy for the scripts).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from persons_csv import check_digit  # noqa: E402


used_iins = set()


def new_iins(n, years=(1990, 2001)):
    """IINs not registered yet (nor handed out before in this run)."""
    out = []
    while len(out) < n:
        y, m, d = rng.randint(*years), rng.randint(1, 12), rng.randint(1, 28)
        digits = [y % 100 // 10, y % 10, m // 10, m % 10, d // 10, d % 10, (3 if rng.random() < 0.5 else 4) if y < 2000 else (5 if rng.random() < 0.5 else 6)]
        digits += [int(c) for c in f"{rng.randint(0, 9999):04d}"]
        c = check_digit(digits)
        if c is None:
            continue
        iin = "".join(map(str, digits)) + str(c)
        if iin not in used_iins:
            used_iins.add(iin)
            out.append(iin)
    known = set()
    for i in range(0, len(out), 500):
        known |= {r[0] for r in q("SELECT iin FROM persons WHERE iin IN (" + ",".join(f"'{x}'" for x in out[i:i + 500]) + ")")}
    return [x for x in out if x not in known] + (new_iins(len(known & set(out)), years) if known else [])


_year = [0]


def fresh_year():
    """A budget year nothing has touched yet (no limits, allocations, changes or projects)."""
    if not _year[0]:
        _year[0] = max(qi("SELECT COALESCE(MAX(year), 0) FROM funding_limits"), qi("SELECT COALESCE(MAX(year), 0) FROM limit_allocations"),
                       qi("SELECT COALESCE(MAX(year), 0) FROM limit_changes"), qi("SELECT COALESCE(MAX(year), 0) FROM projects"), today.year + 2) + 1
    _year[0] += 1
    if _year[0] > 2100:
        raise SystemExit("no fresh budget year left")
    return _year[0]


def ids():
    """Reference ids the scenarios use, read once."""
    if not hasattr(ids, "v"):
        org = dict(q("SELECT code, id FROM organisations"))
        dist = dict(q("SELECT kato, id FROM districts"))
        ids.v = {"contractor.demo": int(org["contractor.demo"]), "provider.demo": int(org["provider.demo"]), "lender.demo": int(org["lender.demo"]),
                 "akimat.KZ-71": int(org["akimat.KZ-71"]), "akimat.KZ-35": int(org["akimat.KZ-35"]),
                 "yesil": int(dist["710300000"]), "abay": int(dist["350300000"]),
                 "kz35_districts": [int(r[0]) for r in q("SELECT id FROM districts WHERE region_iso = 'KZ-35' ORDER BY id")]}
    return ids.v


def register(iin, categories=("unemployed", "job_seeker"), isco="7112", login="caseworker.KZ-71"):
    # A caseworker registers in their own district (sent without one, it is theirs).
    r = api("POST", "/api/v1/persons", {"iin": iin, "last_name": "Тестов", "first_name": "Параллель", "consent": True, "categories": list(categories),
                                        "occupation_isco": isco}, token(login))
    if r.status != 201:
        raise RuntimeError(f"register {iin}: {r}")
    return r.json()["id"]


def vacancy(places, isco="7112", login="caseworker.KZ-71"):
    r = api("POST", "/api/v1/vacancies", {"employer_id": ids()["contractor.demo"], "title": "Дәнекерлеуші (concurrency)", "isco": isco, "wage": "250000",
                                          "places": places, "valid_from": iso(), "valid_until": (today + datetime.timedelta(days=90)).isoformat()}, token(login))
    if r.status != 201:
        raise RuntimeError(f"vacancy: {r}")
    return r.json()["id"]


def refer(person, vac, login="caseworker.KZ-71"):
    r = api("POST", "/api/v1/referrals", {"person_id": person, "vacancy_id": vac}, token(login))
    if r.status != 201:
        raise RuntimeError(f"referral: {r}")
    return r.json()["id"]


def hire_body(subsidised="social_job"):
    body = {"outcome": "hired", "position": "Дәнекерлеуші", "starts_on": iso(), "wage": "250000"}
    if subsidised:
        body["subsidised"] = subsidised
    return body


def limit_row(year, direction, region, district=0):
    rows = q(f"SELECT id, amount, committed FROM funding_limits WHERE year = {year} AND direction = '{direction}' AND region_iso = '{region}' AND district_id = {district}")
    return tuple(int(x) for x in rows[0]) if rows else None


def set_limit(year, direction, region, tenge):
    """A fresh year's limit of exactly `tenge` (a correction the ministry proposes and the commission approves)."""
    r = api("POST", "/api/v1/limits/changes", {"year": year, "kind": "correction", "to_region": region, "to_direction": direction,
                                               "amount": f"{tenge}.00", "reason": "concurrency test"}, token("ministry.officer"))
    if r.status != 201:
        raise RuntimeError(f"correction: {r}")
    d = api("POST", f"/api/v1/limits/changes/{r.json()['id']}/decision", {"approve": True, "decision": "ВАК (concurrency)"}, token("interagency"))
    if d.status != 200:
        raise RuntimeError(f"correction decision: {d}")


def commitments_agree(what):
    """Every limit's committed amount is the sum of what is committed on it, and never above the limit."""
    bad = q("""SELECT l.id, l.year, l.direction, l.region_iso, l.district_id, l.amount, l.committed, COALESCE(c.s, 0) FROM funding_limits l
               LEFT JOIN (SELECT limit_id AS id, SUM(amount) AS s FROM limit_commitments GROUP BY limit_id) c ON c.id = l.id
               WHERE l.district_id = 0 AND (l.committed <> COALESCE(c.s, 0) OR l.committed > l.amount OR l.committed < 0)
               UNION ALL
               SELECT l.id, l.year, l.direction, l.region_iso, l.district_id, l.amount, l.committed, COALESCE(c.s, 0) FROM funding_limits l
               LEFT JOIN (SELECT district_limit_id AS id, SUM(amount) AS s FROM limit_commitments GROUP BY district_limit_id) c ON c.id = l.id
               WHERE l.district_id <> 0 AND (l.committed <> COALESCE(c.s, 0) OR l.committed > l.amount OR l.committed < 0)""")
    check(not bad, f"{what}: every limit's committed amount equals the sum of its commitments and stays within the limit")
    for b in bad[:5]:
        note(f"limit {b[0]} ({b[1]} {b[2]} {b[3]} district {b[4]}): amount {b[5]}, committed {b[6]}, commitments {b[7]}")


# ---------------------------------------------------------------- scenarios

def persons_same_iin():
    """A person registered by 24 clients at once with the same IIN is one person (A2; persons.iin is unique)."""
    iin = new_iins(1)[0]
    body = {"iin": iin, "last_name": "Бірдей", "first_name": "ЖСН", "consent": True, "categories": ["unemployed"], "district_id": ids()["yesil"]}
    rs = at_once([lambda: api("POST", "/api/v1/persons", body, token("caseworker.KZ-71"))] * 24)
    ok = statuses_ok(rs, (201,), what="24 registrations of one IIN at once")
    n = qi(f"SELECT COUNT(*) FROM persons WHERE iin = '{iin}'")
    check(ok == 1 and n == 1, f"24 registrations of one IIN at once: one person ({n} stored, {ok} answered 201)")
    codes = {}
    for r in rs:
        for e in r.json().get("errors", []) if r.status == 422 else []:
            codes[e.get("code")] = codes.get(e.get("code"), 0) + 1
    note("the refusals said: " + ", ".join(f"{n}× {c}" for c, n in sorted(codes.items())) + " (all in the same district)")
    # 20 different people at once are all registered (nobody refused for being busy).
    many = new_iins(20)
    rs = at_once([(lambda i=i: api("POST", "/api/v1/persons", {**body, "iin": i}, token("caseworker.KZ-71"))) for i in many])
    ok = statuses_ok(rs, (201,), refused=(), what="20 registrations of different IINs at once")
    n = qi("SELECT COUNT(*) FROM persons WHERE iin IN (" + ",".join(f"'{i}'" for i in many) + ")")
    check(ok == 20 and n == 20, f"20 different people registered at once: all 20 stored ({n})")


def idempotency():
    """Idempotency-Key (openapi.yaml, Retries): the same key and request from 16 clients at once runs once; the others
    get 409 while it runs or its answer replayed; the same key with other bodies runs at most one of them."""
    iin = new_iins(1)[0]
    body = {"iin": iin, "last_name": "Қайталау", "first_name": "Кілт", "consent": True, "categories": ["unemployed"], "district_id": ids()["yesil"]}
    key = f"conc-{rng.randrange(10**12)}"
    rs = at_once([lambda: api("POST", "/api/v1/persons", body, token("caseworker.KZ-71"), headers={"Idempotency-Key": key})] * 16)
    statuses_ok(rs, (201,), refused=(409,), what="16 POSTs with one Idempotency-Key")
    fresh = [r for r in rs if r.status == 201 and r.headers.get("Idempotent-Replayed") != "true"]
    n = qi(f"SELECT COUNT(*) FROM persons WHERE iin = '{iin}'")
    check(len(fresh) == 1 and n == 1, f"one Idempotency-Key from 16 clients at once: run once ({len(fresh)} fresh answer, {n} person)")
    again = api("POST", "/api/v1/persons", body, token("caseworker.KZ-71"), headers={"Idempotency-Key": key})
    check(again.status == 201 and again.headers.get("Idempotent-Replayed") == "true" and fresh and again.headers.get("Location") == fresh[0].headers.get("Location"),
          f"a retry afterwards gets the first answer replayed ({again.status}, replayed={again.headers.get('Idempotent-Replayed')})")
    keys = qi(f"SELECT COUNT(*) FROM idempotency_keys WHERE key = '{key}'")
    check(keys == 1, f"the key is stored once ({keys})")
    # Different keys, same person: one registration, the others refused by the IIN check.
    iin2 = new_iins(1)[0]
    rs = at_once([(lambda k=k: api("POST", "/api/v1/persons", {**body, "iin": iin2}, token("caseworker.KZ-71"), headers={"Idempotency-Key": f"conc-{k}-{iin2}"})) for k in range(16)])
    ok = statuses_ok(rs, (201,), what="16 POSTs of one person with 16 different keys")
    n = qi(f"SELECT COUNT(*) FROM persons WHERE iin = '{iin2}'")
    check(ok == 1 and n == 1, f"one person under 16 different keys at once: one stored ({n}), one 201 ({ok})")
    # One key, 16 different bodies: at most one of them runs.
    others = new_iins(16)
    key3 = f"conc-{rng.randrange(10**12)}"
    rs = at_once([(lambda i=i: api("POST", "/api/v1/persons", {**body, "iin": i}, token("caseworker.KZ-71"), headers={"Idempotency-Key": key3})) for i in others])
    ok = statuses_ok(rs, (201,), what="one key with 16 different bodies")
    n = qi("SELECT COUNT(*) FROM persons WHERE iin IN (" + ",".join(f"'{i}'" for i in others) + ")")
    check(ok == 1 and n == 1, f"one key with 16 different bodies at once: exactly one ran ({n} stored, {ok} answered 201)")


def transitions():
    """An application decided by 16 caseworkers at once (include or refuse) moves once (A2: one decision)."""
    pid = register(new_iins(1)[0])
    t = token("caseworker.KZ-71")
    app = api("POST", "/api/v1/applications", {"person_id": pid, "measure": "social_job"}, t).json()["id"]
    api("POST", f"/api/v1/applications/{app}/transitions", {"action": "start_review"}, t)
    calls = [lambda: api("POST", f"/api/v1/applications/{app}/transitions", {"action": "include"}, t)] * 8
    calls += [lambda: api("POST", f"/api/v1/applications/{app}/transitions", {"action": "refuse", "refusal_reason": "other", "refusal_text": "concurrency"}, t)] * 8
    rs = at_once(calls)
    ok = statuses_ok(rs, (200,), what="16 decisions on one application at once")
    state = q1(f"SELECT state FROM applications WHERE id = {app}")
    decisions = qi(f"SELECT COUNT(*) FROM audit_log WHERE entity = 'application' AND entity_id = '{app}' AND action IN ('include', 'refuse')")
    events = qi(f"SELECT COUNT(*) FROM person_events WHERE person_id = {pid} AND kind IN ('application_include', 'application_refuse')")
    check(ok == 1 and decisions == 1 and events == 1 and state in ("included", "refused"),
          f"16 decisions on one application at once: decided once ({state}; {ok} answered 200, {decisions} audited, {events} on the timeline)")
    # An included application's social contract signed by 16 clients at once: one contract (A3).
    app2 = api("POST", "/api/v1/applications", {"person_id": register(new_iins(1)[0]), "measure": "social_job"}, t).json()["id"]
    for action in ("start_review", "include"):
        r = api("POST", f"/api/v1/applications/{app2}/transitions", {"action": action}, t)
        if r.status != 200:
            raise RuntimeError(f"application {action}: {r}")
    contract = {"starts_on": iso(), "ends_on": (today + datetime.timedelta(days=180)).isoformat(), "employer_id": ids()["contractor.demo"]}
    rs = at_once([lambda: api("POST", f"/api/v1/applications/{app2}/transitions", {"action": "sign_contract", "contract": contract}, t)] * 16)
    ok = statuses_ok(rs, (200,), what="16 contract signings at once")
    n = qi(f"SELECT COUNT(*) FROM contracts WHERE application_id = {app2}")
    check(ok == 1 and n == 1, f"16 contract signings of one application at once: one social contract ({n}), one 200 ({ok})")


def vacancy_places():
    """Hires on a vacancy never exceed its places (G6, LabourStore.apply): a vacancy with 3 places and 20 referred
    people hired by 20 clients at once has 3 hires; the other 17 are refused."""
    t = token("caseworker.KZ-71")
    vac = vacancy(3)
    people = [register(i) for i in new_iins(20)]
    refs = [refer(p, vac) for p in people]
    rs = at_once([(lambda r=r: api("POST", f"/api/v1/referrals/{r}/outcome", hire_body(), t)) for r in refs])
    ok = statuses_ok(rs, (200,), what="20 hires on a 3-place vacancy")
    hired = qi(f"SELECT COUNT(*) FROM labour_contracts c JOIN referrals r ON r.id = c.referral_id WHERE r.vacancy_id = {vac}")
    state, places = q(f"SELECT state, places FROM vacancies WHERE id = {vac}")[0]
    check(hired == 3 and ok == 3, f"20 hires on a vacancy with 3 places at once: 3 hired, 17 refused ({hired} labour contracts, {ok} answered 200)")
    check(state == "filled" and int(places) == 0, f"the vacancy is filled with no place left (state {state}, places {places})")
    # One referral's outcome recorded by 16 clients at once: one hire, one place taken.
    vac2 = vacancy(5)
    ref = refer(register(new_iins(1)[0]), vac2)
    rs = at_once([lambda: api("POST", f"/api/v1/referrals/{ref}/outcome", hire_body(), t)] * 16)
    ok = statuses_ok(rs, (200,), what="16 outcomes of one referral")
    n = qi(f"SELECT COUNT(*) FROM labour_contracts WHERE referral_id = {ref}")
    places = qi(f"SELECT places FROM vacancies WHERE id = {vac2}")
    pl = qi(f"SELECT COUNT(*) FROM placements p JOIN labour_contracts c ON c.id = p.labour_contract_id WHERE c.referral_id = {ref}")
    check(ok == 1 and n == 1 and pl == 1 and places == 4, f"one referral hired by 16 clients at once: one contract ({n}), one placement ({pl}), one place taken ({places} of 5 left)")


def project_quota():
    """Hires on a project's vacancy count toward the project's referral quota once each (E4; ProjectStore.recordHire,
    project_hires unique by referral), and never beyond the vacancy's places: a 3-place vacancy of the demo's road
    project and 12 referred people hired at once."""
    pid = q1("SELECT id FROM projects WHERE state = 'in_works' AND region_iso = 'KZ-35' ORDER BY id LIMIT 1")
    if not pid:
        check(False, "project quota: no project in works in Karaganda Region (the demo's road project)")
        return
    t = token("caseworker.KZ-35")
    org = int(q1("SELECT id FROM organisations WHERE code = 'contractor.KZ-35'"))
    r = api("POST", "/api/v1/vacancies", {"employer_id": org, "title": "Жол жұмысшысы (concurrency)", "isco": "9312", "wage": "250000", "places": 3, "valid_from": iso(),
                                          "valid_until": (today + datetime.timedelta(days=60)).isoformat(), "project_id": int(pid), "project_phase": "works"}, t)
    if r.status != 201:
        raise RuntimeError(f"project vacancy: {r}")
    vac = r.json()["id"]
    before = qi(f"SELECT COUNT(*) FROM project_hires WHERE project_id = {pid}")
    people = [register(i, login="caseworker.KZ-35", isco="9312") for i in new_iins(12)]
    refs = [refer(p, vac, login="caseworker.KZ-35") for p in people]
    rs = at_once([(lambda r=r: api("POST", f"/api/v1/referrals/{r}/outcome", hire_body(None), t)) for r in refs])
    ok = statuses_ok(rs, (200,), what="12 hires on a project's 3-place vacancy")
    hired = qi(f"SELECT COUNT(*) FROM labour_contracts c JOIN referrals r ON r.id = c.referral_id WHERE r.vacancy_id = {vac}")
    counted = qi(f"SELECT COUNT(*) FROM project_hires WHERE project_id = {pid}") - before
    board = api("GET", f"/api/v1/projects/{pid}", token=token("akimat.KZ-35")).json().get("compliance", {})
    check(counted == hired == ok, f"every hire on the project's vacancy counted toward its quota once: {counted} counted, {hired} hired, {ok} answered 200 (compliance: {board.get('referred')} referred)")
    check(hired == 3, f"12 hires on the project's 3-place vacancy at once: 3 hired ({hired})")


def referral_once():
    """A person referred to the same vacancy by 16 clients at once has one issued referral (LabourStore.refer:
    already_referred)."""
    vac = vacancy(5)
    pid = register(new_iins(1)[0])
    rs = at_once([lambda: api("POST", "/api/v1/referrals", {"person_id": pid, "vacancy_id": vac}, token("caseworker.KZ-71"))] * 16)
    ok = statuses_ok(rs, (201,), what="16 referrals of one person to one vacancy")
    n = qi(f"SELECT COUNT(*) FROM referrals WHERE person_id = {pid} AND vacancy_id = {vac} AND state = 'issued'")
    check(n == 1 and ok == 1, f"one person referred to one vacancy by 16 clients at once: one issued referral ({n}, {ok} answered 201)")


def training_once():
    """One training at a time per person (B4; training_referrals_one_open): 16 referrals at once give one."""
    t = token("caseworker.KZ-71")
    course = q("SELECT id, occupation_isco FROM courses ORDER BY id LIMIT 1")[0]
    vacancy(1, isco=course[1])  # demand for the course's profession in the region
    pid = register(new_iins(1)[0])
    app = api("POST", "/api/v1/applications", {"person_id": pid, "measure": "training"}, t).json()["id"]
    for step in ({"action": "start_review"}, {"action": "include"},
                 {"action": "sign_contract", "contract": {"starts_on": iso(), "ends_on": (today + datetime.timedelta(days=120)).isoformat(), "provider_id": ids()["provider.demo"]}}):
        r = api("POST", f"/api/v1/applications/{app}/transitions", step, t)
        if r.status != 200:
            raise RuntimeError(f"training application {step['action']}: {r}")
    rs = at_once([lambda: api("POST", "/api/v1/training-referrals", {"person_id": pid, "course_id": int(course[0])}, t)] * 16)
    ok = statuses_ok(rs, (201,), what="16 training referrals of one person")
    n = qi(f"SELECT COUNT(*) FROM training_referrals WHERE person_id = {pid} AND state = 'issued'")
    check(n == 1 and ok == 1, f"one person sent to training by 16 clients at once: one issued ({n}, {ok} answered 201)")


def reallocations():
    """Reallocations take money from a region's limit only while it has it (F1; LimitStore.takeFromLimit): 10M
    in KZ-35, 30 approved moves of 1M each at once to KZ-71 → 10 moved, 20 refused, the total kept."""
    year = fresh_year()
    set_limit(year, "ep_training", "KZ-35", 10_000_000)
    ids_ = []
    for _ in range(30):
        r = api("POST", "/api/v1/limits/changes", {"year": year, "kind": "reallocation", "from_region": "KZ-35", "from_direction": "ep_training",
                                                   "to_region": "KZ-71", "to_direction": "ep_training", "amount": "1000000", "reason": "concurrency"}, token("ministry.officer"))
        if r.status != 201:
            raise RuntimeError(f"reallocation proposal: {r}")
        ids_.append(r.json()["id"])
    rs = at_once([(lambda c=c: api("POST", f"/api/v1/limits/changes/{c}/decision", {"approve": True, "decision": "ВАК"}, token("interagency"))) for c in ids_])
    ok = statuses_ok(rs, (200,), what="30 reallocations of 1M from a 10M limit")
    a, b = limit_row(year, "ep_training", "KZ-35"), limit_row(year, "ep_training", "KZ-71")
    approved = qi(f"SELECT COUNT(*) FROM limit_changes WHERE year = {year} AND kind = 'reallocation' AND state = 'approved'")
    check(ok == 10 and approved == 10, f"30 reallocations of 1M from a 10M limit approved at once: exactly 10 ({approved} approved, {ok} answered 200)")
    check(a is not None and b is not None and a[1] == 0 and b[1] == 10_000_000_00 and a[1] + b[1] == 10_000_000_00,
          f"the money moved once: KZ-35 {a and a[1] / 100:.0f}, KZ-71 {b and b[1] / 100:.0f} (total 10000000 kept)")
    # One proposal decided by 16 members at once (approve or refuse): decided once, moved at most once.
    year2 = fresh_year()
    set_limit(year2, "ep_training", "KZ-35", 5_000_000)
    c = api("POST", "/api/v1/limits/changes", {"year": year2, "kind": "reallocation", "from_region": "KZ-35", "from_direction": "ep_training",
                                               "to_region": "KZ-71", "to_direction": "ep_training", "amount": "1000000", "reason": "concurrency"}, token("ministry.officer")).json()["id"]
    rs = at_once([(lambda k=k: api("POST", f"/api/v1/limits/changes/{c}/decision", {"approve": k % 2 == 0, "decision": "ВАК"}, token("interagency"))) for k in range(16)])
    ok = statuses_ok(rs, (200,), what="16 decisions on one change")
    a, b = limit_row(year2, "ep_training", "KZ-35"), limit_row(year2, "ep_training", "KZ-71")
    state = q1(f"SELECT state FROM limit_changes WHERE id = {c}")
    moved = 1_000_000_00 if state == "approved" else 0
    check(ok == 1 and a[1] == 5_000_000_00 - moved and (b[1] if b else 0) == moved,
          f"one change decided by 16 at once: decided once ({state}, {ok} answered 200), moved {moved // 100}")
    # Opposite moves between two regions at once: no deadlock, no 5xx, the total kept, none below zero.
    year3 = fresh_year()
    set_limit(year3, "ep_training", "KZ-35", 5_000_000)
    set_limit(year3, "ep_training", "KZ-71", 5_000_000)
    props = []
    for k in range(40):
        src, dst = ("KZ-35", "KZ-71") if k % 2 == 0 else ("KZ-71", "KZ-35")
        props.append(api("POST", "/api/v1/limits/changes", {"year": year3, "kind": "reallocation", "from_region": src, "from_direction": "ep_training",
                                                            "to_region": dst, "to_direction": "ep_training", "amount": "1000000", "reason": "concurrency"}, token("ministry.officer")).json()["id"])
    rs = at_once([(lambda c=c: api("POST", f"/api/v1/limits/changes/{c}/decision", {"approve": True, "decision": "ВАК"}, token("interagency"))) for c in props])
    statuses_ok(rs, (200,), what="40 opposite reallocations between two regions")
    a, b = limit_row(year3, "ep_training", "KZ-35"), limit_row(year3, "ep_training", "KZ-71")
    ab = qi(f"SELECT COUNT(*) FROM limit_changes WHERE year = {year3} AND state = 'approved' AND from_region = 'KZ-35'")
    ba = qi(f"SELECT COUNT(*) FROM limit_changes WHERE year = {year3} AND state = 'approved' AND from_region = 'KZ-71'")
    check(a[1] + b[1] == 10_000_000_00 and a[1] >= 0 and b[1] >= 0 and a[1] == (5_000_000 - ab * 1_000_000 + ba * 1_000_000) * 100,
          f"40 opposite reallocations at once: total kept ({(a[1] + b[1]) // 100}), KZ-35 {a[1] // 100} after {ab} out and {ba} in")


def allocation_once():
    """A year's direction is allocated once (F1): 16 proposals at once leave one proposal waiting, and 16 approvals
    at once of everything proposed approve one; the regions' limits add up to that one total."""
    year = fresh_year()
    rs = at_once([lambda: api("POST", "/api/v1/limits/allocations", {"year": year, "direction": "ep_projects", "total": "1000000000", "period": "2023"}, token("ministry.officer"))] * 16)
    statuses_ok(rs, (201,), what="16 allocation proposals at once")
    waiting = qi(f"SELECT COUNT(*) FROM limit_allocations WHERE year = {year} AND direction = 'ep_projects' AND state = 'proposed'")
    check(waiting == 1, f"16 proposals of one year's allocation at once: one left waiting, the rest superseded ({waiting} waiting)")
    props = [int(r[0]) for r in q(f"SELECT id FROM limit_allocations WHERE year = {year} AND direction = 'ep_projects' ORDER BY id")]
    rs = at_once([(lambda a=a: api("POST", f"/api/v1/limits/allocations/{a}/approve", {"decision": "ВАК"}, token("interagency"))) for a in props for _ in range(2)][:32])
    ok = statuses_ok(rs, (200,), what="approvals of every proposal at once")
    approved = qi(f"SELECT COUNT(*) FROM limit_allocations WHERE year = {year} AND direction = 'ep_projects' AND state = 'approved'")
    total = qi(f"SELECT COALESCE(SUM(amount), 0) FROM funding_limits WHERE year = {year} AND direction = 'ep_projects' AND district_id = 0")
    check(approved == 1 and ok == 1 and total == 1_000_000_000_00, f"one allocation approved ({approved}, {ok} answered 200); the regions hold its total once ({total // 100})")


def district_split():
    """The districts together never hold more than the region (F1; LimitStore.splitByDistrict): a 100M limit split
    by the akimat from as many clients as the region has districts, each giving another district 60M, keeps the
    districts' sum within the region; a split and a move of the region's money away at the same moment are not both
    done (LimitStore.takeFromLimit)."""
    year = fresh_year()
    set_limit(year, "ep_training", "KZ-35", 100_000_000)
    akimat = Browser("akimat.KZ-35")
    districts = ids()["kz35_districts"][:16]
    rs = at_once([(lambda d=d: akimat.post(f"/limits/{year}/ep_training/KZ-35", {f"d_{d}": "60000000", "decision": "Әкімдік қаулысы (concurrency)"})) for d in districts])
    ok = statuses_ok(rs, (303,), refused=(422,), what=f"{len(districts)} district splits at once")
    region = limit_row(year, "ep_training", "KZ-35")[1]
    held = qi(f"SELECT COALESCE(SUM(amount), 0) FROM funding_limits WHERE year = {year} AND direction = 'ep_training' AND region_iso = 'KZ-35' AND district_id <> 0")
    check(held <= region and ok == 1, f"{len(districts)} splits giving 60M each of a 100M limit at once: the districts hold {held // 100} of {region // 100} ({ok} accepted)")
    # One split (80M to a district) and one move of 50M away from the region at the same moment: they cannot both be
    # done (80 + 50 > 100). Six trials, each on a fresh limit.
    both = 0
    for k in range(6):
        y = fresh_year()
        set_limit(y, "ep_training", "KZ-35", 100_000_000)
        move = api("POST", "/api/v1/limits/changes", {"year": y, "kind": "reallocation", "from_region": "KZ-35", "from_direction": "ep_training", "to_region": "KZ-71",
                                                      "to_direction": "ep_training", "amount": "50000000", "reason": "concurrency"}, token("ministry.officer")).json()["id"]
        rs = at_once([lambda: akimat.post(f"/limits/{y}/ep_training/KZ-35", {f"d_{districts[k % len(districts)]}": "80000000", "decision": "Әкімдік қаулысы"}),
                      lambda: api("POST", f"/api/v1/limits/changes/{move}/decision", {"approve": True, "decision": "ВАК"}, token("interagency"))])
        statuses_ok(rs, (200, 303), refused=(422,), what=f"a split and a move of one limit at once (trial {k + 1})")
        region = limit_row(y, "ep_training", "KZ-35")[1]
        held = qi(f"SELECT COALESCE(SUM(amount), 0) FROM funding_limits WHERE year = {y} AND direction = 'ep_training' AND region_iso = 'KZ-35' AND district_id <> 0")
        if held > region:
            both += 1
            note(f"trial {k + 1}: the split ({rs[0].status}) and the move ({rs[1].status}) were both done: the region holds {region // 100}, its districts {held // 100}")
    check(both == 0, f"a split of 80M and a move of 50M away from a 100M limit at once (6 trials): never both done ({both} trials left the districts above the region)")


def budget_credits():
    """Budget credits draw on the region's limit (C4, F2; LimitStore.commit) and on the credit above them: a limit with
    room for 10 credits and 30 granted at once gives 10; a credit with room for 10 passed on 30 times at once gives 10."""
    year = fresh_year()
    set_limit(year, "rm_credit", "KZ-71", 1_000_000_000)
    ministry = Browser("ministry.officer")
    form = {"level": "local_body", "direction": "rm_credit", "year": str(year), "borrower_id": str(ids()["akimat.KZ-71"]), "amount": "100000000",
            "grace_months": "0", "transferred_on": iso(), "decision": "Кредит шарты (concurrency)"}
    rs = at_once([lambda: ministry.post("/credits", form)] * 30)
    ok = statuses_ok(rs, (303,), refused=(422,), what="30 budget credits on a limit with room for 10")
    credits = [int(r[0]) for r in q(f"SELECT id FROM budget_credits WHERE year = {year} AND level = 'local_body' ORDER BY id")]
    lim = limit_row(year, "rm_credit", "KZ-71")
    committed = qi(f"SELECT COALESCE(SUM(amount), 0) FROM limit_commitments WHERE limit_id = {lim[0]}")
    check(len(credits) == 10 and ok == 10, f"30 budget credits of 100M on a 1000M limit at once: exactly 10 ({len(credits)} stored, {ok} accepted)")
    check(lim[2] == lim[1] == committed, f"the limit is used up exactly: committed {lim[2] // 100} = amount {lim[1] // 100} = commitments {committed // 100}")
    if not credits:
        return None
    akimat = Browser("akimat.KZ-71")
    parent = credits[0]
    form2 = {"level": "credit_organisation", "parent_id": str(parent), "borrower_id": str(ids()["lender.demo"]), "amount": "10000000", "grace_months": "0",
             "transferred_on": iso(), "decision": "Шарт (concurrency)"}
    rs = at_once([lambda: akimat.post("/credits", form2)] * 30)
    ok = statuses_ok(rs, (303,), refused=(422,), what="30 credits passed on from one 100M credit")
    children = qi(f"SELECT COUNT(*) FROM budget_credits WHERE parent_id = {parent}")
    used, amount = (int(x) for x in q(f"SELECT used, amount FROM budget_credits WHERE id = {parent}")[0])
    given = qi(f"SELECT COALESCE(SUM(amount), 0) FROM budget_credits WHERE parent_id = {parent}")
    check(children == 10 and ok == 10 and used == amount == given, f"a 100M credit passed on 30 times by 10M at once: 10 credits ({children}), used {used // 100} = given {given // 100} = amount {amount // 100}")
    return q1(f"SELECT MIN(id) FROM budget_credits WHERE parent_id = {parent}")


def loans(credit):
    """Loans draw on the credit organisation's budget credit and on their own amount (C5; CreditStore.disburse): four
    loans of 5M on a 10M credit, 60 tranches of 500k at once → 20 paid; a loan's promised jobs are filled once each
    (C6; CreditStore.recordJob); its target use is confirmed once."""
    if credit is None:
        check(False, "loans: no credit organisation's credit to lend from (the budget credit scenario failed)")
        return
    credit = int(credit)
    t = token("lender.demo")
    borrowers = new_iins(4)
    loan_ids = []
    for b in borrowers:
        r = api("POST", "/api/v1/loans", {"credit_id": credit, "district_id": ids()["yesil"], "borrower_id": b, "borrower_name": "ЖК Параллель", "tax_registered": True,
                                          "purpose": "investment", "purpose_text": "Цех", "amount": "5000000", "term_months": 60, "rate_percent": "6", "grace_months": 0,
                                          "method": "annuity", "jobs_promised": 5, "contract_on": iso()}, t)
        if r.status != 201:
            raise RuntimeError(f"loan: {r}")
        loan_ids.append(r.json()["id"])
    calls = [(lambda l=l: api("POST", f"/api/v1/loans/{l}/disburse", {"amount": "500000", "on": iso()}, t)) for l in loan_ids for _ in range(15)]
    rs = at_once(calls)
    ok = statuses_ok(rs, (200,), what="60 tranches on four 5M loans of one 10M credit")
    used, amount = (int(x) for x in q(f"SELECT used, amount FROM budget_credits WHERE id = {credit}")[0])
    rows = q("SELECT l.id, l.amount, l.disbursed, COALESCE(SUM(d.amount), 0) FROM loans l LEFT JOIN loan_disbursements d ON d.loan_id = l.id WHERE l.id IN ("
             + ",".join(map(str, loan_ids)) + ") GROUP BY l.id, l.amount, l.disbursed")
    total = sum(int(r[2]) for r in rows)
    check(ok == 20 and used == amount == total, f"60 tranches of 500k at once: 20 paid ({ok}); the credit's used {used // 100} = its amount {amount // 100} = the loans' disbursed {total // 100}")
    check(all(int(r[2]) == int(r[3]) <= int(r[1]) for r in rows), "each loan's disbursed amount is the sum of its tranches and within its amount: "
          + ", ".join(f"{int(r[2]) // 100}/{int(r[1]) // 100}" for r in rows))
    # Jobs: 20 contracts recorded at once without a slot on a loan promising 5 jobs (a disbursed one, for the
    # target use after).
    loan = int(max(rows, key=lambda r: int(r[2]))[0])
    rs = at_once([(lambda k=k: api("POST", f"/api/v1/loans/{loan}/job", {"contract_number": f"ЕШ-{k}", "contract_on": iso()}, t)) for k in range(20)])
    ok = statuses_ok(rs, (200,), what="20 job contracts on a loan promising 5 jobs")
    slots = q(f"SELECT slot, COUNT(*) FROM loan_jobs WHERE loan_id = {loan} AND ended_on IS NULL AND NOT seasonal GROUP BY slot ORDER BY slot")
    check(ok == 5 and len(slots) == 5 and all(int(s[1]) == 1 for s in slots),
          f"20 job contracts at once on a loan promising 5: 5 recorded ({ok} answered 200), one worker per job ({', '.join(f'slot {s[0]}: {s[1]}' for s in slots)})")
    # Target use confirmed by 16 clients at once: once.
    rs = at_once([lambda: api("POST", f"/api/v1/loans/{loan}/target-use", {"use_on": iso()}, t)] * 16)
    ok = statuses_ok(rs, (200,), what="16 confirmations of one loan's target use")
    audited = qi(f"SELECT COUNT(*) FROM audit_log WHERE entity = 'loan' AND entity_id = '{loan}' AND action = 'target_use'")
    check(ok == 1 and audited == 1, f"one loan's target use confirmed by 16 clients at once: recorded once ({audited} audited, {ok} answered 200)")


def bonds():
    """A bond loan's early repayments never exceed it, and a month's use report is recorded once (C8;
    CreditStore.recordBondEvent)."""
    ministry = Browser("ministry.officer")
    r = ministry.post("/bonds", {"bond_borrower_id": str(ids()["akimat.KZ-71"]), "bond_amount": "10000000", "years": "12", "issued_on": iso(), "purpose": "Желілер (concurrency)"})
    m = re.match(r"/bonds/(\d+)", r.headers.get("Location") or "")
    if r.status != 303 or not m:
        raise RuntimeError(f"bond: {r}")
    bond = int(m.group(1))
    rs = at_once([lambda: ministry.post(f"/bonds/{bond}/early_repayment", {"amount": "1000000", "on": iso(), "note": ""})] * 30)
    ok = statuses_ok(rs, (303,), refused=(422,), what="30 early repayments of 1M on a 10M bond")
    repaid = qi(f"SELECT COALESCE(SUM(amount), 0) FROM bond_events WHERE bond_id = {bond} AND kind = 'early_repayment'")
    check(ok == 10 and repaid == 10_000_000_00, f"30 early repayments of 1M on a 10M bond at once: 10 recorded ({ok}), {repaid // 100} repaid of 10000000")
    akimat = Browser("akimat.KZ-71")
    rs = at_once([lambda: akimat.post(f"/bonds/{bond}/use_report", {"month": month, "amount": "1000000", "on": iso(), "note": "concurrency"})] * 16)
    ok = statuses_ok(rs, (303,), refused=(422,), what="16 use reports of one month")
    n = qi(f"SELECT COUNT(*) FROM bond_events WHERE bond_id = {bond} AND kind = 'use_report' AND month = '{month}'")
    check(ok == 1 and n == 1, f"one month's use report sent by 16 clients at once: recorded once ({n}, {ok} accepted)")


def projects():
    """Approved projects draw on the region's and the district's limit (F2, E2; ProjectStore.act): 12 projects of 100M
    approved at once by the interagency commission where the district has room for 4 → 4 approved; one project
    approved by 16 at once is approved (and committed) once."""
    year = fresh_year()
    abay = ids()["abay"]
    steps = [("akimat.KZ-35", {"step": "propose"}), ("coordinator.KZ-35", {"step": "compile"}),
             ("commission.KZ-35", {"step": "approve_regional", "decision": "Хаттама (concurrency)", "referral_quota": 10}),
             ("ministry.officer", {"step": "consolidate"}), ("working-group", {"step": "select", "decision": "ЖТ (concurrency)"})]

    def project(year):
        r = api("POST", "/api/v1/projects", {"programme": "roadmap", "district_id": abay, "settlement": "Топар", "name": "Жол жөндеу (concurrency)", "object_type": "roads",
                                             "work_type": "repair", "cost_national_fund": "0", "cost_republican": "100000000", "cost_local": "10000000", "cost_cofinancing": "0",
                                             "domestic_cost": "110000000", "design_docs": True, "expertise_passed": True, "starts_on": f"{year}-03-01", "ends_on": f"{year}-11-30",
                                             "jobs_created": 50, "permanent_jobs": 5, "average_wage": "250000"}, token("akimat.KZ-35"))
        if r.status != 201:
            raise RuntimeError(f"project: {r}")
        pid = r.json()["id"]
        for login, body in steps:
            s = api("POST", f"/api/v1/projects/{pid}/steps", body, token(login))
            if s.status != 200:
                raise RuntimeError(f"project step {body['step']}: {s}")
        return pid

    set_limit(year, "rm_projects", "KZ-35", 600_000_000)
    akimat = Browser("akimat.KZ-35")
    r = akimat.post(f"/limits/{year}/rm_projects/KZ-35", {f"d_{abay}": "400000000", "decision": "Әкімдік қаулысы (concurrency)"})
    if r.status != 303:
        raise RuntimeError(f"district split: {r.status}")
    ps = [project(year) for _ in range(12)]
    rs = at_once([(lambda p=p: api("POST", f"/api/v1/projects/{p}/steps", {"step": "approve", "decision": "ВАК (concurrency)"}, token("interagency"))) for p in ps])
    ok = statuses_ok(rs, (200,), what="12 project approvals on a district with room for 4")
    approved = qi(f"SELECT COUNT(*) FROM projects WHERE year = {year} AND state = 'approved'")
    region, district = limit_row(year, "rm_projects", "KZ-35"), limit_row(year, "rm_projects", "KZ-35", abay)
    check(approved == 4 and ok == 4, f"12 projects of 100M approved at once with 400M in their district: exactly 4 ({approved} approved, {ok} answered 200)")
    check(region[2] == district[2] == district[1] == 400_000_000_00,
          f"region and district committed the same 4 projects: region {region[2] // 100}, district {district[2] // 100} of {district[1] // 100}")
    # One project approved by 16 members at once.
    year2 = fresh_year()
    set_limit(year2, "rm_projects", "KZ-35", 1_000_000_000)
    p = project(year2)
    rs = at_once([lambda: api("POST", f"/api/v1/projects/{p}/steps", {"step": "approve", "decision": "ВАК (concurrency)"}, token("interagency"))] * 16)
    ok = statuses_ok(rs, (200,), what="16 approvals of one project")
    commits = qi(f"SELECT COUNT(*) FROM limit_commitments WHERE reference = 'project:{p}'")
    steps_n = qi(f"SELECT COUNT(*) FROM project_steps WHERE project_id = {p} AND step = 'approve'")
    check(ok == 1 and commits == 1 and steps_n == 1, f"one project approved by 16 at once: approved once ({ok} answered 200, {steps_n} step, {commits} commitment)")


def project_report():
    """A project's month is reported once (G1; project_reports unique by project and month): 16 contractors' clients
    sending the same month at once → one report, the others refused."""
    rows = q("SELECT id, started_on FROM projects WHERE state = 'in_works' AND started_on IS NOT NULL ORDER BY id")
    target = None
    for pid, started in rows:
        s = datetime.date.fromisoformat(started)
        m = f"{s.year:04d}-{s.month:02d}"
        if m < month and not q(f"SELECT 1 FROM project_reports WHERE project_id = {pid} AND month = '{m}'"):
            target = (int(pid), m)
            break
    if not target:
        check(False, "project report: no project in works with a month to report (the demo's road project)")
        return
    pid, m = target
    body = {"month": m, "work_done_percent": "10", "work_done_amount": "1000000", "jobs_filled": 5, "jobs_by_referral": 2, "referred_avg_wage": "250000"}
    rs = at_once([lambda: api("POST", f"/api/v1/projects/{pid}/reports", body, token("contractor.KZ-35"))] * 16)
    ok = statuses_ok(rs, (201,), what="16 reports of one project's month")
    n = qi(f"SELECT COUNT(*) FROM project_reports WHERE project_id = {pid} AND month = '{m}'")
    check(ok == 1 and n == 1, f"one project's month {m} reported by 16 clients at once: one report ({n}, {ok} answered 201)")


def payroll():
    """The month's payroll (B2, B3) asked for by 32 clients at once is run once: one line per running placement,
    the lines' sum committed on the limits exactly (F2). First 40 subsidised hires at once on a vacancy with 40
    places: all 40 are hired (a cap not reached refuses nobody)."""
    t = token("caseworker.KZ-71")
    vac = vacancy(40)
    people = [register(i, categories=("unemployed",)) for i in new_iins(40)]
    refs = [refer(p, vac) for p in people]
    rs = at_once([(lambda r=r: api("POST", f"/api/v1/referrals/{r}/outcome", hire_body(), t)) for r in refs])
    ok = statuses_ok(rs, (200,), refused=(), what="40 hires on a 40-place vacancy")
    hired = qi(f"SELECT COUNT(*) FROM labour_contracts c JOIN referrals r ON r.id = c.referral_id WHERE r.vacancy_id = {vac}")
    check(ok == 40 and hired == 40 and qi(f"SELECT places FROM vacancies WHERE id = {vac}") == 0, f"40 hires at once on 40 places: all 40 hired ({hired}), no place left")
    running = qi(f"SELECT COUNT(*) FROM placements WHERE starts_on <= '{month}-31' AND (ends_on IS NULL OR ends_on >= '{month}-01')")
    before = qi(f"SELECT COUNT(*) FROM payroll_lines WHERE month = '{month}' AND kind = 'regular'")
    rs = at_once([lambda: api("POST", f"/api/v1/payroll/{month}/run", {}, token("admin"))] * 32)
    ok = statuses_ok(rs, (200,), refused=(), what="32 payroll runs of one month")
    jobs = {r.json().get("job_id") for r in rs if r.status == 200}
    added = {}
    for r in rs:
        if r.status == 200:
            added[r.json()["job_id"]] = r.json()["added"]
    lines, distinct = (int(x) for x in q(f"SELECT COUNT(*), COUNT(DISTINCT placement_id) FROM payroll_lines WHERE month = '{month}' AND kind = 'regular'")[0])
    check(lines == distinct == running and lines - before == sum(added.values()),
          f"payroll {month} asked for by 32 at once: {len(jobs)} job(s), {lines} lines, one per running placement ({distinct} of {running}), "
          f"{lines - before} added by the runs ({sum(added.values())} reported)")
    rows = q(f"SELECT id, runs, state, created_at, finished_at FROM background_jobs WHERE kind = 'payroll' AND subject = '{month}' ORDER BY id")
    check(all(r[1] == "1" and r[2] == "done" for r in rows) and not any(rows[i + 1][3] < rows[i][4] for i in range(len(rows) - 1)),
          f"each payroll job was taken up once and no two ran at the same time ({len(rows)} jobs)")
    paid = qi(f"SELECT COALESCE(SUM(amount), 0) FROM payroll_lines WHERE month = '{month}'")
    committed = qi(f"SELECT COALESCE(SUM(amount), 0) FROM limit_commitments WHERE reference LIKE 'payroll:{month}:%'")
    check(paid == committed, f"the month's lines add up to what was committed on the limits ({paid // 100} = {committed // 100})")
    # A placement's wage amended (50 % of 40,000 is below the 26,000 paid), its correction asked for by 16 clients at
    # once: one correction line (B3).
    pl, person = q(f"SELECT p.id, p.person_id FROM placements p JOIN payroll_lines l ON l.placement_id = p.id WHERE l.month = '{month}' AND l.kind = 'regular' "
                   f"AND p.measure = 'social_job' AND NOT EXISTS (SELECT 1 FROM payroll_lines c WHERE c.placement_id = p.id AND c.kind = 'correction') ORDER BY p.id DESC LIMIT 1")[0]
    cw = Browser("caseworker.KZ-71")
    r = cw.post(f"/placements/{pl}/amend", {"person_id": person, "wage": "40000", "ends_on": ""})
    if r.status != 303:
        raise RuntimeError(f"amend placement: {r.status}")
    rs = at_once([lambda: api("POST", f"/api/v1/payroll/{month}/corrections", {"placement_id": int(pl), "reason": "concurrency"}, token("admin"))] * 16)
    statuses_ok(rs, (200,), what="16 corrections of one placement's month")
    made = sum(len(r.json().get("corrections", [])) for r in rs if r.status == 200)
    lines = q(f"SELECT line_no, kind FROM payroll_lines WHERE placement_id = {pl} AND month = '{month}' ORDER BY line_no")
    check(made == 1 and [l[1] for l in lines] == ["regular", "correction"], f"one placement corrected by 16 clients at once: one correction line ({made} made; lines {lines})")
    paid = qi(f"SELECT COALESCE(SUM(amount), 0) FROM payroll_lines WHERE month = '{month}'")
    committed = qi(f"SELECT COALESCE(SUM(amount), 0) FROM limit_commitments WHERE reference LIKE 'payroll:{month}:%'")
    check(paid == committed, f"after the correction the month's lines still add up to the commitments ({paid // 100} = {committed // 100})")


def housing():
    """A dwelling is let to one household at a time (D4, D5; dwelling_allocations_one_open): the youth hostel's room
    allocated by 16 caseworkers' clients at once to 16 young working people goes to one of them."""
    room = q1("SELECT d.id FROM dwellings d WHERE d.kind = 'youth_hostel_room' AND d.region_iso = 'KZ-71' AND NOT EXISTS "
              "(SELECT 1 FROM dwelling_allocations a WHERE a.dwelling_id = d.id AND a.released_on IS NULL) ORDER BY d.id LIMIT 1")
    if not room:
        check(False, "housing: no free youth hostel room in Astana (the demo's)")
        return
    t = token("caseworker.KZ-71")
    vac = vacancy(16)
    people = [register(i, categories=("unemployed",)) for i in new_iins(16, years=(2000, 2004))]
    for p in people:  # a labour contract each (D5), hired one by one
        r = api("POST", f"/api/v1/referrals/{refer(p, vac)}/outcome", hire_body(), t)
        if r.status != 200:
            raise RuntimeError(f"hire: {r}")
    cw = Browser("caseworker.KZ-71")
    rs = at_once([(lambda p=p: cw.post(f"/housing/{room}/allocate", {"person_id": str(p), "in_housing_savings": "true"})) for p in people])
    ok = statuses_ok(rs, (303,), refused=(422,), what="16 allocations of one hostel room")
    n = qi(f"SELECT COUNT(*) FROM dwelling_allocations WHERE dwelling_id = {room} AND released_on IS NULL")
    check(ok == 1 and n == 1, f"one hostel room allocated to 16 people at once: one household housed ({n}, {ok} accepted)")


def filings():
    """A region's monthly report is filed in versions (G1, G4; report_filings unique by report, period, region, filer and
    version): 8 submissions at once give distinct versions or clear refusals, never an error."""
    akimat = Browser("akimat.KZ-35")
    path = f"/reports/programme_monthly/{last_month}/KZ-35/save"
    rs = at_once([lambda: akimat.post(path, {"filer": "akimat", "submit": "true"})] * 8)
    ok = statuses_ok(rs, (303,), refused=(422,), what="8 submissions of one region's monthly report")
    versions = sorted(int(r[0]) for r in q(f"SELECT version FROM report_filings WHERE report = 'programme_monthly' AND period = '{last_month}' AND region_iso = 'KZ-35' AND filer = 'akimat'"))
    check(ok == len(versions) and versions == list(range(1, len(versions) + 1)),
          f"8 submissions at once: {ok} accepted, versions {versions} (one per accepted submission, none lost)")
    rs = at_once([lambda: akimat.post(f"/reports/roadmap_monthly/{last_month}/KZ-35/save", {"filer": "akimat", "submit": "false"})] * 8)
    statuses_ok(rs, (303,), refused=(422,), what="8 drafts of one region's monthly report")
    drafts = qi(f"SELECT COUNT(*) FROM report_filings WHERE report = 'roadmap_monthly' AND period = '{last_month}' AND region_iso = 'KZ-35' AND state = 'draft'")
    check(drafts == 1, f"8 drafts saved at once: one draft kept, each replacing the one before ({drafts})")


def settle():
    """Budget credits past their utilisation deadline give back what is unused once (C4; CreditStore.settleDue,
    LimitStore.release): 16 settlements asked for at once return a 100M credit once, to its limit."""
    year = fresh_year()
    set_limit(year, "rm_credit", "KZ-71", 100_000_000)
    ministry = Browser("ministry.officer")
    long_ago = (today - datetime.timedelta(days=240)).isoformat()
    r = ministry.post("/credits", {"level": "local_body", "direction": "rm_credit", "year": str(year), "borrower_id": str(ids()["akimat.KZ-71"]), "amount": "100000000",
                                   "grace_months": "0", "transferred_on": long_ago, "decision": "Кредит шарты (concurrency)"})
    credit = qi(f"SELECT MAX(id) FROM budget_credits WHERE year = {year}")
    if r.status != 303 or not credit:
        raise RuntimeError(f"credit: {r.status}")
    rs = at_once([lambda: ministry.post("/credits/settle", {})] * 16)
    statuses_ok(rs, (303,), refused=(422,), what="16 settlements at once")
    returned, returned_on = q(f"SELECT returned, returned_on FROM budget_credits WHERE id = {credit}")[0]
    lim = limit_row(year, "rm_credit", "KZ-71")
    back = qi(f"SELECT COUNT(*) FROM limit_changes WHERE year = {year} AND kind = 'credit_return'")
    audits = qi(f"SELECT COUNT(*) FROM audit_log WHERE entity = 'budget_credit' AND entity_id = '{credit}' AND action = 'return'")
    check(returned == "10000000000" and returned_on and lim[2] == 0 and back == 1 and audits == 1,
          f"a 100M credit settled by 16 requests at once: returned once ({int(returned or 0) // 100}, {back} return in the history, {audits} audited), its limit's committed {lim[2] // 100}")
    twice = q("SELECT entity_id FROM audit_log WHERE entity = 'budget_credit' AND action = 'return' GROUP BY entity_id HAVING COUNT(*) > 1")
    check(not twice, f"no budget credit returned twice ({len(twice)})")


def persons_csv(rows, phone_seed):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["iin", "last_name", "first_name", "district", "phone", "categories", "consent"])
    for k, i in enumerate(rows):
        w.writerow([i, "Импорт", "Параллель", "710300000", f"+7 701 {phone_seed % 1000:03d} {k % 10000:04d}", "unemployed", "yes"])
    return buf.getvalue().encode()


def wait_imports(job_ids, timeout=150):
    end = time.time() + timeout
    t = token("caseworker.KZ-71")
    states = {}
    while time.time() < end:
        states = {j: api("GET", f"/api/v1/imports/{j}", token=t).json() for j in job_ids}
        if all(s.get("state") in ("done", "failed") for s in states.values()):
            break
        time.sleep(0.5)
    return states


def imports():
    """Imports stay exact (openapi.yaml, imports): one file sent by 16 clients at once — with one Idempotency-Key or
    16 different ones — is one job; six different files with the same 2000 people in different orders, imported at
    the same time, add each person once and account for every row."""
    t = token("caseworker.KZ-71")
    up = {"X-File-Name": "persons.csv"}
    results = {}
    for label, same_key in (("one Idempotency-Key", True), ("16 different keys", False)):
        people = new_iins(300)
        data = persons_csv(people, rng.randrange(1000))
        key = f"conc-{rng.randrange(10**12)}"
        rs = at_once([(lambda k=k: api("POST", "/api/v1/imports/persons", token=t, raw=data, content_type="text/csv",
                                       headers={**up, "Idempotency-Key": key if same_key else f"{key}-{k}"})) for k in range(16)])
        statuses_ok(rs, (200, 202), refused=(409,), what=f"one file sent 16 times at once ({label})")
        job_ids = {r.json().get("id") for r in rs if r.status in (200, 202)}
        sha_jobs = qi(f"SELECT COUNT(*) FROM import_jobs WHERE id IN ({','.join(str(j) for j in job_ids if j) or '0'})")
        check(len(job_ids) == 1 and sha_jobs == 1 and sum(1 for r in rs if r.status == 202 and r.headers.get("Idempotent-Replayed") != "true") == 1,
              f"one file sent by 16 clients at once ({label}): one import job ({sorted(job_ids)}), one 202")
        results[label] = (job_ids, people)
    for label, (job_ids, people) in results.items():
        states = wait_imports(job_ids)
        n = qi("SELECT COUNT(*) FROM persons WHERE iin IN (" + ",".join(f"'{i}'" for i in people) + ")")
        s = list(states.values())[0] if states else {}
        check(s.get("state") == "done" and s.get("added") == 300 and n == 300, f"the file ({label}) ran once: {s.get('added')} added, {n} stored of 300")
    # Overlapping files imported at the same time.
    people = new_iins(2000)
    files = []
    for k in range(6):
        order = people[:]
        rng.shuffle(order)
        files.append(persons_csv(order, 100 + k))
    t0 = time.time()
    rs = at_once([(lambda d=d: api("POST", "/api/v1/imports/persons", token=t, raw=d, content_type="text/csv", headers=up)) for d in files])
    statuses_ok(rs, (202,), refused=(), what="6 overlapping files sent at once")
    job_ids = [r.json().get("id") for r in rs if r.status == 202]
    states = wait_imports(job_ids, timeout=40)
    prompt = all(s.get("state") == "done" for s in states.values())
    # A job that stops half-way is taken up again only once its 60 s claim has lapsed: 40 s is far beyond the
    # couple of seconds these 12,000 rows take, and well before a stalled job comes back.
    check(prompt, f"6 overlapping files of 2000 rows imported at once: all done without a stall ({time.time() - t0:.0f}s; "
          + ", ".join(f"job {j}: {s.get('state')} {s.get('rows_done')}/{s.get('rows_total')}" for j, s in states.items()) + ")")
    if not prompt:
        states = wait_imports(job_ids, timeout=110)
        note(f"all six ended after {time.time() - t0:.0f}s")
    n = qi("SELECT COUNT(*) FROM persons WHERE iin IN (" + ",".join(f"'{i}'" for i in people) + ")")
    added = sum(s.get("added", 0) for s in states.values())
    done = all(s.get("state") == "done" and s.get("rows_done") == s.get("rows_total") == 2000 and s.get("added", 0) + s.get("present", 0) + s.get("failed", 1) == 2000
               for s in states.values())
    check(done and len(states) == 6, "6 overlapping files imported at once: every job done with each row counted once ("
          + "; ".join(f"{s.get('state')} {s.get('added')}+{s.get('present')}+{s.get('failed')}" for s in states.values()) + ")")
    check(n == 2000 and added == 2000, f"each of the 2000 people stored once ({n}) and added by exactly one job ({added})")


def whole_database():
    commitments_agree("the whole database")
    bad = q("SELECT id, amount, used FROM budget_credits WHERE used > amount OR used < 0")
    check(not bad, f"no budget credit is used beyond its amount ({len(bad)} are)")
    bad = q("""SELECT l.id FROM loans l LEFT JOIN (SELECT loan_id, SUM(amount) AS s FROM loan_disbursements GROUP BY loan_id) d ON d.loan_id = l.id
               WHERE l.disbursed > l.amount OR l.disbursed <> COALESCE(d.s, 0)""")
    check(not bad, f"every loan's disbursed amount is its tranches' sum and within the loan ({len(bad)} are not)")
    dup = qi("SELECT COUNT(*) FROM (SELECT placement_id, month, line_no FROM payroll_lines GROUP BY placement_id, month, line_no HAVING COUNT(*) > 1) x")
    check(dup == 0, f"no payroll line is there twice ({dup})")
    if binary:
        v = subprocess.run([binary, "audit", "verify"], env=dict(os.environ, DATABASE_URL=database), capture_output=True, text=True)
        check(v.returncode == 0, "the audit chain verifies: " + (v.stdout.strip() or v.stderr.strip())[-300:])
    if database.startswith("sqlite:"):
        check(q1("PRAGMA integrity_check") == "ok" and not q("PRAGMA foreign_key_check"), "SQLite: integrity ok, no foreign key broken")


scenarios = [("persons", persons_same_iin), ("idempotency", idempotency), ("transitions", transitions), ("vacancy", vacancy_places), ("project_quota", project_quota),
             ("referral", referral_once), ("training", training_once), ("reallocations", reallocations), ("allocation", allocation_once),
             ("split", district_split), ("credits", lambda: loans(budget_credits())), ("settle", settle), ("bonds", bonds), ("projects", projects), ("report", project_report),
             ("filings", filings), ("housing", housing), ("payroll", payroll), ("imports", imports)]

started = time.time()
print(f"concurrency against {base} ({'SQLite' if database.startswith('sqlite:') else 'PostgreSQL'}), CONCURRENCY_SEED={seed}", flush=True)
# Tokens are asked for one at a time: sign-ins of one login count against its throttle before the password is checked,
# so more than SIGNIN_MAX_FAILURES (10) at once are refused with 429 even with the right password.
for login in ("admin", "caseworker.KZ-71", "caseworker.KZ-35", "ministry.officer", "interagency", "lender.demo", "akimat.KZ-35", "coordinator.KZ-35",
              "commission.KZ-35", "working-group", "contractor.KZ-35"):
    token(login)
for name, fn in scenarios:
    if only and name not in only:
        continue
    t0 = time.time()
    print(f"-- {name}", flush=True)
    try:
        fn()
    except Exception as e:
        check(False, f"{name}: the scenario stopped: {type(e).__name__}: {e}")
        traceback.print_exc(limit=3)
    note(f"{name} took {time.time() - t0:.1f}s")
print("-- the database as a whole", flush=True)
whole_database()
if server_log and os.path.exists(server_log):
    kinds = {}
    for line in open(server_log, encoding="utf-8", errors="replace"):
        if "unexpected error" in line or "stopped:" in line:
            k = re.sub(r"job \d+", "job N", line.split("] ", 1)[-1].strip())
            kinds[k] = kinds.get(k, 0) + 1
    if kinds:
        note("the server logged: " + "; ".join(f"{n}× {k}" for k, n in sorted(kinds.items(), key=lambda x: -x[1])))
print(f"concurrency: {passed} passed, {len(failed)} failed in {time.time() - started:.0f}s")
for f in failed:
    print("  FAIL " + f)
sys.exit(1 if failed else 0)
