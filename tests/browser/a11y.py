"""Accessibility of the main pages in real headless Chromium, in Kazakh and in Russian: a caseworker, Karaganda's
akimat, the analyst, the administrator, the demo credit organisation and the demo contractor sign in, and every page
their home page leads to (its tiles and links, the lists' first cards and forms, one level down) is checked with
axe-core against WCAG 2.1 A and AA, plus what axe does not do well: exactly one h1, <html lang> in the chosen
language, a label on every visible field. A page passes with no "serious" or "critical" axe violation; every
violation is printed with its selectors and HTML so that it can be fixed. The sign-in page, the public portal and
the error page are checked signed out, and a second Chromium with JavaScript off signs in and fills in a form.
Printed but not failed: hints and errors not tied to their fields, English text without lang="en". Every result
goes to OUT_DIR/a11y.json, and a screenshot of the first page that breaks each rule to OUT_DIR/a11y-LANG-RULE.png.
axe-core comes from PyPI: pip install axe-core-python (axe_core_python/axe.min.js).
Usage: python3 tests/browser/a11y.py BASE_URL OUT_DIR  (server started with --demo)."""
import datetime
import importlib.util
import json
import os
import re
import sys
import urllib.error
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, fetch, navigate, sign_in  # noqa: E402


def axe_source():
    spec = importlib.util.find_spec("axe_core_python")
    dirs = list(spec.submodule_search_locations or []) if spec else []
    for d in dirs:
        path = os.path.join(d, "axe.min.js")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    sys.exit("a11y: axe-core is missing; install it with `pip install axe-core-python` (the package carries axe_core_python/axe.min.js)")


AXE = axe_source()
base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)
checks = Checks()
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
last = today.replace(day=1) - datetime.timedelta(days=1)
month = f"{last.year:04d}-{last.month:02d}"

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = ("serious", "critical")

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations', 'incomplete']})
  .then(r => done(JSON.stringify({
    violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({
      target: n.target.map(String).join(' '), html: n.html, summary: n.failureSummary || ''}))})),
    incomplete: r.incomplete.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({
      target: n.target.map(String).join(' '), html: n.html, summary: n.failureSummary || ''}))}))})))
  .catch(e => done(JSON.stringify({error: String(e)})));
"""

# What axe does not do well: one h1, the page's language, a label on every visible field. Noted, not failed: hints
# and error messages not tied to their field by aria-describedby, and runs of English words in a page in another
# language without lang="en" around them (WCAG 3.1.2; found by a heuristic, so it only prints).
OWN = """
const text = el => ((el && el.textContent) || '').trim();
const visible = el => { const s = getComputedStyle(el); return el.getClientRects().length > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
const named = el => {
  if ((el.getAttribute('aria-label') || '').trim()) return true;
  if ((el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean).some(id => text(document.getElementById(id)))) return true;
  return Array.from(el.labels || []).some(l => text(l));
};
const skip = ['hidden', 'submit', 'button', 'reset', 'image'];
const fields = Array.from(document.querySelectorAll('input, select, textarea')).filter(el => !skip.includes((el.getAttribute('type') || '').toLowerCase()) && visible(el));
const undescribed = [];
document.querySelectorAll('.field .hint, .field .field-error').forEach(h => {
  const field = h.closest('.field');
  const control = field.querySelector('input:not([type=hidden]), select, textarea');
  if (!control) return;
  const ids = (control.getAttribute('aria-describedby') || '').split(/\\s+/);
  if (!h.id || !ids.includes(h.id)) undescribed.push((control.id || control.name) + ': ' + h.className + ' "' + text(h).slice(0, 40) + '"');
});
const english = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (!el || el.closest('script, style, code, pre, .mono, svg') || !/^(kk|ru)/.test((el.closest('[lang]') || {}).lang || '')) continue;
  const m = n.textContent.match(/[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}/);
  if (m) english.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ': "' + m[0].slice(0, 60) + '"');
}
return {h1: document.querySelectorAll('h1').length, lang: document.documentElement.getAttribute('lang'),
        unlabelled: fields.filter(el => !named(el)).map(el => el.outerHTML.slice(0, 200)), undescribed: undescribed, english: english};
"""

DOWNLOADS = re.compile(r"\.(csv|xlsx|xls|pdf|json|xml|zip|txt)$")

# Pages the home page may not link to; those that are not there (404) or not for this user (403) are skipped and reported.
EXTRAS = {
    "caseworker.KZ-71": ["/people/new", "/applications", "/vacancies/new", "/api"],
    "akimat.KZ-35": ["/projects/new", f"/reports/roadmap_monthly/{month}", "/dashboard/KZ-35"],
    "analyst": [f"/reports/roadmap_monthly/{month}", "/dashboard/KZ-35", "/people/new", "/api"],
    "admin": ["/admin/users", "/admin/users/new", "/admin/tokens", "/api", "/jobs"],
    "lender.demo": ["/loans/new", "/loans/reports", "/conclusions"],
    "contractor.demo": ["/vacancies/new", "/projects/new"],
}

results = []   # every page checked, for OUT_DIR/a11y.json
printed = {}   # (rule, nodes) already printed in full -> the page it was first seen on
skipped = []   # (lang, who, path, status)
shots = set()  # (lang, rule): one screenshot of the first page that breaks a rule


def path_of(href):
    u = urllib.parse.urlsplit(href)
    return u.path + ("?" + u.query if u.query else "")


def shape(path):
    """Pages of one template share a shape: numbers and snake_case slugs stand for any."""
    segs = urllib.parse.urlsplit(path).path.split("/")
    return "/".join("S" if "_" in s else re.sub(r"\d+", "N", s) for s in segs)


def links(d):
    out_links = []
    for a in d.find_elements(By.CSS_SELECTOR, "main a[href]"):
        href = a.get_attribute("href") or ""
        if href.startswith(base + "/"):
            p = path_of(href[len(base):])
            if not (p.startswith("/lang/") or p.startswith("/signout") or p.startswith("/static/") or DOWNLOADS.search(urllib.parse.urlsplit(p).path)):
                out_links.append(p)
    return out_links


def status(d, path):
    try:
        code, kind, _ = fetch(d, base, path)
        return code, kind
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", "")


def clip(s, n=160):
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= n else s[:n - 1] + "…"


def audit(d, lang, who, label):
    """Runs axe and the own checks on the page now open; one check line, then what is wrong."""
    # Closed <details> would hide their content from axe (it reports it as "overlapped"): open them all first.
    d.execute_script("document.querySelectorAll('details').forEach(x => { x.open = true; });")
    d.execute_script(AXE)
    axe = json.loads(d.execute_async_script(RUN_AXE, TAGS))
    own = d.execute_script(OWN)
    where = f"{lang} {who}: {label}"
    reasons = []
    if "error" in axe:
        reasons.append("axe failed: " + axe["error"])
        axe = {"violations": [], "incomplete": []}
    bad = [v for v in axe["violations"] if v["impact"] in FAILING]
    if bad:
        reasons.append(f"{len(bad)} serious/critical axe violation(s): " + ", ".join(v["id"] for v in bad))
    if own["h1"] != 1:
        reasons.append(f"{own['h1']} h1 instead of one")
    # A printable document is in the language its address asks for (…/print/kk), whatever the pages' language.
    asked = re.search(r"/(?:print|notice/[a-z_]+|notification)/(kk|ru)$", urllib.parse.urlparse(d.current_url).path)
    expected = asked.group(1) if asked else lang
    if own["lang"] != expected:
        reasons.append(f"<html lang={own['lang']!r}> instead of {expected!r}")
    if own["unlabelled"]:
        reasons.append(f"{len(own['unlabelled'])} visible field(s) without a label")
    checks.check(not reasons, where + (": " + "; ".join(reasons) if reasons else ""))
    for v in axe["violations"]:
        if v["impact"] in FAILING and (lang, v["id"]) not in shots:
            shots.add((lang, v["id"]))
            d.save_screenshot(os.path.join(out, f"a11y-{lang}-{v['id']}.png"))
        key = (v["id"], tuple((n["target"], n["html"]) for n in v["nodes"]))
        if key in printed:
            print(f"    {v['impact']:<8} {v['id']}: {len(v['nodes'])} element(s), the same as on {printed[key]}")
            continue
        printed[key] = where
        print(f"    {v['impact']:<8} {v['id']}: {v['help']} ({len(v['nodes'])} element(s))")
        for n in v["nodes"][:3]:
            print(f"             {n['target']}  {clip(n['html'])}")
            summary = [s.strip() for s in n["summary"].splitlines()[1:] if s.strip()]
            if summary:
                print(f"               {clip(' '.join(summary), 240)}")
    review = [f"{v['id']}({len(v['nodes'])})" for v in axe["incomplete"] if v["impact"] in FAILING]
    if review:
        print("    review   axe could not decide: " + ", ".join(review))
    for f in own["unlabelled"]:
        print(f"    label    no label: {clip(f)}")
    for u in own["undescribed"][:5]:
        print(f"    note     not tied to its field by aria-describedby: {u}")
    if len(own["undescribed"]) > 5:
        print(f"    note     … and {len(own['undescribed']) - 5} more hints or errors not tied to their fields")
    for e in own["english"][:3]:
        print(f"    note     English without lang=\"en\": {e}")
    if len(own["english"]) > 3:
        print(f"    note     … and {len(own['english']) - 3} more runs of English without lang=\"en\"")
    results.append({"lang": lang, "user": who, "page": label, "url": path_of(d.current_url), "passed": not reasons, "reasons": reasons,
                    "violations": axe["violations"], "incomplete": axe["incomplete"], "own": own})


def visit(d, lang, who, path, guessed):
    """Opens a page and audits it; returns False when it is not an HTML page this user may see."""
    code, kind = status(d, path)
    if code != 200:
        if guessed:
            print(f"skip {lang} {who}: {path} answers {code}")
            skipped.append((lang, who, path, code))
        else:
            checks.check(False, f"{lang} {who}: {path}, linked from the pages, answers {code}")
        return False
    if "text/html" not in kind:
        return False
    d.get(base + path)
    audit(d, lang, who, path)
    return True


def journey(d, lang, who):
    d.delete_all_cookies()
    sign_in(d, base, who)
    home = links(d)
    audit(d, lang, who, "/")
    done, shapes = {"/"}, {shape("/")}
    queue = [(p, "home") for p in home] + [(p, "extra") for p in EXTRAS.get(who, [])]
    while queue:
        path, origin = queue.pop(0)
        if path in done or (origin not in ("extra", "home") and shape(path) in shapes):
            continue
        done.add(path)
        shapes.add(shape(path))
        if not visit(d, lang, who, path, origin == "extra"):
            continue
        # One level down: the page's own cards, forms and sub-pages, one of each template.
        here = urllib.parse.urlsplit(path).path.rstrip("/")
        if origin in ("home", "extra"):
            queue += [(p, "link") for p in links(d) if urllib.parse.urlsplit(p).path.startswith(here + "/")]
        # A person's card leads to their applications: the first one too.
        if re.fullmatch(r"/people/\d+", here):
            queue += [(p, "link") for p in links(d) if re.fullmatch(r"/applications/\d+", urllib.parse.urlsplit(p).path)][:1]
        if path == "/people/new" and who.startswith("caseworker"):
            # The same form sent empty: the error summary and the fields in error.
            navigate(d, d.find_element(By.CSS_SELECTOR, "main form[action='/people'] button[type=submit]"))
            audit(d, lang, who, "/people/new sent empty (errors)")


def signed_out(d, lang):
    d.delete_all_cookies()
    d.get(base + "/signin")
    audit(d, lang, "signed out", "/signin")
    d.find_element(By.ID, "login").send_keys("caseworker.KZ-71")
    d.find_element(By.ID, "password").send_keys("not the password")
    navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]"))
    audit(d, lang, "signed out", "/signin with a wrong password")
    d.get(base + "/this-page-does-not-exist")
    audit(d, lang, "signed out", "the 404 page")
    done, shapes = set(), set()
    queue = ["/portal"]
    while queue:
        path = queue.pop(0)
        if path in done or shape(path) in shapes:
            continue
        done.add(path)
        shapes.add(shape(path))
        if visit(d, lang, "signed out", path, False) and path == "/portal":
            queue += [p for p in links(d) if p.startswith("/portal/")]


def browser_without_js(lang):
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400", f"--lang={lang}"):
        o.add_argument(a)
    o.add_experimental_option("prefs", {"intl.accept_languages": lang, "profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def without_js(lang):
    d = browser_without_js(lang)
    try:
        d.get("data:text/html,<title>off</title><script>document.title='on'</script>")
        checks.check(d.title == "off", f"{lang} without JavaScript: the second Chromium really runs no page scripts")
        sign_in(d, base, "caseworker.KZ-71")
        checks.check(urllib.parse.urlsplit(d.current_url).path == "/" and d.find_elements(By.CSS_SELECTOR, "form[action='/signout']"),
                     f"{lang} without JavaScript: signing in works")
        d.get(base + "/people/new")
        form = d.find_elements(By.CSS_SELECTOR, "main form[action='/people']")
        fields = [f for f in ("iin", "last_name", "first_name") if form and form[0].find_elements(By.ID, f)]
        checks.check(len(fields) == 3 and form[0].find_elements(By.CSS_SELECTOR, "button[type=submit]"),
                     f"{lang} without JavaScript: the new person form is there")
        d.find_element(By.ID, "last_name").send_keys("Тестова")
        navigate(d, form[0].find_element(By.CSS_SELECTOR, "button[type=submit]"))
        summary = d.find_elements(By.CSS_SELECTOR, ".error-summary a[href='#iin']")
        checks.check(bool(summary) and d.find_element(By.ID, "last_name").get_attribute("value") == "Тестова",
                     f"{lang} without JavaScript: the form sent without an IIN comes back with the error and what was typed")
        checks.shot(d, out, f"a11y-{lang}-nojs-form")
    finally:
        d.quit()


for lang in ("kk", "ru"):
    d = browser(lang)
    d.set_script_timeout(60)
    try:
        for who in EXTRAS:
            journey(d, lang, who)
        signed_out(d, lang)
    finally:
        d.quit()
    without_js(lang)

with open(os.path.join(out, "a11y.json"), "w", encoding="utf-8") as f:
    json.dump({"tags": TAGS, "pages": results, "skipped": skipped}, f, ensure_ascii=False, indent=1)

# Every axe violation by rule, with the pages it is on.
rules = {}
for r in results:
    for v in r["violations"]:
        e = rules.setdefault(v["id"], {"impact": v["impact"], "help": v["help"], "pages": [], "targets": {}})
        e["pages"].append(f"{r['lang']} {r['user']}: {r['page']}")
        for n in v["nodes"]:
            e["targets"].setdefault(n["target"], n["html"])
print(f"\n{len(results)} pages checked; {len(skipped)} skipped: " + ", ".join(sorted({f'{p} ({c}, {w})' for _, w, p, c in skipped})))
for rule, e in sorted(rules.items(), key=lambda x: (x[1]["impact"] not in FAILING, x[0])):
    print(f"{e['impact']:<8} {rule}: {e['help']} — on {len(e['pages'])} page(s), e.g. {', '.join(e['pages'][:3])}")
    for t, h in list(e["targets"].items())[:5]:
        print(f"             {t}  {clip(h, 120)}")
checks.finish("a11y")
