"""Shared by the browser tests: Debian's chromium through Selenium, axe-core, screenshots."""
import json
import os
import pathlib
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium_axe_python import Axe

BASE = os.environ["BASE_URL"].rstrip("/")
OUT = pathlib.Path(os.environ.get("OUT", "."))


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,900", "--lang=en-US"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def accessible(driver, page):
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']}" for v in bad)


def shot(driver, name):
    OUT.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(OUT / f"{name}.png"))


def operate(deal, action, reason, value=None):
    """An SRE's action through the gateway's operateSale (the operator token of the run)."""
    variables = {"i": {"dealId": deal, "action": action, "reason": reason}}
    if value is not None:
        variables["i"]["value"] = value
    body = json.dumps({
        "query": "mutation O($i: OperateSaleInput!) { operateSale(input: $i) { applied auditId after { paused } } }",
        "variables": variables}).encode()
    request = urllib.request.Request(f"{BASE}/graphql", data=body, method="POST", headers={
        "content-type": "application/json", "authorization": "Bearer " + os.environ["OPERATOR_TOKEN"]})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{action}: HTTP {error.code} {error.read().decode()}") from None
    assert "errors" not in answer, answer
    assert answer["data"]["operateSale"]["applied"], answer
    return answer["data"]["operateSale"]
