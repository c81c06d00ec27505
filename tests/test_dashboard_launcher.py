"""A dashboard that fails closed (issue #24, item 1): ``planner dashboard`` sets its own Streamlit
settings whatever the working directory, listens on loopback only without sign-in, refuses a partial
``[auth]`` or a missing, short or documented example ``cookie_secret`` (naming the file and the key),
and a visitor who is not at this machine is never an analyst without sign-in."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from _browser import free_port
from _paths import ROOT

from planner.cli import main
from planner.dashboard import hosting
from planner.errors import ConfigError

APP = ROOT / "app.py"
EXAMPLE = ROOT / ".streamlit" / "secrets.example.toml"
GOOD_SECRET = secrets.token_urlsafe(48)


def _auth(**overrides: object) -> dict[str, object]:
    auth: dict[str, object] = {
        "redirect_uri": "https://planner.example/oauth2callback",
        "cookie_secret": GOOD_SECRET,
        "client_id": "scp-planner",
        "client_secret": "from-the-idp",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    auth.update(overrides)
    return {k: v for k, v in auth.items() if v is not None}


def _write(path: Path, auth: dict[str, object] | None) -> Path:
    lines = ["[auth]", *(f'{k} = "{v}"' for k, v in (auth or {}).items())] if auth is not None else []
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- the [auth] check
def test_a_complete_auth_section_passes():
    assert hosting.auth_problems(_auth(), where="s.toml") == []
    named = {
        "redirect_uri": "https://p.example/oauth2callback",
        "cookie_secret": GOOD_SECRET,
        "keycloak": dict.fromkeys(hosting.PROVIDER_KEYS, "x"),
    }
    assert hosting.auth_problems(named, where="s.toml") == []
    assert hosting.identity_providers(named) == ["keycloak"]
    with_kwargs = {**_auth(), "client_kwargs": {"prompt": "login"}}  # a setting, not a provider
    assert hosting.auth_problems(with_kwargs, where="s.toml") == []
    assert hosting.identity_providers(with_kwargs) == [None]


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (
            {"client_id": "scp-planner"},
            ["redirect_uri is missing", "cookie_secret is missing", "client_secret"],
        ),
        (_auth(cookie_secret=None), ["[auth] cookie_secret is missing"]),
        (_auth(cookie_secret="short-but-random-Xy7"), ["cookie_secret has 20 characters, fewer than 32"]),
        (_auth(cookie_secret="change-me-to-a-long-random-string"), ["cookie_secret is the example"]),
        (_auth(cookie_secret="a" * 40), ["cookie_secret does not look random"]),
        (_auth(server_metadata_url=None), ["[auth] server_metadata_url is missing"]),
        (_auth(redirect_uri="https://p.example/"), ["redirect_uri must end in /oauth2callback"]),
        (
            {
                **_auth(client_id=None, client_secret=None, server_metadata_url=None),
                "okta": {"client_id": "x"},
            },
            ["[auth.okta] client_secret is missing", "[auth.okta] server_metadata_url is missing"],
        ),
        (_auth(client_id=None, client_secret=None, server_metadata_url=None), ["names no identity provider"]),
    ],
    ids=["partial", "no-secret", "short", "example", "not-random", "no-metadata", "redirect", "okta", "none"],
)
def test_partial_or_unsafe_auth_is_refused_naming_file_and_key(auth, expected):
    problems = hosting.auth_problems(auth, where="/srv/secrets.toml")
    text = "\n".join(problems)
    assert all(p.startswith("/srv/secrets.toml: [auth") for p in problems)
    for part in expected:
        assert part in text, text


def test_every_cookie_secret_in_the_docs_is_refused():
    """The example secrets written anywhere in the docs are the ones anyone can sign cookies with."""
    example = tomllib.loads(EXAMPLE.read_text())["auth"]["cookie_secret"]
    assert example in hosting.EXAMPLE_COOKIE_SECRETS
    pattern = re.compile(r'cookie_secret\s*=\s*"([^"{]+)"')
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for value in pattern.findall(doc.read_text()):
            assert value in hosting.EXAMPLE_COOKIE_SECRETS or hosting.cookie_secret_problems(value, where="")


# ---------------------------------------------------------------- what the launcher runs
def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(f"--{name}") + 1]


def test_without_sign_in_it_listens_on_loopback_only_whatever_the_folder(tmp_path, monkeypatch):
    folder = tmp_path / "elsewhere"
    (folder / ".streamlit").mkdir(parents=True)
    (folder / ".streamlit" / "config.toml").write_text('[client]\nshowErrorDetails = "full"\n')
    monkeypatch.chdir(folder)  # a config.toml here must not matter: the flags outrank it
    monkeypatch.setenv(hosting.INSECURE_ANONYMOUS_ROLE_ENV, "analyst")  # stale: only the flag sets it
    launch = hosting.launch_plan(APP, port=8765, secrets=_write(tmp_path / "s.toml", None))
    assert launch.address == "127.0.0.1" and _flag(launch.argv, "server.address") == "127.0.0.1"
    assert _flag(launch.argv, "client.showErrorDetails") == "none"
    assert _flag(launch.argv, "server.headless") == "true"
    assert _flag(launch.argv, "browser.gatherUsageStats") == "false"
    assert _flag(launch.argv, "secrets.files") == str((tmp_path / "s.toml").resolve())
    assert launch.argv[4] == str(APP.resolve())
    assert "local, single user" in launch.message and "127.0.0.1 only" in launch.message
    assert hosting.INSECURE_ANONYMOUS_ROLE_ENV not in launch.env
    assert launch.env[hosting.ANONYMOUS_ROLE_ENV] == "analyst"


def test_the_default_secrets_file_is_beside_the_app(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    beside = str(ROOT / ".streamlit" / "secrets.toml")
    try:
        launch = hosting.launch_plan(APP, port=8765)
    except ConfigError as exc:  # a developer's own secrets.toml there, with [auth] unfinished
        assert beside in str(exc)
    else:
        assert _flag(launch.argv, "secrets.files") == beside


def test_beyond_loopback_needs_sign_in_or_an_explicit_insecure_flag(tmp_path):
    empty = _write(tmp_path / "s.toml", None)
    with pytest.raises(ConfigError, match=r"Refusing to listen on 0\.0\.0\.0 without sign-in"):
        hosting.launch_plan(APP, port=8765, address="0.0.0.0", secrets=empty)
    launch = hosting.launch_plan(APP, port=8765, address="0.0.0.0", secrets=empty, insecure_anonymous=True)
    assert launch.env[hosting.INSECURE_ANONYMOUS_ROLE_ENV] == "viewer"  # the role defaults to viewer
    assert "every visitor is a viewer" in launch.message
    signed = hosting.launch_plan(APP, port=8765, secrets=_write(tmp_path / "auth.toml", _auth()))
    assert signed.address == "0.0.0.0" and "sign-in required" in signed.message
    assert (
        hosting.INSECURE_ANONYMOUS_ROLE_ENV not in signed.env and hosting.ANONYMOUS_ROLE_ENV not in signed.env
    )
    with pytest.raises(ConfigError, match="--anonymous-role must be one of"):
        hosting.launch_plan(APP, port=8765, secrets=empty, anonymous_role="admin")


def test_the_cli_refuses_with_a_message_and_exit_2(tmp_path, capsys):
    assert main(["dashboard", "--secrets", str(EXAMPLE), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"{EXAMPLE}: [auth] cookie_secret is the example from the docs" in err and "Traceback" not in err
    partial = _write(tmp_path / "partial.toml", {"client_id": "x"})
    assert main(["dashboard", "--secrets", str(partial), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"{partial.resolve()}: [auth] cookie_secret is missing" in err
    empty = _write(tmp_path / "empty.toml", None)
    assert main(["dashboard", "--secrets", str(empty), "--address", "0.0.0.0", "--dry-run"]) == 2
    assert "Refusing to listen on 0.0.0.0" in capsys.readouterr().err
    assert main(["dashboard", "--secrets", str(tmp_path / "missing.toml"), "--dry-run"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["dashboard", "--secrets", str(empty), "--dry-run"]) == 0
    assert "local, single user" in capsys.readouterr().out


# ---------------------------------------------------------------- who a visitor is, in the app
def test_only_the_person_at_this_machine_may_be_an_anonymous_analyst(monkeypatch):
    from planner.dashboard import access

    monkeypatch.delenv(hosting.INSECURE_ANONYMOUS_ROLE_ENV, raising=False)
    monkeypatch.delenv(hosting.ANONYMOUS_ROLE_ENV, raising=False)
    local = access.anonymous_user({}, access.LOOPBACK)
    assert local.is_analyst and local.is_local
    remote = access.anonymous_user({"anonymous_role": "analyst"}, "192.0.2.7")
    assert remote.role == "viewer" and not remote.is_local and remote.address == "192.0.2.7"
    assert access.anonymous_user({"anonymous_role": "admin"}, access.LOOPBACK).role == "viewer"
    monkeypatch.setenv(hosting.ANONYMOUS_ROLE_ENV, "viewer")
    assert access.anonymous_user({"anonymous_role": "analyst"}, access.LOOPBACK).role == "viewer"
    monkeypatch.setenv(hosting.INSECURE_ANONYMOUS_ROLE_ENV, "analyst")  # the operator said so, explicitly
    assert access.anonymous_user({}, "192.0.2.7").role == "analyst"


@pytest.mark.parametrize(
    ("headers", "ip", "server_address", "expected"),
    [
        ({}, None, None, "loopback"),
        ({}, "192.0.2.7", None, "192.0.2.7"),
        ({"X-Forwarded-For": "198.51.100.4"}, None, None, "loopback, forwarded for 198.51.100.4"),
        ({"Forwarded": "for=198.51.100.4"}, "192.0.2.7", None, "192.0.2.7, forwarded for for=198.51.100.4"),
        ({}, None, "unix:///run/planner.sock", "unix socket"),
    ],
    ids=["loopback", "remote", "proxy", "forwarded", "unix-socket"],
)
def test_the_client_address_is_loopback_only_for_a_direct_local_connection(
    monkeypatch, headers, ip, server_address, expected
):
    from planner.dashboard import access

    fake = SimpleNamespace(
        context=SimpleNamespace(headers=headers, ip_address=ip), get_option=lambda _key: server_address
    )
    monkeypatch.setattr(access, "st", fake)
    assert access.client_address() == expected


# ---------------------------------------------------------------- the real server
def _non_loopback_ipv4() -> str:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for ip in out.split():
        if "." in ip and not hosting.is_loopback(ip):
            return ip
    pytest.skip("this machine has no non-loopback IPv4 address")
    raise AssertionError  # unreachable; for type checkers


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=3) as r:
        return int(r.status)


@contextlib.contextmanager
def _launched(args: list[str], tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    log = tmp_path / f"dashboard_{port}.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "planner", "dashboard", "--port", str(port), *args],
            cwd=tmp_path,  # not the project folder: nothing may depend on it
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"http://127.0.0.1:{port}/_stcore/health") == 200:
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"planner dashboard did not start:\n{log.read_text()}") from None
                time.sleep(0.3)
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _refused(ip: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(3)
        return s.connect_ex((ip, port)) != 0


@pytest.mark.slow
def test_planner_dashboard_without_sign_in_binds_loopback_only(tmp_path):
    ip = _non_loopback_ipv4()
    empty = _write(tmp_path / "secrets.toml", None)
    with _launched(["--secrets", str(empty)], tmp_path) as (port, log):
        assert _get(f"http://127.0.0.1:{port}/_stcore/health") == 200
        assert _refused(ip, port)  # nothing listens on the machine's network address
        assert "local, single user" in log.read_text()
    with _launched(["--secrets", str(empty), "--address", "0.0.0.0", "--insecure-anonymous"], tmp_path) as (
        port,
        _,
    ):
        assert _get(f"http://{ip}:{port}/_stcore/health") == 200  # the explicit flag opens it


@pytest.mark.parametrize(
    ("auth", "problem"),
    [
        ({"client_id": "scp-planner"}, "[auth] cookie_secret is missing"),
        (_auth(cookie_secret="change-me-to-a-long-random-string"), "[auth] cookie_secret is the example"),
    ],
    ids=["partial", "example-secret"],
)
def test_the_app_started_directly_stops_on_a_partial_or_unsafe_auth(auth, problem):
    """``streamlit run app.py`` with such an ``[auth]`` never falls back to no sign-in: the page stops."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = auth
    at.run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "does not open" in text and problem in text
    assert not at.get("component_instance") and not at.tabs  # nothing of the plan
