"""Real-browser harness: a Streamlit server on loopback plus system Chromium via Playwright.

Every request the page makes is recorded; tests assert that none failed (offline maps).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from _paths import ROOT, chromium_path, require_service

ARTIFACTS = ROOT / "tests" / "_artifacts"
MAP_FRAME = "iframe[title*='st_folium']"
# an incident as the map sends it: {"incident_id": "…", "category": …, "occurred_at": "2023-01-01 01:21"}
# (in websocket frames the quotes arrive escaped)
INCIDENT_TIME = re.compile(r'occurred_at\\*"\s*:\s*\\*"\d{4}-\d{2}-\d{2} \d{2}:\d{2}')
INCIDENT_ID = re.compile(r'incident_id\\*"\s*:\s*\\*"')
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(
    timeout_s: float = 60.0, *, port: int | None = None, extra_args: list[str] | None = None
) -> Iterator[str]:
    """Start ``app.py`` on a free (or the given) loopback port; yield its URL; stop it afterwards.

    ``extra_args`` are more Streamlit options, e.g. ``["--secrets.files", path]``."""
    port = port or free_port()
    log = ARTIFACTS / f"streamlit_{port}.log"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                *(extra_args or []),
            ],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                raise RuntimeError(f"streamlit did not start; see {log}")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class NetworkLog:
    """Failed requests seen by the page (URL and reason)."""

    failed: list[str] = field(default_factory=list)

    def attach(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None,
        )


def launch_browser(playwright):  # type: ignore[no-untyped-def]
    path = chromium_path()
    require_service(path is not None, "system Chromium (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)


FULL_HEIGHT_JS = """() => Math.max(document.body.scrollHeight,
  ...Array.from(document.querySelectorAll("[data-testid='stMain'], [data-testid='stMainBlockContainer']"))
     .map((e) => e.scrollHeight))"""


def screenshot(page, name: str, *, max_height: int = 4000) -> Path:  # type: ignore[no-untyped-def]
    """Save the whole page (Streamlit scrolls inside its main block, so the viewport grows to fit)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = int(page.evaluate(FULL_HEIGHT_JS))
    if size and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(height + 40, max_height)})
        page.wait_for_timeout(1000)
    page.screenshot(path=str(path), full_page=True)
    if size:
        page.set_viewport_size(size)
    return path


def record_websocket(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Every websocket frame the server sends to ``page`` (attach before ``goto``)."""
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: sent.append(str(payload))))
    return sent


def assert_public_view(page, sent: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A viewer's page: the published view with its map, and nothing incident-level in the page or
    on the websocket (no incident ids or times, no Gi* z-scores, no incident layer, no uploads)."""
    page.get_by_text("You see the published view").wait_for(timeout=30_000)
    page.frame_locator(MAP_FRAME).locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    traffic = "".join(sent) + page.content()
    assert not INCIDENT_TIME.search(traffic) and not INCIDENT_ID.search(traffic)
    assert "gi_z" not in traffic and "mean_gi_z" not in traffic
    assert "Incidents (random sample" not in traffic
    assert page.get_by_text("Upload a file").count() == 0
