"""Shared pieces of the browser checks: a headless Chromium in a language, page-change waits, sign-in, results."""
import os
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def browser(lang):
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400", f"--lang={lang}"):
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


def sign_in(d, base, login, password="demo"):
    d.get(base + "/signin")
    d.find_element(By.ID, "login").send_keys(login)
    d.find_element(By.ID, "password").send_keys(password)
    navigate(d, d.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]"))


def fetch(d, base, path):
    """Downloads a file with the browser's session cookie (Chromium would save it rather than show it)."""
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
    req = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(req) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def until_finished(d, timeout=120):
    """Waits on a background job's page (it refreshes itself while the job runs) until it shows its result."""
    WebDriverWait(d, timeout, poll_frequency=0.5).until(
        lambda drv: drv.execute_script("return document.readyState") == "complete" and not drv.find_elements(By.TAG_NAME, "progress"))


def iin_for(serial):
    """A valid IIN for a woman born 2 November 1994 (check digit per the official algorithm)."""
    for s in range(serial, serial + 100):
        d = [9, 4, 1, 1, 0, 2, 4] + [int(c) for c in f"{s:04d}"]
        c = sum(a * b for a, b in zip(d, range(1, 12))) % 11
        if c == 10:
            c = sum(a * b for a, b in zip(d, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])) % 11
            if c == 10:
                continue
        return "".join(map(str, d)) + str(c)


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, []

    def check(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)

    def shot(self, d, out, name):
        d.save_screenshot(os.path.join(out, name + ".png"))
        self.glance(d, name)

    # Where on the page the heading and the first thing to act on (or read as the outcome) are, in CSS pixels from
    # the top; a printable document has neither.
    GLANCE = """
        if (document.body.classList.contains('print-document')) { return null; }
        const top = e => e.getBoundingClientRect().top + window.scrollY;
        const h1 = document.querySelector('main h1');
        const next = [...document.querySelectorAll('main a.button, main button, main input:not([type=hidden]), main select, main textarea, '
                                                  + 'main .confirmation, main .error-summary, main .notice, main table.data, main .tiles a')]
            .filter(e => e.offsetParent !== null).map(top).sort((a, b) => a - b);
        return [h1 ? top(h1) : -1, next.length ? next[0] : -1];
    """

    def glance(self, d, name, screen=900):
        """A page must say what it is and what to do next within one screen (900 px, a laptop's window)."""
        at = d.execute_script(self.GLANCE)
        if at is None:
            return
        h1, first = at
        self.check(0 <= h1 < 400 and 0 <= first < screen, f"{name}: the heading and the next step are on the first screen (h1 at {h1:.0f} px, next step at {first:.0f} px)")

    def finish(self, name):
        print(f"{name}: {self.passed} passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)
