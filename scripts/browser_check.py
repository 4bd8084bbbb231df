#!/usr/bin/env python3
"""Opens a report page in headless Chromium (Debian's chromium + chromium-driver, through Selenium)
and fails unless it loads without a console error, carries the charts it should, and renders: each
chart's lines have points, and the screenshot (saved beside the page) is not blank.

    browser_check.py PAGE.html --charts N [--screenshot FILE.png]
"""
import argparse
import pathlib
import sys
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def png_is_blank(png):
    """True when every pixel row of the PNG is identical to the first (a blank page)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, depth, colour = 8, b"", 0, 0, 0, 0
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind = png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
            depth, colour = data[8], data[9]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    channels = {2: 3, 6: 4, 0: 1, 4: 2}.get(colour, 4)
    stride = 1 + width * channels * depth // 8
    raw = zlib.decompress(idat)
    # Filter bytes differ per row; compare the rows' distinct byte counts instead of their bytes.
    distinct = {raw[r * stride + 1:(r + 1) * stride] for r in range(0, height, max(1, height // 50))}
    return len(distinct) <= 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("--charts", type=int, required=True, help="the number of <svg> charts the page must have")
    ap.add_argument("--screenshot")
    a = ap.parse_args()
    page = pathlib.Path(a.page).resolve()
    if not page.is_file():
        sys.exit(f"browser check: no page {page}")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    failures = []
    try:
        driver.get(page.as_uri())
        state = driver.execute_script("return document.readyState")
        if state != "complete":
            failures.append(f"the page did not finish loading ({state})")
        errors = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]
        failures += [f"console: {e.get('message')}" for e in errors]
        charts = driver.find_elements(By.CSS_SELECTOR, "svg")
        if len(charts) != a.charts:
            failures.append(f"{len(charts)} charts, expected {a.charts}")
        for i, chart in enumerate(charts):
            lines = chart.find_elements(By.CSS_SELECTOR, "polyline")
            if not lines:
                failures.append(f"chart {i + 1} has no line")
            for line in lines:
                points = (line.get_attribute("points") or "").split()
                if len(points) < 2:
                    failures.append(f"chart {i + 1}: a line with {len(points)} points")
            if chart.size["width"] < 200 or chart.size["height"] < 80:
                failures.append(f"chart {i + 1} renders at {chart.size}")
        if not driver.title:
            failures.append("the page has no title")
        png = driver.get_screenshot_as_png()
        shot = pathlib.Path(a.screenshot) if a.screenshot else page.with_suffix(".png")
        shot.write_bytes(png)
        if png_is_blank(png):
            failures.append(f"the screenshot {shot} is blank")
    finally:
        driver.quit()
    if failures:
        print(f"browser check of {page}: FAILED", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print(f"browser check of {page}: {a.charts} charts rendered, no console error; screenshot {shot}")


if __name__ == "__main__":
    main()
