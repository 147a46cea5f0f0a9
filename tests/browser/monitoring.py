"""Monitoring journey in real headless Chromium, in Kazakh and in Russian: the analyst opens the dashboard, reads
the map (twenty regions, values on hover, the same values in a table), opens a region's districts, opens the
Roadmap's monthly report and downloads it as CSV and XLSX, then has the workbook of every region made in the background
(a progress page, then the result with the download); Karaganda's akimat files last month's report and the
calendar shows it submitted (late when past its due date); the target indicators.
Usage: python3 tests/browser/monitoring.py BASE_URL OUT_DIR  (server started with --demo)."""
import datetime
import os
import sys

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, fetch, navigate, sign_in, until_finished  # noqa: E402

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)
checks = Checks()
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
last = (today.replace(day=1) - datetime.timedelta(days=1))
month = f"{last.year:04d}-{last.month:02d}"

words = {
    "kk": {"karaganda": "Қарағанды облысы", "abay": "Абай ауданы", "nation": "Республика бойынша", "indicators": "нысаналы индикаторлар", "filed": ("Тапсырылды", "Кешігіп тапсырылды"),
           "ready": "Кітап дайын", "sheets": "21 парақ"},
    "ru": {"karaganda": "Карагандинская область", "abay": "Абайский район", "nation": "По республике", "indicators": "Целевые индикаторы", "filed": ("Сдан", "Сдан с опозданием"),
           "ready": "Книга готова", "sheets": "Листов: 21"},
}



for n, lang in enumerate(("kk", "ru")):
    w = words[lang]
    d = browser(lang)
    try:
        sign_in(d, base, "analyst")
        d.get(f"{base}/dashboard?measure=limit&month={month}")
        paths = d.find_elements(By.CSS_SELECTOR, "svg.kz-map path")
        titles = [t.get_attribute("textContent") for t in d.find_elements(By.CSS_SELECTOR, "svg.kz-map title")]
        checks.check(len(paths) == 20 and any(t.startswith(w["karaganda"] + ":") for t in titles), f"{lang}: the map has the 20 regions with their values")
        checks.check(w["karaganda"] in d.find_element(By.CSS_SELECTOR, "table.data").text and "<script>" not in d.page_source, f"{lang}: the same values in a table, no inline script")
        checks.shot(d, out, f"monitoring-{lang}-1-dashboard")
        navigate(d, d.find_element(By.CSS_SELECTOR, "table.data a[href^='/dashboard/KZ-35']"))
        checks.check(w["abay"] in d.page_source, f"{lang}: a region opens its districts")
        d.get(f"{base}/reports/roadmap_monthly/{month}")
        checks.check(w["nation"] in d.page_source and w["karaganda"] in d.page_source, f"{lang}: the Roadmap's monthly report by region with the nation")
        checks.shot(d, out, f"monitoring-{lang}-2-report")
        status, kind, body = fetch(d, base, f"/reports/roadmap_monthly/{month}.csv")
        rows = [r.split(",") for r in body.decode("utf-8").strip().split("\r\n")]
        checks.check(status == 200 and "text/csv" in kind and len(rows) == 22, f"{lang}: the report downloads as CSV (20 regions and the nation)")
        status, kind, body = fetch(d, base, f"/reports/roadmap_monthly/{month}.xlsx")
        checks.check(status == 200 and "spreadsheetml" in kind and body[:2] == b"PK", f"{lang}: and as XLSX")
        d.get(f"{base}/reports/programme_monthly/{month}")
        navigate(d, d.find_element(By.CSS_SELECTOR, f"form[action='/reports/programme_monthly/{month}/pack'] button"))
        checks.check("/jobs/" in d.current_url, f"{lang}: the workbook of every region is made in the background, on its own page")
        until_finished(d)
        checks.check(w["ready"] in d.page_source and w["sheets"] in d.page_source, f"{lang}: the page ends on the result: 21 sheets")
        checks.shot(d, out, f"monitoring-{lang}-3-pack")
        status, kind, body = fetch(d, base, d.find_element(By.CSS_SELECTOR, "a[href$='/file']").get_attribute("href").replace(base, ""))
        checks.check(status == 200 and "spreadsheetml" in kind and body[:2] == b"PK", f"{lang}: the workbook downloads")
        d.get(f"{base}/indicators")
        checks.check(w["indicators"] in d.page_source, f"{lang}: the target indicators")
        if n == 0:
            d.delete_all_cookies()
            sign_in(d, base, "akimat.KZ-35")
            d.get(f"{base}/reports/roadmap_monthly/{month}?region=KZ-35")
            navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/save'] button[value='true']"))
            d.get(f"{base}/reports?year={last.year}")
            row = [r for r in d.find_elements(By.CSS_SELECTOR, "table.data tbody tr") if month in r.text and "G1" in r.text and w["karaganda"] in r.text][0]
            checks.check(any(s in row.text for s in w["filed"]) and "v1" in row.text, f"{lang}: the akimat files last month's report; the calendar shows it")
            checks.shot(d, out, f"monitoring-{lang}-4-calendar")
    finally:
        d.quit()

checks.finish("monitoring")
