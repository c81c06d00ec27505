"""Where the shared real data and peer cases live, and how tests skip (or fail in CI) without them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
PEER = SHARED / "peer"
SAMPLE = ROOT / "sample_data"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def shared_path(*parts: str) -> Path:
    """Return a path under ``../shared``; skip the test cleanly when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


def require_service(available: bool, what: str) -> None:
    """Skip when a browser/service is missing locally; in CI (CI=true) fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} not available on this machine")


def chromium_path() -> str | None:
    """Path of the system Chromium, if installed."""
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(name).exists():
            return name
    return shutil.which("chromium")
