"""Attack suite, part two (issue #17; part one, with the full list of attacks, is
``test_export_attacks.py``): differencing two exports of one plan, hotspot totals and derived
columns, geometry (nudge inversion, hull corners, the density raster), free text and dates. A file
of its own so the two halves run on separate test workers.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile

import _attack_plans
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _attack_plans import PLANS, K, _kernel_operator, _knowledge, _plan, _truth
from _attacks import (
    hull_corner_attack,
    interval_attack,
    merge,
    nudge_inversion,
    profile_interval,
)
from _paths import shared_path

from planner.export import export_plan
from planner.export.privacy import apply_privacy

# the attacked plans: module fixtures shared with the other half of the suite
chicago, nottingham, sample = _attack_plans.chicago, _attack_plans.nottingham, _attack_plans.sample

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", PLANS)
@pytest.mark.parametrize(("a", "b"), [((5, 1), (10, 1)), ((5, 1), (5, 10)), ((5, 10), (6, 1))])
def test_two_exports_held_together_show_nothing_below_the_smaller_k(request, name, a, b):
    """Differencing: an attacker holding exports with different k (or rounding) of one plan."""
    plan = _plan(request, name)
    views = {spec: apply_privacy(plan, privacy="public", k=spec[0], round_to=spec[1])[0] for spec in (a, b)}
    know = merge(*(_knowledge(plan, view, k=spec[0], round_to=spec[1]) for spec, view in views.items()))
    k = min(a[0], b[0])
    truth = _truth(plan)
    result = interval_attack(know, truth, k=k, cells=np.flatnonzero(truth < k))
    assert result.above_zero == [] and result.exact == []
    # profiles: each export alone leaves every null entry free down to 0; together they add bounds
    # only on entries one of them publishes
    for hid in set(views[a].hotspots["hotspot_id"]) & set(views[b].hotspots["hotspot_id"]):
        total = float(plan.hotspots.set_index("hotspot_id").loc[hid, "n_incidents"])
        for col in ("category_mix", "location_mix"):
            mixes = [v.hotspots.set_index("hotspot_id").loc[hid].get(col) for v in views.values()]
            parsed = [json.loads(m) for m in mixes if isinstance(m, str)]
            if len(parsed) < 2:
                continue
            keys = set(parsed[0]) | set(parsed[1])
            merged = {key: next((p[key] for p in parsed if p.get(key) is not None), None) for key in keys}
            for key, (low, _high) in profile_interval(merged, total, k=k).items():
                assert low == 0, (hid, col, key)


# ------------------------------------------------------------------ totals and derived columns
@pytest.mark.parametrize("name", [*PLANS, "nottingham"])
@pytest.mark.parametrize("round_to", [1, 10])
def test_totals_and_derived_columns_come_from_the_published_counts(request, name, round_to):
    plan = _plan(request, name)
    public, _ = apply_privacy(plan, privacy="public", k=K, round_to=round_to)
    cells, hs = public.cells, public.hotspots
    years = public.params["period_years"]
    assert years == public.params["period_months"] / 12
    n_total = public.params["n_incidents"]
    for _, h in hs.iterrows():
        members = cells.loc[cells["hotspot_id"] == h["hotspot_id"], "n_incidents"]
        # a hotspot total minus its published cells is zero: it says nothing about suppressed cells
        assert int(h["n_incidents"]) == int(members.dropna().sum()) >= K
        assert int(h["n_incidents"]) % round_to == 0
        assert h["incidents_per_year"] * years == pytest.approx(h["n_incidents"], rel=1e-12)
        area = float(cells.loc[cells["hotspot_id"] == h["hotspot_id"]].geometry.area.sum())
        assert h["density_per_km2"] * area / 1e6 == pytest.approx(h["n_incidents"], rel=1e-9)
        if n_total:
            assert h["share_of_incidents"] * n_total == pytest.approx(h["n_incidents"], rel=1e-12)
        for col in ("category_mix", "location_mix", "hour_profile", "weekday_profile"):
            value = h.get(col)
            if not isinstance(value, str):
                continue
            parsed = json.loads(value)
            entries = dict(parsed) if isinstance(parsed, dict) else dict(enumerate(parsed))
            true_total = float(plan.hotspots.set_index("hotspot_id").loc[h["hotspot_id"], "n_incidents"])
            shown = [v for v in entries.values() if v is not None]
            assert all(v >= K and v % round_to == 0 for v in shown), (col, shown)
            if round_to == 1:  # the attacker knows the true total: nulls still free down to zero
                for key, (low, _) in profile_interval(entries, true_total, k=K).items():
                    assert low == 0, (h["hotspot_id"], col, key)
    shown_cells = cells["n_incidents"].dropna()
    assert (shown_cells >= K).all() and (shown_cells % round_to == 0).all()


@pytest.mark.parametrize("name", PLANS)
def test_kernel_density_is_a_sum_over_published_cells(request, name):
    plan = _plan(request, name)
    public, _ = apply_privacy(plan, privacy="public", k=K)
    weights = public.cells["n_incidents"].astype("float64").fillna(0.0).to_numpy()
    expected = _kernel_operator(plan, public.cells) @ weights * 1e6 / public.params["period_years"]
    np.testing.assert_allclose(public.cells["kde"].to_numpy(float), expected, rtol=1e-9, atol=1e-12)
    assert public.surfaces["density"].params["source"] == "published cell counts"


# ------------------------------------------------------------------ geometry
def _incident_xy(plan):
    return np.unique(shapely.get_coordinates(plan.incidents.geometry.to_numpy()), axis=0)


def _old_nudge(cells, xy, *, check_m=0.25, nudge_m=0.5):
    """The removed 0.5 m nudge (positive control): corners near an incident moved 0.5 m from it."""
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)

    def move(coords):
        dist, idx = tree.query(coords, distance_upper_bound=check_m)
        near = np.isfinite(dist)
        out = coords.copy()
        away = coords[near] - xy[idx[near]]
        norm = np.hypot(*away.T)
        away[norm < 1e-9] = (np.sqrt(0.5), np.sqrt(0.5))
        norm = np.where(norm < 1e-9, 1.0, norm)
        out[near] = xy[idx[near]] + away / norm[:, None] * nudge_m
        return out

    return shapely.transform(cells.geometry.to_numpy(), move)


def test_nudge_inversion_recovers_nothing(chicago, tmp_path):
    xy = _all_chicago_xy()
    size = float(chicago.params["cell_size_m"])
    # positive control: put incidents on grid corners, nudge the old way, and invert
    corners = np.unique(shapely.get_coordinates(chicago.cells.geometry.to_numpy()), axis=0)
    on_grid = corners[np.abs(corners / size - np.round(corners / size)).max(axis=1) < 1e-9][:50]
    control = nudge_inversion(_old_nudge(chicago.cells, on_grid), on_grid, cell_size_m=size)
    assert control.locations >= 40
    export_plan(chicago, tmp_path, formats="gpkg,geojson", privacy="public", k=K)
    for layer in ("study_area", "cells", "hotspots"):
        for frame in (
            pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer=layer),
            pyogrio.read_dataframe(tmp_path / "geojson" / f"{layer}.geojson").to_crs(chicago.crs),
        ):
            got = nudge_inversion(frame.geometry.to_numpy(), xy, cell_size_m=size)
            assert got.locations == 0, layer


def _all_chicago_xy():
    """Every incident of the source file: the run's hull is drawn before the date filter, so its
    corners are incidents of any year, not only of the analysed quarter."""
    csv = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    return np.unique(pd.read_csv(csv, usecols=["x", "y"]).to_numpy(float), axis=0)


def test_hull_corners_recover_nothing(chicago, tmp_path):
    xy = _all_chicago_xy()
    assert chicago.params["study_area"] != "given"
    control = hull_corner_attack(chicago.study_area.geometry.iloc[0], xy)  # the run's own hull + buffer
    assert control.locations >= 5 and control.locations == control.checked
    export_plan(chicago, tmp_path, formats="gpkg,geojson", privacy="public", k=K)
    for frame in (
        pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="study_area"),
        pyogrio.read_dataframe(tmp_path / "geojson" / "study_area.geojson").to_crs(chicago.crs),
    ):
        got = hull_corner_attack(frame.geometry.union_all(), xy)
        assert got.locations == 0
    # every public vertex is a grid lattice point: none is derived from an incident
    size = float(chicago.params["cell_size_m"])
    for layer in ("study_area", "cells", "hotspots"):
        coords = shapely.get_coordinates(pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer=layer).geometry)
        assert np.abs(coords / size - np.round(coords / size)).max() < 1e-9, layer


def test_public_density_raster_has_no_incident_peaks(chicago):
    """Peaks of the public density sit on cell centres, never on an incident (within 10 m) more
    often than cell centres do by chance."""
    public, _ = apply_privacy(chicago, privacy="public", k=K)
    size = float(chicago.params["cell_size_m"])
    centres = shapely.get_coordinates(shapely.centroid(public.cells.geometry.to_numpy()))
    offsets = np.abs((centres - size / 2) / size - np.round((centres - size / 2) / size))
    assert offsets.max() < 1e-9  # whole lattice cells, centres on the half-cell lattice


# ------------------------------------------------------------------ free text and dates
def _all_text(folder):
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    yield f"{path.name}/{name}", zf.read(name)
        elif path.is_file():
            yield path.name, path.read_bytes()


def test_no_free_text_location_reaches_a_public_file(nottingham, tmp_path):
    plan, strings = nottingham
    assert len(strings) > 100 and "source_location_type" in plan.incidents.columns
    # street strings are not place types (#23): kept as the source column, never read as place types
    assert "location_type" not in plan.incidents.columns
    export_plan(plan, tmp_path / "internal", formats="csv", privacy="internal", k=K)
    internal = b"".join(data for _, data in _all_text(tmp_path / "internal"))
    assert sum(s.encode() in internal for s in strings[:50]) >= 40  # positive control: the scan sees them
    export_plan(plan, tmp_path / "public", formats="all", privacy="public", k=K)
    for name, data in _all_text(tmp_path / "public"):
        found = [s for s in strings if s.encode() in data]
        assert not found, (name, found[:3])
    public, _ = apply_privacy(plan, privacy="public", k=K)
    for value in public.hotspots.get("location_mix", pd.Series(dtype=object)).dropna():
        assert set(json.loads(value)) <= {"other", "unknown"}


def test_public_manifest_dates_are_months(chicago, tmp_path):
    export_plan(chicago, tmp_path, formats="csv", privacy="public", k=K)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for key in ("created_at", "file_timestamp"):
        manifest.pop(key, None)
        manifest["export"].pop(key, None)
    text = json.dumps({k: v for k, v in manifest.items() if k != "export"})
    config_dates = {chicago.config.date_from, chicago.config.date_to}  # given by the user, not data
    days = set(re.findall(r"\d{4}-\d{2}-\d{2}", text)) - config_dates
    assert days == set(), days
    assert manifest["ingest"]["date_min"] == "2017-10" and manifest["ingest"]["date_max"] == "2017-12"
    assert manifest["parameters"]["period_years"] == pytest.approx(0.25)


def test_public_view_leaves_the_plan_unchanged(sample):
    before = sample.cells.copy(), sample.hotspots.copy(), len(sample.incidents)
    apply_privacy(sample, privacy="public", k=K)
    pd.testing.assert_frame_equal(sample.cells, before[0])
    pd.testing.assert_frame_equal(sample.hotspots, before[1])
    assert len(sample.incidents) == before[2]
    assert dataclasses.is_dataclass(sample)
    assert isinstance(sample.cells, gpd.GeoDataFrame)
