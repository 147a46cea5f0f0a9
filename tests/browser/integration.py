"""Integration journey in real headless Chromium, in Kazakh and in Russian: a caseworker uploads a persons file
with a bad row on /imports, follows the job to its result and downloads the error report; the analyst downloads
the projects as XLSX from /exports; the administrator issues a token for an outside system on /admin/tokens and
opens the API's reference on /api.
Usage: python3 tests/browser/integration.py BASE_URL OUT_DIR  (server started with --demo)."""
import os
import sys
import tempfile
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, fetch, iin_for, navigate, sign_in  # noqa: E402

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)
checks = Checks()
words = {
    "kk": {"done": "Импорт аяқталды", "counts": "3 жолдың 2 қосылды", "issued": "Токен берілді", "api": "Jumys API"},
    "ru": {"done": "Импорт завершён", "counts": "Из 3 строк добавлено 2", "issued": "Токен выдан", "api": "API Jumys"},
}



for n, lang in enumerate(("kk", "ru")):
    w = words[lang]
    d = browser(lang)
    try:
        # A caseworker imports three job seekers; one row has no first name.
        sign_in(d, base, "caseworker.KZ-71")
        d.get(base + "/imports")
        checks.check(d.find_element(By.TAG_NAME, "h1").text != "", f"{lang}: the import page opens")
        rows = [f"{iin_for(6000 + 200 * n + k * 7)};Серікова;{'' if k == 2 else 'Дана'};710300000;yes" for k in range(3)]
        path = os.path.join(tempfile.mkdtemp(), f"seekers-{lang}.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("iin;last_name;first_name;district;consent\n" + "\n".join(rows) + "\n")
        Select(d.find_element(By.ID, "kind")).select_by_value("persons")
        d.find_element(By.ID, "file").send_keys(path)
        checks.shot(d, out, f"integration-{lang}-1-import-form")
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/imports'] button[type=submit]"))
        WebDriverWait(d, 30).until(lambda drv: w["done"] in drv.page_source)
        checks.check(w["counts"] in d.page_source, f"{lang}: the result says 2 of 3 rows were added")
        link = d.find_element(By.CSS_SELECTOR, "a[href$='/errors.csv']")
        checks.shot(d, out, f"integration-{lang}-2-import-result")
        status, ctype, body = fetch(d, base, link.get_attribute("href").replace(base, ""))
        text = body.decode("utf-8-sig")
        checks.check(status == 200 and "csv" in ctype and "4,first_name," in text, f"{lang}: the error report names row 4, first_name")
        d.delete_all_cookies()
        # The analyst downloads the projects as XLSX.
        sign_in(d, base, "analyst")
        d.get(base + "/exports")
        checks.shot(d, out, f"integration-{lang}-3-exports")
        status, ctype, body = fetch(d, base, "/exports/projects.xlsx")
        checks.check(status == 200 and "spreadsheetml" in ctype and body[:2] == b"PK", f"{lang}: the projects download as XLSX")
        d.delete_all_cookies()
        # The administrator issues a token for an outside system.
        sign_in(d, base, "admin")
        d.get(base + "/admin/tokens")
        d.find_element(By.ID, "name").send_keys(f"labour-market-{lang}")
        Select(d.find_element(By.ID, "role")).select_by_value("caseworker")
        Select(d.find_element(By.ID, "region_iso")).select_by_value("KZ-71")
        d.find_element(By.ID, "areas-persons").click()
        d.find_element(By.ID, "areas-imports").click()
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/admin/tokens'] button[type=submit]"))
        token = d.find_element(By.ID, "issued-token").text
        checks.check(w["issued"] in d.page_source and token.startswith("jst_"), f"{lang}: the token is issued and shown once")
        checks.shot(d, out, f"integration-{lang}-4-token")
        req = urllib.request.Request(base + "/api/v1/persons?limit=5", headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req) as r:
            checks.check(r.status == 200, f"{lang}: the system reads persons with its token")
        d.get(base + "/api")
        checks.check(w["api"] in d.find_element(By.TAG_NAME, "h1").text and "/api/v1/imports/{kind}" in d.page_source, f"{lang}: the API reference lists the operations")
        checks.shot(d, out, f"integration-{lang}-5-api")
    finally:
        d.quit()

checks.finish("integration")
