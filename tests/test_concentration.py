"""Tests for planner.hotspots.concentration: Lorenz curve, Gini, top shares."""

from __future__ import annotations

import numpy as np
import pytest

from planner.errors import ValidationError
from planner.hotspots import concentration as conc


def test_gini_known_values():
    """All equal → 0; one place of n holding everything → 1 − 1/n; [1, 2, 3, 4] → 0.25."""
    assert conc.gini([3, 3, 3]) == 0.0
    assert conc.gini([0, 0, 0, 10]) == pytest.approx(0.75)
    assert conc.gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert conc.gini([0, 0]) == 0.0


def test_gini_equals_mean_absolute_difference_form():
    x = np.random.default_rng(0).poisson(2, 300).astype(float)
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert conc.gini(x) == pytest.approx(mad, rel=1e-12)


def test_lorenz_curve():
    """[0, 0, 0, 10]: (0,0), (¼,0), (½,0), (¾,0), (1,1); area under curve links to Gini."""
    lc = conc.lorenz_curve([10, 0, 0, 0])
    assert lc["place_share"].tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert lc["incident_share"].tolist() == [0, 0, 0, 0, 1]
    x = np.random.default_rng(1).poisson(1, 1000)
    lc = conc.lorenz_curve(x)
    area = np.trapezoid(lc["incident_share"], lc["place_share"])
    assert 1 - 2 * area == pytest.approx(conc.gini(x), abs=2e-3)


def test_top_share_and_places_for_share():
    """100 places: 50 incidents in one, 1 in each of 50 others → top 1 % holds 50/100."""
    x = np.r_[50, np.ones(50), np.zeros(49)]
    shares = conc.top_share(x)
    assert shares[0.01] == 0.5
    assert shares[0.05] == pytest.approx(54 / 100)
    assert shares[0.1] == pytest.approx(59 / 100)
    assert conc.places_for_share(x, 0.5) == 0.01
    assert conc.places_for_share(x, 0.75) == pytest.approx(0.26)
    summary = conc.concentration_summary(x)
    assert summary["top_1pct_share"] == 0.5 and "gini" in summary


def test_bad_counts():
    with pytest.raises(ValidationError):
        conc.gini([])
    with pytest.raises(ValidationError):
        conc.gini([1, -1])
