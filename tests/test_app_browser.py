"""The dashboard in a real browser (system Chromium): the map renders offline with hotspot polygons,
a click on a hotspot shows its profile, a lamp added on the map re-ranks that hotspot's measures, the
budget drives the portfolio, an export downloads, a bad upload gets a clear message; no request fails.

Screenshots of every tab go to tests/_artifacts/ (look at them after changing the dashboard)."""

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


# A point inside a hotspot polygon (grid scan with a ray-casting test; a centroid can fall outside).
INSIDE_HOTSPOT_JS = """
(hid) => {
  const inside = (pt, ring) => {
    let c = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i], b = ring[j];
      if ((a.lat > pt.lat) !== (b.lat > pt.lat) &&
          pt.lng < (b.lng - a.lng) * (pt.lat - a.lat) / (b.lat - a.lat) + a.lng) c = !c;
    }
    return c;
  };
  for (const key in window.map._layers) {
    const layer = window.map._layers[key];
    if (!layer.feature || !layer.feature.properties || layer.feature.properties.hotspot_id !== hid) continue;
    let rings = layer.getLatLngs();
    while (Array.isArray(rings[0][0])) rings = rings[0];
    const ring = rings[0], bounds = layer.getBounds();
    for (let f = 0.5, step = 0.25; step > 0.01; step /= 2) {
      for (let i = 1; i < 1 / step; i++) for (let j = 1; j < 1 / step; j++) {
        const pt = {lat: bounds.getSouth() + (bounds.getNorth() - bounds.getSouth()) * i * step,
                    lng: bounds.getWest() + (bounds.getEast() - bounds.getWest()) * j * step};
        if (inside(pt, ring) && !rings.slice(1).some((hole) => inside(pt, hole))) return [pt.lat, pt.lng];
      }
    }
  }
  return null;
}
"""

# The middle of the longest unlit street stretch the dashboard drew for the selected hotspot.
UNLIT_MIDDLE_JS = """
() => {
  if (!window.plannerUnlit) return null;
  let best = null, bestLen = 0;
  for (const f of window.plannerUnlit.features) {
    const lines = f.geometry.type === "LineString" ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const c of lines) {
      let len = 0;
      for (let i = 1; i < c.length; i++) len += Math.hypot(c[i][0] - c[i-1][0], c[i][1] - c[i-1][1]);
      if (len > bestLen) { bestLen = len; best = c; }
    }
  }
  if (!best) return null;
  let half = bestLen / 2;
  for (let i = 1; i < best.length; i++) {
    const d = Math.hypot(best[i][0] - best[i-1][0], best[i][1] - best[i-1][1]);
    if (d >= half) {
      const t = half / d;
      return [best[i-1][1] + t * (best[i][1] - best[i-1][1]), best[i-1][0] + t * (best[i][0] - best[i-1][0])];
    }
    half -= d;
  }
  return [best[0][1], best[0][0]];
}
"""


def _map_frame(page):
    return page.locator(MAP_FRAME).element_handle().content_frame()


def _click_map_at(page, lat, lng):
    """Centre the map on (lat, lng), then click there with the mouse (a real click, not an event)."""
    frame = _map_frame(page)
    frame.evaluate("([lat, lng]) => window.map.setView([lat, lng], 17, {animate: false})", [lat, lng])
    page.wait_for_timeout(600)
    x, y = frame.evaluate(
        "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lat, lng],
    )
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").click(position={"x": x, "y": y}, force=True)


def _wait_for_text(page, text, timeout_s=60):
    page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)


def test_clicking_a_hotspot_shows_its_profile(server_url, browser):
    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    _wait_for_text(page, "Profile of hotspot H01")
    frame = _map_frame(page)
    frame.wait_for_function("() => window.map && Object.keys(window.map._layers).length > 10")
    for hid in ("H03", "H05"):
        where = frame.evaluate(INSIDE_HOTSPOT_JS, hid)
        assert where is not None, f"no point found inside {hid}"
        _click_map_at(page, *where)
        _wait_for_text(page, f"Profile of hotspot {hid}")
    for heading in ("Crime types", "When: hour of day and weekday", "Environment (exposure profile)"):
        assert page.get_by_text(heading).count() >= 1
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 3
    # the map stayed mounted (no reload per click) and outlines the selection
    assert page.locator(MAP_FRAME).count() == 1
    page.mouse.move(5, 5)
    page.wait_for_timeout(1500)
    screenshot(page, "dashboard_hotspot_profile")
    assert log.failed == []


def test_whatif_lamp_reranks_that_hotspot(server_url, browser):
    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    _wait_for_text(page, "Profile of hotspot H01")
    page.get_by_text("Add a street lamp").click()
    frame = _map_frame(page)
    frame.wait_for_function(
        "() => window.plannerUnlit && window.plannerUnlit.features.length > 0", timeout=60_000
    )
    where = frame.evaluate(UNLIT_MIDDLE_JS)
    assert where is not None
    _click_map_at(page, *where)
    _wait_for_text(page, "What-if changes for H01")
    summary = (
        page.locator("[data-testid='stMarkdownContainer']")
        .filter(has_text="What-if changes for H01")
        .first.inner_text()
    )
    assert "→" in summary, summary  # e.g. "Street lighting: rank 1 → 1, quantity 40 → 39, ..."
    assert frame.locator("path.planner-whatif").count() == 1  # the new lamp is drawn
    page.mouse.move(5, 5)  # no hover tooltip over the new lamp in the screenshot
    page.wait_for_timeout(1500)
    screenshot(page, "dashboard_whatif_map")
    _tab(page, "Interventions")
    assert page.get_by_text("What-if changes for H01").count() >= 1
    screenshot(page, "dashboard_whatif_interventions")
    page.get_by_role("tab", name="Map & hotspots").click()
    page.get_by_role("button", name="Remove all what-if edits").click()
    page.get_by_text("What-if changes for H01").first.wait_for(state="detached", timeout=30_000)
    assert log.failed == []


def _tab(page, name):
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(800)


def test_budget_changes_portfolio_and_tabs_render(server_url, browser):
    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    for name in ("Overview", "Environment", "Evaluation", "Export", "Data"):
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
    link.wait_for(timeout=300_000)  # the export runs on a machine shared with the other test worker
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


FEAR_LAYER = "Fear vs recorded crime"

# The centre of the largest drawn fear-vs-crime cell of a class (cells at the edge are clipped).
FEAR_CELL_JS = """
(cls) => {
  let best = null, bestSize = 0;
  for (const key in window.map._layers) {
    const layer = window.map._layers[key];
    if (layer.feature && layer.feature.properties && layer.feature.properties["class"] === cls) {
      const b = layer.getBounds();
      const size = (b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest());
      if (size > bestSize) { bestSize = size; best = b.getCenter(); }
    }
  }
  return best ? [best.lat, best.lng] : null;
}
"""


def _open_layer_control(page):
    """Hover the map's layer control until its list shows (it folds away when the mouse leaves)."""
    frame = page.frame_locator(MAP_FRAME)
    listing = frame.locator(".leaflet-control-layers-list")
    for _ in range(5):
        if listing.is_visible():
            return frame
        frame.locator(".leaflet-control-layers").hover(timeout=10_000)
        try:
            listing.wait_for(state="visible", timeout=5_000)
            return frame
        except Exception:
            page.mouse.move(5, 5)
    raise AssertionError("the layer control did not open")


def _hover_map_at(page, lat, lng):
    """Centre the map on (lat, lng) zoomed in, then move the mouse there (shows the tooltip)."""
    page.mouse.move(5, 5)  # off the map: the layer control folds away
    frame = _map_frame(page)
    frame.evaluate("([lat, lng]) => window.map.setView([lat, lng], 16, {animate: false})", [lat, lng])
    page.wait_for_timeout(600)
    x, y = frame.evaluate(
        "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lat, lng],
    )
    box = page.locator(MAP_FRAME).bounding_box()
    page.mouse.move(box["x"] + x - 20, box["y"] + y - 20)
    page.mouse.move(box["x"] + x, box["y"] + y, steps=5)


def _grid_cell(page, row, col):
    """Text of a cell of the first table on the page (Glide's accessible grid: row 0 is the header)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    return grid.locator("[role='row']").nth(row).locator("[role='gridcell']").nth(col).inner_text()


def test_fear_layer_and_per_group_view(server_url, browser, sample_plan):
    """Issue #19: the map's layer control holds the fear-vs-crime layer, drawn with class, perceived
    safety and (for an analyst) the recorded crimes in its tooltip; picking a victim group re-runs the
    plan on that group and the hotspot table shows its numbers."""
    from planner.config import RunConfig
    from planner.pipeline import run

    female = run(RunConfig(attribute_filters={"victim_sex": ["female"]}), stages=())
    everyone = sample_plan  # the dashboard's default plan (the session's shared one)
    log = NetworkLog()
    page = open_dashboard(browser, server_url, log)
    _wait_for_text(page, "Profile of hotspot H01")
    frame = page.frame_locator(MAP_FRAME)
    label = _open_layer_control(page).locator(".leaflet-control-layers-overlays label", has_text=FEAR_LAYER)
    assert label.count() == 1
    from planner.maps.folium_map import FEAR_CLASS_COLOURS

    cells = frame.locator(f"path[fill='{FEAR_CLASS_COLOURS['fear, little crime']}']")
    assert cells.count() == 0  # off until chosen
    # a script click, as Leaflet's control handles it: a pointer click races the control folding
    # away (and Streamlit's rerun overlay) on a loaded machine
    label.locator("input").evaluate("el => { if (!el.checked) el.click(); }", timeout=10_000)
    assert label.locator("input").is_checked()
    cells.first.wait_for(state="attached", timeout=30_000)
    assert cells.count() > 100
    where = _map_frame(page).evaluate(FEAR_CELL_JS, "fear, little crime")
    assert where is not None
    _hover_map_at(page, *where)
    tooltip = frame.locator(".leaflet-tooltip").filter(has_text="Fear vs crime")
    tooltip.first.wait_for(timeout=10_000)
    text = tooltip.first.inner_text()
    assert "fear, little crime" in text and "Perceived safety" in text and "Recorded crimes" in text
    assert _grid_cell(page, 1, 1) == str(int(everyone.hotspots["n_incidents"].iloc[0]))
    page.locator("[data-testid='stSidebar']").get_by_text("by sex").click()
    _wait_for_text(page, "for crimes against women and girls only")
    expected = str(int(female.hotspots["n_incidents"].iloc[0]))
    page.wait_for_function(
        """(want) => {
          const row = document.querySelectorAll("[data-testid='stDataFrame'] [role='row']")[1];
          return row && row.querySelectorAll("[role='gridcell']")[1].innerText.trim() === want;
        }""",
        arg=expected,
        timeout=120_000,
    )
    assert expected != str(int(everyone.hotspots["n_incidents"].iloc[0]))
    _tab(page, "Overview")
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Incidents analysed")
    assert f"{len(female.incidents):,}" in metric.inner_text()
    _tab(page, "Perceived safety")
    _wait_for_text(page, "Coverage per auditor group")
    screenshot(page, "dashboard_perceived_safety")
    assert log.failed == []
