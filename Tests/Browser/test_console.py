"""The SRE console in a real browser against the real gateway (`scripts/load browser`): it keeps
itself current from the event stream, previews an action before applying it, and the audit shows
who did what. Environment as test_shopper_pages.py, plus DEAL_CONSOLE (open, 50 units)."""
import json
import os
import pathlib
import time
import urllib.request

from conftest import BASE, accessible, operate, shot
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

DEAL = os.environ["DEAL_CONSOLE"]
SHOPPERS = [line.split("\t") for line in pathlib.Path(os.environ["TOKENS"]).read_text().splitlines() if "\t" in line]


def join(token):
    body = json.dumps({"query": "mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket } }",
                       "variables": {"d": DEAL}}).encode()
    request = urllib.request.Request(f"{BASE}/graphql", data=body, method="POST", headers={
        "content-type": "application/json", "authorization": "Bearer " + token.strip()})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "errors" not in json.load(response)


def field(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f"[data-f='{name}']").text


def sign_in_operator(driver, token):
    """The console's sign-in form: the token goes into an HttpOnly cookie for /ops."""
    driver.get(f"{BASE}/ops/sign-in?deal={DEAL}")
    accessible(driver, "sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form[action='/ops/sign-in'] button").click()


def test_a_shoppers_token_cannot_open_the_console(browser):
    sign_in_operator(browser, SHOPPERS[-1][1].strip())
    WebDriverWait(browser, 15).until(lambda d: "operator role" in d.find_element(By.TAG_NAME, "main").text)
    browser.get(f"{BASE}/ops/deals/{DEAL}")
    assert "Waiting room" not in browser.page_source


def test_the_console_updates_itself_and_an_action_is_previewed_applied_and_audited(browser):
    sign_in_operator(browser, os.environ["OPERATOR_TOKEN"])
    # Paused, so the shoppers who join stay in line and the depth is theirs.
    operate(DEAL, "PAUSE", "browser test: hold the line")
    WebDriverWait(browser, 15).until(expected_conditions.url_contains(f"/ops/deals/{DEAL}"))
    accessible(browser, "console")
    before = int(field(browser, "waiting"))
    for _, token in SHOPPERS[-8:-3]:
        join(token)
    # The event stream brings the new depth; no reload from here.
    WebDriverWait(browser, 15).until(lambda d: field(d, "waiting") != str(before), "the depth from the stream")
    assert browser.find_elements(By.CSS_SELECTOR, "svg[data-chart='waiting'] polyline"), "the chart is drawn"

    browser.find_element(By.ID, "action").send_keys("SET_ADMISSION_RATE")
    browser.find_element(By.ID, "value").send_keys("42")
    browser.find_element(By.ID, "reason").send_keys("browser test: hold the pace")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/actions'] button").click()
    WebDriverWait(browser, 15).until(expected_conditions.title_contains("Confirm"))
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "admissionRateOverride" in page and "42.0" in page, page
    accessible(browser, "confirmation")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/actions'] button").click()
    WebDriverWait(browser, 15).until(expected_conditions.url_contains("applied=aud_"))
    WebDriverWait(browser, 15).until(lambda d: "42 /s (operator)" in field(d, "rate"), "the new rate")
    audit = browser.find_element(By.ID, "audit").text
    assert "sre-browser" in audit and "SET_ADMISSION_RATE 42" in audit and "hold the pace" in audit, audit
    time.sleep(3)  # a few more seconds of stream for the charts in the screenshot
    shot(browser, "console")
