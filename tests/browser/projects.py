"""Infrastructure-project journey in real headless Chromium, in Kazakh and in Russian: an akimat officer records
and proposes a project, the regional coordinator compiles it, the regional commission approves it with its
referral quota (at least 20 % of the jobs); the contractor of the demo road project reports its month of works, the
akimat returns it (Kazakh run), the contractor corrects and sends it again and the akimat submits it (Russian run);
the analyst opens the quota board.
Usage: python3 tests/browser/projects.py BASE_URL OUT_DIR  (server started with --demo)."""
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

words = {
    "kk": {"hint": "Кемінде 8 (орындардың 20 %-ы, E4)", "range": "Квота 8-ден 37-ге дейін болуы тиіс", "listed": "өңірлік тізімде", "board": "Квоталардың сақталуы", "sent": "әкімдікте", "submitted": "тапсырылды", "returned": "қайтарылды"},
    "ru": {"hint": "Не менее 8 (20 % мест, E4)", "range": "Квота должна быть от 8 до 37", "listed": "в региональном списке", "board": "Соблюдение квот", "sent": "у акимата", "submitted": "сдан", "returned": "возвращён"},
}


def submit(d, action):
    navigate(d, d.find_element(By.CSS_SELECTOR, f"form[action='{action}'] button[type=submit]"))


for n, lang in enumerate(("kk", "ru")):
    w = words[lang]
    name = f"{'Ауыл клубын жөндеу' if lang == 'kk' else 'Ремонт сельского клуба'} {os.getpid()}"
    d = browser(lang)
    try:
        sign_in(d, base, "akimat.KZ-35")
        d.get(base + "/projects/new")
        Select(d.find_element(By.ID, "district_id")).select_by_index(3)
        for field, value in (("name", name), ("settlement", "Топар"), ("cost_republican", "370000000"), ("cost_local", "30000000"),
                             ("domestic_cost", "380000000"), ("starts_on", (today + datetime.timedelta(days=20)).isoformat()),
                             ("ends_on", (today + datetime.timedelta(days=200)).isoformat()), ("jobs_created", "37"), ("permanent_jobs", "4"), ("average_wage", "180000")):
            d.find_element(By.ID, field).send_keys(value)
        Select(d.find_element(By.ID, "object_type")).select_by_value("social_cultural")
        Select(d.find_element(By.ID, "work_type")).select_by_value("repair")
        submit(d, "/projects")
        project = d.current_url.rstrip("/").split("/")[-1]
        checks.check(project.isdigit() and name in d.page_source, f"{lang}: the akimat records the project")
        submit(d, f"/projects/{project}/steps/propose")
        checks.shot(d, out, f"projects-{lang}-1-proposed")
        d.delete_all_cookies()
        sign_in(d, base, "coordinator.KZ-35")
        d.get(f"{base}/projects/{project}")
        submit(d, f"/projects/{project}/steps/compile")
        d.delete_all_cookies()
        sign_in(d, base, "commission.KZ-35")
        d.get(f"{base}/projects/{project}")
        checks.check(w["hint"] in d.page_source, f"{lang}: the commission sees the least quota (E4)")
        d.find_element(By.ID, "referral_quota").send_keys("7")
        d.find_element(By.ID, "decision").send_keys("Протокол №3")
        submit(d, f"/projects/{project}/steps/approve_regional")
        checks.check(w["range"] in d.page_source and "error-summary" in d.page_source, f"{lang}: a quota below 20 % is refused with the range")
        q = d.find_element(By.ID, "referral_quota")
        q.clear()
        q.send_keys("8")
        submit(d, f"/projects/{project}/steps/approve_regional")
        checks.check(w["listed"] in d.page_source, f"{lang}: the project is on the regional list with quota 8")
        checks.shot(d, out, f"projects-{lang}-2-approved")
        # The contractor of the demo road project reports its month of works: in Kazakh the akimat returns the report
        # for a correction, in Russian the contractor sends it again and the akimat submits it.
        d.delete_all_cookies()
        sign_in(d, base, "contractor.KZ-35")
        d.get(base + "/projects")
        road = d.find_element(By.PARTIAL_LINK_TEXT, "IP-KZ-35").get_attribute("href")
        d.get(road)
        checks.check(bool(d.find_elements(By.CSS_SELECTOR, ".next-step a[href='#report-form']")), f"{lang}: the contractor's next step is the month's report")
        for field, value in (("work_done_percent", "18"), ("work_done_amount", "72000000"), ("jobs_filled", "30"), ("jobs_by_referral", "6" if n == 0 else "8"), ("referred_avg_wage", "185000")):
            e = d.find_element(By.ID, field)
            e.clear()
            e.send_keys(value)
        submit(d, road.replace(base, "") + "/reports")
        checks.check(w["sent"] in d.page_source, f"{lang}: the contractor's report waits for the akimat")
        checks.shot(d, out, f"projects-{lang}-3-report")
        d.delete_all_cookies()
        sign_in(d, base, "akimat.KZ-35")
        d.get(road)
        if n == 0:
            d.find_element(By.CSS_SELECTOR, "form[action$='/return'] input[name='reason']").send_keys("Жолдамамен келгендер саны 8 болуы керек")
            navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/return'] button[type=submit]"))
            checks.check(w["returned"] in d.page_source, f"{lang}: the akimat returns the report for a correction")
        else:
            navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/accept'] button[type=submit]"))
            checks.check(w["submitted"] in d.page_source, f"{lang}: the akimat has submitted the corrected month")
        d.delete_all_cookies()
        sign_in(d, base, "analyst")
        d.get(base + "/projects/board")
        checks.check(w["board"] in d.page_source and "KZ-35" in d.page_source, f"{lang}: the analyst opens the quota board")
        checks.shot(d, out, f"projects-{lang}-4-board")
    finally:
        d.quit()

checks.finish("projects")
