"""The report in a real headless Chromium with the network off."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from search.report import write_report
from tests.conftest import import_or_missing, missing
from tests.helpers.runs import SPACE, epochs, trial, write_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser(tmp_path: Path):
    webdriver = import_or_missing("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        missing("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1400,2400",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    yield driver
    driver.quit()


def test_report_renders_offline(browser, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    trials = []
    for i in range(12):
        hp = {"learning_rate": 10 ** (-4 + 3 * i / 11), "units": 32 * (1 + i % 4),
              "augment": bool(i % 2), "mode": "ab"[i % 3 == 0]}  # fmt: skip
        eps = epochs(*[(0.6 + 0.03 * e + 0.01 * i, 0.55 + 0.02 * e + 0.004 * (i % 5), 1.0, 1.1)
                       for e in range(4)])  # fmt: skip
        trials.append(trial(str(i), eps, hp=hp))
    trials.append(trial("12", [], status="failed", failure="NonFiniteLossError: loss became nan"))
    folder = write_run(tmp_path, "browser", trials)
    output, reports = write_report([folder])
    assert reports[0].meta["space"]["params"] == SPACE

    browser.get(output.resolve().as_uri())
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script("return document.body.dataset.drawn") == "all"
    )
    figures = browser.find_elements("css selector", "div.plotly-graph-div")
    rendered = browser.execute_script(
        "return Array.from(document.querySelectorAll('div.plotly-graph-div'))"
        ".filter(d => d.querySelector('svg.main-svg')).length"
    )
    assert len(figures) >= 8 and rendered == len(figures)
    rows = browser.find_elements("css selector", "table#trials tbody tr")
    assert len(rows) == 13
    first = rows[0].find_elements("css selector", "td")[1].text
    assert first == reports[0].choice.trial
    # Clicking a header sorts the table.
    browser.find_elements("css selector", "table#trials th")[1].click()
    assert browser.find_elements("css selector", "table#trials tbody tr td")[1].text == "0"

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    shot = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("L")
    assert ImageStat.Stat(shot).stddev[0] > 10  # not a blank page
