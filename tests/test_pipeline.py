"""End-to-end: `planner run` on the sample city writes readable, reproducible outputs."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import rasterio

from planner.cli import main

pytestmark = pytest.mark.slow  # two `planner run`s of the sample city

EXTERNAL = re.compile(r"<(?:script|link)[^>]+(?:src|href)=\"https?://", re.I)


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """Two `planner run` invocations of the sample city into separate folders."""
    a = tmp_path_factory.mktemp("run_a")
    b = tmp_path_factory.mktemp("run_b")
    assert main(["run", "--out", str(a)]) == 0
    assert main(["run", "--config", str(a / "manifest.json"), "--out", str(b)]) == 0
    return a, b


def test_outputs_exist_and_read_back(run_dirs):
    out, _ = run_dirs
    layers = {str(n) for n in pyogrio.list_layers(out / "plan.gpkg")[:, 0]}
    assert {"incidents", "cells", "hotspots", "study_area"} <= layers
    hotspots = gpd.read_file(out / "plan.gpkg", layer="hotspots")
    meta = json.loads(
        pyogrio.read_info(out / "plan.gpkg", layer="cells")["layer_metadata"]["planner_parameters"]
    )
    assert {"cell_size_m", "bandwidth_m", "neighbourhood", "fdr", "q"} <= set(meta)
    assert len(hotspots) >= 3
    assert hotspots.crs.to_epsg() == 32630
    with rasterio.open(out / "density.tif") as src:
        assert src.crs.to_epsg() == 32630
        assert src.transform.e < 0  # north-up
        assert src.read(1).shape == (src.height, src.width)
    with rasterio.open(out / "risk_rrs.tif") as src:
        assert (
            src.transform.e < 0 and float(src.read(1, masked=True).min()) >= 1.0 - 1e-6
        )  # relative risk, min 1
    html = (out / "map.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(html)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["cell_size_m"] > 0
    assert manifest["parameters"]["bandwidth_m"] > 0
    assert all(i["sha256"] for i in manifest["inputs"])


def test_rerun_from_manifest_gives_identical_tables(run_dirs):
    a, b = run_dirs  # both runs made in this session on this machine: a reproducibility check
    for layer in ("cells", "hotspots", "incidents"):
        ta = gpd.read_file(a / "plan.gpkg", layer=layer)
        tb = gpd.read_file(b / "plan.gpkg", layer=layer)
        pd.testing.assert_frame_equal(pd.DataFrame(ta), pd.DataFrame(tb))


def test_hotspots_capture_a_concentrated_share(sample_plan):
    plan = sample_plan
    share = plan.hotspots["n_incidents"].sum() / len(plan.incidents)
    area = plan.hotspots["area_m2"].sum() / plan.study_area.area.sum()
    assert share > 1.5 * area  # hotspots hold well over their share of the area


def test_user_error_is_one_message(tmp_path, capsys):
    code = main(["run", "--incidents", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err


def test_help_lists_commands(capsys):
    main(["--help"])
    text = capsys.readouterr().out
    for command in ("run", "synth", "inspect"):
        assert command in text


def test_recommend_and_portfolio_cli(run_dirs, tmp_path, capsys):
    out, _ = run_dirs
    recs = tmp_path / "recs.csv"
    assert main(["recommend", str(out / "plan.gpkg"), "--out", str(recs)]) == 0
    table = pd.read_csv(recs)
    assert {"hotspot_id", "intervention_id", "rank", "bcr_low", "bcr_high", "source", "reasons"} <= set(
        table.columns
    )
    assert "alarm_only" not in set(table["intervention_id"]) and "alley_gates" not in set(
        table["intervention_id"]
    )
    chosen = tmp_path / "chosen.csv"
    assert main(["portfolio", str(recs), "--budget", "200000", "--out", str(chosen)]) == 0
    picked = pd.read_csv(chosen)
    assert picked["cost"].sum() <= 200000
    assert "crimes prevented per year" in capsys.readouterr().out


def test_default_run_writes_a_paying_portfolio_with_its_rule(run_dirs):
    """#22: without --budget the plan still proposes a portfolio, per hotspot the measure with the
    highest expected net benefit among those that pay back, and the manifest states the rule."""
    out, _ = run_dirs
    assert "portfolio" in {str(n) for n in pyogrio.list_layers(out / "plan.gpkg")[:, 0]}
    chosen = gpd.read_file(out / "plan.gpkg", layer="portfolio")
    recs = gpd.read_file(out / "plan.gpkg", layer="recommendations")
    assert len(chosen) and not chosen["hotspot_id"].duplicated().any()
    assert (chosen["net_benefit"] > 0).all() and (chosen["benefit"] > chosen["cost"]).all()
    assert (chosen["kind"] != "comparator").all()
    paying = recs[(recs["net_benefit"] > 0) & (recs["kind"] != "comparator")]
    best = paying.groupby("hotspot_id")["net_benefit"].max()
    assert set(chosen["hotspot_id"]) == set(best.index)
    got = chosen.set_index("hotspot_id")["net_benefit"].loc[best.index]
    assert got.to_numpy() == pytest.approx(best.to_numpy(), rel=1e-9)
    record = json.loads((out / "manifest.json").read_text())["parameters"]["portfolio"]
    assert record["budget"] is None and record["n_measures"] == len(chosen)
    assert "pay back" in record["rule"] and "one measure per hotspot" in record["rule"]
    assert record["total_net_benefit"] == pytest.approx(chosen["net_benefit"].sum(), rel=1e-6)
    assert (out / "portfolio.csv").exists()
