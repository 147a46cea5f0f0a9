"""Business journey (direction 2) in real headless Chromium, in Kazakh and in Russian: a rural caseworker registers an
unemployed villager, takes her business application naming the demo credit organisation as lender and requests the
conclusions; the lender finds the request in its inbox and answers it positively with a reason; the caseworker sees
the lender's positive conclusion on the application.
Usage: python3 tests/browser/business.py BASE_URL OUT_DIR  (server started with --demo)."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, iin_for, navigate, sign_in  # noqa: E402

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)
checks = Checks()

words = {
    "kk": {"new": "Өз ісіне жаңа өтінім", "title": "Бизнес өтінімі", "inbox": "Қорытынды сұраулары", "lender": "Кредиттік ұйым",
           "question": "Өтініш берушіге несие беру мүмкін бе?", "positive": "Оң", "waiting": "күтілуде", "error": "Жүйеде қате орын алды"},
    "ru": {"new": "Новая заявка на своё дело", "title": "Бизнес-заявка", "inbox": "Запросы заключений", "lender": "Кредитная организация",
           "question": "Возможно ли кредитование заявителя?", "positive": "Положительное", "waiting": "ожидается", "error": "В системе произошла ошибка"},
}


def text(d):
    return d.find_element(By.TAG_NAME, "body").text


def no_500(d, lang, where):
    checks.check(words[lang]["error"] not in text(d), f"[{lang}] no server error on {where}")


for lang, serial in (("kk", 2000 + os.getpid() % 1000), ("ru", 3000 + os.getpid() % 1000)):
    w = words[lang]
    surname = f"Жақсылықова {os.getpid()}{lang}"
    reason = f"{'Кепіл жеткілікті' if lang == 'kk' else 'Залог достаточен'} · {os.getpid()}"
    d = browser(lang)
    try:
        sign_in(d, base, "caseworker.KZ-35")
        d.get(base + "/people/new")
        d.find_element(By.ID, "iin").send_keys(iin_for(serial))
        d.find_element(By.ID, "last_name").send_keys(surname)
        d.find_element(By.ID, "first_name").send_keys("Сәуле")
        d.find_element(By.ID, "settlement").send_keys("Қарабас")
        d.find_element(By.ID, "rural-true").click()
        d.find_element(By.ID, "categories-unemployed").click()
        d.find_element(By.ID, "consent").click()
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/people'] button[type=submit]"))
        checks.check("/people/" in d.current_url, f"[{lang}] the unemployed villager is registered and her card opens")
        navigate(d, d.find_element(By.CSS_SELECTOR, "a[href$='/business/new']"))
        checks.check(w["new"] in d.find_element(By.TAG_NAME, "h1").text, f"[{lang}] the card leads to the business application form")
        d.find_element(By.ID, "start_or_expand-start").click()
        d.find_element(By.ID, "settlement").send_keys("Қарабас")
        Select(d.find_element(By.ID, "place")).select_by_value("rural")
        d.find_element(By.ID, "idea").send_keys("Жылыжай: қияр мен қызанақ өсіру / теплица: огурцы и томаты")
        Select(d.find_element(By.ID, "sector")).select_by_value("agriculture")
        d.find_element(By.ID, "amount_asked").send_keys("4500000")
        lender = [o.text for o in Select(d.find_element(By.ID, "lender_id")).options if "(демо)" in o.text][0]
        Select(d.find_element(By.ID, "lender_id")).select_by_visible_text(lender)
        checks.shot(d, out, f"business-{lang}-1-form")
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/business'] button[type=submit]"))
        checks.check("/business/" in d.current_url and w["title"] in d.find_element(By.TAG_NAME, "h1").text, f"[{lang}] the business application is taken")
        app_url = d.current_url.split("#")[0]
        form = d.find_element(By.CSS_SELECTOR, "form[action$='/conclusions']")
        checks.check(w["lender"] in form.text and lender in form.text, f"[{lang}] the request form names the chosen lender")
        for sel in form.find_elements(By.TAG_NAME, "select"):
            Select(sel).select_by_index(1)
        navigate(d, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#conclusions ~ table.data tbody tr")]
        checks.check(any(w["lender"] in r and lender in r and w["waiting"] in r for r in rows) and len(rows) >= 3, f"[{lang}] conclusions requested, the lender among them")
        no_500(d, lang, "the application page")
        checks.shot(d, out, f"business-{lang}-2-requested")

        d.delete_all_cookies()
        sign_in(d, base, "lender.demo")
        d.get(base + "/conclusions")
        checks.check(w["inbox"] in d.find_element(By.TAG_NAME, "h1").text, f"[{lang}] the lender opens its inbox")
        links = [a for a in d.find_elements(By.CSS_SELECTOR, "table.data tbody a") if surname in a.text]
        checks.check(len(links) == 1, f"[{lang}] the request for this applicant is in the lender's inbox")
        checks.shot(d, out, f"business-{lang}-3-inbox")
        navigate(d, links[0])
        checks.check(w["question"] in text(d), f"[{lang}] the request asks whether the applicant can be lent to")
        d.find_element(By.ID, "positive-true").click()
        d.find_element(By.ID, "reason").send_keys(reason)
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button[type=submit]"))
        summary = d.find_element(By.CSS_SELECTOR, "dl.summary").text
        checks.check(w["positive"] in summary and reason in summary and not d.find_elements(By.CSS_SELECTOR, "form[action$='/answer']"),
                     f"[{lang}] the positive answer and its reason are recorded on the request")
        no_500(d, lang, "the request page")
        checks.shot(d, out, f"business-{lang}-4-answered")

        d.delete_all_cookies()
        sign_in(d, base, "caseworker.KZ-35")
        d.get(app_url)
        row = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#conclusions ~ table.data tbody tr") if w["lender"] in r.text]
        checks.check(len(row) == 1 and w["positive"] in row[0] and reason in row[0], f"[{lang}] the caseworker sees the lender's positive conclusion")
        checks.shot(d, out, f"business-{lang}-5-concluded")
    finally:
        d.quit()

checks.finish("business")
