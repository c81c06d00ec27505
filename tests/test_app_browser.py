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
