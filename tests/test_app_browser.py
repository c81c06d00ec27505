"""The dashboard in a real browser (system Chromium): map renders offline with hotspot polygons."""

from __future__ import annotations

import pytest
from _browser import NetworkLog, launch_browser, screenshot, streamlit_server

pytestmark = pytest.mark.browser

MAP_FRAME = "iframe[title*='st_folium']"


@pytest.fixture(scope="module")
def server_url():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_browser(pw)
        yield b
        b.close()


def open_dashboard(browser, url, log):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    log.attach(page)
    page.goto(url, wait_until="domcontentloaded")
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=120_000)
    return page


def test_map_renders_hotspots_with_no_failed_requests(server_url, browser):
    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    assert frame.locator("path.leaflet-interactive").count() > 0
    assert frame.locator(".planner-legend").count() == 1
    page.wait_for_timeout(1500)
    screenshot(page, "dashboard_map")
    assert log.failed == []


def _tab(page, name):
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(800)


def test_budget_changes_portfolio_and_tabs_render(server_url, browser):
    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    for name in ("Overview", "Environment", "Evaluation", "Data"):
        _tab(page, name)
        screenshot(page, f"dashboard_{name.lower()}")
    _tab(page, "Interventions")
    metric = (
        page.locator("[data-testid='stMetric']")
        .filter(has_text="Chosen measures")
        .locator("[data-testid='stMetricValue']")
    )
    metric.wait_for(timeout=60_000)
    budget = page.get_by_label("Budget (GBP, present value)")
    budget.fill("10000")
    budget.press("Enter")
    page.wait_for_timeout(4000)
    low = metric.inner_text()
    budget.fill("5000000")
    budget.press("Enter")
    page.wait_for_timeout(6000)
    high = metric.inner_text()
    screenshot(page, "dashboard_interventions")
    assert int(high) > int(low)
    assert log.failed == []


def test_export_downloads_and_reads_back(server_url, browser, tmp_path):
    import zipfile

    import pyogrio

    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    _tab(page, "Export")
    page.get_by_role("button", name="Prepare export").click()
    link = page.get_by_role("button", name="Download plan.zip")
    link.wait_for(timeout=120_000)
    with page.expect_download(timeout=60_000) as info:
        link.click()
    path = tmp_path / "plan.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path / "x")
    layers = {str(n) for n in pyogrio.list_layers(tmp_path / "x" / "plan.gpkg")[:, 0]}
    assert {"cells", "hotspots", "recommendations"} <= layers
    assert log.failed == []


def test_bad_upload_shows_clear_message(server_url, browser, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\nfoo,1\nbar,2\n")
    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    page.get_by_text("Upload a file").click()
    page.locator("input[type='file']").set_input_files(str(bad))
    alert = page.locator("[data-testid='stAlert']").filter(has_text="coordinate")
    alert.first.wait_for(timeout=60_000)
    screenshot(page, "dashboard_bad_upload")
    assert "Traceback" not in page.content()
    assert "bad.csv" in alert.first.inner_text()
    assert log.failed == []
