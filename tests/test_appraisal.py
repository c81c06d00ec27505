"""The appraisal model (#23): centred effects, combination, persistence, plausibility, avoidable costs.

Every expected number is worked by hand in the comment above it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.interventions import appraisal as ap
from planner.interventions.catalog import load_catalogue
from planner.interventions.costs import crime_cost
from planner.interventions.jurisdictions import load_jurisdictions


def test_two_measures_on_the_same_pool_combine_not_add():
    # 10 crimes a year, e = 0.3 and 0.2: 1 − 0.7 × 0.8 = 0.44 → 4.4 prevented, not 3 + 2 = 5
    assert float(ap.combined_effect([0.3, 0.2])) == pytest.approx(0.44)
    assert 10 * float(ap.combined_effect([0.3, 0.2])) == pytest.approx(4.4)
    assert float(ap.combined_effect([])) == 0.0


def test_log_normal_effect_is_centred_on_the_cited_point():
    # lighting 14% (5%–36%): the median rate ratio is 0.86, so the median effect is the point
    z = np.random.default_rng(0).standard_normal(200_000)
    e = ap.effect_draws(0.14, 0.05, 0.36, z)
    assert float(np.median(1 - e)) == pytest.approx(0.86, abs=0.002)
    assert float(np.median(e)) == pytest.approx(0.14, abs=0.002)
    assert float(e.max()) < 1.0
    # σ = (ln(0.95/0.86) + ln(0.86/0.64)) / (2 × 1.6449) = (0.09953 + 0.29547) / 3.28971 = 0.12007
    assert ap.rate_ratio_sigma(0.14, 0.05, 0.36) == pytest.approx(0.12007, abs=1e-4)
    # a point with no interval has no spread
    assert ap.effect_draws(0.3, 0.3, 0.3, z[:5]) == pytest.approx(np.full(5, 0.3))


def test_the_triangular_mean_would_have_moved_away_from_the_point():
    # the old triangular mean of cocoon (5%, 20%, 58%) is 27.7%, 38% above the cited 20%
    old_mean = (0.05 + 0.2 + 0.58) / 3
    assert old_mean / 0.2 - 1 == pytest.approx(0.383, abs=1e-3)
    z = np.random.default_rng(1).standard_normal(100_000)
    assert float(np.median(ap.effect_draws(0.2, 0.05, 0.58, z))) == pytest.approx(0.2, abs=0.003)


def test_effect_years_hand_computed():
    # 3 years at 3.5%, full effect for 1 year, then halving every year:
    # 1/1.035 + 0.5/1.035² + 0.25/1.035³ = 0.966184 + 0.466755 + 0.225486 = 1.658425
    assert ap.effect_years(3, 0.035, 1, 1) == pytest.approx(1.658425, abs=1e-5)
    # no decay: the annuity (1 − 1.035⁻¹⁰)/0.035 = 8.316605
    assert ap.effect_years(10, 0.035, 0, None) == pytest.approx(ap.annuity(10, 0.035))
    assert ap.annuity(10, 0.035) == pytest.approx(8.316605, abs=1e-5)
    # decay never raises the value
    assert ap.effect_years(10, 0.035, 2, 5) < ap.annuity(10, 0.035)


def test_plausibility_flags_far_from_the_published_return():
    gates = ap.PublishedReturn(1.86, "Bowers et al. 2004")
    assert ap.plausibility(5.0, gates) == ("", "")  # 2.7× the published return: within a factor 4
    flag, text = ap.plausibility(7.6, gates)  # 4.1×
    assert flag == "above published return" and "1.86" in text and "4.1×" in text
    assert ap.plausibility(0.4, gates)[0] == "below published return"  # 1.86 / 0.4 = 4.65
    assert ap.plausibility(19.0, None) == ("", "")
    assert ap.plausibility(21.0, None)[0] == "above ceiling"
    assert ap.plausibility(math.nan, gates) == ("", "")


def test_catalogue_appraisal_fields():
    cat = load_catalogue()
    gates = cat["alley_gates"]
    assert gates.lifetime_years == 10 and gates.appraisal.published_return is not None
    assert gates.appraisal.published_return.bcr == pytest.approx(1.86)
    assert set(cat["cctv_carpark"].appraisal.components) == {"carpark_access_control", "lighting"}
    assert all(c in cat for item in cat.values() for c in item.appraisal.components)
    assert cat["hotspot_patrol"].appraisal.half_life_years is None
    assert all(item.appraisal.persistence_source for item in cat.values())


def test_avoidable_cost_drops_anticipation_costs_of_rr99_only():
    js = load_jurisdictions()
    uk = crime_cost("burglary", js["UK"])
    assert uk is not None and uk.avoidable == pytest.approx(uk.amount * 0.83)
    robbery = crime_cost("robbery", js["UK"])
    assert robbery is not None and robbery.avoidable == pytest.approx(robbery.amount)
    us = crime_cost("burglary", js["US"])
    assert us is not None and us.avoidable == pytest.approx(us.amount)


def test_bundle_components_must_exist(tmp_path):
    from planner.errors import ValidationError
    from planner.interventions.catalog import default_catalogue_path

    text = default_catalogue_path().read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        text.replace('components = ["carpark_access_control", "lighting"]', 'components = ["nope"]')
    )
    with pytest.raises(ValidationError) as err:
        load_catalogue(bad)
    assert "nope" in str(err.value.problems)
