"""How the dashboard is started: its own Streamlit settings, the sign-in check, the listening address.

``planner dashboard`` (:mod:`planner.cli.dashboard`) uses these to fail closed (issue #24):

- the Streamlit settings that matter for safety are passed on the command line, so they hold
  whatever folder the server is started from (a ``.streamlit/config.toml`` in the working directory
  or the home folder cannot switch error details back on);
- the secrets file is named explicitly (``--secrets``, default ``.streamlit/secrets.toml`` beside
  ``app.py``), and its ``[auth]`` section is checked before anything listens: a partial section, a
  missing, short or documented example ``cookie_secret`` is refused with a message naming the file
  and the key (a cookie signed with a published secret signs anyone in as anyone);
- without sign-in the server listens on loopback only ("local, single user"); listening beyond it
  needs sign-in, or ``--insecure-anonymous`` (every visitor then gets ``--anonymous-role``, default
  viewer).

The dashboard checks ``[auth]`` with :func:`auth_problems` again when it is started some other way
(``streamlit run app.py``). No Streamlit import here: the check runs before the server exists.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import ConfigError

ANALYST = "analyst"
VIEWER = "viewer"
ROLES = (ANALYST, VIEWER)

#: The role every visitor gets when the dashboard listens beyond loopback without sign-in (set by
#: ``planner dashboard --insecure-anonymous``).
INSECURE_ANONYMOUS_ROLE_ENV = "PLANNER_INSECURE_ANONYMOUS_ROLE"
#: The role of the person at this machine (loopback, no sign-in), when ``--anonymous-role`` is given.
ANONYMOUS_ROLE_ENV = "PLANNER_ANONYMOUS_ROLE"

MIN_COOKIE_SECRET_CHARS = 32
#: Cookie secrets written in this project's docs and examples: anyone can sign cookies with them.
EXAMPLE_COOKIE_SECRETS = frozenset({"change-me-to-a-long-random-string"})
#: Keys of the ``[auth]`` section itself, and of each identity provider (top level or ``[auth.NAME]``).
AUTH_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
_NOT_PROVIDERS = {"client_kwargs"}  # a sub-table of the default provider, not a provider
_MIN_DISTINCT_CHARS = 10  # "aaaa…" or "0123…" is long, not random
_SECRET_HINT = 'generate one with `python -c "import secrets; print(secrets.token_urlsafe(48))"`'

LOOPBACK_ADDRESS = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"

#: Settings the launcher always passes (flags outrank every config.toml Streamlit would find).
FIXED_SETTINGS: dict[str, str] = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "client.showErrorDetails": "none",
    "client.toolbarMode": "viewer",
    "server.enableXsrfProtection": "true",
    "server.enableStaticServing": "true",
    "server.maxUploadSize": "200",
    "theme.base": "light",
}


def default_app_path() -> Path:
    """``app.py`` of this checkout (it sits beside the ``planner`` package folder)."""
    return Path(__file__).resolve().parents[2] / "app.py"


def default_secrets_path(app: Path) -> Path:
    """``.streamlit/secrets.toml`` beside ``app``."""
    return app.resolve().parent / ".streamlit" / "secrets.toml"


def read_secrets(path: Path) -> dict[str, Any]:
    """The secrets file as a dict; ``{}`` when it does not exist. Malformed TOML is a ConfigError."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid TOML ({exc}); fix it or pass another file with --secrets."
        ) from None


def auth_problems(auth: Mapping[str, Any], *, where: str) -> list[str]:
    """Everything wrong with an ``[auth]`` section, each naming ``where`` (the file) and the key.

    An empty list means the section configures sign-in: ``redirect_uri`` ending in
    ``/oauth2callback``, a ``cookie_secret`` of at least 32 characters that is not an example from the
    docs, and at least one complete identity provider (``client_id``, ``client_secret``,
    ``server_metadata_url``) at the top level or as ``[auth.NAME]``; no provider may be partial.
    """
    problems = [f"{where}: [auth] {key} is missing" for key in AUTH_KEYS if not auth.get(key)]
    redirect = auth.get("redirect_uri")
    if redirect and not str(redirect).endswith("/oauth2callback"):
        problems.append(f"{where}: [auth] redirect_uri must end in /oauth2callback (it is {redirect!r})")
    problems += cookie_secret_problems(auth.get("cookie_secret"), where=where)
    providers = identity_providers(auth)
    if not providers:
        problems.append(
            f"{where}: [auth] names no identity provider: set {', '.join(PROVIDER_KEYS)} "
            "(see README, Hosting the dashboard)"
        )
    for name in providers:
        provider, section = (auth, "[auth]") if name is None else (auth[name], f"[auth.{name}]")
        problems += [f"{where}: {section} {key} is missing" for key in PROVIDER_KEYS if not provider.get(key)]
    return problems


def identity_providers(auth: Mapping[str, Any]) -> list[str | None]:
    """The providers ``[auth]`` names, as ``st.login`` takes them: None for the top-level (default)
    one, then each ``[auth.NAME]``.
    """
    names: list[str | None] = [None] if any(key in auth for key in PROVIDER_KEYS) else []
    return names + [
        str(name) for name, value in auth.items() if isinstance(value, Mapping) and name not in _NOT_PROVIDERS
    ]


def cookie_secret_problems(secret: object, *, where: str) -> list[str]:
    """Why ``secret`` cannot sign sign-in cookies (empty when it can); a missing one is not repeated."""
    if not secret:
        return []
    text = str(secret)
    if text in EXAMPLE_COOKIE_SECRETS:
        return [
            f"{where}: [auth] cookie_secret is the example from the docs, which anyone can read; {_SECRET_HINT}"
        ]
    if len(text) < MIN_COOKIE_SECRET_CHARS:
        return [
            f"{where}: [auth] cookie_secret has {len(text)} characters, fewer than "
            f"{MIN_COOKIE_SECRET_CHARS}; {_SECRET_HINT}"
        ]
    if len(set(text)) < _MIN_DISTINCT_CHARS:
        return [f"{where}: [auth] cookie_secret does not look random; {_SECRET_HINT}"]
    return []


def sign_in_configured(secrets: Mapping[str, Any], *, where: str) -> bool:
    """True when ``secrets`` has a valid ``[auth]`` section, False when it has none.

    Raises
    ------
    ConfigError
        When ``[auth]`` is there but incomplete or weak (every problem listed).
    """
    auth = secrets.get("auth")
    if not auth:
        return False
    if not isinstance(auth, Mapping):
        raise ConfigError(f"{where}: [auth] must be a table of settings (see README, Hosting the dashboard).")
    problems = auth_problems(auth, where=where)
    if problems:
        raise ConfigError(
            "Sign-in is configured but incomplete or unsafe, so the dashboard does not start "
            "(it would otherwise let visitors in without signing in, or accept forged cookies):",
            problems=problems,
        )
    return True


def local_role(planner_settings: Mapping[str, Any]) -> str:
    """Role of the person at this machine without sign-in: ``[planner] anonymous_role``, default
    analyst; anything but analyst or viewer there is a viewer (fail closed).
    """
    role = planner_settings.get("anonymous_role", ANALYST)
    return str(role) if role in ROLES else VIEWER


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Launch:
    """What ``planner dashboard`` runs: the command line, its environment and what to tell the user."""

    argv: list[str]
    env: dict[str, str] = field(repr=False)
    address: str
    port: int
    message: str


def launch_plan(
    app: Path,
    *,
    port: int,
    address: str | None = None,
    secrets: Path | None = None,
    insecure_anonymous: bool = False,
    anonymous_role: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Launch:
    """Check the sign-in settings and the address, and build the Streamlit command line.

    Parameters
    ----------
    app : Path
        The dashboard script (``app.py``).
    port : int
        TCP port to listen on.
    address : str or None
        Address to listen on; default loopback without sign-in, every interface with it.
    secrets : Path or None
        The secrets file; default ``.streamlit/secrets.toml`` beside ``app`` (it may be absent: then
        nobody signs in). A file given explicitly must exist.
    insecure_anonymous : bool
        Allow listening beyond loopback without sign-in; every visitor gets ``anonymous_role``.
    anonymous_role : str or None
        Role of visitors who do not sign in: default analyst on loopback (the person at this
        machine), viewer with ``insecure_anonymous``.
    environ : Mapping or None
        The environment to start from (default ``os.environ``).

    Raises
    ------
    ConfigError
        A missing app or secrets file, a partial or unsafe ``[auth]``, a role that is not analyst or
        viewer, or an address beyond loopback without sign-in or ``insecure_anonymous``.
    """
    if not app.is_file():
        raise ConfigError(f"The dashboard script {app} does not exist; pass the path of app.py with --app.")
    if secrets is not None and not secrets.is_file():
        raise ConfigError(f"The secrets file {secrets} does not exist; check --secrets.")
    if anonymous_role is not None and anonymous_role not in ROLES:
        raise ConfigError(f"--anonymous-role must be one of {', '.join(ROLES)}; got {anonymous_role!r}.")
    secrets_path = (secrets or default_secrets_path(app)).resolve()
    settings = read_secrets(secrets_path)
    signed = sign_in_configured(settings, where=str(secrets_path))
    bind = address or (ALL_INTERFACES if signed else LOOPBACK_ADDRESS)
    if not signed and not is_loopback(bind) and not insecure_anonymous:
        raise ConfigError(
            f"Refusing to listen on {bind} without sign-in: anyone who can reach it would see the plan. "
            f"Configure [auth] in {secrets_path} (see README, Hosting the dashboard), listen on "
            f"{LOOPBACK_ADDRESS} (the default), or pass --insecure-anonymous (every visitor is then a "
            f"{anonymous_role or VIEWER})."
        )
    env = dict(os.environ if environ is None else environ)
    env.pop(INSECURE_ANONYMOUS_ROLE_ENV, None)  # only the flag below sets it
    env.pop(ANONYMOUS_ROLE_ENV, None)
    if signed:
        who = f"sign-in required (roles from {secrets_path})"
    elif insecure_anonymous:
        env[INSECURE_ANONYMOUS_ROLE_ENV] = anonymous_role or VIEWER
        who = f"NO sign-in: every visitor is a{'n' if env[INSECURE_ANONYMOUS_ROLE_ENV] == ANALYST else ''} "
        who += env[INSECURE_ANONYMOUS_ROLE_ENV]
    else:
        planner_settings = settings.get("planner")
        env[ANONYMOUS_ROLE_ENV] = anonymous_role or local_role(
            planner_settings if isinstance(planner_settings, Mapping) else {}
        )
        who = (
            f"local, single user, no sign-in: you are {'an' if env[ANONYMOUS_ROLE_ENV] == ANALYST else 'a'} "
        )
        who += env[ANONYMOUS_ROLE_ENV]
    flags = {
        **FIXED_SETTINGS,
        "server.address": bind,
        "server.port": str(port),
        "secrets.files": str(secrets_path),
    }
    argv = [sys.executable, "-m", "streamlit", "run", str(app.resolve())]
    argv += [part for key, value in flags.items() for part in (f"--{key}", value)]
    host = f"[{bind}]" if ":" in bind else bind
    message = f"Dashboard at http://{host}:{port} ({who})."
    if is_loopback(bind):
        message += f" Listening on {bind} only: other machines cannot reach it."
    return Launch(argv=argv, env=env, address=bind, port=port, message=message)
