"""Micro-synthetic control: calibration by hand, the sample city's lighting upgrade (true effect
known from the generator) and a placebo ward where nothing happened — the issue's acceptance tests."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pytest
from _paths import SAMPLE

from planner import synth
from planner.dashboard.charts import placebo_band_chart, placebo_band_data
from planner.errors import PlannerError
from planner.evaluate._calibrate import calibrate_batch
from planner.evaluate.design import AreaChoice, CrimeSelection, Periods, make_design, save_design
from planner.evaluate.microsynth import MicrosynthOptions, effects_summary, evaluate_microsynth, interval_of
from planner.io import read_incidents

# ----------------------------------------------------------------------------- calibration by hand


def test_calibration_exact_by_hand():
    """Donors with (1 unit, value 1) and (1 unit, value 3); target 2 units with total 4 → the only
    weights are (1, 1). A second row may use only the first donor: target (1, 1) → weight 1."""
    x = np.array([[1.0, 1.0], [1.0, 3.0]])
    targets = np.array([[2.0, 4.0], [1.0, 1.0]])
    mask = np.array([[True, True], [True, False]])
    res = calibrate_batch(x, targets, mask, np.array([0.5, 0.5]))
    np.testing.assert_allclose(res.weights, [[1.0, 1.0], [1.0, 0.0]], atol=1e-6)  # tol=1e-6 relative
    assert res.exact.all()
    assert list(res.method) == ["raking", "raking"]
    lin = calibrate_batch(x, targets, mask, np.array([0.5, 0.5]), calfun="linear")
    np.testing.assert_allclose(lin.weights, [[1.0, 1.0], [1.0, 0.0]], atol=1e-6)
    assert list(lin.method) == ["linear", "linear"]


def test_calibration_infeasible_falls_back_to_closest_and_says_so():
    """Target total 8 for 2 units needs an average value of 4, above every donor's (max 3): no
    weights balance it. The row falls back to the closest fit and reports its imbalance."""
    x = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    res = calibrate_batch(x, np.array([[2.0, 8.0]]), np.ones((1, 3), dtype=bool), np.array([2 / 3]))
    assert not res.exact[0]
    assert res.method[0] == "closest"
    assert 0 < res.max_rel_imbalance[0] < 0.5
    assert (res.weights >= 0).all() and np.isfinite(res.weights).all()


# ----------------------------------------------------------------------------- the sample city


@pytest.fixture(scope="module")
def truth():
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="module")
def incidents():
    return read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630").incidents


@pytest.fixture(scope="module")
def city():
    wards = gpd.read_file(SAMPLE / "city.gpkg", layer="wards")
    boundary = gpd.read_file(SAMPLE / "city.gpkg", layer="boundary")
    return wards, boundary


def _design(ward, incidents, city, truth):
    wards, boundary = city
    return make_design(
        wards[wards["ward_id"] == ward],
        start=truth["lighting_upgrade"]["date"],
        periods=Periods(before_days=540, after_days=540),
        incidents=incidents,
        crimes=CrimeSelection(
            categories=truth["factors"]["darkness"]["categories"], hours=truth["night_hours"]
        ),
        areas=AreaChoice(study_area=boundary, cell_size_m=200),
        name=f"{ward} lighting",
    )


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory, incidents, city, truth):
    path = save_design(_design("W2", incidents, city, truth), tmp_path_factory.mktemp("ms") / "w2.json")
    before = incidents.copy()
    result = evaluate_microsynth(path, incidents, study_area=city[1])
    assert incidents.equals(before)  # inputs are not mutated
    return path, result


def test_lighting_upgrade_true_effect_within_interval(upgrade, truth):
    """Acceptance: the W2 upgrade's true effect on the scheme's crimes (night robbery, assault and
    theft from vehicles pooled; from the generator's model, not sampled: −14.4 %) lies in the
    reported (permutation) interval, and every crime type's estimate is a reduction.

    Per crime type the intervals are not all required to cover: this sample's W2 robberies were
    high before the start by chance (127 before, 95 after; −22 % against the stable control
    wards), so the robbery estimate (about −38 %) overshoots — a single crime type is noisier than
    the pooled count the scheme is judged on."""
    _, result = upgrade
    expected = synth.lighting_upgrade_expected_change(categories=truth["factors"]["darkness"]["categories"])
    assert expected["all"] == pytest.approx(-0.144, abs=0.005)
    effects = result.areas["treatment"].effects.set_index("outcome")
    kind, low, high, _ = interval_of(effects.loc["all"])
    assert kind == "perm"
    assert low <= expected["all"] <= high
    assert (effects["pct_change"] < 0).all()
    assert float(effects.loc["all", "trt"]).is_integer()  # counts stay counts


def test_upgrade_fit_is_exact_and_uses_enough_placebos(upgrade):
    _, result = upgrade
    fit = result.areas["treatment"].fit
    assert fit["exact"] and fit["max_rel_imbalance"] < 1e-6
    assert fit["n_placebos"] >= 250 and fit["n_placebos_used"] >= 240
    assert fit["n_jackknife_groups"] >= 10
    bal = result.areas["treatment"].balance
    np.testing.assert_allclose(bal["synthetic_fit"], bal["treated"], rtol=1e-6)
    assert {"treated", "synthetic", "all_scaled"} <= set(bal.columns)


# Random placebo units (R's) understate the chance ups and downs shared by neighbouring places: on
# this sample city they make the no-scheme ward W4 "significant" (−27.5 %, p = 0.004) and the W2
# buffer's interval miss zero (+27 %, [+6 %, +50 %]). Contiguous placebo areas (the default when
# units have a geometry) do not (W4 p = 0.16; buffer [−14 %, +86 %]); see docs/MICROSYNTH.md.


def test_buffer_is_evaluated_as_its_own_treated_unit(upgrade):
    """The model has no displacement: the buffer's interval contains no change."""
    _, result = upgrade
    assert result.areas["buffer"].fit["placebo"] == "contiguous"
    buffer = result.areas["buffer"]
    assert buffer.fit["n_treated_units"] > 0
    _kind, low, high, p = interval_of(buffer.effects.set_index("outcome").loc["all"])
    assert low <= 0 <= high and p > 0.05


def test_placebo_ward_is_not_significant(incidents, city, truth):
    """Acceptance: a ward with no scheme (W4) at the same date gives a permutation p-value above
    0.05 — for the pooled outcome and for the omnibus test across crime types."""
    result = evaluate_microsynth(_design("W4", incidents, city, truth), incidents, study_area=city[1])
    area = result.areas["treatment"]
    row = area.effects.set_index("outcome").loc["all"]
    assert row["perm_p"] > 0.05
    assert area.omnibus["p_perm"] > 0.05
    assert area.fit["n_placebos_used"] >= 240


def test_reproducible_with_seed(upgrade, incidents, city):
    path, _ = upgrade
    small = MicrosynthOptions(n_placebos=30, n_jackknife=5, evaluate_buffer=False)
    first = evaluate_microsynth(path, incidents, study_area=city[1], options=small)
    again = evaluate_microsynth(path, incidents, study_area=city[1], options=small)
    # exact: both fits run in this process on this machine (reproducibility with a seed), nothing stored
    assert again.effects.equals(first.effects)
    other = MicrosynthOptions(n_placebos=30, n_jackknife=5, evaluate_buffer=False, seed=1)
    assert not evaluate_microsynth(path, incidents, study_area=city[1], options=other).effects.equals(
        first.effects
    )


def test_to_dict_summary_and_chart(upgrade):
    _, result = upgrade
    data = result.to_dict()
    json.dumps(data)  # JSON-ready
    assert data["method"] == "microsynth" and set(data["areas"]) == {"treatment", "buffer"}
    summary = effects_summary(result)
    assert list(summary.columns) == ["area", "outcome", "Trt", "Con", "change", "interval", "p"]
    assert effects_summary(data).equals(summary)
    band = placebo_band_data(result)
    assert {"treated", "synthetic", "gap_pct", "band_low", "band_high", "phase"} <= set(band.columns)
    assert (band["band_low"] <= band["band_high"]).all()
    chart = placebo_band_chart(band, result.design.start).to_dict()
    assert "facet" in chart
    assert "microsynth" in result.interpretation or "synthetic control" in result.interpretation


def test_bad_options_are_clear_errors(upgrade, incidents):
    path, _ = upgrade
    with pytest.raises(PlannerError, match="test"):
        evaluate_microsynth(path, incidents, options=MicrosynthOptions(test="sideways"))
    with pytest.raises(PlannerError, match="outcomes"):
        evaluate_microsynth(path, incidents, options=MicrosynthOptions(outcomes=("burglary_of_mars",)))


def test_cli_evaluate_run_microsynth(upgrade, capsys):
    from planner.cli import main

    path, _ = upgrade
    args = ["evaluate", "run", str(path), "--incidents", str(SAMPLE / "incidents.csv"), "--crs", "EPSG:32630"]
    assert (
        main([*args, "--method", "microsynth", "--boundary", f"{SAMPLE / 'city.gpkg'}::boundary", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "microsynth"
    assert out["areas"]["treatment"]["fit"]["n_placebos"] >= 250
    assert main([*args, "--method", "microsynth", "--placebos", "30"]) == 0
    text = capsys.readouterr().out
    assert "Trt" in text and "Con" in text and "synthetic control" in text
    assert main([*args, "--method", "nonsense"]) == 2
    assert main([*args, "--method", "microsynth", "--placebo-areas", "nearby"]) == 2


def test_brief_has_a_microsynth_section(upgrade, tmp_path):
    """The brief gets an evaluation page when the plan holds a microsynth result; on a public brief
    treated counts below k read '< k'."""
    from _tiny_plan import tiny_plan

    from planner.export.brief import microsynth_section, write_brief
    from planner.export.privacy import PrivacyReport

    _, result = upgrade
    plan = tiny_plan()
    assert microsynth_section(plan, PrivacyReport(level="public", k=5, round_to=1, note="public")) is None
    plan = dataclasses.replace(plan, evaluation={**plan.evaluation, "microsynth": result.to_dict()})
    report = PrivacyReport(level="public", k=100, round_to=1, note="public brief")
    section = microsynth_section(plan, report)
    table = section.tables[0][1]
    trt = result.effects.set_index(["area", "outcome"])["trt"]
    assert (table.set_index(["area", "outcome"])["Trt"] == "< 100").sum() == int((trt < 100).sum()) > 0
    write_brief(plan, tmp_path, report=report, top_hotspots=1)
    html = (tmp_path / "brief.html").read_text()
    assert "micro-synthetic control" in html and "Omnibus test" in html
    assert (tmp_path / "brief.pdf").stat().st_size > 0


def test_trt_is_the_designs_own_count(upgrade, incidents):
    """The treated pieces together count exactly the crimes inside the treatment polygon after the
    start (the design's own count), so Trt is a count of the area, not of whole grid cells."""
    from planner.evaluate.design import count_design, load_design

    path, result = upgrade
    design, _ = load_design(path)
    counts = count_design(incidents, design)
    effects = result.effects.set_index(["area", "outcome"])
    assert effects.loc[("treatment", "all"), "trt"] == counts.loc["treatment", "after"]
    assert effects.loc[("buffer", "all"), "trt"] == counts.loc["buffer", "after"]


def test_street_segments_as_units(upgrade, incidents):
    """Street segments (lines) as units: crimes go to the nearest segment within 50 m, sizes are
    lengths, and the fit balances exactly."""
    import shapely

    path, _ = upgrade
    streets = gpd.read_file(SAMPLE / "city.gpkg", layer="streets")
    segs = []
    for g in streets.geometry:
        n = max(1, int(g.length // 400))
        segs += [shapely.ops.substring(g, i * g.length / n, (i + 1) * g.length / n) for i in range(n)]
    units = gpd.GeoDataFrame(geometry=segs, crs=streets.crs)
    opts = MicrosynthOptions(n_placebos=19, n_jackknife=4, evaluate_buffer=False)
    result = evaluate_microsynth(path, incidents, units=units, options=opts)
    assert result.panel_info["size"] == "length_m" and result.panel_info["units"] == "given units"
    fit = result.areas["treatment"].fit
    assert fit["exact"] and fit["n_placebos_used"] == 19
    assert result.areas["treatment"].balance["constraint"].iloc[0] == "length_m"
