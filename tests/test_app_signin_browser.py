"""Sign-in in a real browser (issue #17): the dashboard configured for OpenID Connect sends the user
to the identity provider (a local stub: discovery, authorize, token with PKCE, JWKS), and the role
in the identity token decides what the server sends: an analyst's map holds incident points, a
viewer's map and page hold none, nor any Gi* z-score, and a viewer cannot choose an internal export."""

from __future__ import annotations

import secrets

import pytest
from _browser import (
    INCIDENT_ID,
    INCIDENT_TIME,
    MAP_FRAME,
    NetworkLog,
    assert_public_view,
    free_port,
    launch_browser,
    record_websocket,
    screenshot,
    streamlit_server,
)
from _oidc_stub import CLIENT_ID, CLIENT_SECRET, oidc_provider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signin")
    with oidc_provider() as provider:
        port = free_port()
        secrets_file = folder / "secrets.toml"
        secrets_file.write_text(
            f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_urlsafe(32)}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"

[planner]
roles_claim = "roles"
analyst_roles = ["crime-analyst"]
audit_log = "{folder / "exports.jsonl"}"
"""
        )
        with streamlit_server(port=port, extra_args=["--secrets.files", str(secrets_file)]) as url:
            yield url, provider


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_browser(pw)
        yield b
        b.close()


def _sign_in(browser, url, who):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    sent = record_websocket(page)
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.locator(f"#as-{who}").click(timeout=60_000)  # the identity provider's account picker
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=180_000)
    page.wait_for_timeout(1500)
    return context, page, sent


def test_sign_in_is_required(signin_server, browser):
    url, _ = signin_server
    page = browser.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert page.frame_locator(MAP_FRAME).locator(".leaflet-container").count() == 0
    page.close()


def test_an_analyst_signs_in_and_sees_incident_points(signin_server, browser):
    url, provider = signin_server
    context, page, sent = _sign_in(browser, url, "analyst")
    assert any("/token" in line for line in provider.log)  # the code was exchanged for tokens
    page.get_by_text("analyst@council.example").wait_for(timeout=30_000)
    frame = page.frame_locator(MAP_FRAME)
    assert (
        frame.locator("text=Incidents (random sample").count() + frame.locator("text=Incidents").count() > 0
    )
    traffic = "".join(sent)
    assert INCIDENT_TIME.search(traffic) and INCIDENT_ID.search(traffic)  # the check below can see them
    screenshot(page, "signin_analyst")
    context.close()


def test_a_viewer_cannot_reach_incident_points(signin_server, browser):
    url, _ = signin_server
    log = NetworkLog()
    context, page, sent = _sign_in(browser, url, "viewer")
    log.attach(page)
    page.get_by_text("viewer@council.example").wait_for(timeout=30_000)
    assert_public_view(page, sent)  # nothing incident-level reached the browser
    page.get_by_role("tab", name="Export").click()
    label = page.get_by_text("Privacy", exact=True)
    label.wait_for(timeout=30_000)
    page.locator("[data-testid='stSelectbox']").filter(has=label).click()
    page.locator("[role='option']").first.wait_for(timeout=10_000)
    assert [o.strip() for o in page.locator("[role='option']").all_inner_texts()] == ["public"]
    page.keyboard.press("Escape")
    page.get_by_role("tab", name="Evaluation").click()
    page.get_by_text("open to analysts").wait_for(timeout=30_000)
    screenshot(page, "signin_viewer")
    context.close()
