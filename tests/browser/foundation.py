"""Browser check of the foundation in real headless Chromium: sign-in in Kazakh and Russian, the
people list and a person card, the language switch, and a refused wrong password.
Usage: python3 tests/browser/foundation.py BASE_URL OUT_DIR  (server started with --demo)."""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, out = sys.argv[1].rstrip("/"), sys.argv[2]
os.makedirs(out, exist_ok=True)


def browser(lang):
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", f"--lang={lang}"):
        o.add_argument(a)
    o.add_experimental_option("prefs", {"intl.accept_languages": lang})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def navigate(d, element):
    """Clicks and waits until the next page has replaced this one and finished loading."""
    old = d.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_):
        try:
            old.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):
            # Chromedriver reports a replaced document either way.
            return True

    WebDriverWait(d, 20).until(replaced)
    WebDriverWait(d, 20).until(lambda drv: drv.execute_script("return document.readyState") == "complete")


def shot(d, name):
    d.save_screenshot(os.path.join(out, name + ".png"))


def sign_in(d, login, password="demo"):
    d.get(base + "/signin")
    d.find_element(By.ID, "login").send_keys(login)
    d.find_element(By.ID, "password").send_keys(password)
    navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]"))


failures = []
passes = 0


def check(cond, what):
    global passes
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        passes += 1
    else:
        failures.append(what)


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

print(f"browser: {passes} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
