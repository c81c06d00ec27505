"""Benchmark: how fast the dashboard re-renders after a widget change on the sample city.

Run: ``.venv/bin/python -m bench.bench_dashboard`` (``--repeats N``, default 5; ``--no-browser`` for
the server-side table only).

Acceptance (issue #7): once the data is cached, a widget change re-renders in under 1.5 s.

Two measurements, both after a warm-up run that fills the caches (the pipeline result, the
rendered map, the portfolio per budget):

- **Browser** (system Chromium via Playwright against ``streamlit run app.py`` on loopback): wall
  time from the user's action (key press, option chosen, mouse click on the map) until the page
  shows its result (the new metric value, the new profile heading, the what-if summary) and
  Streamlit reports that the script run has finished. This is what a planner waits for. A map
  click includes streamlit-folium's 250 ms debounce and one extra rerun (the click updates the
  selection, then the page redraws with it).
- **Server** (Streamlit ``AppTest``, no browser): the time of one script run after the same
  widget changes, i.e. the Python side of the re-render.

Each action is repeated ``--repeats`` times, alternating between two values so every repeat is a
real change; the table shows the median and the worst time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
LIMIT_S = 1.5
MAP_FRAME = "iframe[title*='st_folium']"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server() -> Iterator[str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port)]
    cmd += [
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _chromium() -> str | None:
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(name).exists():
            return name
    return None


def _idle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit shows no running script."""
    page.wait_for_function(
        "() => { const app = document.querySelector(\"[data-testid='stApp']\");"
        " return app && !['running', 'rerunRequested'].includes(app.getAttribute('data-test-script-state')); }",
        timeout=60_000,
    )


def _timed(page, action: Callable[[], None], done: Callable[[], None]) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    action()
    done()
    _idle(page)
    return time.perf_counter() - t0


INSIDE_HOTSPOT_JS = """
(hid) => {
  for (const key in window.map._layers) {
    const layer = window.map._layers[key];
    if (!layer.feature || !layer.feature.properties || layer.feature.properties.hotspot_id !== hid) continue;
    let rings = layer.getLatLngs();
    while (Array.isArray(rings[0][0])) rings = rings[0];
    const ring = rings[0], b = layer.getBounds();
    const inside = (p) => { let c = false;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const u = ring[i], v = ring[j];
        if ((u.lat > p.lat) !== (v.lat > p.lat) && p.lng < (v.lng - u.lng) * (p.lat - u.lat) / (v.lat - u.lat) + u.lng) c = !c;
      } return c; };
    for (let n = 2; n < 64; n *= 2) for (let i = 1; i < n; i++) for (let j = 1; j < n; j++) {
      const p = {lat: b.getSouth() + (b.getNorth() - b.getSouth()) * i / n, lng: b.getWest() + (b.getEast() - b.getWest()) * j / n};
      if (inside(p)) { const q = window.map.latLngToContainerPoint([p.lat, p.lng]); return [q.x, q.y]; }
    }
  }
  return null;
}
"""


def _load_timings(page: Any, url: str) -> dict[str, list[float]]:
    t0 = time.perf_counter()
    page.goto(url)
    page.frame_locator(MAP_FRAME).locator("path.leaflet-interactive").first.wait_for(timeout=300_000)
    _idle(page)
    out = {"first load (pipeline + map, uncached)": [time.perf_counter() - t0]}
    page.reload()
    t0 = time.perf_counter()
    page.frame_locator(MAP_FRAME).locator("path.leaflet-interactive").first.wait_for(timeout=120_000)
    page.get_by_text("Profile of hotspot").first.wait_for(timeout=60_000)
    _idle(page)
    out["page reload (cached)"] = [time.perf_counter() - t0]
    return out


def _picker_timings(page: Any, repeats: int) -> list[float]:
    """Hotspot picker (selectbox) → profile heading."""
    ids = ["H02", "H03"]
    times = []
    for i in range(repeats):
        hid = ids[i % 2]
        page.get_by_label("Hotspot shown (or click one on the map)").click()  # open the list (untimed)
        option = page.get_by_role("option", name=hid, exact=True)
        option.wait_for()

        def pick(option=option) -> None:  # type: ignore[no-untyped-def]
            option.click()

        times.append(
            _timed(page, pick, lambda hid=hid: page.get_by_text(f"Profile of hotspot {hid}").first.wait_for())
        )
    return times


def _map_click_timings(page: Any, frame: Any, repeats: int) -> list[float]:
    """Map click on a hotspot → profile heading."""
    container = page.frame_locator(MAP_FRAME).locator(".leaflet-container")
    times = []
    for i in range(repeats):
        hid = ["H05", "H04"][i % 2]
        x, y = frame.evaluate(INSIDE_HOTSPOT_JS, hid)
        times.append(
            _timed(
                page,
                lambda x=x, y=y: container.click(position={"x": x, "y": y}, force=True),
                lambda hid=hid: page.get_by_text(f"Profile of hotspot {hid}").first.wait_for(),
            )
        )
    return times


def _budget_timings(page: Any, repeats: int) -> list[float]:
    """Budget → chosen measures (Interventions tab)."""
    page.get_by_role("tab", name="Interventions").click()
    metric = (
        page.locator("[data-testid='stMetric']")
        .filter(has_text="Chosen measures")
        .locator("[data-testid='stMetricValue']")
    )
    metric.wait_for()
    budget = page.get_by_label(re.compile(r"^Budget \("))
    times = []
    for i in range(repeats + 2):  # the first two fill the portfolio cache for both budgets
        value = ["20000", "5000000"][i % 2]
        before = metric.inner_text()

        def set_budget(value: str = value) -> None:
            budget.fill(value)
            budget.press("Enter")

        def changed(before: str = before) -> None:
            page.wait_for_function(
                "(b) => { const m = Array.from(document.querySelectorAll(\"[data-testid='stMetric']\"))"
                ".find(e => e.innerText.includes('Chosen measures'));"
                " return m && m.querySelector(\"[data-testid='stMetricValue']\").innerText !== b; }",
                arg=before,
                timeout=60_000,
            )

        t = _timed(page, set_budget, changed)
        if i >= 2:
            times.append(t)
    return times


def _mode_timings(page: Any, frame: Any, repeats: int) -> list[float]:
    """Click-mode radio → the map's overlay knows the new mode."""
    page.get_by_role("tab", name="Map & hotspots").click()
    times = []
    for i in range(repeats):
        label, mode = [("Add a street lamp", "lamp"), ("Show a hotspot's profile", "select")][i % 2]
        times.append(
            _timed(
                page,
                lambda label=label: page.get_by_text(label, exact=True).click(),
                lambda mode=mode: frame.wait_for_function("(m) => window.plannerClickMode === m", arg=mode),
            )
        )
    return times


def browser_timings(repeats: int) -> dict[str, list[float]]:
    """Seconds from each user action to its visible result, in the system Chromium."""
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    if chromium is None:
        raise SystemExit("system Chromium not found (apt-get install chromium); use --no-browser")
    with _server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        out = _load_timings(page, url)
        out["hotspot picker → profile"] = _picker_timings(page, repeats)
        frame = page.locator(MAP_FRAME).element_handle().content_frame()
        out["map click on hotspot → profile"] = _map_click_timings(page, frame, repeats)
        out["budget → portfolio"] = _budget_timings(page, repeats)
        out["click-mode radio → map overlay"] = _mode_timings(page, frame, repeats)
        browser.close()
    return out


def server_timings(repeats: int) -> dict[str, list[float]]:
    """Seconds per Streamlit script run for each widget change (AppTest, no browser)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=300)
    t0 = time.perf_counter()
    at.run()
    out = {"first run (pipeline, uncached)": [time.perf_counter() - t0]}

    def timed(change: Callable[[], object]) -> float:
        t = time.perf_counter()
        change()
        return time.perf_counter() - t

    out["rerun, nothing changed"] = [timed(at.run) for _ in range(repeats)]
    ids = at.selectbox(key="hotspot_pick").options
    out["hotspot picker"] = [
        timed(lambda i=i: at.selectbox(key="hotspot_pick").set_value(ids[1 + i % 2]).run())
        for i in range(repeats)
    ]
    for v in (20000.0, 5_000_000.0):  # fill the portfolio cache
        at.number_input(key="budget").set_value(v).run()
    out["budget"] = [
        timed(lambda i=i: at.number_input(key="budget").set_value([20000.0, 5_000_000.0][i % 2]).run())
        for i in range(repeats)
    ]
    out["click-mode radio"] = [
        timed(lambda i=i: at.radio(key="click_mode").set_value(["lamp", "select"][i % 2]).run())
        for i in range(repeats)
    ]
    out["Night-time toggle (Evaluation)"] = [
        timed(lambda i=i: at.toggle(key="eval_night").set_value(bool(i % 2)).run()) for i in range(repeats)
    ]
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception}")
    return out


def _table(title: str, rows: dict[str, list[float]]) -> str:
    lines = [
        f"\n{title}",
        f"| action | n | median s | worst s | under {LIMIT_S} s |",
        "|---|---|---|---|---|",
    ]
    for name, times in rows.items():
        widget_change = not name.startswith(("first", "page reload"))
        verdict = ("yes" if max(times) < LIMIT_S else "NO") if widget_change else "(not a widget change)"
        lines.append(
            f"| {name} | {len(times)} | {statistics.median(times):.2f} | {max(times):.2f} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the dashboard benchmark and print (or write) its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="only the server-side (AppTest) timings")
    args = parser.parse_args(argv)
    print(f"Dashboard re-render times on the sample city ({os.cpu_count()} CPUs)")
    print(_table("Server: one script run after the change (Streamlit AppTest)", server_timings(args.repeats)))
    if not args.no_browser:
        print(
            _table(
                "Browser: action → result shown and run finished (Chromium)", browser_timings(args.repeats)
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
