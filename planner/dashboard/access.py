"""Who is using the dashboard, what they may see, and the audit log of their exports.

Sign-in is Streamlit's OpenID Connect (``st.login``, ``st.user``), switched on by an ``[auth]``
section in ``.streamlit/secrets.toml`` (see README "Hosting the dashboard"). Roles come from a claim
of the identity token, configured under ``[planner]``::

    [planner]
    roles_claim = "roles"            # dotted paths work: "realm_access.roles"
    analyst_roles = ["crime-analyst"]
    audit_log = "/var/log/scp-planner/exports.jsonl"

An **analyst** sees everything (incident points, the evaluation, internal exports). Anyone else
signed in is a **viewer**: every table, map, chart and download they get is built on the server from
the public view of the plan (:func:`planner.export.privacy.apply_privacy`), not the full plan with
parts hidden.

The dashboard fails closed (issue #24). An ``[auth]`` section that is partial or has a missing,
short or example ``cookie_secret`` stops the page with the problems listed (never a fall-back to no
sign-in). Without ``[auth]`` nobody signs in: the person at this machine (a loopback connection, not
forwarded by a proxy) is "local, single user" with ``PLANNER_ANONYMOUS_ROLE`` (set by ``planner
dashboard``) or ``[planner] anonymous_role`` (default ``analyst``); a visitor from any other address
is a **viewer**, unless ``planner dashboard --insecure-anonymous`` set
``PLANNER_INSECURE_ANONYMOUS_ROLE`` for everybody.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from planner.dashboard import hosting

logger = logging.getLogger(__name__)

ANALYST = hosting.ANALYST
VIEWER = hosting.VIEWER
_FORWARDED_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")
LOOPBACK = "loopback"


@dataclass(frozen=True)
class User:
    """The person using this session: a name for the audit log and a role."""

    name: str
    role: str
    signed_in: bool
    address: str = LOOPBACK
    """Where the visitor connects from (as the server saw it): ``loopback`` or an address."""

    @property
    def is_local(self) -> bool:
        """True for the person at this machine without sign-in ("local, single user")."""
        return not self.signed_in and self.address == LOOPBACK

    @property
    def is_analyst(self) -> bool:
        """True when the user may see incident-level data."""
        return self.role == ANALYST


def _secrets(section: str) -> dict[str, Any]:
    try:
        value = st.secrets.get(section, {})
    except Exception:  # no secrets.toml at all
        return {}
    return dict(value) if isinstance(value, Mapping) else {}


def secrets_files() -> str:
    """The secrets file(s) the server reads, for messages."""
    try:
        files = st.get_option("secrets.files")
    except Exception:  # AppTest or bare mode: no options
        files = []
    existing = [str(f) for f in files or [] if Path(str(f)).is_file()]
    return ", ".join(existing) or "secrets.toml"


def auth_configured() -> bool:
    """True when ``[auth]`` in the secrets configures sign-in; a partial or unsafe one stops the page."""
    auth = _secrets("auth")
    if not auth:
        return False
    problems = hosting.auth_problems(auth, where=secrets_files())
    if problems:
        logger.error("sign-in configuration refused: %s", "; ".join(problems))
        st.error(
            "Sign-in is configured but incomplete or unsafe, so the planner does not open. "
            "Whoever runs the server must fix:\n\n" + "\n".join(f"- {p}" for p in problems)
        )
        st.stop()
    return True


def client_address() -> str:
    """Where this session's browser connects from: ``loopback``, or the address the server saw.

    A connection forwarded by a proxy (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``) is never
    loopback, whatever the proxy's own address; nor is one through a Unix socket (a proxy's). The
    forwarded address is kept beside the one the server saw (a client can write such a header itself).
    """
    ip = st.context.ip_address  # None for 127.0.0.1 and ::1 (and when there is no network client)
    if isinstance(ip, str) and ip:
        peer = LOOPBACK if hosting.is_loopback(ip) else ip
    elif str(st.get_option("server.address") or "").startswith("unix://"):
        peer = "unix socket"
    else:
        peer = LOOPBACK
    headers = st.context.headers
    forwarded = next((str(headers.get(n)) for n in _FORWARDED_HEADERS if headers.get(n)), None)
    return f"{peer}, forwarded for {forwarded}" if forwarded else peer


def anonymous_user(settings: Mapping[str, Any], address: str) -> User:
    """A visitor who does not sign in: only the person at this machine may be an analyst."""
    everybody = os.environ.get(hosting.INSECURE_ANONYMOUS_ROLE_ENV)
    if everybody:  # planner dashboard --insecure-anonymous: the operator chose a role for everyone
        role = everybody if everybody in hosting.ROLES else VIEWER
        return User(name="anonymous", role=role, signed_in=False, address=address)
    if address != LOOPBACK:
        return User(name="anonymous", role=VIEWER, signed_in=False, address=address)
    local = os.environ.get(hosting.ANONYMOUS_ROLE_ENV)
    role = (local if local in hosting.ROLES else VIEWER) if local else hosting.local_role(settings)
    return User(name="local user", role=role, signed_in=False, address=address)


def claim_values(claims: Mapping[str, Any], path: str) -> list[str]:
    """The values of a (dotted) claim as a list of strings: a list, or a space/comma-separated text."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return []
        value = value[part]
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)] if value is not None else []


def role_from_claims(claims: Mapping[str, Any], *, roles_claim: str, analyst_roles: list[str]) -> str:
    """``analyst`` when the roles claim names one of ``analyst_roles``, else ``viewer``."""
    return ANALYST if set(claim_values(claims, roles_claim)) & set(analyst_roles) else VIEWER


def current_user() -> User:
    """The session's user; with sign-in configured and nobody signed in, the sign-in page (stops)."""
    settings = _secrets("planner")
    address = client_address()
    if not auth_configured():
        return anonymous_user(settings, address)
    if not st.user.is_logged_in:
        sign_in_page()
    claims = st.user.to_dict()
    role = role_from_claims(
        claims,
        roles_claim=str(settings.get("roles_claim", "roles")),
        analyst_roles=[str(r) for r in settings.get("analyst_roles", ["analyst"])],
    )
    name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "unknown")
    return User(name=name, role=role, signed_in=True, address=address)


def viewer_config() -> dict[str, Any]:
    """The configuration a viewer sees: ``[planner] viewer_config`` (a TOML/JSON run config or a run's
    manifest on the server), else the default (the sample city). Viewers cannot change it: two
    differently filtered public views, differenced, would give small counts away.
    """
    path = _secrets("planner").get("viewer_config")
    if not path:
        return {}
    from planner.config import load_config

    return load_config(Path(str(path))).model_dump(exclude_defaults=True)


def sign_in_page() -> None:
    """The page shown before sign-in; stops the script."""
    st.title("Situational crime prevention planner")
    st.info("Sign in with your organisation's account to open the planner.")
    providers = hosting.identity_providers(_secrets("auth")) or [None]
    for provider in providers:
        label = "Sign in" if len(providers) == 1 else f"Sign in with {provider or 'your account'}"
        if st.button(label, key=f"sign_in_{provider or 'default'}", type="primary"):
            st.login(provider)
    st.stop()


def audit_log_path() -> Path:
    """Where exports are logged: ``[planner] audit_log``, ``PLANNER_AUDIT_LOG``, or the user's home."""
    configured = _secrets("planner").get("audit_log") or os.environ.get("PLANNER_AUDIT_LOG")
    return Path(configured) if configured else Path.home() / ".scp-planner" / "audit" / "exports.jsonl"


def audit_export(user: User, *, privacy: str, k: int, round_to: int, formats: list[str], config: str) -> Path:
    """Append one line to the export audit log: who, when, what, at which privacy level."""
    path = audit_log_path()
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user.name,
        "role": user.role,
        "signed_in": user.signed_in,
        "address": user.address,
        "privacy": privacy,
        "k": k,
        "round_to": round_to,
        "formats": formats,
        "config": json.loads(config),
    }
    from planner.io.sources import redact_secrets

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(redact_secrets(record), sort_keys=True) + "\n")
    logger.info("export by %s (%s) from %s: %s, k=%d", user.name, user.role, user.address, privacy, k)
    return path
