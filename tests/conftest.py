"""Shared fixtures. Tiny synthetic fixtures state their answers in their docstrings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(params=["EPSG:32630", "EPSG:27700"], ids=["utm30n", "osgb"])
def crs(request: pytest.FixtureRequest) -> str:
    """Two projected metric CRSs; metric tests run on both (never EPSG:3857)."""
    return str(request.param)
