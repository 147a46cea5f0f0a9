"""Bad input corpus (issue "Reliability and security"): every form and API endpoint of a running `jumys serve --demo`
is fed malformed IINs and BINs, impossible dates, negative and huge money, empty and 10 MB strings, wrong enum values,
NUL bytes, invalid UTF-8, bodies that are not what they claim, and broken CSV and XLSX files. Every answer must be a
clear refusal: below 500, a 4xx (or a form page re-rendered with its error summary), problem+json with a message from
the API; and nothing may be written: the row count of every table and the audit log's new entries are compared before
and after each request (EXCLUDED and AUDIT_REFUSALS below say what may change, and why).

Forms are found, not listed: each role signs in and the pages it reaches from / (three links deep, a few pages of
each kind) are read for <form>s; POST forms get the bad values field by field on top of a baseline built from the
form's own defaults and the VALID table below; GET forms (filters) and the path segments of the pages (ids, months,
years) get them too. The API's operations come from its OpenAPI document: each operation's body schema gives the kinds
of its properties, api_baselines() a valid body (valid thanks to fixtures made first through the API itself). The
rules (POST /api/v1/calculate) come from GET /api/v1/rules; the imports get broken CSV and XLSX files and files whose
every row is bad. A request that kills the server is reported with the runtime's message (the script restarts it).

Usage: python3 tests/badinput.py BASE_URL DATABASE_URL [SERVER_LOG] [--json REPORT.json] [--only forms,api,calc,paths,imports,signin]
       (started by scripts/badinput_check.sh; SERVER_LOG names the error type behind each 5xx)
Exit 1 on any failure."""
import datetime
import http.client
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
import zipfile
from html.parser import HTMLParser

args = [a for a in sys.argv[1:]]
JSON_OUT = None
ONLY = None
if "--json" in args:
    i = args.index("--json"); JSON_OUT = args[i + 1]; del args[i:i + 2]
if "--only" in args:
    i = args.index("--only"); ONLY = set(args[i + 1].split(",")); del args[i:i + 2]
if len(args) < 2:
    raise SystemExit(__doc__)
BASE, DB_URL = args[0].rstrip("/"), args[1]
SERVER_LOG = args[2] if len(args) > 2 else None
_u = urllib.parse.urlsplit(BASE)
HOST, PORT = _u.hostname, _u.port or 80
STARTED = time.time()

# The server's "today" is Kazakhstan's (UTC+5).
TODAY = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
MONTH = f"{TODAY.year:04d}-{TODAY.month:02d}"
_last = TODAY.replace(day=1) - datetime.timedelta(days=1)
LAST_MONTH = f"{_last.year:04d}-{_last.month:02d}"
TEN_MB = 10 * 1024 * 1024


def want(part):
    return ONLY is None or part in ONLY


# ---------------------------------------------------------------------------------------------------------------
# Identification numbers: valid ones to build baselines, and the ways to break them.

# The IIN/BIN check digit as the bench's persons file computes it (one copy for the scripts).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from persons_csv import check_digit  # noqa: E402


def with_check(first11):
    """The 12-digit number with the right check digit, or None when these 11 digits have none."""
    d = [int(c) for c in first11]
    c = check_digit(d)
    return None if c is None else first11 + str(c)


_serial = [int(time.time()) % 5000]


def new_iin(birth="950315", century="3"):
    """A valid IIN nobody has yet (random serials; the demonstration registry holds 6,000)."""
    while True:
        _serial[0] += 1
        s = f"{(_serial[0] * 7919 + os.getpid()) % 10000:04d}"
        v = with_check(birth + century + s)
        if v:
            return v


def valid_bin(kind="4", serial=1):
    while True:
        v = with_check("1905" + kind + "0" + f"{serial:05d}")
        if v:
            return v
        serial += 1


def bad_checksum(valid):
    return valid[:11] + str((int(valid[11]) + 1) % 10)


def checked_but(first11):
    """A number whose check digit is right but something else is wrong (its date, century or entity kind)."""
    for s in range(10):
        v = with_check(first11[:-1] + str(s))
        if v:
            return v
    return first11 + "0"


IIN_BAD = [("iin_short", "95031"), ("iin_13_digits", "9503153012345"), ("iin_letters", "95031530123a"),
           ("iin_bad_checksum", bad_checksum(new_iin())), ("iin_month_13", checked_but("95131530123")),
           ("iin_feb_30", checked_but("95023030123")), ("iin_century_0", checked_but("95031500123")),
           ("iin_fullwidth_digits", "９５０３１５３０１２３４"), ("iin_spaces_inside", "950315 30123")]
BIN_BAD = [("bin_short", "19054"), ("bin_13_digits", "1905400000012"), ("bin_letters", "19054000000x"),
           ("bin_bad_checksum", bad_checksum(valid_bin())), ("bin_entity_kind_1", checked_but("19051000001")),
           ("bin_fullwidth_digits", "１９０５４０００００１２")]

# ---------------------------------------------------------------------------------------------------------------
# Bad values by kind of field, each (label, value). Text fields get empty, blank, NUL and 100,000 characters; every
# field gets empty when it is required; each form also gets a 10 MB value and invalid UTF-8 (see variants()).

DATE_BAD = [("date_feb_30", "2021-02-30"), ("date_month_13", "2021-13-01"), ("date_zero", "0000-00-00"),
            ("date_word", "yesterday"), ("date_feb_29_2023", "2023-02-29"), ("date_five_digit_year", "20210-01-01")]
MONTH_BAD = [("month_13", "2021-13"), ("month_00", "2021-00"), ("month_zero", "0000-00"), ("month_word", "last"),
             ("month_full_date_feb_30", "2021-02-30")]
YEAR_BAD = [("year_negative", "-1"), ("year_huge", "99999999999999999999"), ("year_word", "abc"), ("year_fraction", "2021.5")]
MONEY_BAD = [("money_negative", "-1"), ("money_1e309", "1e309"),
             ("money_23_digits", "99999999999999999999999"), ("money_1,2,3", "1,2,3"), ("money_NaN", "NaN"),
             ("money_3_decimals", "1.234"), ("money_max_15_digits", "999999999999999.99")]
INT_BAD = [("int_negative", "-1"), ("int_18_digits", "999999999999999999"), ("int_23_digits", "99999999999999999999999"), ("int_1e309", "1e309"),
           ("int_word", "abc"), ("int_fraction", "1.5")]
DECIMAL_BAD = [("decimal_negative", "-1"), ("decimal_NaN", "NaN"), ("decimal_1e309", "1e309"),
               ("decimal_23_digits", "99999999999999999999999"), ("decimal_word", "abc")]
REF_BAD = [("id_unknown", "99999999"), ("id_negative", "-1"), ("id_word", "abc"), ("id_23_digits", "99999999999999999999999")]
ENUM_BAD = [("enum_unknown", "not_a_value")]
ISCO_BAD = [("isco_2_digits", "12"), ("isco_letters", "abcd"), ("isco_5_digits", "12345")]
REGION_BAD = [("region_unknown", "KZ-99"), ("region_word", "Almaty")]
PHONE_BAD = [("phone_letters", "call me"), ("phone_too_short", "123")]
EMAIL_BAD = [("email_no_at", "not-an-email"), ("email_no_domain", "a@")]
LINES_BAD = [("lines_wrong_cell_count", "2411;5"), ("lines_negative_and_nan", "2411;-5;NaN"), ("lines_1e309", "2411;1e309;1"),
             ("lines_bad_isco", "abcd;1;1")]
KIND_BAD = {"iin": IIN_BAD, "bin": BIN_BAD, "iin_or_bin": IIN_BAD[:4] + BIN_BAD[4:5], "date": DATE_BAD, "month": MONTH_BAD,
            "year": YEAR_BAD, "money": MONEY_BAD, "int": INT_BAD, "decimal": DECIMAL_BAD, "ref": REF_BAD, "enum": ENUM_BAD,
            "isco": ISCO_BAD, "region": REGION_BAD, "phone": PHONE_BAD, "email": EMAIL_BAD, "lines": LINES_BAD, "text": []}


def classify(name, value="", tag="input", typ="text", options=None):
    """The kind of a form field (or JSON property) by its name, type and default value."""
    n = name.lower()
    if typ in ("hidden",) and n in ("_csrf",):
        return None
    if typ == "file":
        return "file"
    if typ == "checkbox":
        return "bool"
    if typ == "hidden" and value in ("true", "false"):
        return "bool"
    if tag == "select":
        opts = [o for o, _ in (options or []) if o != ""]
        if opts and set(opts) <= {"true", "false"}:
            return "bool"
        if opts and all(re.fullmatch(r"-?\d+", o) for o in opts):
            return "ref"
        return "enum"
    if n == "iin" or n.endswith("_iin"):
        return "iin"
    if n in ("bin", "employer_bin") or n.endswith("_bin"):
        return "bin"
    if n == "borrower_id":
        return "iin_or_bin"
    if n in ("lines", "forecast", "created"):
        return "lines"
    if typ == "date" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or "") or re.search(r"(_on|_date|_from|_until|_since)$", n) or n in ("on", "date", "on_date", "support_to", "listed_to"):
        return "date"
    if n == "month" or n.endswith("_month") or re.fullmatch(r"\d{4}-\d{2}", value or ""):
        return "month"
    if n == "year" or n.endswith("_year"):
        return "year"
    if n in ("isco", "occupation_isco"):
        return "isco"
    if n in ("region", "region_iso", "to_region", "from_region"):
        return "region"
    if n == "phone":
        return "phone"
    if n == "email":
        return "email"
    if re.search(r"(percent|rate|area|share)", n) or n.startswith("lf_"):
        return "decimal"
    if re.search(r"(amount|wage|cost|total|penalty|price|(^|_)sum(_|$))", n):  # not plan_summary
        return "money"
    if n.endswith("_id") or n == "id":
        return "ref"
    if re.search(r"(_months|_jobs|_quota|_count|_size)$", n) or n.startswith("jobs_") or n in (
            "months", "places", "members", "rooms", "slot", "years", "dwellings", "persons", "age", "current", "counts", "count"):
        return "int"
    return "text"


# ---------------------------------------------------------------------------------------------------------------
# HTTP: one connection per request, raw bytes both ways, no redirects followed.

class Resp:
    def __init__(self, status, headers, body, error=None):
        self.status, self.headers, self.body, self.error = status, headers, body, error

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except Exception:
            return None


def fetch(method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError) as e:
            # The server may answer (413) and close before a big body is all sent: read what it said.
            try:
                r = conn.getresponse()
                return Resp(r.status, r.getheaders(), r.read())
            except Exception:
                return Resp(0, [], b"", error=f"connection closed while sending: {e}")
        r = conn.getresponse()
        return Resp(r.status, r.getheaders(), r.read())
    except (OSError, http.client.HTTPException) as e:
        return Resp(0, [], b"", error=f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def alive():
    r = fetch("GET", "/healthz", timeout=5)
    return r.status == 200


def wait_ready(timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        if fetch("GET", "/readyz", timeout=5).status == 200:
            return True
        time.sleep(0.5)
    return False


def qpath(path):
    """A path with its segments percent-encoded as a client would send them (keeps / and an existing query)."""
    p, _, q = path.partition("?")
    p = urllib.parse.quote(p, safe="/%:@!$&'()*+,;=-._~")
    return p + ("?" + q if q else "")


class Session:
    """A browser's cookies (pages) or a bearer token (API) for one login."""

    def __init__(self, login=None):
        self.login = login or "anonymous"
        self.cookies = {"jumys_lang": "en"}
        self.csrf = ""
        self.token = None

    def _headers(self, extra=None):
        h = {"Accept-Language": "en"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(extra or {})
        return h

    def _keep(self, r):
        for c in r.headers_all("Set-Cookie"):
            name, _, rest = c.partition("=")
            value = rest.split(";")[0]
            if value:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        m = re.search(rb'name="_csrf" value="([0-9a-f]+)"', r.body)
        if m:
            self.csrf = m.group(1).decode()
        return r

    def get(self, path, timeout=120):
        return self._keep(fetch("GET", qpath(path), headers=self._headers(), timeout=timeout))

    def post(self, path, body, content_type="application/x-www-form-urlencoded", timeout=120, headers=None):
        h = self._headers({"Content-Type": content_type, **(headers or {})}) if content_type else self._headers(headers)
        return self._keep(fetch("POST", qpath(path), body=body, headers=h, timeout=timeout))

    def sign_in(self):
        self.get("/signin")
        r = self.post("/signin", urllib.parse.urlencode({"login": self.login, "password": "demo", "_csrf": self.csrf}).encode())
        if r.status != 303:
            raise SystemExit(f"{self.login} could not sign in: {r.status} {r.text[:300]}")
        self.get("/")
        return self

    def api_token(self):
        r = fetch("POST", "/api/v1/auth/token", body=json.dumps({"login": self.login, "password": "demo"}).encode(),
                 headers={"Content-Type": "application/json"})
        if r.status != 200:
            raise SystemExit(f"{self.login} got no API token: {r.status} {r.text[:300]}")
        self.token = r.json()["token"]
        return self

    def api(self, method, path, body=None, content_type="application/json", headers=None, timeout=120):
        h = {"Accept-Language": "en", **(headers or {})}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if body is not None and content_type:
            h["Content-Type"] = content_type
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        return fetch(method, qpath(path), body=body, headers=h, timeout=timeout)


# ---------------------------------------------------------------------------------------------------------------
# The database, read only: row counts of every table, and the audit log's new entries by action and entity.

# Tables left out of the "nothing written" comparison, and why:
EXCLUDED = {
    "sessions": "every sign-in and API token is a session (and a session's last_seen_at moves on use)",
    "sign_in_throttle": "failed sign-ins are counted per login and per address by design (the lockout)",
    "idempotency_keys": "an API POST with an Idempotency-Key keeps its answer, refusals included, by design",
}
# Audit entries that only record a refusal (written on purpose when something is refused):
AUDIT_REFUSALS = {("refused", "project"): "ProjectStore.refuse writes a refused project step to the audit log",
                  ("api_call", "system_token"): "every call of a system token is audited, refused or not"}


class Database:
    def __init__(self, url):
        self.url = url
        self.pg = None
        if url.startswith("sqlite:"):
            path = url[len("sqlite:"):]
            if path.startswith("//"):
                path = path[2:]
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=30)
            self.tables = [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        else:
            self.pg = subprocess.Popen(["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=0"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
            self.tables = [r[0] for r in self.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]
        self.audit_from = int(self.rows("SELECT COALESCE(MAX(seq), 0) FROM audit_log")[0][0])
        self.last = None
        counted = [t for t in self.tables if t not in EXCLUDED]
        self.count_sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM \"{t}\"" for t in counted)

    def rows(self, sql):
        if self.pg is None:
            return [tuple(str(c) if c is not None else "" for c in r) for r in self.conn.execute(sql).fetchall()]
        self.pg.stdin.write(sql.rstrip(";") + ";\n\\echo __END__\n")
        self.pg.stdin.flush()
        out = []
        while True:
            line = self.pg.stdout.readline()
            if line == "":
                raise SystemExit("psql stopped")
            line = line.rstrip("\n")
            if line == "__END__":
                return out
            if line.startswith(("ERROR:", "psql:")):
                raise SystemExit(f"psql: {line}")
            out.append(tuple(line.split("\t")))

    def value(self, sql):
        r = self.rows(sql)
        return r[0][0] if r and r[0] else None

    def snapshot(self):
        s = {t: int(n) for t, n in self.rows(self.count_sql)}
        for action, entity, n in self.rows(f"SELECT action, entity, COUNT(*) FROM audit_log WHERE seq > {self.audit_from} GROUP BY action, entity"):
            s[f"audit:{action}/{entity}"] = int(n)
        return s

    @staticmethod
    def diff(a, b, allow=()):
        """What changed between two snapshots, leaving out the tables and audit entries allowed to change."""
        out = {}
        for k in set(a) | set(b):
            d = b.get(k, 0) - a.get(k, 0)
            if d == 0 or k in allow:
                continue
            if k.startswith("audit:"):
                action, entity = k[6:].split("/", 1)
                if (action, entity) in AUDIT_REFUSALS or f"audit:{action}/*" in allow:
                    continue
            out[k] = d
        # The audit log's own row count moves with its entries, which say what was written.
        out.pop("audit_log", None)
        return out


# ---------------------------------------------------------------------------------------------------------------
# Pages: links and forms.

class PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.forms = [], []
        self.form = None
        self.select = None
        self.textarea = None
        self.option = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.form = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "enctype": a.get("enctype", ""), "fields": []}
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and a.get("name"):
            self.form["fields"].append({"name": a["name"], "tag": "input", "type": a.get("type", "text").lower(), "value": a.get("value", ""),
                                        "checked": "checked" in a, "options": None})
        elif tag == "button" and a.get("name"):
            self.form["fields"].append({"name": a["name"], "tag": "button", "type": "submit", "value": a.get("value", ""), "checked": False, "options": None})
        elif tag == "select" and a.get("name"):
            self.select = {"name": a["name"], "tag": "select", "type": "select", "value": None, "checked": False, "options": []}
            self.form["fields"].append(self.select)
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a, ""]
            self.select["options"].append(self.option)
        elif tag == "textarea" and a.get("name"):
            self.textarea = {"name": a["name"], "tag": "textarea", "type": "textarea", "value": "", "checked": False, "options": None}
            self.form["fields"].append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data
        if self.option is not None:
            self.option[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select is not None:
            opts = [(v if v is not None else t.strip(), sel) for v, sel, t in self.select["options"]]
            chosen = [v for v, sel in opts if sel]
            self.select["value"] = chosen[0] if chosen else (opts[0][0] if opts else "")
            self.select["options"] = [(v, v) for v, _ in opts]
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "option":
            self.option = None


def parse_page(html):
    p = PageParser()
    try:
        p.feed(html)
    except Exception:
        pass
    return p


DOWNLOAD = re.compile(r"(\.(csv|xlsx|xls|pdf|json|xml|zip|txt)$)|(/print/)|(/notice/)|(/notification/)|(/file$)|(^/exports/)|(^/metrics)")
SKIP_LINK = re.compile(r"^/(static|signout|lang/|healthz|readyz|metrics|api/v1/openapi)")


def pattern(path):
    """A page's or form's kind: its path with ids, months, periods and dates generalised, and its query's keys."""
    p, _, q = path.partition("?")
    p = re.sub(r"/\d{4}-\d{2}-\d{2}(?=/|$)", "/{date}", p)
    p = re.sub(r"/\d{4}-(\d{2}|Q\d|H\d)(?=/|$)", "/{period}", p)
    p = re.sub(r"/-?\d+(?=/|$)", "/{id}", p)
    p = re.sub(r"/\d+\.\d+(?=/|$)", "/{item}", p)
    p = re.sub(r"^/parameters/[a-z0-9_]+", "/parameters/{name}", p)
    p = re.sub(r"/KZ-\d\d(?=/|$)", "/{region}", p)
    keys = sorted({k.split("=")[0] for k in q.split("&") if k}) if q else []
    return p + ("?" + ",".join(keys) if keys else "")


def crawl(session, max_depth=3, per_kind=2, extra=()):
    """The pages a role reaches from / (GET only, same host), and the extra pages given (the fixtures' records). Of
    each kind of page, more are read while they show forms not seen yet; after per_kind that show nothing new, no
    more of that kind."""
    seen, dull, pages, found = set(), {}, [], set()
    queue = [("/", 0, False)] + [(p, 1, True) for p in extra]
    while queue:
        path, depth, forced = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        k = pattern(path)
        if not forced and dull.get(k, 0) >= per_kind:
            continue
        r = session.get(path)
        if r.status >= 500 or r.status == 0:
            record_failure(session.login, "GET", path, "-", "crawl", r, reason="5xx while crawling" if r.status else "no answer while crawling")
            continue
        if r.status != 200 or "html" not in (r.header("Content-Type") or ""):
            dull[k] = dull.get(k, 0) + 1
            continue
        p = parse_page(r.text)
        pages.append((path, p))
        keys = {(f["method"], pattern(f["action"] or path), tuple(sorted({x["name"] for x in f["fields"]}))) for f in p.forms}
        if keys <= found:
            dull[k] = dull.get(k, 0) + 1
        found |= keys
        if depth < max_depth:
            for href in p.links:
                href = href.split("#")[0]
                if not href.startswith("/") or href.startswith("//") or SKIP_LINK.search(href) or DOWNLOAD.search(href.split("?")[0]):
                    continue
                if href not in seen:
                    queue.append((href, depth + 1, False))
    return pages


# ---------------------------------------------------------------------------------------------------------------
# Sending a bad request and judging the answer.

FAILURES, TARGETS, NOTES = [], [], []
_rid = [0]


def log_size():
    try:
        return os.path.getsize(SERVER_LOG) if SERVER_LOG else 0
    except OSError:
        return 0


def log_since(offset, limit=4000):
    if not SERVER_LOG:
        return ""
    try:
        with open(SERVER_LOG, "rb") as f:
            f.seek(offset)
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def error_type(rid, since):
    """What the server logged for a request: its error type, or the runtime failure it died of and where."""
    text = log_since(since, 400000)
    for line in text.splitlines():
        if f"request-id={rid}" in line and "error" in line.lower():
            m = re.search(r"unexpected error of type (\S+)", line)
            return m.group(1) if m else line[-200:]
    m = re.search(r"(Fatal error[^\n]*|Swift runtime failure[^\n]*|Illegal instruction[^\n]*|Segmentation fault[^\n]*|Trace/breakpoint trap[^\n]*)", text)
    if not m:
        return None
    # The crashed thread's first frames in Jumys's own sources: "Rules.ceilPercent(_:_:) (Rules.swift:368)".
    rest = text[m.end():]
    c = rest.find(" crashed:")
    frames = []
    for line in (rest[c:] if c >= 0 else rest).splitlines():
        f = re.search(r"\s(?:static |closure #\d+ in |)?([\w.]+\([^)]*\)|[\w.@ ]+\(req:\))[^\n]*? at \S*/Sources/(\S+?):(\d+)", line)
        if f:
            name = re.sub(r"^.*0x[0-9a-f]+\s+", "", f.group(1)).strip()
            frames.append(f"{name} ({f.group(2).split('/')[-1]}:{f.group(3)})")
        if len(frames) == 3:
            break
    return (m.group(1).strip("* ") + (": " + " ← ".join(frames) if frames else ""))[:600]


def page_message(r):
    """The words of an answer, for the report: an HTML page's error summary or main part, else the body."""
    t = r.text
    if "<html" in t[:500].lower() or "<!doctype" in t[:100].lower():
        m = re.search(r'class="error-summary".*?</div>', t, re.S) or re.search(r"<main.*?</main>", t, re.S)
        frag = m.group(0) if m else t
        frag = re.sub(r"<script.*?</script>|<style.*?</style>", " ", frag, flags=re.S)
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", frag)).strip()[:200]
    return re.sub(r"\s+", " ", t).strip()[:200]


def record_failure(role, method, path, field, label, r, reason, written=None, request=None, rid=None, since=None):
    f = {"role": role, "method": method, "path": path, "field": field, "bad": label, "status": r.status if r else None,
         "reason": reason, "body": (page_message(r) if r and r.body else (r.error or "") if r else "")[:200],
         "written": written, "request": request, "error_type": None}
    if rid and (reason.startswith("5xx") or reason.startswith("no answer") or reason.startswith("server")):
        f["error_type"] = error_type(rid, since or 0)
    FAILURES.append(f)
    return f


class Target:
    """One form or endpoint: the bad requests sent to it and what came back."""

    def __init__(self, kind, role, method, path, fields=0, allow=(), writes_checked=True, note=""):
        self.kind, self.role, self.method, self.path, self.fields = kind, role, method, path, fields
        self.allow, self.writes_checked, self.note = set(allow), writes_checked, note
        self.sent = self.refused = self.failed = self.off_target = 0
        self.crashed = False
        TARGETS.append(self)

    def line(self):
        extra = f"  off-target {self.off_target}" if self.off_target else ""
        return (f"{self.kind:6} {self.role:18} {self.method:4} {self.path:55} fields {self.fields:3}  sent {self.sent:4}  refused {self.refused:4}"
                f"  FAILED {self.failed:3}{extra}" + (f"  ({self.note})" if self.note else "")).replace("FAILED   0", "failed   0")


def judge(r, api, field=None, get=False, redirect_ok=False):
    """(refused clearly, why not, whether the message names the field)."""
    if redirect_ok and 300 <= r.status < 400:
        return True, None, True
    if r.status == 0:
        return False, "no answer: " + (r.error or ""), False
    if r.status >= 500:
        return False, f"5xx ({r.status})", False
    ctype = (r.header("Content-Type") or "").lower()
    if get:
        return True, None, True
    if 400 <= r.status < 500:
        if api:
            j = r.json() if "json" in ctype else None
            if not ("problem+json" in ctype and isinstance(j, dict) and (j.get("detail") or j.get("title") or j.get("errors"))):
                return False, f"refused ({r.status}) without a problem+json message", False
            names = [e.get("field", "") for e in (j.get("errors") or []) if isinstance(e, dict)]
            on = field is None or any(field == n or n.startswith(field + ".") or n.endswith("." + field) or field.startswith(n + ".") for n in names) \
                or (field.split(".")[-1] in (j.get("detail") or "")) or r.status in (404, 413)
            return True, None, on
        t = r.text
        clear = 'class="error-summary"' in t or 'class="field-error"' in t or "<h1" in t
        if not clear:
            return False, f"refused ({r.status}) without a message", False
        on = field is None or f'id="{field}-error"' in t or f'href="#{field}"' in t or r.status in (403, 404, 413)
        return True, None, on
    if not api and r.status == 200 and ('class="error-summary"' in r.text or 'class="field-error"' in r.text):
        return True, None, True
    where = r.header("Location")
    return False, f"accepted ({r.status}{' → ' + where if where else ''})", False


def send(target, field, label, do, api=False, get=False, request=None, allow=(), big=False, redirect_ok=False):
    """Sends one bad request (do(headers) → Resp) and checks the answer and the database (a GET or a harmless post:
    the answer only, below 500)."""
    get = get or not target.writes_checked
    if target.crashed:
        return Resp(0, [], b"", error="not sent: this target crashed the server already")
    _rid[0] += 1
    rid = f"bi-{os.getpid()}-{_rid[0]}"
    since = log_size()
    # The snapshot after one request is the one before the next (nothing else writes in between); a request whose
    # writes are not checked (a GET, a harmless post) may start background work, so the next one counts afresh.
    before = (DB.last or DB.snapshot()) if target.writes_checked else None
    DB.last = None
    r = do({"X-Request-Id": rid})
    target.sent += 1
    ok, why, on = judge(r, api, field, get, redirect_ok)
    if r.status == 0:
        if big and alive():
            ok, why = True, None  # a body over the limit may be refused by closing the connection
        elif not alive():
            why = "server crashed: " + (r.error or "")
            # One crash per form or operation is enough to report; the restart costs seconds (the backtrace).
            target.crashed = True
            NOTES.append(f"{target.method} {target.path}: crashed the server; its remaining bad values were not sent")
            if not wait_ready():
                record_failure(target.role, target.method, target.path, field, label, r, why, request=request, rid=rid, since=since)
                report_and_exit("the server did not come back after a crash")
    written = None
    if before is not None:
        DB.last = DB.snapshot()
        written = Database.diff(before, DB.last, allow=target.allow | set(allow))
        if written and ok:
            ok, why = False, "refused but rows were written"
        elif written:
            why += "; rows written"
    if ok:
        target.refused += 1
        if not on:
            target.off_target += 1
    else:
        target.failed += 1
        record_failure(target.role, target.method, target.path, field, label, r, why, written=written or None, request=request, rid=rid, since=since)
    return r


# ---------------------------------------------------------------------------------------------------------------
# The roles. The first eight are the issue's; the others reach forms those do not (the business authority's conclusions,
# the contractor's project reports, the interagency commission's decisions, the regional akimat's credits and bonds).

ROLES = ["admin", "caseworker.KZ-71", "akimat.KZ-35", "commission.KZ-35", "contractor.demo", "lender.demo", "ministry.officer",
         "coordinator.KZ-35", "caseworker.KZ-35", "business.kz-35", "contractor.kz-35", "interagency", "akimat.KZ-71"]


def collect_forms(sessions, extra_pages=None):
    """Every distinct form (by action pattern, method and field names) the roles reach, with the first role that has it."""
    from concurrent.futures import ThreadPoolExecutor
    extra_pages = extra_pages or {}
    with ThreadPoolExecutor(max_workers=4) as ex:
        crawled = list(ex.map(lambda login: (login, crawl(sessions[login], extra=extra_pages.get(login, ()))), ROLES))
    forms, page_paths = {}, {}
    for login, pages in crawled:
        for path, p in pages:
            page_paths.setdefault(pattern(path), (login, path))
            for f in p.forms:
                action = f["action"] or path
                if not action.startswith("/"):
                    continue
                names = tuple(sorted({x["name"] for x in f["fields"] if x["name"] != "_csrf"}))
                key = (f["method"], pattern(action), names)
                if key not in forms:
                    forms[key] = dict(f, action=action, page=path, role=login)
    return forms, page_paths


# ---------------------------------------------------------------------------------------------------------------
# Fixtures: records in the states the forms and operations act on, made through the API and the forms with good
# input (before any bad request), so that every form and operation has something to act on and a baseline that
# would be accepted. Nothing of this is checked; a fixture that cannot be made only narrows the coverage (noted).

def days(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def api_ok(session, method, path, body=None, what=None, expect=(200, 201, 202)):
    r = session.api(method, path, body)
    if r.status not in expect:
        NOTES.append(f"fixture not made ({what or path}): {r.status} {page_message(r)[:160]}")
        return None
    return r.json() if r.body else {}


def form_ok(session, path, fields, what=None):
    r = session.post(path, urllib.parse.urlencode({**fields, "_csrf": session.csrf}).encode())
    if r.status not in (200, 303) or 'class="error-summary"' in r.text:
        NOTES.append(f"fixture not made ({what or path}): {r.status} {page_message(r)[:160]}")
        return None
    return r.header("Location") or ""


def submit_found(session, page, action_rx, overrides=None, what=None):
    """Posts the form of a page whose action matches, with its baseline (and overrides): a fixture through the UI."""
    r = session.get(page)
    for f in parse_page(r.text).forms:
        if f["method"] == "post" and re.search(action_rx, f["action"]):
            pairs = [(n, (overrides or {}).get(n, v)) for n, v in baseline(f)]
            return form_ok(session, f["action"], dict(pairs), what=what or f["action"])
    NOTES.append(f"fixture not made ({what or action_rx}): no such form on {page} ({r.status})")
    return None


def unique_iin(birth="950315", century="3"):
    while True:
        v = new_iin(birth, century)
        if DB.value(f"SELECT COUNT(*) FROM persons WHERE iin = '{v}'") == "0":
            return v


def person_body(district=3, birth="950315", century="3"):
    return {"iin": unique_iin(birth, century), "last_name": "Бадинпутов", "first_name": "Тест", "middle_name": "Тестұлы", "consent": True,
            "categories": ["unemployed", "job_seeker"], "district_id": district, "rural": False, "phone": "+7 701 123 4567",
            "email": "test@example.kz", "education": "higher", "occupation_isco": "7212", "settlement": "Астана"}


def make_fixtures(web, tok, for_api=False):
    """Returns the ids the baselines use and the extra pages each role should read. Made twice: for the pages before
    the crawl, and for the API after the forms (its own records: a bad value a form accepted, which changes the
    record it acted on, must not make the API's baselines fail for another reason)."""
    fx, pages = {}, {}
    ay = TODAY.year + (4 if for_api else 2)  # a year without limits yet, for an allocation to propose
    cw, lender, ministry, akimat = tok["caseworker.KZ-71"], tok["lender.demo"], tok["ministry.officer"], tok["akimat.KZ-35"]
    fx["year"] = TODAY.year

    def person(tag, **kw):
        p = api_ok(cw, "POST", "/api/v1/persons", person_body(**kw), what=f"person {tag}")
        fx[tag] = p["id"] if p else None
        return fx[tag]

    def application(tag, pid, measure, steps=(), contract=None):
        if not pid:
            return None
        a = api_ok(cw, "POST", "/api/v1/applications", {"person_id": pid, "measure": measure}, what=f"application {tag}")
        if not a:
            return None
        for s in steps:
            body = {"action": s}
            if s == "sign_contract":
                body["contract"] = contract
            if not api_ok(cw, "POST", f"/api/v1/applications/{a['id']}/transitions", body, what=f"application {tag} {s}"):
                break
        fx[tag] = a["id"]
        pages.setdefault("caseworker.KZ-71", []).append(f"/applications/{a['id']}")
        return a["id"]

    # People and their applications in every state a form acts on (youth: born 2000, so every measure is open).
    for tag in ("p_api_app", "p_submitted", "p_review", "p_included", "p_contract", "p_active", "p_training", "p_refer",
                "p_refer2", "p_refer3", "p_hired", "p_business", "p_relocation", "p_api_refer", "p_api_train", "p_train2", "p_card", "p_refer4"):
        person(tag, birth="000315", century="5")
    fx["app_submitted"] = application("app_submitted", fx["p_submitted"], "vacancy_placement")
    fx["app_review"] = application("app_review", fx["p_review"], "vacancy_placement", ["start_review"])
    fx["app_included"] = application("app_included", fx["p_included"], "youth_practice", ["start_review", "include"])
    contract = {"starts_on": days(1), "ends_on": days(180), "employer_id": 82, "specialty": "Сварщик", "practice_place": "Цех 1", "work_off_months": 6}
    fx["app_contract"] = application("app_contract", fx["p_contract"], "youth_practice", ["start_review", "include", "sign_contract"], contract)
    fx["app_active"] = application("app_active", fx["p_active"], "social_job", ["start_review", "include", "sign_contract", "activate"], contract)
    training = {"starts_on": days(1), "ends_on": days(120), "provider_id": 83, "specialty": "Сварщик", "course_months": 4, "course_cost": "150000"}
    fx["app_training"] = application("app_training", fx["p_training"], "training", ["start_review", "include", "sign_contract", "activate"], training)
    fx["app_training2"] = application("app_training2", fx["p_api_train"], "training", ["start_review", "include", "sign_contract", "activate"], training)
    fx["app_training3"] = application("app_training3", fx["p_train2"], "training", ["start_review", "include", "sign_contract", "activate"], training)
    for tag in ("app_contract", "app_active", "app_training"):
        a = fx.get(tag) and api_ok(cw, "GET", f"/api/v1/applications/{fx[tag]}", what=f"{tag} read")
        fx[tag.replace("app_", "contract_")] = a.get("contract_id") if a else None
        if a and a.get("contract_id"):
            pages.setdefault("caseworker.KZ-71", []).append(f"/contracts/{a['contract_id']}")
    # A vacancy (its occupation is course 2's, so that a training referral has demand), referrals to it.
    v = api_ok(cw, "POST", "/api/v1/vacancies", {"employer_id": 82, "title": "Сварщик", "isco": "7212", "district_id": 3, "wage": "150000.00", "places": 5,
                                                  "requirements": "Опыт", "valid_from": TODAY.isoformat(), "valid_until": days(90)}, what="vacancy")
    fx["vacancy"] = v["id"] if v else None
    if fx["vacancy"]:
        pages.setdefault("caseworker.KZ-71", []).append(f"/vacancies/{fx['vacancy']}")
        for tag in ("p_refer", "p_refer2", "p_refer3", "p_hired", "p_active", "p_refer4"):
            r = fx.get(tag) and api_ok(cw, "POST", "/api/v1/referrals", {"person_id": fx[tag], "vacancy_id": fx["vacancy"]}, what=f"referral of {tag}")
            fx["ref_" + tag[2:]] = r["id"] if r else None
            fx["refnum_" + tag[2:]] = r.get("number") if r else None
            if r:
                pages.setdefault("caseworker.KZ-71", []).append(f"/referrals/{r['id']}")
        if fx.get("ref_hired"):
            api_ok(cw, "POST", f"/api/v1/referrals/{fx['ref_hired']}/outcome", {"outcome": "hired", "starts_on": TODAY.isoformat(), "ends_on": days(180),
                                                                              "wage": "150000", "position": "Сварщик", "subsidised": ""}, what="hire")
            pages.setdefault("caseworker.KZ-71", []).append(f"/people/{fx['p_hired']}")
        if fx.get("ref_active"):
            # A subsidised hire (a social job) is a placement: the payroll's and the amendment form's.
            api_ok(cw, "POST", f"/api/v1/referrals/{fx['ref_active']}/outcome", {"outcome": "hired", "starts_on": days(1), "ends_on": days(180),
                                                                               "wage": "150000", "position": "Сварщик", "subsidised": "social_job"}, what="subsidised hire")
        fx["placement"] = DB.value(f"SELECT MAX(id) FROM placements WHERE person_id = {fx['p_active']}") if fx.get("p_active") else None
        fx["placement"] = int(fx["placement"]) if fx["placement"] else None
    for tag, who in (("tr1", "p_training"), ("tr2", "p_train2")):
        t = fx.get(who) and api_ok(cw, "POST", "/api/v1/training-referrals", {"person_id": fx[who], "course_id": 2}, what=f"training referral {tag}")
        fx[tag] = t["id"] if t else None
        if t:
            pages.setdefault("caseworker.KZ-71", []).append(f"/training/{t['id']}")
    for tag in ("p_card", "p_training", "p_business", "p_relocation", "p_contract", "p_active"):
        if fx.get(tag):
            pages.setdefault("caseworker.KZ-71", []).append(f"/people/{fx[tag]}")
    # Limits: an allocation and a change proposed by the authorised body, for the commission's decision forms.
    a = api_ok(ministry, "POST", "/api/v1/limits/allocations", {"year": ay, "direction": "rm_projects", "total": "1000000000"}, what="allocation")
    fx["allocation"] = a["id"] if a else None
    a = api_ok(ministry, "POST", "/api/v1/limits/allocations", {"year": ay, "direction": "ep_training", "total": "1000000000"}, what="allocation 2")
    fx["allocation2"] = a["id"] if a else None
    for tag in ("change", "change2"):
        c = api_ok(ministry, "POST", "/api/v1/limits/changes", {"year": TODAY.year, "kind": "correction", "to_region": "KZ-71", "to_direction": "rm_projects",
                                                                "amount": "1000", "reason": "Уточнение"}, what=tag)
        fx[tag] = c["id"] if c else None
    for login in ("interagency", "working-group", "ministry.officer", "admin"):
        pages.setdefault(login, []).extend([f"/limits?year={ay}&direction=rm_projects", f"/limits?year={TODAY.year}&direction=rm_projects"])
    if for_api:
        # A loan of its own, disbursed, with a job: for the lender's steps.
        l = api_ok(lender, "POST", "/api/v1/loans", loan_body(), what="loan for the API")
        fx["loan_new"] = l["id"] if l else None
        l2 = api_ok(lender, "POST", "/api/v1/loans", loan_body(), what="second loan for the API")
        fx["loan_out"] = l2["id"] if l2 else None
        if l2:
            api_ok(lender, "POST", f"/api/v1/loans/{l2['id']}/disburse", {"amount": "1000000", "on": TODAY.isoformat()}, what="disbursement")
            api_ok(lender, "POST", f"/api/v1/loans/{l2['id']}/job", {"contract_number": "ТД-1", "contract_on": TODAY.isoformat(), "slot": 1}, what="job")
            fx["loan_job"] = DB.value(f"SELECT MIN(id) FROM loan_jobs WHERE loan_id = {l2['id']} AND ended_on IS NULL")
        p = api_ok(akimat, "POST", "/api/v1/projects", project_body(), what="project for the API")
        fx["project_new"] = p["id"] if p else None
        return fx, pages
    # Business and relocation applications, an online application, a calendar exception: through their forms.
    w = web["caseworker.KZ-71"]
    if fx.get("p_business"):
        w.get(f"/people/{fx['p_business']}/business/new")
        loc = form_ok(w, f"/people/{fx['p_business']}/business", {"start_or_expand": "start", "settlement": "Астана", "place": "city", "idea": "Пекарня",
                                                                  "sector": "processing", "amount_asked": "2000000", "lender_id": "81", "submitted_on": TODAY.isoformat()}, what="business application")
        if loc:
            pages.setdefault("caseworker.KZ-71", []).append(loc)
    if fx.get("p_relocation"):
        w.get(f"/people/{fx['p_relocation']}/relocation/new")
        loc = form_ok(w, f"/people/{fx['p_relocation']}/relocation", {"origin_id": "1", "lived_since": "2015-01-01", "destination_id": "4", "skills_match": "true",
                                                                      "employment_at_destination": "true", "submitted_on": TODAY.isoformat()}, what="relocation application")
        if loc:
            pages.setdefault("caseworker.KZ-71", []).append(loc)
    anon = Session()
    anon.get("/portal/apply")
    loc = form_ok(anon, "/portal/apply", {"iin": unique_iin("000315", "5"), "last_name": "Онлайнов", "first_name": "Тест", "phone": "+7 701 765 4321",
                                          "email": "online@example.kz", "district_id": "3", "measure": "vacancy_placement", "consent": "true"}, what="online application")
    fx["online"] = DB.value("SELECT MAX(id) FROM online_applications")
    # And one by a person registered already, for the late part (the portal allows few applications per address).
    iin = fx.get("p_card") and DB.value(f"SELECT iin FROM persons WHERE id = {fx['p_card']}")
    if iin:
        form_ok(anon, "/portal/apply", {"iin": iin, "last_name": "Бадинпутов", "first_name": "Тест", "phone": "+7 701 765 4321",
                                        "district_id": "3", "measure": "vacancy_placement", "consent": "true"}, what="online application of a registered person")
        fx["online_registered"] = DB.value(f"SELECT MAX(id) FROM online_applications WHERE iin = '{iin}'")
    if fx["online"]:
        pages.setdefault("caseworker.KZ-71", []).extend([f"/online/{fx['online']}", f"/people/new?online={fx['online']}"])
    a = web["admin"]
    a.get("/calendar")
    form_ok(a, "/calendar", {"date": days(400), "working": "false", "note": "Тест"}, what="calendar exception")
    pages.setdefault("admin", []).append(f"/calendar?year={TODAY.year + 1}")
    form_ok(a, "/admin/tokens", {"name": f"badinput-{int(time.time())}", "role": "caseworker", "region_iso": "KZ-71", "areas[]": "persons"}, what="system token")
    # Loans: a new one of the lender's (for its steps), the demonstration's others.
    fx["loan_new"] = None
    l = api_ok(lender, "POST", "/api/v1/loans", loan_body(), what="loan")
    if l:
        fx["loan_new"] = l["id"]
        pages.setdefault("lender.demo", []).append(f"/loans/{l['id']}")
    for lid in (DB.rows("SELECT id FROM loans ORDER BY id") or []):
        pages.setdefault("lender.demo", []).append(f"/loans/{lid[0]}")
    # Projects: every demonstration project's page for the roles that act on projects.
    for (pid,) in DB.rows("SELECT id FROM projects ORDER BY id"):
        for login in ("akimat.KZ-35", "commission.KZ-35", "contractor.kz-35", "working-group", "interagency", "ministry.officer", "infra.kz-35", "akim.350300000"):
            pages.setdefault(login, []).append(f"/projects/{pid}")
    p = api_ok(akimat, "POST", "/api/v1/projects", project_body(), what="project")
    fx["project_new"] = p["id"] if p else None
    if p:
        pages.setdefault("akimat.KZ-35", []).append(f"/projects/{p['id']}")
    # A business application in KZ-35 (where the authorities that give conclusions are) with its conclusions asked
    # for: the addressee's answer form.
    cw35 = tok.get("caseworker.KZ-35")
    p = cw35 and api_ok(cw35, "POST", "/api/v1/persons", person_body(district=21, birth="000315", century="5"), what="person in KZ-35")
    if p:
        w35 = web["caseworker.KZ-35"]
        loc = submit_found(w35, f"/people/{p['id']}/business/new", r"/business$", {"settlement": "Абай", "idea": "Пекарня", "amount_asked": "2000000"},
                           what="business application in KZ-35")
        if loc:
            fx["business35"] = loc
            submit_found(w35, loc, r"/conclusions$", {"requested_on": TODAY.isoformat()}, what="conclusions asked for")
            pages.setdefault("caseworker.KZ-35", []).append(loc)
    for login in ("business.kz-35",):
        pages.setdefault(login, []).append("/conclusions")
    return fx, pages


def loan_body():
    return {"credit_id": 4, "district_id": 1, "borrower_id": unique_iin("850101", "3"), "borrower_name": "ИП Тестов", "tax_registered": True,
            "purpose": "investment", "purpose_text": "Покупка оборудования", "amount": "1000000", "term_months": 60, "rate_percent": "6",
            "grace_months": 6, "method": "annuity", "jobs_promised": 1, "contract_on": TODAY.isoformat()}


def project_body():
    return {"programme": "roadmap", "name": "Ремонт дороги (тест)", "district_id": 21, "settlement": "Абай", "object_type": "roads", "work_type": "repair",
            "cost_national_fund": "0", "cost_republican": "50000000", "cost_local": "5000000", "cost_cofinancing": "0", "domestic_cost": "50000000",
            "design_docs": True, "expertise_passed": True, "starts_on": days(60), "ends_on": days(240), "jobs_created": 20, "permanent_jobs": 2,
            "average_wage": "180000"}


# ---------------------------------------------------------------------------------------------------------------
# Forms: a baseline that would be accepted, then one field at a time replaced by each bad value of its kind.

VALID = {
    # people and casework
    "iin": lambda: unique_iin("000315", "5"), "last_name": "Бадинпутов", "first_name": "Тест", "middle_name": "Тестұлы", "settlement": "Астана",
    "phone": "+7 701 123 4567", "email": "test@example.kz", "education": "higher", "occupation_isco": "7212", "categories[]": "unemployed",
    "consent": "true", "rural": "false", "category": "low_income", "from_date": lambda: TODAY.isoformat(), "to_date": lambda: days(365),
    "member_name": "Айгерім", "relation": "child", "member_birth_date": "2015-05-05", "member_sex": "female", "measure": "vacancy_placement",
    "refusal_reason": "documents_incomplete", "refusal_text": "Нет справки", "starts_on": lambda: days(1), "ends_on": lambda: days(180),
    "specialty": "Сварщик", "practice_place": "Цех 1", "work_off_months": "6", "course_months": "4", "course_cost": "150000",
    "party": "participant", "occurred_on": lambda: TODAY.isoformat(), "description": "Не вышел на работу", "sanction": "warning",
    "visited_on": lambda: TODAY.isoformat(), "note": "Примечание", "obligation_party": "participant", "obligation_text": "Явиться",
    "obligation_due": lambda: days(30), "course_id": "2", "q": "Бадинпутов",
    # labour market
    "title": "Сварщик", "isco": "7212", "wage": "150000", "places": "2", "requirements": "Опыт", "valid_from": lambda: TODAY.isoformat(),
    "valid_until": lambda: days(60), "employer_id": "82", "position": "Сварщик", "reason": "Уточнение", "outcome_on": lambda: TODAY.isoformat(),
    "title_kk": "Дәнекерлеуші", "title_ru": "Сварщик", "title_en": "Welder", "months": "3", "cost": "100000", "provider_id": "83",
    "lines": "7212;5;7", "forecast": "7212;KZ-71;1;2;3", "created": "KZ-71;10", "received_on": lambda: TODAY.isoformat(),
    "month": lambda: MONTH,
    # projects
    "name": "Тестовый объект", "object_type": "roads", "work_type": "repair", "cost_national_fund": "0", "cost_republican": "50000000",
    "cost_local": "5000000", "cost_cofinancing": "0", "domestic_cost": "50000000", "jobs_created": "20", "permanent_jobs": "2",
    "average_wage": "180000", "contractor_id": "87", "contractor_jobs": "10", "work_done_percent": "10", "work_done_amount": "1000000",
    "jobs_filled": "5", "jobs_by_referral": "2", "referred_avg_wage": "150000", "referral_quota": "5", "decision": "Протокол №1",
    "on": lambda: TODAY.isoformat(), "final_cost": "55000000", "phase": "works",
    # money
    "amount": "1000", "total": "1000000000", "bond_amount": "1000000", "years": "12", "issued_on": lambda: TODAY.isoformat(), "purpose": "Развитие",
    "grace_months": "0", "transferred_on": lambda: TODAY.isoformat(), "penalty": "1000", "demand_on": lambda: TODAY.isoformat(),
    "contract_number": "ТД-1", "contract_on": lambda: TODAY.isoformat(), "slot": "1", "ended_on": lambda: TODAY.isoformat(),
    "repay_amount": "1000", "repay_on": lambda: TODAY.isoformat(), "borrower_name": "ИП Тестов", "purpose_text": "Оборудование",
    "term_months": "60", "rate_percent": "6", "jobs_promised": "1", "borrower_id": lambda: unique_iin("850101", "3"),
    # relocation and housing
    "origin_id": "1", "lived_since": "2015-01-01", "destination_id": "4", "on_date": lambda: TODAY.isoformat(), "protocol": "Протокол №2",
    "address": "ул. Абая, 1", "area": "40", "rooms": "2", "cost_per_m2": "300000", "total_cost": "10000000", "employer_cost": "3000000",
    "dwellings": "5", "decided_on": lambda: TODAY.isoformat(), "name_kk": "Тест ауылы", "name_ru": "Село Тест", "potential": "high",
    "listed_from": lambda: TODAY.isoformat(), "basis": "Решение №1", "listed_to": lambda: days(30), "requested_on": lambda: TODAY.isoformat(),
    "idea": "Пекарня", "amount_asked": "2000000", "lender_id": "81", "submitted_on": lambda: TODAY.isoformat(),
    # administration
    "login": lambda: f"bi-{uuid.uuid4().hex[:8]}", "display_name": "Тест Тестов", "password": "Badinput-passw0rd-1",
    "date": lambda: days(402), "effective_from": lambda: days(30), "value": "1", "reference": "Приказ №1", "evidence": "Протокол",
    "status": "in_progress", "period": "2023",
}
# Per form (by action pattern): values that differ from the general ones.
VALID_BY_FORM = [
    (r"^/limits/allocations$", {"year": lambda: str(TODAY.year + 3)}),
    (r"^/limits/changes$", {"kind": "reallocation", "from_region": "KZ-10", "from_direction": "rm_projects", "to_region": "KZ-71"}),
    (r"^/admin/users$", {"role": "caseworker", "region_iso": "KZ-71", "district_id": "3", "organisation_id": "51"}),
    (r"^/limits/labour-force$", {"period": "2023", "lf_*": "500.5"}),
    (r"^/calendar$", {"date": lambda: days(403)}),
    (r"^/housing/cofinancing$", {"region_iso": "KZ-71"}),
    (r"^/needs/central$", {"year": lambda: str(TODAY.year)}),
    (r"^/admin/tokens$", {"name": lambda: f"bi-{uuid.uuid4().hex[:8]}", "region_iso": "KZ-71", "areas[]": "persons"}),
    (r"^/people/\{id\}/business$", {"settlement": "Абай", "place": "city"}),
    (r"^/payroll/correct$", {"placement_id": lambda: str(FX.get("placement") or ""), "month": lambda: MONTH}),
    (r"^/housing/\{id\}/allocate$", {"person_id": lambda: str(FX.get("p_relocation") or "")}),
    # The late part's project and business application (their pipelines' later steps).
    (r"^/projects/\{id\}/steps/(approve_regional|amend)$", {"referral_quota": "15"}),
    (r"^/projects/\{id\}/steps/amend$", {"ends_on": lambda: days(300), "jobs_created": "22"}),
    (r"^/business/\{id\}/training$", {"starts_on": lambda: TODAY.isoformat(), "ends_on": lambda: days(20)}),
    (r"^/business/\{id\}/plan$", {"plan_summary": "Пекарня: помещение, печь, два работника"}),
    (r"^/business/\{id\}/support$", {"support_from": lambda: TODAY.isoformat(), "support_to": lambda: days(300)}),
    (r"^/business/\{id\}/infrastructure$", {"infra_description": "Подвод газа", "infra_cost": "3000000", "infra_design_cost": "300000",
                                             "infra_contract_number": "ДГ-1", "infra_contract_on": lambda: TODAY.isoformat()}),
    (r"^/business/\{id\}/loan$", {"loan_decision": "approved", "loan_amount": "2000000", "loan_term_months": "36", "loan_grace_months": "6",
                                   "loan_reason": "", "loan_decided_on": lambda: TODAY.isoformat()}),
]
# Fields a form may leave empty (an empty value accepted there is no failure).
OPTIONAL = {"middle_name", "settlement", "phone", "email", "education", "occupation_isco", "to_date", "requirements", "note", "ends_on",
            "subsidised", "received_on", "created", "outcome_on", "referred_avg_wage", "evidence", "purpose", "protocol", "basis", "listed_to",
            "listed_from", "submitted_on", "employer_id", "provider_id", "specialty", "practice_place", "work_off_months", "course_months",
            "course_cost", "on", "cost_national_fund", "cost_republican", "cost_local", "cost_cofinancing", "domestic_cost", "jobs_created",
            "permanent_jobs", "average_wage", "contractor_jobs", "sub_1", "sub_1_jobs", "sub_2", "sub_2_jobs", "sub_3", "sub_3_jobs",
            "in_housing_savings", "region_iso", "slot", "seasonal", "decided_on", "cofinancing_id", "excess_paid_by", "rural_akim",
            "business_authority", "requested_on", "refusal_text", "position", "q", "categories[]", "district_id", "placement_id",
            "decision", "lender_id", "co_employer_id", "description", "reason", "lived_since", "issued_on", "transferred_on", "grace_months",
            "period", "referral_quota", "final_cost", "date", "display_name", "purpose_text", "website", "online_id", "organisation_id",
            "loan_grace_months", "infra_design_cost", "loan_reason", "loan_decided_on"}
# Values made anew for every request (they must be unique: a refused request must not be refused only as a duplicate).
FRESH = {"iin", "login", "borrower_id"}
FX = {}
# Honeypot and similar fields: not the user's input.
SKIP_FIELDS = {"website", "_csrf"}
# Posts that change nothing of the record (or only make a file for the asker): checked for no 5xx, not for writes.
HARMLESS = [r"^/people/search$", r"^/reports/[^/]+/\{period\}/pack$"]
# Posts not sent at all: they end the session.
SKIP_FORMS = [r"^/signout$", r"^/signin$"]


def override(name, action_pattern):
    """The form's own valid value for a field, if VALID_BY_FORM has one."""
    for rx, table in VALID_BY_FORM:
        if re.search(rx, action_pattern):
            if name in table:
                v = table[name]
                return v() if callable(v) else v
            for k, v in table.items():
                if k.endswith("*") and name.startswith(k[:-1]):
                    return v() if callable(v) else v
    return None


def value_for(name, action_pattern):
    """The form's own valid value for a field, else the general one."""
    v = override(name, action_pattern)
    if v is not None:
        return v
    v = VALID.get(name)
    return v() if callable(v) else v


def baseline(form):
    """The form's fields as a browser would send them, empty ones filled from VALID: a list of (name, value)."""
    pat = pattern(form["action"])
    out, radios = [], set()
    for f in form["fields"]:
        name, typ = f["name"], f["type"]
        if name == "_csrf" or typ == "file":
            continue
        if typ == "submit":
            if any(n == name for n, _ in out):
                continue
            out.append((name, f["value"]))
        elif typ == "checkbox":
            if name.endswith("[]"):
                want = value_for(name, pat)
                if f["checked"] or (want is not None and f["value"] == want):
                    out.append((name, f["value"]))
            elif f["checked"] or value_for(name, pat) == f["value"] or name in ("consent", "tax_registered"):
                out.append((name, f["value"]))
        elif typ == "radio":
            if name in radios:
                continue
            group = [x for x in form["fields"] if x["name"] == name]
            chosen = [x["value"] for x in group if x["checked"]]
            want = value_for(name, pat)
            v = want if want in [x["value"] for x in group] else (chosen[0] if chosen else group[0]["value"])
            out.append((name, v)); radios.add(name)
        elif f["tag"] == "select":
            opts = [o for o, _ in f["options"]]
            want = value_for(name, pat)
            v = f["value"]
            if want is not None and want in opts and (not v or override(name, pat) is not None):
                v = want
            if not v:
                v = next((o for o in opts if o), "")
            out.append((name, v))
        else:
            v = f["value"]
            if not v or name in FRESH or override(name, pat) is not None:
                w = value_for(name, pat)
                if w is not None:
                    v = w
            out.append((name, v))
    return out


def field_kinds(form):
    """(name, kind) of each field that is the user's to fill (one entry per name; of a run of fields alike, such as
    the twenty regions' labour force, the first)."""
    seen, out, families = set(), [], set()
    for f in form["fields"]:
        name = f["name"]
        if name in SKIP_FIELDS or name in seen or f["type"] == "file":
            continue
        seen.add(name)
        family = re.sub(r"(KZ-\d\d|\d+)", "#", name)
        if family != name:
            if family in families:
                continue
            families.add(family)
        if f["type"] == "checkbox" and not name.endswith("[]"):
            continue  # an unchecked box is simply absent: any other value is read as unchecked
        group = {x["value"] for x in form["fields"] if x["name"] == name}
        if f["type"] in ("radio", "submit"):
            kind = "bool" if group <= {"true", "false"} else "enum"
        elif name.endswith("[]"):
            kind = "enum"
        else:
            kind = classify(name, f["value"] or "", f["tag"], f["type"], f["options"])
        if kind == "bool":
            continue  # "true" or anything else (read as false), as for a checkbox
        out.append((name, kind))
    return out


def variants(name, kind, base_value):
    """The bad values of a field: its kind's, and empty, NUL and (for text) a 100,000-character string."""
    out = list(KIND_BAD.get(kind, []))
    if name not in OPTIONAL:
        out += [("empty", "")] + ([("whitespace_only", "   ")] if kind in ("text", "lines") else [])
    if kind in ("text", "lines"):
        out += [("nul_byte", "Ab\x00cd"), ("long_100k", "A" * 100000)]
    elif kind in ("iin", "bin", "iin_or_bin", "phone", "email") and base_value:
        out += [("nul_byte_after_valid", base_value + "\x00x")]
    if name in OPTIONAL:
        out = [(label, v) for label, v in out if label != "whitespace_only"]
    return [(label, v) for label, v in out if v != base_value]


def encode_fields(pairs, csrf):
    return urllib.parse.urlencode(pairs + [("_csrf", csrf)]).encode()


def replace(pairs, name, value):
    out, done = [], False
    for n, v in pairs:
        if n == name:
            if not done and value is not None:
                out.append((n, value))
            done = True
        else:
            out.append((n, v))
    if not done and value is not None:
        out.append((name, value))
    return out


COVERED = {}


def fuzz_form(session, form):
    pat = pattern(form["action"])
    if any(re.search(rx, pat) for rx in SKIP_FORMS):
        return
    harmless = any(re.search(rx, pat) for rx in HARMLESS)
    kinds = field_kinds(form)
    # The same action as another role's form: only the fields that one did not have (the handler is the same).
    key = (form["method"], pat)
    again = key in COVERED
    covered = COVERED.setdefault(key, set())
    all_kinds, kinds = kinds, [(n, k) for n, k in kinds if n not in covered]
    covered.update(n for n, _ in all_kinds)
    if again and not kinds:
        return
    get = form["method"] == "get"
    t = Target("form" if not get else "filter", session.login, "GET" if get else "POST", pat, fields=len(kinds), writes_checked=not harmless and not get,
               note="harmless: writes not checked" if harmless else ("fields not in the first one" if again else ""))
    base = baseline(form)
    action = form["action"]
    if get:
        for name, kind in kinds:
            for label, v in variants(name, kind, dict(base).get(name, "")):
                if label == "long_100k":
                    continue
                q = urllib.parse.urlencode(replace(base, name, v))
                send(t, name, label, lambda h, q=q: session._keep(fetch("GET", qpath(action.split("?")[0]) + "?" + q, headers=session._headers(h))), get=True,
                     request=f"GET {action.split('?')[0]}?{q[:150]}")
        return
    csrf = session.csrf

    def post(body, ctype="application/x-www-form-urlencoded", big=False):
        return lambda h: session.post(action, body, ctype, headers=h, timeout=180)

    for name, kind in kinds:
        for label, v in variants(name, kind, dict(base).get(name, "")):
            body = encode_fields(replace(baseline(form), name, v), csrf)
            send(t, name, label, post(body), request=f"POST {action} {body[:180]!r}")
    if again:
        return
    # Once per form: a 10 MB value, invalid UTF-8 (percent-encoded and raw), and a body that is not urlencoded.
    text_fields = [n for n, k in kinds if k in ("text", "lines")] or [n for n, _ in kinds] or ["x"]
    f0 = text_fields[0]
    body = encode_fields(replace(base, f0, "A" * TEN_MB), csrf)
    send(t, f0, "huge_10mb", post(body), request=f"POST {action} ({len(body)} bytes: {f0}=AAAA…)", big=True)
    if kinds:
        raw = encode_fields(replace(base, f0, "@@RAW@@"), csrf)
        for label, junk in (("invalid_utf8_cp1251", b"%C8%E2%E0%ED%EE%E2"), ("invalid_utf8_raw_bytes", b"\xff\xfe\xc8\xe2\xe0\xed"),
                            ("nul_percent_encoded", b"Ab%00cd")):
            body = raw.replace(b"%40%40RAW%40%40", junk)
            send(t, f0, label, post(body), request=f"POST {action} {body[:180]!r}")
        body = b"_csrf=" + csrf.encode() + b"&" + bytes(range(256)) * 8 + b"%%%&&==%E2%8"
        send(t, "(body)", "garbage_body", post(body), request=f"POST {action} _csrf=…&<2 KB of bytes 0-255>")


# ---------------------------------------------------------------------------------------------------------------
# The API: bodies from the OpenAPI document's schemas, baselines below, each property replaced by bad values of
# its kind (and of the wrong JSON type); malformed bodies; bad path and query parameters.

class Raw:
    """A JSON literal sent as written (1e309, a 23-digit integer), which json.dumps cannot write."""

    def __init__(self, text):
        self.text = text


def dumps(obj):
    raws = []

    def walk(o):
        if isinstance(o, Raw):
            raws.append(o.text)
            return f"\u0001RAW{len(raws) - 1}\u0001"
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o
    s = json.dumps(walk(obj), ensure_ascii=False)
    for i, t in enumerate(raws):
        s = s.replace(json.dumps(f"\u0001RAW{i}\u0001"), t)
    return s.encode()


def api_baselines(fx):
    """(operation id, variant, role, path, body or None): a body each that would be accepted."""
    y = TODAY.year
    out, job = fx.get("loan_out") or 2, fx.get("loan_job") or 1
    contract = {"starts_on": days(1), "ends_on": days(180), "employer_id": 82, "specialty": "Сварщик", "practice_place": "Цех 1", "work_off_months": 6}
    cases = [
        ("createPerson", "", "caseworker.KZ-71", "/api/v1/persons", lambda: dict(person_body(), consent_scope="all")),
        ("createApplication", "", "caseworker.KZ-71", "/api/v1/applications", lambda: {"person_id": fx["p_api_app"], "measure": "vacancy_placement", "submitted_on": TODAY.isoformat()}),
        ("transitionApplication", "start_review", "caseworker.KZ-71", f"/api/v1/applications/{fx['app_submitted']}/transitions", lambda: {"action": "start_review", "date": TODAY.isoformat()}),
        ("transitionApplication", "refuse", "caseworker.KZ-71", f"/api/v1/applications/{fx['app_review']}/transitions",
         lambda: {"action": "refuse", "refusal_reason": "other", "refusal_text": "Нет справки", "date": TODAY.isoformat()}),
        ("transitionApplication", "sign_contract", "caseworker.KZ-71", f"/api/v1/applications/{fx['app_included']}/transitions",
         lambda: {"action": "sign_contract", "date": TODAY.isoformat(), "contract": dict(contract)}),
        ("transitionApplication", "terminate", "caseworker.KZ-71", f"/api/v1/applications/{fx['app_active']}/transitions",
         lambda: {"action": "terminate", "participant_refused": True, "note": "Переезд", "date": TODAY.isoformat()}),
        ("createVacancy", "", "caseworker.KZ-71", "/api/v1/vacancies", lambda: {"employer_id": 82, "title": "Сварщик", "isco": "7212", "district_id": 3, "wage": "150000.00",
                                                                              "places": 2, "requirements": "Опыт", "valid_from": TODAY.isoformat(), "valid_until": days(60)}),
        ("createReferral", "", "caseworker.KZ-71", "/api/v1/referrals", lambda: {"person_id": fx["p_api_refer"], "vacancy_id": fx["vacancy"]}),
        ("recordReferralOutcome", "hired", "caseworker.KZ-71", f"/api/v1/referrals/{fx['ref_refer2']}/outcome",
         lambda: {"outcome": "hired", "starts_on": TODAY.isoformat(), "ends_on": days(180), "wage": "150000", "position": "Сварщик", "subsidised": ""}),
        ("recordReferralOutcome", "refused_by_employer", "caseworker.KZ-71", f"/api/v1/referrals/{fx['ref_refer3']}/outcome",
         lambda: {"outcome": "refused_by_employer", "reason": "Нет опыта"}),
        ("createTrainingReferral", "", "caseworker.KZ-71", "/api/v1/training-referrals", lambda: {"person_id": fx["p_api_train"], "course_id": 2}),
        ("recordTrainingOutcome", "", "caseworker.KZ-71", f"/api/v1/training-referrals/{fx['tr2']}/outcome",
         lambda: {"outcome": "completed", "outcome_on": TODAY.isoformat(), "note": "Сдал"}),
        ("submitLocalNeeds", "", "akimat.KZ-35", "/api/v1/needs/local", lambda: {"year": y, "lines": [{"isco": "7212", "current": 5, "forecast": 7}]}),
        ("submitCentralNeeds", "", "admin", "/api/v1/needs/central", lambda: {"organisation_id": 2, "year": y, "received_on": TODAY.isoformat(),
                                                                            "forecast": [{"isco": "7212", "region": "KZ-71", "counts": [1, 2, 3]}],
                                                                            "created": [{"region": "KZ-71", "count": 10}]}),
        ("correctPayroll", "", "admin", f"/api/v1/payroll/{MONTH}/corrections", lambda: {"placement_id": fx["placement"], "reason": "Уточнение"}),
        ("runPayroll", "", "admin", f"/api/v1/payroll/{MONTH}/run", None),
        ("proposeAllocation", "", "ministry.officer", "/api/v1/limits/allocations", lambda: {"year": y + 3, "direction": "rm_projects", "total": "1000000000", "period": "2023"}),
        ("approveAllocation", "", "interagency", f"/api/v1/limits/allocations/{fx['allocation2']}/approve", lambda: {"decision": "Протокол МВК №1"}),
        ("proposeLimitChange", "", "ministry.officer", "/api/v1/limits/changes",
         lambda: {"year": y, "kind": "reallocation", "from_region": "KZ-10", "from_direction": "rm_projects", "to_region": "KZ-71", "to_direction": "rm_projects",
                  "amount": "1000", "reason": "Перераспределение"}),
        ("decideLimitChange", "", "interagency", f"/api/v1/limits/changes/{fx['change2']}/decision", lambda: {"approve": True, "decision": "Протокол МВК №4"}),
        ("createLoan", "", "lender.demo", "/api/v1/loans", loan_body),
        ("loanStep", "disburse", "lender.demo", f"/api/v1/loans/{fx['loan_new']}/disburse", lambda: {"amount": "1000", "on": TODAY.isoformat()}),
        ("loanStep", "repay", "lender.demo", f"/api/v1/loans/{out}/repay", lambda: {"repay_amount": "1000", "repay_on": TODAY.isoformat()}),
        ("loanStep", "target-use", "lender.demo", f"/api/v1/loans/{out}/target-use", lambda: {"use_on": TODAY.isoformat()}),
        ("loanStep", "job", "lender.demo", f"/api/v1/loans/{out}/job", lambda: {"contract_number": "ТД-7", "contract_on": TODAY.isoformat(), "slot": 1, "seasonal": False}),
        ("loanStep", "job-end", "lender.demo", f"/api/v1/loans/{out}/job-end", lambda: {"job_id": int(job), "ended_on": TODAY.isoformat()}),
        ("loanStep", "demand", "lender.demo", f"/api/v1/loans/{out}/demand", lambda: {"penalty": "1000", "reason": "Нецелевое использование", "demand_on": TODAY.isoformat()}),
        ("createProject", "", "akimat.KZ-35", "/api/v1/projects", project_body),
        ("projectStep", "propose", "akimat.KZ-35", f"/api/v1/projects/{fx['project_new']}/steps", lambda: {"step": "propose", "note": "На рассмотрение", "on": TODAY.isoformat()}),
        ("submitProjectReport", "", "contractor.kz-35", "/api/v1/projects/1/reports",
         lambda: {"month": LAST_MONTH, "work_done_percent": "10", "work_done_amount": "1000000", "jobs_filled": 5, "jobs_by_referral": 2, "referred_avg_wage": "150000"}),
    ]
    return [c for c in cases if "None" not in c[3]]


class Schema:
    def __init__(self, doc):
        self.doc = doc
        self.schemas = doc["components"]["schemas"]

    def resolve(self, s):
        while isinstance(s, dict) and "$ref" in s:
            s = self.schemas[s["$ref"].split("/")[-1]]
        return s or {}

    def ref_name(self, s):
        return s["$ref"].split("/")[-1] if isinstance(s, dict) and "$ref" in s else None

    def body_schema(self, op_id):
        for path, ops in self.doc["paths"].items():
            for m, op in ops.items():
                if isinstance(op, dict) and op.get("operationId") == op_id:
                    c = (op.get("requestBody") or {}).get("content", {})
                    return self.resolve(c.get("application/json", {}).get("schema")) if "application/json" in c else None
        return None

    def kind(self, name, s):
        ref = self.ref_name(s)
        r = self.resolve(s)
        if ref in ("Date",):
            return "date"
        if ref == "Month":
            return "month"
        if ref == "MoneyInput":
            return "money"
        if ref == "Decimal":
            return "decimal"
        if ref == "RegionCode":
            return "region"
        if "enum" in r or "anyOf" in r or "const" in r:
            return "enum"
        t = r.get("type")
        if t == "integer":
            return "year" if name == "year" else ("ref" if name.endswith("_id") or name == "id" else "int")
        if t == "boolean":
            return "bool"
        if t == "array":
            return "array"
        if t == "object" or "properties" in r:
            return "object"
        if t == "string":
            if name == "iin":
                return "iin"
            if name == "borrower_id":
                return "iin_or_bin"
            if r.get("pattern") == "^[0-9]{4}$":
                return "isco"
            if r.get("format") == "date":
                return "date"
            return "text"
        return "text"

    def properties(self, s):
        r = self.resolve(s)
        props, required = dict(r.get("properties", {})), set(r.get("required", []))
        for part in r.get("allOf", []):
            pr = self.resolve(part)
            props.update(pr.get("properties", {}))
            required |= set(pr.get("required", []))
        return props, required


def json_variants(kind, required, schema_r=None, name=""):
    """Bad JSON values of a property: its kind's strings, and values of the wrong type."""
    out = [(label, v) for label, v in KIND_BAD.get(kind, [])]
    out = [(label, v) for label, v in out if label not in ("money_minus_cent", "date_five_digit_year", "iin_fullwidth_digits", "iin_spaces_inside")]
    if kind in ("money", "decimal"):
        out += [("json_number_negative", -1), ("json_number_1e309", Raw("1e309")), ("json_number_23_digits", Raw("99999999999999999999999")),
                ("json_true", True), ("json_list", [1])]
    elif kind in ("int", "ref", "year"):
        out += [("json_number_negative", -1), ("json_number_fraction", 1.5), ("json_number_1e309", Raw("1e309")),
                ("json_number_23_digits", Raw("99999999999999999999999")), ("json_true", True), ("json_list", [1])]
    elif kind in ("date", "month"):
        out += [("json_number", 20210230), ("json_true", True)]
    elif kind in ("text", "iin", "iin_or_bin", "isco", "region", "enum"):
        out += [("json_true", True), ("json_list", ["x"])]
        if kind == "text":
            out += [("nul_escape", "Ab\u0000cd"), ("long_100k", "Ж" * 50000)] + ([("whitespace_only", "   ")] if required else [])
            if schema_r and schema_r.get("maxLength"):
                out.append((f"over_maxLength_{schema_r['maxLength']}", "Ж" * (schema_r["maxLength"] + 1)))
    elif kind == "bool":
        out += [("bool_string_yes", "yes"), ("bool_number_1", 1), ("json_list", [True])]
    elif kind == "array":
        out += [("array_as_string", "unemployed"), ("array_as_object", {"a": 1}), ("array_of_null", [None]), ("array_of_numbers", [1, 2])]
        if schema_r and schema_r.get("minItems"):
            out.append(("array_empty", []))
        if schema_r and schema_r.get("maxItems"):
            out.append((f"array_over_maxItems_{schema_r['maxItems']}", "@@MAXITEMS@@"))
    elif kind == "object":
        out += [("object_as_string", "x"), ("object_as_list", []), ("object_empty", {})]
    if required:
        out += [("missing", None), ("json_null", "@@NULL@@")]
        if kind not in ("bool", "array", "object"):
            out.append(("empty", ""))
    return out


def set_path(body, path, value):
    """A copy of the body with the property at path (a list of keys and list indexes) set, or removed (None)."""
    body = json.loads(json.dumps(body))
    cur = body
    for k in path[:-1]:
        cur = cur[k]
    if value is None:
        if isinstance(cur, dict):
            cur.pop(path[-1], None)
    else:
        cur[path[-1]] = None if value == "@@NULL@@" else value
    return body


def has_path(body, path):
    cur = body
    for k in path:
        if isinstance(cur, dict) and k in cur:
            cur = cur[k]
        elif isinstance(cur, list) and isinstance(k, int) and k < len(cur):
            cur = cur[k]
        else:
            return False
    return True


def walk_properties(schema, s, body, prefix=()):
    """(path, name, kind, required, resolved schema) of every property of the body, nested ones too."""
    props, required = schema.properties(s)
    out = []
    for name, ps in props.items():
        r = schema.resolve(ps)
        kind = schema.kind(name, ps)
        out.append((prefix + (name,), name, kind, name in required, r))
        if kind == "object" and isinstance(body.get(name), dict):
            out += walk_properties(schema, ps, body[name], prefix + (name,))
        if kind == "array" and isinstance(body.get(name), list) and body[name] and isinstance(body[name][0], dict):
            out += walk_properties(schema, r.get("items", {}), body[name][0], prefix + (name, 0))
    return out


MALFORMED_JSON = [("json_truncated", b'{"a": '), ("json_empty_body", b""), ("json_null", b"null"), ("json_array", b"[]"),
                  ("json_string", b'"text"'), ("json_number", b"123"), ("json_trailing_garbage", b'{"a": 1} xyz'),
                  ("json_single_quotes", b"{'a': 1}"), ("json_deep_nesting_100k", b"[" * 100000 + b"]" * 100000),
                  ("json_invalid_utf8", b'{"a": "\xff\xfe\xc8\xe2"}'), ("json_raw_nul", b'{"a": "x\x00y"}'),
                  ("json_nan_literal", b'{"a": NaN}'), ("urlencoded_not_json", b"a=1&b=2")]


def fuzz_api(tok, schema, case):
    op_id, variant, role, path, make = case
    session = tok[role]
    body_schema = schema.body_schema(op_id)
    base = make() if make else None
    t = Target("api", role, "POST", re.sub(r"/\d+(?=/|$)", "/{id}", path) + (f"  [{variant}]" if variant else ""), note=op_id)

    def post(body, ctype="application/json", p=None):
        return lambda h: session.api("POST", p or path, body, content_type=ctype, headers=h, timeout=180)

    if base is not None and body_schema is not None:
        # Only the properties the baseline has (and required ones): a property the operation does not read for this
        # variant (another loan step's, a contract for another action) is ignored, rightly.
        props = [p for p in walk_properties(schema, body_schema, base) if p[3] or has_path(base, p[0])]
        t.fields = len(props)
        for prop_path, name, kind, required, r in props:
            field = ".".join(str(p) for p in prop_path if not isinstance(p, int))
            for lab, v in json_variants(kind, required, r, name):
                if v == "@@MAXITEMS@@":
                    item = base.get(name, [None])[0] if isinstance(base.get(name), list) and base.get(name) else "x"
                    v = [item] * (r["maxItems"] + 1)
                if not required and lab in ("empty",):
                    continue
                if op_id in ("createPerson", "createLoan"):
                    base = make()  # a fresh IIN each time: refused for the bad value, not as a duplicate
                body = dumps(set_path(base, list(prop_path), v))
                send(t, field, lab, post(body), api=True, request=f"POST {path} {body[:200]!r}")
        # The first text property with invalid UTF-8 bytes inside the JSON string.
        texts = [p for p in props if p[2] == "text" and len(p[0]) == 1]
        if texts:
            body = dumps(set_path(base, list(texts[0][0]), "@@RAW@@")).replace(b"@@RAW@@", b"\xc8\xe2\xe0\xed")
            send(t, texts[0][1], "invalid_utf8_cp1251_in_string", post(body), api=True, request=f"POST {path} {body[:200]!r}")
        body = dumps(dict(base, padding="A" * TEN_MB))
        send(t, "(body)", "huge_10mb", post(body), api=True, request=f"POST {path} ({len(body)} bytes)", big=True)
    for lab, body in MALFORMED_JSON if body_schema is not None else []:
        send(t, "(body)", lab, post(body), api=True, request=f"POST {path} {body[:120]!r}")
    # Bad ids, months and actions in the path, with the good body.
    good = dumps(base) if base is not None else None
    for seg_rx, bads in ((r"/\d+(?=/|$)", ID_PATH_BAD), (r"/\d{4}-\d{2}(?=/|$)", MONTH_PATH_BAD)):
        m = re.search(seg_rx, path)
        if m:
            for lab, seg in bads:
                p = path[:m.start()] + "/" + seg + path[m.end():]
                send(t, "(path)", lab, post(good, p=p), api=True, request=f"POST {p} {good[:100] if good else b''!r}")
    if op_id == "loanStep" and variant == "disburse":
        for lab, act in (("action_unknown", "nope"), ("action_upper_case", "DISBURSE"), ("action_dot_dot", "..")):
            p = path.rsplit("/", 1)[0] + "/" + act
            send(t, "(path)", lab, post(good, p=p), api=True, request=f"POST {p}")


ID_PATH_BAD = [("id_unknown", "99999999"), ("id_negative", "-1"), ("id_word", "abc"), ("id_fraction", "1.5"), ("id_23_digits", "99999999999999999999999"),
               ("id_zero", "0"), ("id_nul", "1%00"), ("id_encoded_slash", "1%2F2")]
MONTH_PATH_BAD = [("month_feb_30", "2021-02-30"), ("month_13", "2021-13"), ("month_zero", "0000-00"), ("month_word", "abc"),
                  ("month_unpadded", "2021-1"), ("month_five_digit_year", "99999-01"), ("month_1999", "1999-12")]
YEAR_PATH_BAD = [("year_negative", "-1"), ("year_zero", "0"), ("year_99999", "99999"), ("year_word", "abc"),
                 ("year_23_digits", "99999999999999999999999"), ("year_fraction", "2021.5")]
QUERY_BAD = {
    "cursor": [("cursor_word", "abc"), ("cursor_fraction", "1.5"), ("cursor_23_digits", "99999999999999999999999")],
    "limit": [("limit_zero", "0"), ("limit_negative", "-1"), ("limit_over_max", "100000"), ("limit_word", "abc"), ("limit_23_digits", "99999999999999999999999")],
}


def fuzz_api_gets(tok, schema, fx):
    """GET operations: bad path ids, months, years and names; bad query values. 404 or 422, never 5xx or 200."""
    s = tok["admin"]
    ids = {"applications": fx.get("app_submitted"), "contracts": fx.get("contract_active"), "imports": 1, "loans": 2, "persons": fx.get("p_card"),
           "projects": 1, "referrals": fx.get("ref_refer"), "training-referrals": fx.get("tr1"), "vacancies": fx.get("vacancy")}
    for path, ops in schema.doc["paths"].items():
        op = ops.get("get")
        if not op:
            continue
        params = [schema.doc["components"]["parameters"][p["$ref"].split("/")[-1]] if "$ref" in p else p for p in op.get("parameters", [])]
        good = path
        for p in params:
            if p["in"] == "path":
                if p["name"] == "id":
                    good = good.replace("{id}", str(ids.get(path.split("/")[3], 1)))
                elif p["name"] == "month":
                    good = good.replace("{month}", MONTH)
                elif p["name"] == "year":
                    good = good.replace("{year}", str(TODAY.year))
                elif p["name"] == "name":
                    good = good.replace("{name}", "youth_max_age")
        t = Target("api", "admin", "GET", path, fields=len(params), writes_checked=True, note=op.get("operationId", ""))
        for p in params:
            name = p["name"]
            if p["in"] == "path":
                bads = {"id": ID_PATH_BAD, "month": MONTH_PATH_BAD, "year": YEAR_PATH_BAD,
                        "name": [("name_unknown", "no_such_parameter"), ("name_dot_dot", "..%2F..%2Fetc%2Fpasswd"), ("name_long", "x" * 5000), ("name_nul", "a%00b")]}[name]
                for lab, seg in bads:
                    real = {"id": str(ids.get(path.split("/")[3], 1)), "month": MONTH, "year": str(TODAY.year), "name": "youth_max_age"}[name]
                    p2 = good.replace("/" + real, "/" + seg, 1) if name != "id" else re.sub(r"/" + re.escape(real) + r"(?=/|$)", "/" + seg, good, count=1)
                    send(t, name, lab, lambda h, p2=p2: s.api("GET", p2, headers=h), api=True, request=f"GET {p2[:200]}")
            elif p["in"] == "query":
                # A filter value that reads but matches nothing (an unknown district, a negative year) is a question
                # with an empty answer; one that does not read must be refused.
                bads = QUERY_BAD.get(name) or {"isco": ISCO_BAD, "min_wage": [b for b in MONEY_BAD if b[0] in ("money_1e309", "money_23_digits", "money_1,2,3", "money_NaN")],
                                               "district_id": [b for b in REF_BAD if b[0] in ("id_word", "id_23_digits")],
                                               "year": [b for b in YEAR_BAD if b[0] != "year_negative"]}.get(name) \
                    or [(lab, v) for lab, v in KIND_BAD.get(schema.kind(name, p.get("schema", {})), [])]
                if name == "q":
                    bads = [("nul_byte", "a\x00b"), ("long_100k", "Ж" * 20000), ("invalid_utf8", "@@INVALID@@")]
                for lab, v in bads:
                    q = urllib.parse.urlencode({name: v}).replace("%40%40INVALID%40%40", "%C8%E2%E0%ED")
                    url = good + "?" + q
                    # A free-text search, or an occupation prefix to match: any text is a question, answered.
                    text_like = name == "q" or (name == "isco" and path == "/api/v1/vacancies")
                    send(t, name, lab, lambda h, url=url: s.api("GET", url, headers=h), api=True, get=text_like, request=f"GET {url[:200]}",
                         big=lab == "long_100k")


# ---------------------------------------------------------------------------------------------------------------
# Rules (POST /api/v1/calculate): each rule's inputs, from GET /api/v1/rules, with a valid value each, then each
# input replaced by bad values of its type. Nothing is written; every bad value must be a 422.

CALC_VALID_BY_NAME = {"month": "2", "wage": "150000", "family_members": "2", "family_size": "3", "age": "25", "total_cost": "10000000",
                      "employer_cost": "3000000", "dwellings": "5", "jobs_created": "20", "permanent_jobs": "4", "domestic_cost": "8000000",
                      "local_budget": "2000000", "entrepreneurs": "1000000", "amount": "1000000", "term_months": "36", "rate_percent": "6",
                      "grace_months": "0", "principal": "1000000", "years": "5", "year": str(TODAY.year), "half": "1", "period": LAST_MONTH,
                      "area": "40", "cost_per_m2": "300000", "birth_date": "2000-03-15", "categories": "unemployed", "region": "KZ-71",
                      "iin": None, "total": "1000000000", "labour_force": {"KZ-71": 689.9, "KZ-75": 1098},
                      # (a JSON list inside a string: a list itself is not read; see the report)
                      "projects": json.dumps([{"id": "1", "cost": "1000000", "jobs_created": 10, "permanent_jobs": 2, "duration_months": 6, "planned_referrals": 3}])}


def calc_input_kind(name, typ):
    t = typ.lower()
    if "|" in t:
        return "enum"
    if t == "money" or t.startswith("money"):
        return "money"
    if t == "integer":
        return "int"
    if t == "number":
        return "decimal"
    if t.startswith("date"):
        return "date"
    if t == "boolean":
        return "bool"
    if t == "year":
        return "year"
    if "region" in t:
        return "region"
    if name == "iin":
        return "iin"
    if "json list" in t:
        return "array"
    if "map" in t:
        return "object"
    if "comma" in t:
        return "enum"
    return "text"


def calc_valid(name, typ):
    if name == "iin":
        return unique_iin()
    if name in CALC_VALID_BY_NAME:
        return CALC_VALID_BY_NAME[name]
    k = calc_input_kind(name, typ)
    if k == "enum":
        return typ.split("|")[0].strip() if "|" in typ else "unemployed"
    return {"date": TODAY.isoformat(), "bool": True, "money": "100000", "int": "3", "decimal": "5", "region": "KZ-71"}.get(k, "x")


def fuzz_rules(tok):
    s = tok["caseworker.KZ-71"]
    rules = (s.api("GET", "/api/v1/rules").json() or {}).get("items", [])
    t0 = Target("calc", "caseworker.KZ-71", "POST", "/api/v1/calculate  [body]", note="calculate")
    for lab, body in MALFORMED_JSON + [("rule_unknown", b'{"rule": "no_such_rule", "inputs": {}}'), ("rule_not_string", b'{"rule": 1}'),
                                        ("inputs_not_object", b'{"rule": "iin_info", "inputs": "x"}'),
                                        ("date_feb_30", b'{"rule": "iin_info", "inputs": {"iin": "950315300123"}, "date": "2021-02-30"}'),
                                        ("date_year_99999", b'{"rule": "iin_info", "inputs": {"iin": "950315300123"}, "date": "99999-01-01"}')]:
        send(t0, "(body)", lab, lambda h, body=body: s.api("POST", "/api/v1/calculate", body, headers=h), api=True, request=f"POST /api/v1/calculate {body[:120]!r}")
    for rule in rules:
        name = rule["name"]
        inputs = {i["name"]: calc_valid(i["name"], i["type"]) for i in rule.get("inputs", [])}
        t = Target("calc", "caseworker.KZ-71", "POST", f"/api/v1/calculate  [{name}]", fields=len(inputs), writes_checked=False, note="rule")
        good = {"rule": name, "inputs": inputs, "date": TODAY.isoformat()}
        ok = s.api("POST", "/api/v1/calculate", good)
        if ok.status != 200:
            NOTES.append(f"rule {name}: the baseline was refused ({ok.status} {page_message(ok)[:120]}); its bad inputs are refused for that too")
        for i in rule.get("inputs", []):
            kind = calc_input_kind(i["name"], i["type"])
            for lab, v in json_variants(kind, True, None, i["name"]):
                if lab in ("json_null", "json_list", "json_number_fraction", "json_number_negative") or v == "@@MAXITEMS@@":
                    continue
                if kind == "text" and lab in ("long_100k",):
                    continue
                body = dumps({"rule": name, "inputs": dict(inputs, **{i["name"]: v}) if v is not None else {k: x for k, x in inputs.items() if k != i["name"]},
                              "date": TODAY.isoformat()})
                send(t, "inputs." + i["name"], lab, lambda h, body=body: s.api("POST", "/api/v1/calculate", body, headers=h), api=True,
                     request=f"POST /api/v1/calculate {body[:220]!r}")
        # An unknown input, and huge but well-formed numbers in every numeric input at once.
        body = dumps(dict(good, inputs=dict(inputs, no_such_input="1")))
        send(t, "inputs", "input_unknown", lambda h, body=body: s.api("POST", "/api/v1/calculate", body, headers=h), api=True, request=f"POST /api/v1/calculate {body[:200]!r}")
        huge = {k: ("999999999999999" if calc_input_kind(k, next(x["type"] for x in rule["inputs"] if x["name"] == k)) in ("money", "int", "decimal") else v)
                for k, v in inputs.items()}
        if huge != inputs:
            # Either answer (a result or a 422) will do; not a 5xx, and the server must live.
            body = dumps(dict(good, inputs=huge))
            send(t, "inputs", "all_numbers_999999999999999", lambda h, body=body: s.api("POST", "/api/v1/calculate", body, headers=h), api=True, get=True,
                 request=f"POST /api/v1/calculate {body[:200]!r}")


# ---------------------------------------------------------------------------------------------------------------
# Pages' path segments and query values (GET): every kind of page read while crawling, and the downloads the crawl
# leaves alone, with each id, month, period, date, region or name replaced by bad ones. A bad segment must not be
# answered 2xx (404, 422 or a redirect); a bad query value must not be a 5xx.

SEGMENT_BAD = {
    "{id}": ID_PATH_BAD[:6],
    "{period}": [("period_month_13", "2021-13"), ("period_feb_30", "2021-02-30"), ("period_zero", "0000-00"), ("period_q5", "2021-Q5"),
                 ("period_h3", "2021-H3"), ("period_word", "abc"), ("period_five_digit_year", "99999-01")],
    "{date}": [("date_feb_30", "2021-02-30"), ("date_month_13", "2021-13-01"), ("date_zero", "0000-00-00"), ("date_word", "abc")],
    "{region}": [("region_unknown", "KZ-99"), ("region_word", "abc"), ("region_lower_unknown", "kz-00")],
    "{name}": [("name_unknown", "no_such_thing"), ("name_dot_dot", "..%2F..%2Fetc%2Fpasswd"), ("name_long", "x" * 3000)],
    "{item}": [("item_unknown", "99.99"), ("item_word", "a.b")],
    "{lang}": [("lang_unknown", "xx"), ("lang_long", "x" * 300)],
    "{party}": [("party_unknown", "nobody")],
    "{report}": [("report_unknown", "no_such_report"), ("report_dot_dot", "..")],
    "{direction}": [("direction_unknown", "no_such_direction")],
    "{file}": [("file_unknown", "nothing.csv"), ("file_dot_dot", "..%2Fpersons.csv"), ("file_no_extension", "persons")],
}
DOWNLOADS = [("admin", "/payroll/{period}/payments.csv"), ("admin", "/payroll/{period}/payments.xlsx"),
             ("caseworker.KZ-71", "/contracts/{id}/print/{lang}"), ("caseworker.KZ-71", "/contracts/{id}/notice/{party}/{lang}"),
             ("caseworker.KZ-71", "/referrals/{id}/print/{lang}"), ("caseworker.KZ-71", "/business/{id}/notification/{lang}"),
             ("caseworker.KZ-71", "/imports/{id}/errors.csv"), ("admin", "/jobs/{id}"), ("admin", "/jobs/{id}/file"), ("admin", "/exports/{file}"),
             ("admin", "/reports/{report}/{period}"), ("admin", "/limits/{id}/{direction}/{region}"), ("admin", "/dashboard/{region}"),
             ("admin", "/parameters/{name}"), ("caseworker.KZ-71", "/online/{id}"), ("caseworker.KZ-71", "/people/{id}/business/new"),
             ("caseworker.KZ-71", "/people/{id}/relocation/new"), ("admin", "/imports/{id}"), ("lender.demo", "/bonds/{id}"),
             ("caseworker.KZ-71", "/training/{id}"), ("caseworker.KZ-71", "/relocation/{id}"), ("business.kz-35", "/conclusions/{id}")]
GOOD_SEGMENT = {"{period}": LAST_MONTH, "{lang}": "ru", "{party}": "participant", "{file}": "persons.csv", "{report}": "programme_monthly",
                "{direction}": "rm_projects", "{region}": "KZ-71", "{name}": "youth_max_age", "{date}": TODAY.isoformat(), "{item}": "1.1"}
QUERY_KINDS = {"month": MONTH_BAD[:4], "year": YEAR_BAD, "region": REGION_BAD, "district": REF_BAD[:3], "district_id": REF_BAD[:3],
               "cursor": QUERY_BAD["cursor"], "page": INT_BAD[:4], "online": REF_BAD[:3], "plan": ENUM_BAD[:1], "state": ENUM_BAD[:1],
               "measure": ENUM_BAD[:1], "direction": ENUM_BAD[:1], "flag": ENUM_BAD[:1], "filer": ENUM_BAD[:1], "back": [("back_external", "//evil.example/"), ("back_scheme", "https://evil.example/")]}


def fuzz_paths(web, page_kinds, fx):
    templates = {}
    for pat, (login, concrete) in page_kinds.items():
        templates.setdefault(pat.split("?")[0], (login, concrete))
    for login, tpl in DOWNLOADS:
        if tpl not in templates:
            templates[tpl] = (login, None)
    for tpl, (login, concrete) in sorted(templates.items()):
        session = web[login]
        segs = tpl.split("/")
        holes = [i for i, x in enumerate(segs) if x.startswith("{")]
        if not holes:
            continue
        real = concrete.split("?")[0].split("/") if concrete else None
        if real is None or len(real) != len(segs):
            real = [GOOD_SEGMENT.get(x, str(fx.get("p_card") or 1)) if x.startswith("{") else x for x in segs]
            if "/contracts/" in tpl:
                real = [str(fx.get("contract_active")) if x == "{id}" else r for x, r in zip(segs, real)]
        t = Target("path", login, "GET", tpl, fields=len(holes), writes_checked=True)
        for i in holes:
            for lab, bad in SEGMENT_BAD.get(segs[i], ID_PATH_BAD[:4]):
                p = "/".join(bad if j == i else real[j] for j in range(len(segs)))
                send(t, segs[i], lab, lambda h, p=p: session._keep(fetch("GET", qpath(p), headers=session._headers(h))), request=f"GET {p[:200]}",
                     redirect_ok=True)
    # Query values of the pages that take them.
    for pat, (login, concrete) in sorted(page_kinds.items()):
        if "?" not in concrete:
            continue
        session = web[login]
        path, _, q = concrete.partition("?")
        pairs = urllib.parse.parse_qsl(q, keep_blank_values=True)
        keys = [k for k, _ in pairs if k in QUERY_KINDS]
        if not keys:
            continue
        t = Target("query", login, "GET", pattern(concrete), fields=len(keys), writes_checked=True)
        for k in keys:
            for lab, bad in QUERY_KINDS[k]:
                url = path + "?" + urllib.parse.urlencode([(a, bad if a == k else b) for a, b in pairs])
                send(t, k, lab, lambda h, url=url: session._keep(fetch("GET", qpath(url), headers=session._headers(h))), get=True, request=f"GET {url[:200]}")
    # The language switch's way back must stay on this site.
    s = web["admin"]
    t = Target("query", "admin", "GET", "/lang/{code}?back", fields=1, writes_checked=True)
    for lab, back in (("back_external", "//evil.example/x"), ("back_scheme", "https://evil.example/"), ("back_backslash", "/\\evil.example"),
                      ("back_crlf", "/x\r\nSet-Cookie: a=b"), ("back_nul", "/x\x00y")):
        url = "/lang/en?" + urllib.parse.urlencode({"back": back})
        r = send(t, "back", lab, lambda h, url=url: fetch("GET", url, headers=s._headers(h)), get=True, request=f"GET {url}")
        where = r.header("Location") or ""
        if r.status in (301, 302, 303, 307, 308) and (not where.startswith("/") or where.startswith("//") or "\\" in where or "\n" in where):
            t.failed += 1; t.refused -= 1
            record_failure("admin", "GET", "/lang/{code}", "back", lab, r, f"redirects off the site to {where!r}", request=f"GET {url}")
    for lab, code in (("lang_unknown", "xx"), ("lang_long", "x" * 3000)):
        send(t, "code", lab, lambda h, code=code: fetch("GET", f"/lang/{code}?back=/", headers=s._headers(h)), request=f"GET /lang/{code[:40]}")


# ---------------------------------------------------------------------------------------------------------------
# Imports: broken files are refused at the upload (nothing stored); files whose every row is bad become a job that
# ends with every row in its error report and nothing added (the job, its file, its errors and their audit entries
# are the record of the attempt, by design).

IMPORT_RECORD = {"import_jobs", "import_files", "import_errors", "audit:submit/import_job", "audit:import/import_job"}


def xlsx(rows, sheet_xml=None):
    """A minimal workbook: one sheet of inline strings."""
    def cell(r, c, v):
        col = ""
        c += 1
        while c:
            c, rem = divmod(c - 1, 26)
            col = chr(65 + rem) + col
        v = str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{col}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
    if sheet_xml is None:
        body = "".join(f'<row r="{i + 1}">' + "".join(cell(i + 1, j, v) for j, v in enumerate(row)) + "</row>" for i, row in enumerate(rows))
        sheet_xml = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     f"<sheetData>{body}</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


_bomb = []


def xlsx_bomb():
    """A workbook whose sheet unpacks to 300 MB (beyond the reader's 256 MB), 300 KB packed."""
    if not _bomb:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/workbook.xml", "<workbook/>")
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
                f.write(b'<?xml version="1.0"?><worksheet><sheetData>')
                chunk = b" " * (1 << 20)
                for _ in range(300):
                    f.write(chunk)
                f.write(b"</sheetData></worksheet>")
        _bomb.append(out.getvalue())
    return _bomb[0]


def csv_bytes(rows, sep=";"):
    return ("\n".join(sep.join(str(c) for c in row) for row in rows) + "\n").encode()


def import_kinds(fx):
    """kind → (role, header, a row that would be accepted (made anew each call), per-column kinds)."""
    kato = dict(DB.rows("SELECT id, kato FROM districts WHERE id IN (3, 21)"))
    project1 = DB.value("SELECT number FROM projects WHERE id = 1")
    n = [0]

    def ref():
        n[0] += 1
        return f"BI-{os.getpid()}-{n[0]}"
    return {
        "persons": ("caseworker.KZ-71", ["iin", "last_name", "first_name", "district", "consent", "middle_name", "settlement", "rural", "phone", "email",
                                         "education", "occupation_isco", "categories"],
                    lambda: [unique_iin("000315", "5"), "Импортов", "Тест", kato.get("3", "710300000"), "yes", "Тестұлы", "Астана", "no", "+7 701 123 4567",
                             "imp@example.kz", "higher", "7212", "unemployed"]),
        "vacancies": ("caseworker.KZ-71", ["external_ref", "employer_bin", "title", "isco", "district", "wage", "places", "valid_from", "valid_until", "requirements"],
                      lambda: [ref(), "100640033018", "Сварщик", "7212", kato.get("3", "710300000"), "150000", "2", TODAY.isoformat(), days(60), "Опыт"]),
        "labour-contracts": ("caseworker.KZ-71", ["referral_number", "position", "starts_on", "wage", "ends_on", "subsidised"],
                             lambda: [fx.get("refnum_refer4") or "R-0", "Сварщик", TODAY.isoformat(), "150000", days(180), ""]),
        "projects": ("akimat.KZ-35", ["external_ref", "programme", "district", "settlement", "name", "object_type", "work_type", "starts_on", "ends_on",
                                      "cost_national_fund", "cost_republican", "cost_local", "cost_cofinancing", "domestic_cost", "design_docs", "expertise_passed",
                                      "jobs_created", "permanent_jobs", "average_wage"],
                     lambda: [ref(), "roadmap", kato.get("21", "350300000"), "Абай", "Ремонт дороги", "roads", "repair", days(60), days(240), "0", "50000000",
                              "5000000", "0", "50000000", "yes", "yes", "20", "2", "180000"]),
        "progress": ("contractor.kz-35", ["project", "month", "work_done_percent", "work_done_amount", "jobs_filled", "jobs_by_referral", "referred_avg_wage"],
                     lambda: [project1 or "IP-0", LAST_MONTH, "10", "1000000", "5", "2", "150000"]),
    }


IMPORT_COLUMN_BAD = {"district": [("district_unknown", "999999999"), ("district_word", "abc")], "employer_bin": BIN_BAD[:4],
                     "referral_number": [("referral_unknown", "R-XX-0000-000000")], "project": [("project_unknown", "IP-XX-0000-000000")],
                     "consent": [("flag_unknown", "maybe")], "rural": [("flag_unknown", "maybe")], "design_docs": [("flag_unknown", "maybe")],
                     "expertise_passed": [("flag_unknown", "maybe")], "categories": [("category_unknown", "not_a_category")],
                     "programme": ENUM_BAD[:1], "object_type": ENUM_BAD[:1], "work_type": ENUM_BAD[:1], "education": ENUM_BAD[:1],
                     "subsidised": ENUM_BAD[:1], "external_ref": [("empty", ""), ("long_5000", "x" * 5000)]}


IMPORT_REQUIRED = {"iin", "last_name", "first_name", "district", "consent", "external_ref", "employer_bin", "title", "isco", "wage", "places",
                   "valid_from", "valid_until", "referral_number", "position", "starts_on", "programme", "settlement", "name", "object_type",
                   "work_type", "ends_on", "project", "month", "work_done_percent", "work_done_amount", "jobs_filled", "jobs_by_referral"}


def bad_rows(header, good, required):
    """Rows each with one bad cell (every column, a few bad values each), and ragged rows."""
    rows = []
    for i, col in enumerate(header):
        kind = classify(col)
        bads = IMPORT_COLUMN_BAD.get(col) or [b for b in KIND_BAD.get(kind, []) if b[0] not in ("money_max_15_digits",)][:4]
        if col not in IMPORT_COLUMN_BAD and kind == "text":
            bads = [("empty", ""), ("long_100k", "Ж" * 50000)]
        for label, v in bads:
            if v == "" and col not in required:
                continue
            row = good()
            row[i] = v
            rows.append((f"{col}:{label}", row))
    g = good()
    rows.append(("ragged_short", g[:2]))
    rows.append(("ragged_long_with_2nd_and_3rd_empty", [g[0], "", ""] + g[3:] + ["extra1", "extra2"]))
    return rows


def multipart(fields, files, boundary=None):
    boundary = boundary or "----badinput" + uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + (v if isinstance(v, bytes) else str(v).encode()) + b"\r\n")
    for k, (fname, ctype, data) in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\nContent-Type: {ctype}\r\n\r\n'.encode() + data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def wait_import(tok, job_id, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        r = tok.api("GET", f"/api/v1/imports/{job_id}")
        j = r.json() if r.status == 200 else None
        if j and j.get("state") in ("done", "failed"):
            return j
        time.sleep(0.1)
    return None


def send_import(t, tok, label, upload, expect, row_labels=None):
    """An upload that must be refused (expect "refuse"), or may become a job whose every row fails (expect "job")."""
    _rid[0] += 1
    rid = f"bi-{os.getpid()}-{_rid[0]}"
    since = log_size()
    before = DB.snapshot()
    DB.last = None
    r = upload({"X-Request-Id": rid})
    t.sent += 1
    why, job = None, None
    if r.status == 0 and not alive():
        why = "server crashed: " + (r.error or "")
        wait_ready()
    elif r.status == 0:
        if not label.startswith("over_64mb"):
            NOTES.append(f"{t.path} {label}: the connection was closed without an answer (the server is alive): {r.error}")
    elif r.status >= 500:
        why = f"5xx ({r.status})"
    elif r.status in (200, 202, 303):
        m = re.search(r"/imports/(\d+)", r.header("Location") or "") or re.search(r'"id"\s*:\s*(\d+)', r.text)
        if expect == "refuse" or not m:
            why = f"accepted ({r.status}{' → ' + r.header('Location') if r.header('Location') else ''})"
        if m:
            job = wait_import(tok, int(m.group(1)))
            if job is None:
                why = (why or "") + "; the job did not finish in 90 s"
            elif expect == "job" and job["added"]:
                errs = (tok.api("GET", f"/api/v1/imports/{job['id']}/errors?limit=200").json() or {}).get("items", [])
                failed_rows = {e["row"] for e in errs}
                clean = sorted(set(range(2, job['rows_total'] + 2)) - failed_rows)
                named = [f"row {n}: {row_labels[n - 2]}" if row_labels and n - 2 < len(row_labels) else f"row {n}" for n in clean]
                why = (f"job {job['id']} added {job['added']} and found {job['present']} present of {job['rows_total']} rows that were all bad "
                       f"(rows without an error: {', '.join(named[:20])})")
    elif 400 <= r.status < 500:
        ctype = r.header("Content-Type") or ""
        if "json" in ctype:
            j = r.json() or {}
            if not (j.get("detail") or j.get("errors") or j.get("title")):
                why = f"refused ({r.status}) without a message"
        elif not ('class="error-summary"' in r.text or "<h1" in r.text):
            why = f"refused ({r.status}) without a message"
    written = Database.diff(before, DB.snapshot(), allow=IMPORT_RECORD if job and expect == "job" else set())
    if job and expect == "job":
        t.allow |= IMPORT_RECORD
    if written and not why:
        why = "rows written"
    elif written:
        why += "; rows written"
    if why:
        t.failed += 1
        record_failure(t.role, t.method, t.path, "file", label, r, why, written=written or None, rid=rid, since=since,
                       request=f"{t.method} {t.path} {label}")
    else:
        t.refused += 1
    return r, job


def fuzz_imports(web, tok, fx):
    kinds = import_kinds(fx)
    for kind, (role, header, good) in kinds.items():
        session = web[role]
        api = tok[role]
        sample = [header, good()]
        # Windows-1251 text (Cyrillic in one more column, so that every kind has some).
        cp1251 = "\n".join(";".join(r) for r in [header + ["примечание"], good() + ["Тестовая строка"]]).encode("cp1251", "replace")
        files = [
            ("wrong_header", csv_bytes([["foo", "bar", "baz"], ["1", "2", "3"]]), "refuse"),
            ("missing_column", csv_bytes([header[1:], good()[1:]]), "refuse"),
            ("empty_file", b"", "refuse"),
            ("header_only", csv_bytes([header]), "refuse"),
            ("blank_lines_only", b"\n\n  \n", "refuse"),
            ("binary_garbage", bytes(range(256)) * 64, "refuse"),
            ("windows_1251", cp1251, "refuse"),
            ("utf16_without_bom", "\n".join(";".join(r) for r in sample).encode("utf-16-le"), "refuse"),
            ("nul_bytes", csv_bytes(sample).replace(b";", b";\x00", 1), "refuse"),
            ("unclosed_quote", csv_bytes([header]) + b'"' + csv_bytes([good()]), "refuse"),
            ("xlsx_not_a_zip", b"PK\x03\x04" + bytes(range(256)) * 16, "refuse"),
            ("xlsx_zip_without_workbook", (lambda b: (zipfile.ZipFile(b, "w").writestr("hello.txt", "hello"), b.getvalue())[1])(io.BytesIO()), "refuse"),
            ("xlsx_truncated", xlsx(sample)[:400], "refuse"),
            ("xlsx_no_rows", xlsx([]), "refuse"),
            ("xlsx_unpacks_to_300mb", xlsx_bomb(), "refuse"),
            ("xlsx_entity_expansion", xlsx(None, '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
                                         + "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">' for i in range(1, 10)).replace("&lol0;", "&lol;")
                                         + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
                                         + "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(header))
                                         + '</row><row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'), "job"),
            ("xlsx_external_entity", xlsx(None, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                                         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
                                         + "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(header))
                                         + '</row><row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'), "job"),
        ]
        # A persons file may leave the settlement out (a project's may not).
        rows = bad_rows(header, good, IMPORT_REQUIRED - ({"settlement"} if kind == "persons" else set()))
        jobs = [("csv_every_row_bad", csv_bytes([header] + [r for _, r in rows]), "job"),
                ("utf16_bom_every_row_bad", b"\xff\xfe" + "\n".join(";".join(r) for r in [header] + [r for _, r in rows]).encode("utf-16-le"), "job"),
                ("xlsx_every_row_bad", xlsx([header] + [r for _, r in rows]), "job")]
        t = Target("import", role, "POST", f"/api/v1/imports/{kind}", fields=len(header), note=f"{len(rows)} bad rows per job file")
        labels = [lab for lab, _ in rows]
        for label, data, expect in files + jobs:
            is_xlsx = data.startswith(b"PK")
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if is_xlsx else "text/csv"
            name = f"{label}.{'xlsx' if is_xlsx else 'csv'}"
            r, job = send_import(t, api, label, lambda h, data=data, ctype=ctype, name=name: api.api("POST", f"/api/v1/imports/{kind}", data, content_type=ctype,
                                                                                                headers=dict(h, **{"X-File-Name": name}), timeout=180), expect,
                                    row_labels=labels if label.endswith("every_row_bad") else None)
            if job and label == "xlsx_external_entity":
                rep = api.api("GET", f"/api/v1/imports/{job['id']}/errors?limit=200").text
                if "root:" in rep:
                    t.failed += 1
                    record_failure(role, "POST", f"/api/v1/imports/{kind}", "file", label, r, "the XML external entity was read: /etc/passwd appears in the error report")
        # The same through the page's form (multipart), for the files that must be refused, and a few job files.
        tf = Target("import", role, "POST", f"/imports  [kind={kind}]", fields=2, note="multipart form")
        session.get("/imports")
        for label, data, expect in files[:12] + jobs[:1]:
            body, ctype = multipart([("_csrf", session.csrf), ("kind", kind)], [("file", (f"{label}.csv", "text/csv", data))])
            send_import(tf, api, label, lambda h, body=body, ctype=ctype: session.post("/imports", body, ctype, headers=h, timeout=180), expect)
    # Bad kinds and other bodies on the API's upload.
    cw = tok["caseworker.KZ-71"]
    t = Target("import", "caseworker.KZ-71", "POST", "/api/v1/imports/{kind}", fields=1, note="kind, size, file name")
    persons = kinds["persons"]
    good_file = csv_bytes([persons[1], persons[2]()])
    for label, path, body, hdrs in (("kind_unknown", "/api/v1/imports/nope", good_file, {}), ("kind_not_allowed", "/api/v1/imports/projects", good_file, {}),
                                    ("kind_dot_dot", "/api/v1/imports/..%2Fpersons", good_file, {}),
                                    ("over_64mb", "/api/v1/imports/persons", good_file + b"#" * (65 << 20), {}),
                                    ("file_name_nul", "/api/v1/imports/persons", csv_bytes([persons[1], ["x"] * len(persons[1])]), {"X-File-Name": "a\x00b.csv"})):
        send_import(t, cw, label, lambda h, path=path, body=body, hdrs=hdrs: cw.api("POST", path, body, content_type="text/csv", headers=dict(h, **hdrs), timeout=180),
                    "refuse" if label != "file_name_nul" else "job")
    # The employer's hires file: all lines or none; every bad file and every file with a bad line is refused.
    for role in ("caseworker.KZ-71", "contractor.demo"):
        api = tok[role]
        session = web[role]
        header = ["referral_number", "position", "starts_on", "ends_on", "wage", "subsidised"]
        good = lambda: [fx.get("refnum_refer4") or "R-0", "Сварщик", TODAY.isoformat(), days(180), "150000", ""]
        t = Target("import", role, "POST", "/api/v1/hires", fields=len(header), note="hires file")
        tf = Target("import", role, "POST", "/referrals/import", fields=1, note="hires file, multipart form")
        files = [("wrong_header", csv_bytes([["foo", "bar"], ["1", "2"]])), ("empty_file", b""), ("header_only", csv_bytes([header])),
                 ("binary_garbage", bytes(range(256)) * 64), ("windows_1251", "\n".join(";".join(r) for r in [header, good()]).encode("cp1251")),
                 ("utf8_with_nul", csv_bytes([header, good()]).replace(b"\xd0\xa1", b"\xd0\xa1\x00", 1)),
                 ("utf16_without_bom", "\n".join(";".join(r) for r in [header, good()]).encode("utf-16-le")),
                 ("xlsx_instead_of_csv", xlsx([header, good()])), ("over_5000_lines", csv_bytes([header] + [good()] * 5001))]
        files += [(f"one_bad_line_{label}", csv_bytes([header, row])) for label, row in bad_rows(header, good, {"referral_number", "position", "starts_on", "wage"})]
        for label, data in files:
            send_import(t, api, label, lambda h, data=data: api.api("POST", "/api/v1/hires", data, content_type="text/csv", headers=h, timeout=180), "refuse")
        session.get("/referrals/import")
        for label, data in files[:8]:
            body, ctype = multipart([("_csrf", session.csrf)], [("file", (f"{label}.csv", "text/csv", data))])
            send_import(tf, api, label, lambda h, body=body, ctype=ctype: session.post("/referrals/import", body, ctype, headers=h, timeout=180), "refuse")


# ---------------------------------------------------------------------------------------------------------------
# Sign-in, API tokens and the Idempotency-Key header (last: wrong passwords are counted per address, by design).

def fuzz_signin(tok):
    anon = Session()
    anon.get("/signin")
    t = Target("form", "anonymous", "POST", "/signin", fields=2, allow=(), note="no session may start")
    sessions = lambda: int(DB.value("SELECT COUNT(*) FROM sessions"))
    cases = [("login", "empty", {"login": "", "password": "demo"}), ("password", "empty", {"login": "admin", "password": ""}),
             ("login", "whitespace_only", {"login": "   ", "password": "demo"}), ("login", "nul_byte", {"login": "admin\x00", "password": "demo"}),
             ("login", "long_100k", {"login": "Ж" * 50000, "password": "x"}), ("password", "nul_byte", {"login": "nobody-badinput", "password": "de\x00mo"}),
             ("password", "long_100k", {"login": "nobody-badinput", "password": "x" * 100000}), ("login", "sql_quote", {"login": "admin' --", "password": "x"})]
    for field, label, fields in cases:
        body = urllib.parse.urlencode(dict(fields, _csrf=anon.csrf)).encode()
        n = sessions()
        r = send(t, field, label, lambda h, body=body: anon.post("/signin", body, headers=h), request=f"POST /signin {body[:120]!r}")
        if sessions() != n:
            t.failed += 1
            record_failure("anonymous", "POST", "/signin", field, label, r, "a session was started")
        anon.cookies = {k: v for k, v in anon.cookies.items() if k != "jumys_session"}
    for label, body, ctype in (("huge_10mb", urllib.parse.urlencode({"login": "A" * TEN_MB, "password": "x", "_csrf": anon.csrf}).encode(), None),
                               ("invalid_utf8_raw_bytes", b"login=\xff\xfe&password=x&_csrf=" + anon.csrf.encode(), None),
                               ("garbage_body", b"_csrf=" + anon.csrf.encode() + b"&" + bytes(range(256)) * 4, None),
                               ("json_body", json.dumps({"login": "nobody-badinput", "password": "x", "_csrf": anon.csrf}).encode(), "application/json")):
        send(t, "(body)", label, lambda h, body=body, ctype=ctype: anon.post("/signin", body, ctype or "application/x-www-form-urlencoded", headers=h),
             request=f"POST /signin {body[:80]!r}", big=label == "huge_10mb")
    t = Target("api", "anonymous", "POST", "/api/v1/auth/token", fields=2, note="createToken; no session may start")
    for label, body in MALFORMED_JSON + [("login_number", b'{"login": 1, "password": "x"}'), ("password_missing", b'{"login": "nobody-badinput"}'),
                                         ("both_null", b'{"login": null, "password": null}'), ("login_nul", b'{"login": "admin\\u0000", "password": "demo"}'),
                                         ("login_list", b'{"login": ["admin"], "password": "demo"}'),
                                         ("huge_10mb", b'{"login": "' + b"A" * TEN_MB + b'", "password": "x"}')]:
        n = sessions()
        r = send(t, "(body)", label, lambda h, body=body: fetch("POST", "/api/v1/auth/token", body, dict(h, **{"Content-Type": "application/json"})), api=True,
                 request=f"POST /api/v1/auth/token {body[:100]!r}", big=label == "huge_10mb")
        if sessions() != n:
            t.failed += 1
            record_failure("anonymous", "POST", "/api/v1/auth/token", "(body)", label, r, "a session (token) was started")
    # Idempotency-Key: a bad key on a request that is otherwise good is refused, and nothing is created.
    cw = tok["caseworker.KZ-71"]
    t = Target("api", "caseworker.KZ-71", "POST", "/api/v1/vacancies  [Idempotency-Key]", fields=1, note="header")
    good = {"employer_id": 82, "title": "Сварщик", "isco": "7212", "district_id": 3, "wage": "150000.00", "places": 2, "valid_from": TODAY.isoformat(), "valid_until": days(60)}
    for label, key in (("key_empty", ""), ("key_201_chars", "k" * 201), ("key_non_ascii", "ключ"), ("key_space", "a b")):
        def do(h, key=key):
            hh = dict(h)
            hh["Idempotency-Key"] = key.encode("utf-8").decode("latin-1")
            return cw.api("POST", "/api/v1/vacancies", good, headers=hh)
        send(t, "Idempotency-Key", label, do, api=True, request=f"POST /api/v1/vacancies Idempotency-Key: {key[:40]!r}")




# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Forms that show only once a record has moved on: a contractor's monthly report sent (the akimat's check), a
# project completed below its cost (the saving's review and decision), a monitoring report submitted (its
# decision), an online application of a person already registered (taking it into the file). Their records are
# moved on here, after every other part, because moving them changes what the other parts' baselines rely on.

def signed_in(web, login):
    """The login's page session, signed in on first use."""
    if login not in web:
        web[login] = Session(login).sign_in()
    return web[login]


def fuzz_late(web, tok, forms, doc):
    found = []
    for login in ("working-group", "interagency", "ministry.officer", "coordinator.KZ-35", "admin", "akimat.KZ-35", "caseworker.KZ-71"):
        signed_in(web, login)

    def forms_on(login, page, action_rx):
        r = web[login].get(page)
        if r.status != 200:
            NOTES.append(f"late forms: {page} answered {r.status} to {login}")
            return []
        out = [dict(f, action=f["action"] or page, page=page, role=login) for f in parse_page(r.text).forms
               if f["method"] == "post" and re.search(action_rx, f["action"] or "")]
        if not out:
            NOTES.append(f"late forms: no form like {action_rx} on {page} for {login}")
        found.extend(out)
        return out

    def fuzz(login, f, choose=None):
        DB.last = None  # a fixture was written since the last snapshot
        fuzz_form(web[login], f)
        # Then the baseline itself, which must be accepted (else the refusals above may be for another reason); with
        # `choose`, each option of that list in turn until one is (a dwelling within the family's norm).
        tries = [{}]
        if choose:
            tries = [{choose: o[0]} for x in f["fields"] if x["name"] == choose for o in (x["options"] or []) if o[0]]
        for t in tries:
            r = web[login].post(f["action"], urllib.parse.urlencode({**dict(baseline(f)), **t, "_csrf": web[login].csrf}).encode())
            if r.status in (200, 303) and 'class="error-summary"' not in r.text:
                return
        NOTES.append(f"late forms: the baseline of {pattern(f['action'])} was refused ({r.status} {page_message(r)[:160]}); its refusals may be for another reason")

    # The contractor's report for last month on project 1, awaiting the akimat's check (accept, or give back).
    api_ok(tok["contractor.kz-35"], "POST", "/api/v1/projects/1/reports", {"month": LAST_MONTH, "work_done_percent": "10", "work_done_amount": "1000000",
                                                                          "jobs_filled": 5, "jobs_by_referral": 2, "referred_avg_wage": "150000"}, what="report to check")
    for f in forms_on("akimat.KZ-35", "/projects/1", r"/projects/\d+/reports/[^/]+/return$"):
        fuzz("akimat.KZ-35", f)
    # A worker from another settlement hired by referral onto project 1: the bonus (E7) the employer records paid.
    cw35 = tok["caseworker.KZ-35"]
    worker = api_ok(cw35, "POST", "/api/v1/persons", dict(person_body(district=21, birth="000315", century="5"), settlement="Караганда"), what="worker for project 1")
    vacancy = api_ok(cw35, "POST", "/api/v1/vacancies", {"employer_id": 87, "title": "Бетонщик", "isco": "7114", "district_id": 21, "wage": "300000", "places": 2,
                                                         "valid_from": TODAY.isoformat(), "valid_until": days(60), "project_id": 1, "project_phase": "works"}, what="project 1 vacancy")
    ref = worker and vacancy and api_ok(cw35, "POST", "/api/v1/referrals", {"person_id": worker["id"], "vacancy_id": vacancy["id"]}, what="referral to project 1")
    if ref:
        api_ok(cw35, "POST", f"/api/v1/referrals/{ref['id']}/outcome", {"outcome": "hired", "starts_on": TODAY.isoformat(), "ends_on": days(120), "wage": "300000",
                                                                      "position": "Бетонщик", "subsidised": ""}, what="hire onto project 1")
    for f in forms_on("akimat.KZ-35", "/projects/1", r"/hires/\d+/bonus$")[:1]:
        fuzz("akimat.KZ-35", f)
    # Project 1 completed below its cost: the working group reviews the saving, then the commission decides on it.
    api_ok(tok["akimat.KZ-35"], "POST", "/api/v1/projects/1/steps", {"step": "complete", "on": TODAY.isoformat(), "final_cost": "1000000"}, what="project completed")
    for f in forms_on("working-group", "/projects/1", r"/saving/review$"):
        fuzz("working-group", f)  # its baseline, sent last, reviews the saving
    for f in forms_on("interagency", "/projects/1", r"/saving/decide$"):
        fuzz("interagency", f)
    # A monitoring report submitted by its filer: the decision on it.
    saves = [f for (m, pat, _), f in forms.items() if m == "post" and pat.endswith("/save")]
    if saves:
        f = saves[0]
        form_ok(web[f["role"]], f["action"], dict(baseline(f), submit="true"), what="monitoring report submitted")
        for login in ("ministry.officer", "coordinator.KZ-35", "admin"):
            got = forms_on(login, f["page"], r"/decide$")
            if got:
                fuzz(login, got[0])
                break
    else:
        NOTES.append("late forms: no monitoring report's form was found to submit")
    # The relocation application recommended and included: a dwelling allocated to the family, then released.
    rid = FX.get("p_relocation") and DB.value(f"SELECT MAX(application_id) FROM relocation_applications WHERE person_id = {FX['p_relocation']}")
    if rid and rid != "None":
        page = f"/relocation/{rid}"
        for login in ("caseworker.KZ-71", "commission.KZ-71", "admin"):
            if any(re.search(r"/recommendation$", f["action"] or "") for f in parse_page(web[login].get(page).text).forms):
                submit_found(web[login], page, r"/recommendation$", {"recommended": "true", "on_date": TODAY.isoformat(), "protocol": "МВК-1", "note": ""},
                             what="relocation recommended")
                break
        form_ok(web["caseworker.KZ-71"], f"/applications/{rid}/actions/include", {}, what="relocation included")
        # A flat within a single person's norm (18 m²) in a district of the destination's region.
        dest = DB.value(f"SELECT s.region_iso FROM relocation_applications r JOIN settlements s ON s.id = r.destination_id WHERE r.application_id = {rid}")
        district = DB.value(f"SELECT MIN(id) FROM districts WHERE region_iso = '{dest}'")
        web["admin"].get("/housing")
        form_ok(web["admin"], "/housing/dwellings", {"district_id": district, "address": "ул. Тестовая, 1", "kind": "flat", "area": "18", "rooms": "1",
                                                     "cost_per_m2": "75000", "employer_id": "", "cofinancing_id": "", "excess_paid_by": ""}, what="a small flat")
        for f in forms_on("caseworker.KZ-71", page, r"/relocation/\d+/allocate$"):
            fuzz("caseworker.KZ-71", f, choose="dwelling_id")  # its baseline, sent last, allocates a dwelling
        for f in forms_on("admin", "/housing", r"/allocations/\d+/release$")[:1]:
            fuzz("admin", f)  # the housing list of the whole country (the flat is in the destination's region)
    else:
        NOTES.append("late forms: no relocation application to allocate a dwelling to")
    # An online application by a person registered already: the caseworker takes it into the file (no fields but
    # the path's id, which the paths part fuzzes).
    oid = FX.get("online_registered")
    if oid and oid != "None":
        for f in forms_on("caseworker.KZ-71", f"/online/{oid}", r"/online/\d+/attach$"):
            fuzz("caseworker.KZ-71", f)
    else:
        NOTES.append("late forms: no online application of a registered person")
    late_projects(web, tok, doc, forms_on, fuzz)
    late_business(web, tok, forms_on, fuzz)
    return found


def late_projects(web, tok, doc, forms_on, fuzz):
    """The project pipeline after the regional decision (E2), on three new projects of one programme and year (so that
    one can replace another). At each state the step's form and the API's projectStep with that step's fields are
    fuzzed; the form's baseline, sent last, takes the step. The steps fuzzed elsewhere (propose, approve_regional,
    reject_regional, complete) are taken through the API here."""
    for login in ("coordinator.KZ-35", "commission.KZ-35", "working-group"):
        if login not in tok:
            tok[login] = Session(login).api_token()
        signed_in(web, login)
    made = [api_ok(tok["akimat.KZ-35"], "POST", "/api/v1/projects", project_body(), what=f"pipeline project {n}") for n in range(3)]
    if not all(made):
        NOTES.append("late forms: the pipeline's projects were not made")
        return
    a, b, c = (p["id"] for p in made)

    def take(login, pid, step, **extra):
        return api_ok(tok[login], "POST", f"/api/v1/projects/{pid}/steps", {"step": step, "on": TODAY.isoformat(), **extra}, what=f"project {pid}: {step}")

    def state(pid):
        return DB.value(f"SELECT state FROM projects WHERE id = {pid}")

    def step(login, pid, name, api_extra=None, expect=None, choose=None):
        """Fuzzes the API's step and the page's form, whose baseline then takes the step; checks the state it led to."""
        DB.last = None  # the steps taken since the last snapshot were fixtures
        commission = login in ("commission.KZ-35", "working-group", "interagency")
        body = {"step": name, "note": "Тест", "on": TODAY.isoformat(), **({"decision": "Протокол №1"} if commission else {}), **(api_extra or {})}
        fuzz_api(tok, doc, ("projectStep", name, login, f"/api/v1/projects/{pid}/steps", lambda: dict(body)))
        for f in forms_on(login, f"/projects/{pid}", rf"/projects/{pid}/steps/{name}$"):
            fuzz(login, f, choose=choose)
        if expect and state(pid) != expect:
            NOTES.append(f"late forms: project {pid} is {state(pid)} after {name}, not {expect}")

    for pid in (a, b, c):
        take("akimat.KZ-35", pid, "propose")
    # The coordinator gives project a back to the akimat (it is proposed again), then compiles it; b and c compiled.
    step("coordinator.KZ-35", a, "return", expect="draft")
    take("akimat.KZ-35", a, "propose")
    step("coordinator.KZ-35", a, "compile", expect="compiled")
    for pid in (b, c):
        take("coordinator.KZ-35", pid, "compile")
    for pid in (a, b, c):
        take("commission.KZ-35", pid, "approve_regional", referral_quota=15, decision="Протокол №1")
    # The ministry consolidates the regions' lists.
    step("ministry.officer", a, "consolidate", expect="consolidated")
    for pid in (b, c):
        take("ministry.officer", pid, "consolidate")
    # The working group replaces a by b (b is selected in its place) and selects c.
    step("working-group", a, "replace", api_extra={"replacement_id": b}, expect="replaced", choose="replacement_id")
    step("working-group", c, "select", expect="selected")
    # The interagency commission adds the replaced a back, amends c and approves it, and removes b.
    step("interagency", a, "add", expect="approved")
    step("interagency", c, "amend", api_extra={"jobs_created": 22, "referral_quota": 15, "ends_on": days(300)}, expect="selected")
    step("interagency", c, "approve", expect="approved")
    step("interagency", b, "remove", expect="removed")
    # The akimat names c's contractor (required before the works start).
    submit_found(web["akimat.KZ-35"], f"/projects/{c}", r"/parties$", {"contractor_id": "87", "contractor_jobs": "10", **{f"sub_{n}{j}": "" for n in (1, 2, 3) for j in ("", "_jobs")}},
                 what="project contractor")
    # The akimat starts the works on c.
    step("akimat.KZ-35", c, "start", expect="in_works")


def late_business(web, tok, forms_on, fuzz):
    """A business application (C1) after its conclusions: the notification, training, attendance, the plan, the
    lender's decision, support, visits and infrastructure, each form fuzzed in the state that shows it."""
    cw35 = tok["caseworker.KZ-35"]
    w35 = web["caseworker.KZ-35"]
    p = api_ok(cw35, "POST", "/api/v1/persons", person_body(district=21, birth="000315", century="5"), what="person for a business application")
    if not p:
        return
    w35.get(f"/people/{p['id']}/business/new")
    loc = form_ok(w35, f"/people/{p['id']}/business", {"start_or_expand": "start", "settlement": "Абай", "place": "rural", "idea": "Пекарня", "sector": "processing",
                                                       "amount_asked": "2000000", "needs_infrastructure": "true", "lender_id": "81", "submitted_on": TODAY.isoformat()},
                  what="business application with infrastructure")
    m = loc and re.search(r"/business/(\d+)", loc)
    if not m:
        return
    bid = m.group(1)
    page = f"/business/{bid}"
    submit_found(w35, page, r"/conclusions$", {"requested_on": TODAY.isoformat()}, what="conclusions asked for")
    # Every addressee answers yes (whoever holds the organisation the request went to).
    for rid, login in DB.rows(f"SELECT c.id, MIN(u.login) FROM conclusion_requests c JOIN users u ON u.organisation_id = c.organisation_id "
                              f"WHERE c.application_id = {bid} AND c.answered_on IS NULL GROUP BY c.id") or []:
        s = signed_in(web, login)
        s.get(f"/conclusions/{rid}")
        form_ok(s, f"/conclusions/{rid}/answer", {"positive": "true", "reason": "", "answered_on": ""}, what=f"conclusion {rid} answered by {login}")
    for action, extra in (("include", {}), ("sign_contract", {"contract": {"starts_on": TODAY.isoformat(), "ends_on": days(365)}})):
        api_ok(cw35, "POST", f"/api/v1/applications/{bid}/transitions", {"action": action, **extra}, what=f"business application {action}")
    # Notification, training (attendance, then completion), plan: each form's baseline, sent last, takes the step.
    for action in ("notified", "training", "attendance", "training_complete", "plan"):
        for f in forms_on("caseworker.KZ-35", page, rf"/business/{bid}/{action}$"):
            fuzz("caseworker.KZ-35", f)
    # The lender's decision on the loan, on its request's page.
    lrid = DB.value(f"SELECT id FROM conclusion_requests WHERE application_id = {bid} AND body = 'lender'")
    lender = lrid and DB.value(f"SELECT MIN(u.login) FROM conclusion_requests c JOIN users u ON u.organisation_id = c.organisation_id WHERE c.id = {lrid}")
    if lender and lender != "None":
        signed_in(web, lender)
        for f in forms_on(lender, f"/conclusions/{lrid}", rf"/business/{bid}/loan$"):
            fuzz(lender, f)
    else:
        NOTES.append("late forms: the business application has no lender's request")
    for action in ("support", "visits", "infrastructure"):
        for f in forms_on("caseworker.KZ-35", page, rf"/business/{bid}/{action}$"):
            fuzz("caseworker.KZ-35", f)


def report_and_exit(why=None):
    took = time.time() - STARTED
    print()
    print("== targets")
    for t in TARGETS:
        print(t.line())
    sent = sum(t.sent for t in TARGETS)
    print()
    print(f"== summary: {len(TARGETS)} targets ({sum(1 for t in TARGETS if t.kind == 'form')} forms, {sum(1 for t in TARGETS if t.kind == 'filter')} filters, "
          f"{sum(1 for t in TARGETS if t.kind == 'api')} API operations, {sum(1 for t in TARGETS if t.kind == 'calc')} rules, "
          f"{sum(1 for t in TARGETS if t.kind == 'path')} path patterns, {sum(1 for t in TARGETS if t.kind == 'import')} imports), {sent} bad requests, "
          f"{sum(t.refused for t in TARGETS)} refused clearly ({sum(t.off_target for t in TARGETS)} of them naming another field), "
          f"{len(FAILURES)} failures, {took:.0f} s")
    if NOTES:
        print()
        print("== notes")
        for n in NOTES:
            print("   " + n)
    if FAILURES:
        print()
        print("== failures by form or endpoint and field (the bad values each failed with)")
        groups = {}
        for f in FAILURES:
            short = re.sub(r"\s*\(.*", "", f["reason"]).split(":")[0].split(";")[0]
            groups.setdefault((f["method"], f["path"], f["field"], short, f["role"]), []).append(f"{f['bad']}({f['status']})")
        for (method, path, field, short, role), bads in groups.items():
            print(f"   {method} {path}  {field}: {short} [{role}]: {', '.join(dict.fromkeys(bads))}")
        print()
        print("== failures")
        for f in FAILURES:
            print(f"FAIL {f['role']} {f['method']} {f['path']} field={f['field']} bad={f['bad']} status={f['status']}: {f['reason']}"
                  + (f"  written={f['written']}" if f["written"] else "") + (f"  error={f['error_type']}" if f["error_type"] else ""))
            print(f"     request: {str(f['request'])[:300]}")
            print(f"     answer:  {f['body'][:200]}")
    if JSON_OUT:
        with open(JSON_OUT, "w") as out:
            json.dump({"targets": [vars(t) | {"allow": sorted(t.allow)} for t in TARGETS], "failures": FAILURES, "notes": NOTES, "seconds": took},
                      out, ensure_ascii=False, indent=1, default=str)
    if why:
        print("STOPPED: " + why)
        sys.exit(2)
    print()
    print("badinput: " + ("FAILED" if FAILURES else "passed"))
    sys.exit(1 if FAILURES else 0)


def main():
    global DB, FX
    if not wait_ready(30):
        raise SystemExit(f"{BASE} is not ready")
    DB = Database(DB_URL)
    web = {login: Session(login).sign_in() for login in ROLES}
    tok = {login: Session(login).api_token() for login in ("admin", "caseworker.KZ-71", "caseworker.KZ-35", "lender.demo", "ministry.officer",
                                                             "akimat.KZ-35", "contractor.demo", "contractor.kz-35", "interagency")}
    FX, pages = make_fixtures(web, tok)
    t0 = time.time()
    forms, page_kinds = collect_forms(web, pages)
    print(f"crawled {len(page_kinds)} kinds of page as {len(ROLES)} roles: {len(forms)} forms ({time.time() - t0:.0f} s)", flush=True)
    # Imports first: they need project 1's month unreported, which an accepted bad report form would change.
    if want("imports"):
        t0, n0 = time.time(), sum(t.sent for t in TARGETS)
        fuzz_imports(web, tok, FX)
        print(f"imports: {sum(t.sent for t in TARGETS) - n0} bad requests ({time.time() - t0:.0f} s)", flush=True)
    if want("forms"):
        t0, n0 = time.time(), sum(t.sent for t in TARGETS)
        for key, form in sorted(forms.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if form["enctype"] == "multipart/form-data":
                continue  # file uploads: the imports part
            fuzz_form(web[form["role"]], form)
        print(f"forms: {sum(t.sent for t in TARGETS) - n0} bad requests ({time.time() - t0:.0f} s)", flush=True)
    doc = Schema(fetch("GET", "/api/v1/openapi.json").json())
    if want("api"):
        t0, n0 = time.time(), sum(t.sent for t in TARGETS)
        fx_api, _ = make_fixtures(web, tok, for_api=True)
        DB.last = None  # the fixtures were written after the last snapshot: the next request counts afresh
        for case in api_baselines(fx_api):
            fuzz_api(tok, doc, case)
        fuzz_api_gets(tok, doc, fx_api)
        print(f"API: {sum(t.sent for t in TARGETS) - n0} bad requests ({time.time() - t0:.0f} s)", flush=True)
    if want("calc"):
        t0, n0 = time.time(), sum(t.sent for t in TARGETS)
        fuzz_rules(tok)
        print(f"rules: {sum(t.sent for t in TARGETS) - n0} bad requests ({time.time() - t0:.0f} s)", flush=True)
    if want("paths"):
        t0, n0 = time.time(), sum(t.sent for t in TARGETS)
        fuzz_paths(web, page_kinds, FX)
        print(f"paths: {sum(t.sent for t in TARGETS) - n0} bad requests ({time.time() - t0:.0f} s)", flush=True)
    if want("signin"):
        t0, n0 = time.time(), sum(t.sent for t in TARGETS)
        fuzz_signin(tok)
        print(f"sign-in: {sum(t.sent for t in TARGETS) - n0} bad requests ({time.time() - t0:.0f} s)", flush=True)
    if want("late"):
        t0, n0 = time.time(), sum(t.sent for t in TARGETS)
        DB.last = None
        found = fuzz_late(web, tok, forms, doc)
        print(f"late forms: {len(found)} forms, {sum(t.sent for t in TARGETS) - n0} bad requests ({time.time() - t0:.0f} s)", flush=True)
    if not alive():
        NOTES.append("the server is not answering at the end")
    report_and_exit()


if __name__ == "__main__":
    main()
