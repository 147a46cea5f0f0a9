"""Casework journey in real headless Chromium, in Kazakh and in Russian: a caseworker registers a person
(consent, categories), marks the TSA link, takes an application to a signed contract, records a breach,
sees TSA suspended and everything on the person card; a duplicate IIN is refused next to the field.
Usage: python3 tests/browser/casework.py BASE_URL OUT_DIR  (server started with --demo)."""
import datetime
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, iin_for, navigate, sign_in  # noqa: E402

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)
checks = Checks()
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).date()
start, end = today + datetime.timedelta(days=2), today + datetime.timedelta(days=92)


words = {
    "kk": {"registered": "Тіркелді", "suspended": "АӘК", "duplicate": "тіркелген", "contract": "Әлеуметтік келісімшарт"},
    "ru": {"registered": "Зарегистрирован", "suspended": "АСП приостановлена", "duplicate": "уже зарегистрирован", "contract": "Социальный контракт"},
}

for lang, serial in (("kk", 4000 + os.getpid() % 1000), ("ru", 6000 + os.getpid() % 1000)):
    w = words[lang]
    d = browser(lang)
    try:
        sign_in(d, base, "caseworker.KZ-71")
        d.get(base + "/people/new")
        iin = iin_for(serial)
        d.find_element(By.ID, "iin").send_keys(iin)
        d.find_element(By.ID, "last_name").send_keys("Серікова")
        d.find_element(By.ID, "first_name").send_keys("Айгерім")
        d.find_element(By.ID, "rural-true").click()
        d.find_element(By.ID, "categories-low_income").click()
        d.find_element(By.ID, "consent").click()
        checks.shot(d, out, f"{lang}-casework-register")
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/people'] button[type=submit]"))
        person_url = d.current_url
        checks.check("/people/" in person_url, f"[{lang}] registered person opens on the card")
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/tsa'] button"))
        Select(d.find_element(By.ID, "measure")).select_by_value("training")
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/applications'] button"))
        checks.check("/applications/" in d.current_url, f"[{lang}] application taken")
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/start_review'] button"))
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/include'] button"))
        d.find_element(By.ID, "starts_on").send_keys(start.isoformat())
        d.find_element(By.ID, "ends_on").send_keys(end.isoformat())
        Select(d.find_element(By.ID, "provider_id")).select_by_index(1)
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/sign_contract'] button"))
        checks.shot(d, out, f"{lang}-casework-application")
        navigate(d, d.find_element(By.CSS_SELECTOR, "a[href^='/contracts/']"))
        checks.check(w["contract"] in d.find_element(By.TAG_NAME, "h1").text, f"[{lang}] contract page")
        Select(d.find_element(By.ID, "party")).select_by_value("participant")
        d.find_element(By.ID, "occurred_on").send_keys(today.isoformat())
        d.find_element(By.ID, "description").send_keys("Сабаққа келмеді / не явилась")
        Select(d.find_element(By.ID, "sanction")).select_by_value("tsa_suspension")
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/breaches'] button"))
        checks.shot(d, out, f"{lang}-casework-contract")
        contract_path = d.current_url.split(base)[1].split("#")[0]
        d.get(base + contract_path + "/print/" + lang)
        checks.check(w["contract"] in d.page_source, f"[{lang}] printable contract in its language")
        checks.shot(d, out, f"{lang}-casework-print")
        d.get(person_url)
        body = d.find_element(By.TAG_NAME, "body").text
        checks.check(w["registered"] in body, f"[{lang}] timeline shows the registration")
        checks.check(w["suspended"] in body, f"[{lang}] card shows TSA suspended")
        checks.shot(d, out, f"{lang}-casework-card")
        d.get(base + "/people/new")
        d.find_element(By.ID, "iin").send_keys(iin)
        d.find_element(By.ID, "last_name").send_keys("Серікова")
        d.find_element(By.ID, "first_name").send_keys("Айгерім")
        d.find_element(By.ID, "consent").click()
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/people'] button[type=submit]"))
        err = d.find_elements(By.ID, "iin-error")
        checks.check(bool(err) and w["duplicate"] in err[0].text, f"[{lang}] duplicate IIN refused next to the field")
        checks.shot(d, out, f"{lang}-casework-duplicate")
    finally:
        d.quit()

checks.finish("casework")
