"""The shopper pages in a real browser (Debian's chromium and chromium-driver through Selenium),
against a real gateway and order worker on the real stack: `scripts/load browser` starts them,
seeds the deals, mints the shoppers' tokens, runs these tests and then `flashdeal verify`.

Environment: BASE_URL, DEAL (open, 10 units, 2 per shopper), DEAL_LATER (opens in two hours: its
line is not open yet), DEAL_SOON (opens in five minutes: its pre-queue is), DEAL_TINY (one unit),
DEAL_ONE (one unit, two per shopper), DEAL_PAUSED (open; the tests pause and resume it), DEAL_SLOW
(open; a rate policy allows one poll per 8 s per shopper), OPERATOR_TOKEN (a token with the operator
role), TOKENS (user<TAB>token per line), OUT (screenshots are kept there).

Every page is scanned with axe-core (bundled with selenium-axe-python, offline): no serious or
critical violation. The pages work without JavaScript: these tests reload them as a shopper would.
"""
import os
import pathlib
import time

from conftest import accessible, operate, shot
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BASE_URL"].rstrip("/")
TOKENS = [line.split("\t") for line in pathlib.Path(os.environ["TOKENS"]).read_text().splitlines() if "\t" in line]
_next_token = iter(TOKENS)


def shopper():
    """A fresh shopper's (user, token)."""
    user, token = next(_next_token)[:2]
    return user, token.strip()


def sign_in(driver, token):
    """What the shop's sign-in does: the shopper's token in the flashdeal_token cookie."""
    driver.get(f"{BASE}/livez")
    driver.add_cookie({"name": "flashdeal_token", "value": token, "path": "/", "httpOnly": True, "sameSite": "Lax"})


def text(driver):
    return driver.find_element(By.TAG_NAME, "main").text


BUSY = ("Please try again in", "다시 시도해 주세요")


def submit(driver, form_action_suffix, lands_on):
    """Clicks the button of the form posting to `…form_action_suffix` and waits for the page the
    redirect leads to."""
    driver.find_element(By.CSS_SELECTOR, f"form[action$='{form_action_suffix}'] button").click()
    WebDriverWait(driver, 30).until(expected_conditions.url_contains(lands_on))


def visit(driver, url):
    """Opens `url` as a shopper does: a "try again in N s" page (429/503) is reloaded after N s."""
    driver.get(url)
    for _ in range(5):
        page = text(driver)
        if not any(b in page for b in BUSY):
            return
        time.sleep(2)
        driver.refresh()


def join_line(driver, deal, token=None):
    """A fresh shopper (or `token`'s) signs in, opens the deal and joins its line: the line page."""
    if token is None:
        _, token = shopper()
    sign_in(driver, token)
    visit(driver, f"{BASE}/shop/deals/{deal}")
    submit(driver, "/line", "/line/")


def wait_until(driver, predicate, seconds, what):
    """Waits without reloading: the page's own script must bring the change (a "try again" page,
    which has no script, is reloaded after a while, as a shopper would)."""
    deadline = time.time() + seconds
    while True:
        try:
            page = text(driver)
            if predicate(page):
                return
            if any(b in page for b in BUSY):
                time.sleep(2)
                driver.refresh()
        except Exception:  # the script reloaded the page between two reads
            pass
        if time.time() > deadline:
            raise AssertionError(f"{what} not shown within {seconds} s without a reload; the page says: {text(driver)!r}")
        time.sleep(0.25)


def reload_until(driver, predicate, seconds, what):
    deadline = time.time() + seconds
    while True:
        if predicate(text(driver)):
            return
        if time.time() > deadline:
            raise AssertionError(f"{what} not shown within {seconds} s; the page says: {text(driver)!r}")
        time.sleep(0.5)
        driver.refresh()


def test_a_shoppers_whole_journey_from_the_deal_page_to_confirmed(browser):
    _, token = shopper()
    sign_in(browser, token)
    visit(browser, f"{BASE}/shop/deals/{os.environ['DEAL']}")
    reload_until(browser, lambda t: "Join the line" in browser.page_source, 20, "the join button (the opening)")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    accessible(browser, "deal page")
    shot(browser, "en-deal")
    submit(browser, "/line", "/line/")
    accessible(browser, "line page")
    # The page polls and reloads itself when the shopper's turn comes: no reload from here.
    wait_until(browser, lambda t: "your turn" in t, 30, "the shopper's turn")
    assert browser.switch_to.active_element.get_attribute("id") == "quantity", "focus moves to the order form"
    accessible(browser, "turn page")
    shot(browser, "en-turn")
    quantity = browser.find_element(By.ID, "quantity")
    quantity.clear()
    quantity.send_keys("2")
    submit(browser, "/orders", "/shop/orders/")
    wait_until(browser, lambda t: "Confirmed." in t, 60, "CONFIRMED")
    assert "Quantity 2" in text(browser)
    accessible(browser, "order page")
    shot(browser, "en-order-confirmed")


def test_korean_pages_carry_lang_and_korean_text(browser):
    _, token = shopper()
    sign_in(browser, token)
    visit(browser, f"{BASE}/shop/deals/{os.environ['DEAL_LATER']}?lang=ko")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ko"
    page = text(browser)
    assert "오픈" in page and "대기열은" in page, page
    accessible(browser, "Korean deal page")
    shot(browser, "ko-deal-later")
    # The switch is remembered (a cookie): the next page is Korean without ?lang.
    visit(browser, f"{BASE}/shop/deals/{os.environ['DEAL']}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ko"
    browser.find_element(By.LINK_TEXT, "View in English").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the switch to English")


def test_a_line_not_open_yet_says_when_it_opens(browser):
    _, token = shopper()
    sign_in(browser, token)
    visit(browser, f"{BASE}/shop/deals/{os.environ['DEAL_LATER']}")
    assert "The line opens" in text(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "form[action$='/line']")


def test_joining_before_the_opening_shows_the_pre_queue_draw(browser):
    join_line(browser, os.environ["DEAL_SOON"])
    page = text(browser)
    assert "Waiting for the opening" in page and "random place" in page, page
    accessible(browser, "pre-queue page")
    shot(browser, "en-pre-queue")


def test_sold_out_while_waiting_says_so_and_that_nothing_was_charged(browser):
    deal = os.environ["DEAL_TINY"]
    _, first = shopper()
    _, second = shopper()
    join_line(browser, deal, first)
    wait_until(browser, lambda t: "your turn" in t, 30, "the first shopper's turn")
    submit(browser, "/orders", "/shop/orders/")
    wait_until(browser, lambda t: "Confirmed." in t, 60, "the one unit CONFIRMED")
    browser.delete_all_cookies()
    sign_in(browser, second)
    visit(browser, f"{BASE}/shop/deals/{deal}")
    page = text(browser)
    assert "Sold out." in page, page
    accessible(browser, "sold-out deal page")
    shot(browser, "en-sold-out")


def test_without_a_session_the_deal_shows_and_joining_is_refused(browser):
    visit(browser, f"{BASE}/shop/deals/{os.environ['DEAL']}")
    assert "Sign in to join the line." in text(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "form[action$='/line']")


def test_a_lost_connection_is_shown_and_the_page_recovers_by_itself(browser):
    """The network drops while the shopper waits: the warning shows, and when the network is back
    the page finds the server again by itself and the warning goes, the place unchanged."""
    join_line(browser, os.environ["DEAL_SOON"])
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    warning = browser.find_element(By.ID, "offline")
    WebDriverWait(browser, 30).until(lambda d: warning.is_displayed(), "the connection-lost warning")
    assert "Your place is kept" in warning.text
    accessible(browser, "connection-lost warning")
    shot(browser, "en-offline")
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    WebDriverWait(browser, 40).until(lambda d: not warning.is_displayed(), "the warning gone once back online")
    assert "Waiting for the opening" in text(browser)


def test_a_pause_is_seen_by_a_waiting_shopper_with_the_place_kept_and_a_resume_lets_them_in(browser):
    deal = os.environ["DEAL_PAUSED"]
    operate(deal, "PAUSE", "browser test: payment provider degraded")
    join_line(browser, deal)
    page = text(browser)
    assert "Admission is paused" in page and "You are number 1 in line." in page, page
    accessible(browser, "paused line page")
    shot(browser, "en-paused")
    time.sleep(12)  # two polls or more while paused: still paused, still first
    page = text(browser)
    assert "Admission is paused" in page and "You are number 1 in line." in page, page
    operate(deal, "RESUME", "browser test: provider recovered")
    # The page's own poll sees the change and brings the shopper's turn, with no reload from here.
    wait_until(browser, lambda t: "your turn" in t, 30, "the shopper's turn after the resume")


def test_an_order_the_worker_rejects_says_so_and_why(browser):
    """One unit left and two ordered (the limit is two): the gateway accepts, the worker rejects."""
    join_line(browser, os.environ["DEAL_ONE"])
    wait_until(browser, lambda t: "your turn" in t, 30, "the shopper's turn")
    quantity = browser.find_element(By.ID, "quantity")
    quantity.clear()
    quantity.send_keys("2")
    submit(browser, "/orders", "/shop/orders/")
    wait_until(browser, lambda t: "Not confirmed." in t, 60, "REJECTED")
    page = text(browser)
    assert "You were not charged" in page and "not enough units were left for this order" in page, page
    accessible(browser, "rejected order page")
    shot(browser, "en-order-rejected")


# Records every fetch the page makes (time, status, Retry-After) before the page's own script runs.
FETCH_LOG = """
window.__polls = [];
const realFetch = window.fetch;
window.fetch = async (...args) => {
  const started = performance.now();
  const response = await realFetch(...args);
  window.__polls.push({ started, ended: performance.now(), status: response.status,
                        retryAfter: parseInt(response.headers.get("retry-after"), 10) || 0 });
  return response;
};
"""


def test_a_429_with_retry_after_is_waited_out_before_the_next_poll(browser):
    """The slow deal's polls are limited to one per 8 s per shopper (scripts/load): the page's
    script meets 429s and never asks again before their Retry-After has passed. The deal is paused,
    so the shopper stays on one page (a change of state would reload it and reset the log)."""
    operate(os.environ["DEAL_SLOW"], "PAUSE", "browser test: hold the line while polls are limited")
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FETCH_LOG})
    join_line(browser, os.environ["DEAL_SLOW"])
    time.sleep(25)
    polls = browser.execute_script("return window.__polls")
    limited = [i for i, p in enumerate(polls) if p["status"] == 429]
    assert limited, f"no 429 in {polls}"
    for i in limited:
        assert polls[i]["retryAfter"] >= 1, polls[i]
        if i + 1 < len(polls):
            waited = (polls[i + 1]["started"] - polls[i]["ended"]) / 1000
            assert waited >= polls[i]["retryAfter"], f"asked again after {waited:.1f} s, Retry-After {polls[i]['retryAfter']}: {polls}"
    assert any(p["status"] == 200 for p in polls[limited[0]:]), f"the page polled again once allowed: {polls}"
    assert "You are number 1 in line." in text(browser), text(browser)
