"""Browser check of the foundation in real headless Chromium: sign-in in Kazakh and Russian, the
people list and a person card, the language switch, and a refused wrong password.
Usage: python3 tests/browser/foundation.py BASE_URL OUT_DIR  (server started with --demo)."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

sys.path.insert(0, os.path.dirname(__file__))
from common import Checks, browser, navigate  # noqa: E402

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)


checks = Checks()
check = checks.check


def shot(d, name):
    checks.shot(d, out, name)


def sign_in(d, login, password="demo"):
    d.get(base + "/signin")
    d.find_element(By.ID, "login").send_keys(login)
    d.find_element(By.ID, "password").send_keys(password)
    navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]"))


for lang, signin_title, people_title in (("kk", "Жүйеге кіру", "Адамдар"), ("ru", "Вход в систему", "Граждане")):
    d = browser(lang)
    try:
        d.get(base + "/signin")
        check(signin_title in d.page_source, f"[{lang}] sign-in page in its language")
        shot(d, f"{lang}-signin")
        sign_in(d, "caseworker.KZ-71")
        check(d.current_url.rstrip("/") == base, f"[{lang}] signed in lands on the home page")
        shot(d, f"{lang}-home")
        navigate(d, d.find_element(By.CSS_SELECTOR, "a[href='/people']"))
        check(people_title in d.find_element(By.TAG_NAME, "h1").text, f"[{lang}] people list opens")
        rows = d.find_elements(By.CSS_SELECTOR, "table.data tbody tr")
        check(len(rows) > 0, f"[{lang}] people list shows the district's people")
        shot(d, f"{lang}-people")
        # The list sorts by a column's heading (a button, so the keyboard reaches it) and filters as one types.
        heading = d.find_element(By.CSS_SELECTOR, "table.data thead th button.sort")
        heading.click()
        in_order = """const cells = [...document.querySelectorAll('table.data tbody tr')].map(r => r.cells[0].textContent.trim());
                      return cells.length > 1 && cells.every((c, i) => i === 0 || cells[i - 1].localeCompare(c, arguments[0], {numeric: true}) * arguments[1] <= 0);"""
        th = heading.find_element(By.XPATH, "..")
        check(th.get_attribute("aria-sort") == "ascending" and d.execute_script(in_order, lang, 1),
              f"[{lang}] a column heading sorts the table and says so (aria-sort)")
        heading.click()
        check(th.get_attribute("aria-sort") == "descending" and d.execute_script(in_order, lang, -1), f"[{lang}] again: the other way")
        boxes = d.find_elements(By.CSS_SELECTOR, ".table-filter input")
        if boxes:
            first = d.find_elements(By.CSS_SELECTOR, "table.data tbody tr")[0].find_elements(By.TAG_NAME, "td")[0].text.split()[0]
            boxes[0].send_keys(first)
            shown = [r for r in d.find_elements(By.CSS_SELECTOR, "table.data tbody tr") if r.is_displayed()]
            check(shown and all(first in r.text for r in shown), f"[{lang}] the table filter keeps only the matching rows")
            boxes[0].send_keys(Keys.CONTROL, "a")
            boxes[0].send_keys(Keys.DELETE)
            check(all(r.is_displayed() for r in d.find_elements(By.CSS_SELECTOR, "table.data tbody tr")), f"[{lang}] emptied, the filter shows every row again")
        name = rows[0].find_element(By.TAG_NAME, "a").text
        surname = name.split()[0]
        box = d.find_element(By.ID, "q")
        box.send_keys(surname)
        navigate(d, d.find_element(By.CSS_SELECTOR, "form.search button"))
        found = d.find_elements(By.CSS_SELECTOR, "table.data tbody tr")
        check(len(found) > 0 and all(surname in r.text for r in found), f"[{lang}] search by surname")
        check("?" not in d.current_url and surname not in d.current_url, f"[{lang}] search words are not in the URL")
        shot(d, f"{lang}-search")
        navigate(d, found[0].find_element(By.TAG_NAME, "a"))
        check(d.find_element(By.TAG_NAME, "h1").text.startswith(surname), f"[{lang}] person card opens")
        shot(d, f"{lang}-person")
        navigate(d, d.find_element(By.CSS_SELECTOR, ".lang-switch a[lang=en]"))
        check("Date of birth" in d.page_source, f"[{lang}] language switch to English keeps the page")
        navigate(d, d.find_element(By.CSS_SELECTOR, ".lang-switch a[lang=%s]" % lang))
        navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/signout'] button"))
        check("/signin" in d.current_url, f"[{lang}] sign out")
        sign_in(d, "caseworker.KZ-71", "wrong-password")
        check(d.find_elements(By.CSS_SELECTOR, ".error-summary"), f"[{lang}] wrong password shows the error summary")
        shot(d, f"{lang}-wrong-password")
    finally:
        d.quit()

checks.finish("browser")
