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
parts hidden. Without ``[auth]`` (``make run`` on the sample city) nobody signs in and the role is
``[planner] anonymous_role`` (default ``analyst``, for a single user on their own machine; a hosted
dashboard configures ``[auth]``, or sets ``anonymous_role = "viewer"``).
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

logger = logging.getLogger(__name__)

ANALYST = "analyst"
VIEWER = "viewer"
_AUTH_KEYS = ("client_id", "server_metadata_url", "redirect_uri", "cookie_secret")


@dataclass(frozen=True)
class User:
    """The person using this session: a name for the audit log and a role."""

    name: str
    role: str
    signed_in: bool

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


def auth_configured() -> bool:
    """True when ``[auth]`` in the secrets holds an OpenID Connect provider."""
    auth = _secrets("auth")
    providers = [auth] + [v for v in auth.values() if isinstance(v, Mapping)]
    return any(all(k in {**auth, **p} for k in _AUTH_KEYS) for p in providers)


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
    if not auth_configured():
        role = str(settings.get("anonymous_role", ANALYST))
        return User(name="local user", role=role if role in {ANALYST, VIEWER} else VIEWER, signed_in=False)
    if not st.user.is_logged_in:
        sign_in_page()
    claims = st.user.to_dict()
    role = role_from_claims(
        claims,
        roles_claim=str(settings.get("roles_claim", "roles")),
        analyst_roles=[str(r) for r in settings.get("analyst_roles", ["analyst"])],
    )
    name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "unknown")
    return User(name=name, role=role, signed_in=True)


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
    if st.button("Sign in", key="sign_in", type="primary"):
        st.login()
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
    logger.info("export by %s (%s): %s, k=%d", user.name, user.role, privacy, k)
    return path
