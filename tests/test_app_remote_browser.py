"""A visitor from another address never sees incident points without sign-in (issue #24, item 1).

The dashboard is started the way that failed open: ``streamlit run app.py`` on every interface, no
sign-in, no launcher, ``[planner] anonymous_role = "analyst"``. Chromium opens it through this
machine's network address (not loopback), so the server sees a non-loopback client: it must serve
the public view, exactly as to a signed-in viewer.
"""

from __future__ import annotations

import subprocess

import pytest
from _browser import (
    MAP_FRAME,
    assert_public_view,
    launch_browser,
    record_websocket,
    screenshot,
    streamlit_server,
)

from planner.dashboard import hosting

pytestmark = pytest.mark.browser


def _network_address() -> str:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    ips = [ip for ip in out.split() if "." in ip and not hosting.is_loopback(ip)]
    if not ips:
        pytest.skip("this machine has no non-loopback IPv4 address")
    return ips[0]


def test_a_visitor_from_another_address_gets_the_public_view(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    ip = _network_address()
    for name in (hosting.INSECURE_ANONYMOUS_ROLE_ENV, hosting.ANONYMOUS_ROLE_ENV):
        monkeypatch.delenv(name, raising=False)
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        f'[planner]\nanonymous_role = "analyst"\naudit_log = "{tmp_path / "exports.jsonl"}"\n'
    )
    args = ["--server.address", "0.0.0.0", "--secrets.files", str(secrets_file)]
    with streamlit_server(extra_args=args) as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        sent = record_websocket(page)
        page.goto(url.replace("127.0.0.1", ip), wait_until="domcontentloaded")
        page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=180_000)
        assert_public_view(page, sent)
        page.get_by_text("Public view: not signed in (viewer)").wait_for(timeout=30_000)
        assert page.get_by_text("Local, single user").count() == 0
        screenshot(page, "remote_visitor_public_view")
        browser.close()
