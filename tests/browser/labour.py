"""Labour-market journey in real headless Chromium, in Kazakh and in Russian: a caseworker registers a job
seeker, enters a vacancy, sees the person ranked among its candidates with the reason, refers her, records the
hire with a labour contract on a social job; the administrator runs next month's payroll and sees the subsidy
by the rules, explained; the akimat sends its needs by specialty and sees the central bodies' deadlines.
Usage: python3 tests/browser/labour.py BASE_URL OUT_DIR  (server started with --demo)."""
import datetime
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, iin_for, navigate, sign_in, until_finished  # noqa: E402

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)
checks = Checks()
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
nxt = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
next_month = f"{nxt.year:04d}-{nxt.month:02d}"

words = {
    "kk": {"match": "ISCO коды толық сәйкес", "hired": "Жұмысқа алынды", "needs": "Мерзімі"},
    "ru": {"match": "Код ISCO совпадает полностью", "hired": "Принят на работу", "needs": "Срок"},
}

for lang, serial in (("kk", 7000 + os.getpid() % 1000), ("ru", 8000 + os.getpid() % 1000)):
    w = words[lang]
    surname = "Жұмабаева" if lang == "kk" else "Жумабаева"
    d = browser(lang)
    try:
        sign_in(d, base, "caseworker.KZ-71")
        d.get(base + "/people/new")
        d.find_element(By.ID, "iin").send_keys(iin_for(serial))
        d.find_element(By.ID, "last_name").send_keys(surname)
        d.find_element(By.ID, "first_name").send_keys("Әйгерім")
        d.find_element(By.ID, "occupation_isco").send_keys("7112")
        d.find_element(By.ID, "categories-job_seeker").click()
        d.find_element(By.ID, "consent").click()
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/people'] button[type=submit]"))
        person_id = d.current_url.rstrip("/").split("/")[-1]
        checks.check(person_id.isdigit(), f"[{lang}] job seeker registered")

        d.get(base + "/vacancies/new")
        Select(d.find_element(By.ID, "employer_id")).select_by_index(1)
        d.find_element(By.ID, "title").send_keys("Каменщик")
        d.find_element(By.ID, "isco").send_keys("7112")
        d.find_element(By.ID, "wage").send_keys("150000")
        d.find_element(By.ID, "places").clear()
        d.find_element(By.ID, "places").send_keys("2")
        d.find_element(By.ID, "valid_from").send_keys((today - datetime.timedelta(days=1)).isoformat())
        d.find_element(By.ID, "valid_until").send_keys((today + datetime.timedelta(days=60)).isoformat())
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/vacancies'] button[type=submit]"))
        checks.check("/vacancies/" in d.current_url, f"[{lang}] vacancy entered")
        checks.check(w["match"] in d.page_source and surname in d.page_source, f"[{lang}] the seeker is ranked with the reason")
        checks.shot(d, out, f"{lang}-labour-candidates")
        form = d.find_element(By.XPATH, f"//form[input[@name='person_id' and @value='{person_id}']]")
        navigate(d, form.find_element(By.TAG_NAME, "button"))
        checks.check("/referrals/" in d.current_url, f"[{lang}] referral issued")
        d.find_element(By.ID, "position").send_keys("Каменщик")
        d.find_element(By.ID, "starts_on").send_keys(today.isoformat())
        d.find_element(By.ID, "wage").send_keys("150000")
        Select(d.find_element(By.ID, "subsidised")).select_by_value("social_job")
        navigate(d, d.find_element(By.XPATH, "//form[input[@name='outcome' and @value='hired']]//button"))
        checks.check(w["hired"] in d.page_source, f"[{lang}] hire recorded with the labour contract")
        checks.shot(d, out, f"{lang}-labour-hired")
        d.get(base + f"/people/{person_id}")
        d.set_window_size(1280, 2800)
        checks.shot(d, out, f"{lang}-labour-person")
    finally:
        d.quit()

    a = browser(lang)
    try:
        sign_in(a, base, "admin")
        a.get(base + f"/payroll?month={next_month}")
        navigate(a, a.find_element(By.CSS_SELECTOR, "form[action='/payroll/run'] button"))
        # The run goes on in the background: its page shows the progress, then what was paid and what comes next.
        until_finished(a)
        checks.check(bool(a.find_elements(By.CSS_SELECTOR, ".confirmation")), f"[{lang}] the payroll runs in the background and ends on its result")
        checks.shot(a, out, f"{lang}-labour-payroll-run")
        navigate(a, a.find_element(By.CSS_SELECTOR, f"a.button[href='/payroll?month={next_month}']"))
        row = [r for r in a.find_elements(By.CSS_SELECTOR, "table.data tbody tr") if surname in r.text]
        checks.check(bool(row) and "26" in row[0].text and "000,00" in row[0].text, f"[{lang}] next month pays 26,000 (50 % of 150,000, capped)")
        checks.check("social_job_band1_cap" in a.page_source, f"[{lang}] the line is explained by the rule's parameters")
        checks.shot(a, out, f"{lang}-labour-payroll")
    finally:
        a.quit()

k = browser("ru")
try:
    sign_in(k, base, "akimat.KZ-71")
    k.get(base + "/needs")
    k.find_element(By.ID, "lines").send_keys("7112;40;60\n5120;5;0")
    navigate(k, k.find_element(By.CSS_SELECTOR, "form[action='/needs/local'] button"))
    checks.check(">40<" in k.page_source.replace(" ", "") and words["ru"]["needs"] in k.page_source, "[ru] the region's needs are shown with the central deadline")
    checks.shot(k, out, "ru-labour-needs")
finally:
    k.quit()

checks.finish("labour")
