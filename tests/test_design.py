"""Evaluation designs on the sample city: the planted W2 lighting upgrade is recovered from a design
file fixed before evaluation, and the proposed control area does not touch the buffer."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _paths import SAMPLE
from scipy.spatial import cKDTree

from planner import synth
from planner.evaluate.design import AreaChoice, CrimeSelection, Periods, load_design, make_design, save_design
from planner.evaluate.results import evaluate_design
from planner.io import read_incidents


@pytest.fixture(scope="module")
def truth():
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="module")
def incidents():
    return read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630").incidents


def _true_ward_effect(incidents, truth, cats, hours, before):
    """Expected relative reduction in the ward: share of its before-period night street crime on the
    places the upgrade lit, times (1 − 1/RR_darkness)."""
    rng = np.random.default_rng(truth["seed"])
    layers = synth.build_layers(rng)
    f = synth._pixel_features(layers, layers["boundary"].geometry.iloc[0], rng)
    sel = incidents[incidents["category"].isin(cats) & incidents["occurred_at"].dt.hour.isin(hours)]
    sel = sel[(sel["occurred_at"] >= str(before[0])) & (sel["occurred_at"] < str(before[1]))]
    pix = cKDTree(f["px"]).query(np.c_[sel.geometry.x, sel.geometry.y])[1]
    in_w2 = f["in_w2"][pix]
    fixed = (f["dark_before_upgrade"] & ~f["dark_now"])[pix]
    return fixed[in_w2].mean() * (1 - 1 / truth["factors"]["darkness"]["rr"])


def test_lighting_upgrade_recovered_from_design_file(tmp_path, incidents, truth):
    wards = gpd.read_file(SAMPLE / "city.gpkg", layer="wards")
    area = gpd.read_file(SAMPLE / "city.gpkg", layer="boundary")
    cats = truth["factors"]["darkness"]["categories"]
    design = make_design(
        wards[wards["ward_id"] == truth["lighting_upgrade"]["ward_id"]],
        start=truth["lighting_upgrade"]["date"],
        periods=Periods(before_days=540, after_days=540),
        incidents=incidents,
        crimes=CrimeSelection(categories=cats, hours=truth["night_hours"]),
        areas=AreaChoice(study_area=area, cell_size_m=200),
        name="W2 lighting",
    )
    path = save_design(design, tmp_path / "design.json")
    text = path.read_text()
    result = evaluate_design(path, incidents)
    assert path.read_text() == text  # evaluated from the file, unchanged
    loaded, _ = load_design(path)
    control = shapely.from_wkt(loaded.control_wkt)
    zone = shapely.union(shapely.from_wkt(loaded.treatment_wkt), shapely.from_wkt(loaded.buffer_wkt))
    assert shapely.intersection(control, zone).area < 1e-6
    true_effect = _true_ward_effect(incidents, truth, cats, truth["night_hours"], loaded.before)
    rr = result.rate_ratio
    assert rr.effect_ci_low <= true_effect <= rr.effect_ci_high
    assert result.power.to_dict()  # the detectable effect is reported


def test_changed_design_file_is_refused(tmp_path, incidents, truth):
    wards = gpd.read_file(SAMPLE / "city.gpkg", layer="wards")
    design = make_design(
        wards[wards["ward_id"] == "W2"],
        start="2024-07-01",
        incidents=incidents,
        areas=AreaChoice(cell_size_m=200),
    )
    path = save_design(design, tmp_path / "d.json")
    data = json.loads(path.read_text())
    data["design"]["start"] = "2024-08-01"  # edited after saving: the checksum no longer matches
    path.write_text(json.dumps(data))
    from planner.errors import PlannerError

    with pytest.raises(PlannerError, match=r"(?i)checksum|changed"):
        evaluate_design(path, incidents)


def test_cli_design_then_run(tmp_path, capsys):
    from planner.cli import main

    wards = gpd.read_file(SAMPLE / "city.gpkg", layer="wards")
    treatment = tmp_path / "w2.gpkg"
    wards[wards["ward_id"] == "W2"].to_file(treatment)
    design = tmp_path / "design.json"
    args = ["--incidents", str(SAMPLE / "incidents.csv"), "--crs", "EPSG:32630"]
    assert (
        main(
            [
                "evaluate",
                "design",
                "--treatment",
                str(treatment),
                "--start",
                "2024-07-01",
                "--out",
                str(design),
                *args,
            ]
        )
        == 0
    )
    assert "detect a reduction" in capsys.readouterr().out
    assert main(["evaluate", "run", str(design), *args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"wdq", "wdd", "rate_ratio", "e_tests", "power"} <= set(result)
    assert (
        main(
            [
                "evaluate",
                "design",
                "--treatment",
                str(treatment),
                "--start",
                "2024-07-01",
                "--out",
                str(design),
                *args,
            ]
        )
        == 2
    )
