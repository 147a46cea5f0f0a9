"""Shared pieces of the browser checks: a headless Chromium in a language, page-change waits, sign-in, results."""
import os
import sys

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

    def finish(self, name):
        print(f"{name}: {self.passed} passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)
