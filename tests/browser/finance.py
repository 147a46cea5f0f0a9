"""Money journey in real headless Chromium, in Kazakh and in Russian: the authorised body sees this year's limits
split between the 20 regions and proposes a reallocation between two regions; the interagency commission approves
it and it shows in the history; the demo credit organisation finds the loan whose jobs were not all confirmed in
24 months, and a new loan above 70,000 MCI is refused with the limit of its date; Karaganda's akimat splits its
limit by district.
Usage: python3 tests/browser/finance.py BASE_URL OUT_DIR  (server started with --demo)."""
import datetime
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, navigate, sign_in  # noqa: E402

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)
checks = Checks()
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
year = today.year

words = {
    "kk": {"heading": f"{year} жылғы қаржыландыру лимиттері", "nation": "Республика бойынша", "realloc": "Қайта бөлу", "approved": "Бекітілді",
           "jobs": "Жұмыс орындары 24 айда расталмаған", "max": "Сома шекті мөлшерден асады", "split": "Аудандарға"},
    "ru": {"heading": f"Лимиты финансирования на {year} год", "nation": "По республике", "realloc": "Перераспределение", "approved": "Утверждено",
           "jobs": "Рабочие места не подтверждены за 24 месяца", "max": "Сумма превышает предел", "split": "По районам распределено"},
}


def submit(d, action):
    navigate(d, d.find_element(By.CSS_SELECTOR, f"form[action='{action}'] button[type=submit]"))


for lang in ("kk", "ru"):
    w = words[lang]
    reason = f"{'Бірінші тоқсан қорытындысы' if lang == 'kk' else 'Итоги первого квартала'} {os.getpid()}"
    d = browser(lang)
    try:
        sign_in(d, base, "ministry.officer")
        d.get(f"{base}/limits?year={year}&direction=rm_projects")
        rows = d.find_elements(By.CSS_SELECTOR, "table.data tbody tr")
        checks.check(w["heading"] in d.page_source and w["nation"] in d.page_source and len(rows) >= 20, f"{lang}: the limits of {year} for the 20 regions")
        checks.shot(d, out, f"finance-{lang}-1-limits")
        Select(d.find_element(By.ID, "kind")).select_by_value("reallocation")
        Select(d.find_element(By.ID, "from_region")).select_by_value("KZ-35")
        Select(d.find_element(By.ID, "from_direction")).select_by_value("rm_projects")
        Select(d.find_element(By.ID, "to_region")).select_by_value("KZ-71")
        Select(d.find_element(By.ID, "to_direction")).select_by_value("rm_projects")
        d.find_element(By.ID, "amount").send_keys("1000000")
        d.find_element(By.ID, "reason").send_keys(reason)
        submit(d, "/limits/changes")
        checks.check(reason in d.page_source, f"{lang}: the authorised body proposes a reallocation")
        d.delete_all_cookies()
        sign_in(d, base, "interagency")
        d.get(f"{base}/limits?year={year}&direction=rm_projects")
        row = [r for r in d.find_elements(By.CSS_SELECTOR, "table.data tbody tr") if reason in r.text][0]
        row.find_element(By.CSS_SELECTOR, "input[name=decision]").send_keys("Протокол МВК №9")
        navigate(d, row.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        row = [r for r in d.find_elements(By.CSS_SELECTOR, "table.data tbody tr") if reason in r.text][0]
        checks.check(w["realloc"] in row.text and w["approved"] in row.text and "Протокол МВК №9" in row.text, f"{lang}: the commission approves; the history shows it")
        checks.shot(d, out, f"finance-{lang}-2-approved")
        d.delete_all_cookies()
        sign_in(d, base, "lender.demo")
        d.get(f"{base}/loans?flag=jobs_overdue")
        links = d.find_elements(By.CSS_SELECTOR, "table.data tbody a")
        checks.check(len(links) >= 1 and w["jobs"] in d.page_source, f"{lang}: the lender finds the loan whose jobs are overdue")
        navigate(d, links[0])
        checks.check("2 / 3" in d.page_source.replace("\u00a0", " ") or "3 ішінен 2" in d.page_source or "2 из 3" in d.page_source, f"{lang}: two of three jobs confirmed")
        checks.shot(d, out, f"finance-{lang}-3-loan")
        d.get(base + "/loans/new")
        Select(d.find_element(By.ID, "district_id")).select_by_index(1)
        for field, value in (("borrower_id", "160540005021"), ("borrower_name", "ЖШС «Тест»"), ("purpose_text", "Цех"), ("amount", "500000000")):
            d.find_element(By.ID, field).send_keys(value)
        submit(d, "/loans")
        checks.check(w["max"] in d.page_source and "error-summary" in d.page_source, f"{lang}: a loan above 70,000 MCI is refused with the limit of its date")
        checks.shot(d, out, f"finance-{lang}-4-refused")
        d.delete_all_cookies()
        sign_in(d, base, "akimat.KZ-35")
        d.get(f"{base}/limits/{year}/rm_projects/KZ-35")
        # The first district (Abay) holds the demo road project's 370 million: its share must cover that.
        first = d.find_elements(By.CSS_SELECTOR, "table.data tbody input")[0]
        first.clear()
        first.send_keys("1000000")
        d.find_element(By.ID, "decision").send_keys("Әкімдік қаулысы №5")
        submit(d, f"/limits/{year}/rm_projects/KZ-35")
        checks.check("error-summary" in d.page_source and "370 000 000" in d.page_source.replace("\u00a0", " ").replace("\u202f", " "), f"{lang}: a district's share below its commitments is refused")
        first = d.find_elements(By.CSS_SELECTOR, "table.data tbody input")[0]
        first.clear()
        first.send_keys("500000000")
        d.find_element(By.ID, "decision").clear()
        d.find_element(By.ID, "decision").send_keys("Әкімдік қаулысы №5")
        submit(d, f"/limits/{year}/rm_projects/KZ-35")
        checks.check(w["split"] in d.page_source and "500 000 000" in d.page_source.replace("\u00a0", " ").replace("\u202f", " "), f"{lang}: the akimat splits its limit by district")
        checks.shot(d, out, f"finance-{lang}-5-districts")
    finally:
        d.quit()

checks.finish("finance")
