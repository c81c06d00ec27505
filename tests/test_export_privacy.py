"""Privacy levels with hand-worked answers: suppression arithmetic, the public view of the tiny
plan, lattice geometry, the Gi* bin audit on a grid where a bin gives a count away, password
redaction; and on Chicago: every public file in every format shows no count below k."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _attacks import add_gistar_bins, grid_weights, interval_attack, knowledge_from_export
from _export_helpers import published_counts
from _paths import shared_path
from _tiny_plan import X0, Y0, tiny_plan
from shapely.geometry import Point, box

from planner.config import RunConfig
from planner.errors import ConfigError
from planner.export import export_plan
from planner.export import suppression as sup
from planner.export.gistar_audit import audit_bins
from planner.export.privacy import apply_privacy
from planner.export.public_geometry import lattice_cells, public_geometry

# ------------------------------------------------------------------ suppression arithmetic


def _values(series):
    """A nullable series as a list with None for missing values."""
    return [None if pd.isna(v) else v for v in series]


def test_rounding_and_publishing_counts():
    assert sup.rounded(12, k=5, round_to=10) == 10
    assert sup.rounded(7, k=5, round_to=10) == 10  # never below k: 5 rounds up to the first multiple, 10
    assert sup.rounded(15, k=5, round_to=10) == 20
    assert sup.rounded(6, k=5, round_to=1) == 6
    got = sup.publish_counts([12, 0, 4, 7, 5], k=5, round_to=1)
    assert _values(got) == [12, None, None, 7, 5] and str(got.dtype) == "Int64"


def test_a_total_may_be_published_only_while_every_suppressed_entry_can_be_zero():
    # total 20, one published entry of 12, three suppressed (each 0..4): hidden 8 ≤ (3 − 1)·4
    assert sup.suppressed_can_all_be_zero(20, 12, 3, 5)
    assert sup.feasible_range(20, 12, 3, 5) == (0.0, 4.0)
    # hidden 9 > 8: one of the three must hold at least 1
    assert not sup.suppressed_can_all_be_zero(21, 12, 3, 5)
    assert sup.feasible_range(21, 12, 3, 5) == (1.0, 4.0)
    # a single suppressed entry is its total minus the rest: safe only when that is 0
    assert sup.suppressed_can_all_be_zero(12, 12, 1, 5) and not sup.suppressed_can_all_be_zero(15, 12, 1, 5)


def test_profiles_list_every_key_and_are_withheld_whole_when_the_total_gives_an_entry_away():
    # a: 60 shown; b: 3, c: 0 (absent), d: 2 suppressed; hidden 5 ≤ (3 − 1)·4
    got = sup.protect_profile({"a": 60, "b": 3, "d": 2}, keys=["a", "b", "c", "d"], k=5, round_to=1, total=65)
    assert got.published == {"a": 60, "b": None, "c": None, "d": None} and got.suppressed == 3
    # b alone is suppressed and 65 − 62 = 3: the whole profile is withheld
    got = sup.protect_profile({"a": 62, "b": 3}, keys=["a", "b"], k=5, round_to=1)
    assert got.published is None and got.withheld
    # a third key at zero makes b's value uncertain again (b + c = 3, each 0..4)
    got = sup.protect_profile({"a": 62, "b": 3}, keys=["a", "b", "c"], k=5, round_to=1)
    assert got.published == {"a": 62, "b": None, "c": None}
    assert sup.protect_profile({"a": 63}, keys=["a"], k=5, round_to=10).published == {"a": 60}
    entries, n = sup.protect_sequence([10, 0, 7, 1], k=5, round_to=1)
    assert entries == [10, None, 7, None] and n == 2


# ------------------------------------------------------------------ the tiny plan


def test_public_view_of_the_tiny_plan_with_k3():
    """Counts [1, 0, 0, 0, 4, 1]: only cell 4 (4 incidents) is shown; the citywide 6 may be shown
    (hidden 2 ≤ (5 − 1)·2); H01 = its published cells = 4; the period Jan–Mar 2024 is 3 months."""
    plan = tiny_plan()
    public, report = apply_privacy(plan, privacy="public", k=3)
    assert len(public.incidents) == 0 and len(public.quarantine) == 0
    assert _values(public.cells["n_incidents"]) == [None, None, None, None, 4, None]
    assert report.cells_suppressed == 5
    assert public.params["n_incidents"] == 6 and public.params["period_years"] == 0.25
    h = public.hotspots.iloc[0]
    assert h["hotspot_id"] == "H01" and h["n_incidents"] == 4
    assert h["incidents_per_year"] == pytest.approx(16.0)
    assert h["density_per_km2"] == pytest.approx(400.0)
    assert h["share_of_incidents"] == pytest.approx(4 / 6)
    # keys: every category of the run; assault 1 and burglary 0 suppressed: 4 − 3 = 1 ≤ (2 − 1)·2
    assert json.loads(h["category_mix"]) == {"assault": None, "burglary": None, "robbery": 3}
    assert h["top_category"] == "robbery"
    assert "mean_gi_z" not in public.hotspots.columns
    assert not {"gi_z", "gi_p", "gi_p_adj"} & set(public.cells.columns)
    # the tiny plan's z-scores are made up (not Gi* of its counts): no bin can be checked, none shown
    assert public.cells["gi_bin"].isna().all() and report.bins_withheld == 6
    # the plan itself is not modified
    assert len(plan.incidents) == 6 and plan.cells["n_incidents"].tolist() == [1, 0, 0, 0, 4, 1]


def test_public_view_with_k5_leaves_the_small_hotspot_out():
    public, report = apply_privacy(tiny_plan(), privacy="public", k=5)
    assert len(public.hotspots) == 0 and report.hotspots_suppressed == ["H01"]
    assert public.cells["n_incidents"].isna().all() and public.cells["hotspot_id"].isna().all()
    assert public.params["n_incidents"] == 6  # 6 ≤ (6 − 1)·4: every cell could still be 0..4


def test_density_is_a_kernel_sum_of_published_counts():
    public, _ = apply_privacy(tiny_plan(), privacy="public", k=3)
    # one published cell (4 incidents at (150, 150)); quartic kernel, h = 150 m, 0.25 years:
    # at its own centre 4 · 3/(π h²) · 1e6 / 0.25
    peak = 4 * 3 / (np.pi * 150**2) * 1e6 / 0.25
    assert public.cells["kde"].iloc[4] == pytest.approx(peak)
    # cell 5's centre (250, 150) is 100 m away: (1 − (100/150)²)² of the peak
    assert public.cells["kde"].iloc[5] == pytest.approx(peak * (1 - (100 / 150) ** 2) ** 2)
    d0 = np.hypot(100, 100)  # cell 0's centre (50, 50) is 141.4 m away, still inside the kernel
    assert public.cells["kde"].iloc[0] == pytest.approx(peak * (1 - (d0 / 150) ** 2) ** 2)
    assert public.surfaces["density"].params["source"] == "published cell counts"


def test_free_text_keys_are_pooled_as_other():
    plan = tiny_plan()
    incidents = plan.incidents.assign(location_type=["12 Acacia Avenue"] * 4 + ["street", "dwelling"])
    hotspots = plan.hotspots.assign(location_mix=['{"12 Acacia Avenue": 3, "street": 1}'])
    public, _ = apply_privacy(
        dataclasses.replace(plan, incidents=incidents, hotspots=hotspots), privacy="public", k=3
    )
    # other 3 shown; street 1 and dwelling 0 hidden: 4 − 3 = 1 ≤ (2 − 1)·2, so both may be 0
    mix = json.loads(public.hotspots["location_mix"].iloc[0])
    assert mix == {"dwelling": None, "other": 3, "street": None}
    assert "Acacia" not in json.dumps(public.hotspots.drop(columns="geometry").to_dict())


def test_measures_resting_on_fewer_than_k_crimes_are_left_out(tmp_path):
    """Without a plan of measures, the public view has none either; with the sample plan see
    test_export_attacks (measures are re-ranked from the published profiles)."""
    public, report = apply_privacy(tiny_plan(), privacy="public", k=3)
    assert public.recommendations is None and report.measures_suppressed == 0


def test_internal_keeps_incidents_and_counts_but_never_a_password(tmp_path):
    plan = dataclasses.replace(
        tiny_plan(),
        config=RunConfig(incidents="postgresql://analyst:s3cret@db.example:5432/police"),
        inputs=[{"path": "postgresql://analyst:s3cret@db.example:5432/police", "sha256": None}],
        ingest_report={**tiny_plan().ingest_report, "source": "host=db password=s3cret dbname=police"},
    )
    internal, report = apply_privacy(plan, privacy="internal", k=5)
    assert len(internal.incidents) == 6 and internal.cells["n_incidents"].tolist() == [1, 0, 0, 0, 4, 1]
    assert report.note.startswith("INTERNAL")
    written = export_plan(plan, tmp_path / "internal", formats="csv", privacy="internal", k=5)
    text = written["manifest"][0].read_text()
    assert "s3cret" not in text and "analyst:***@db.example" in text
    public = export_plan(plan, tmp_path / "public", formats="csv", privacy="public", k=5)
    text = public["manifest"][0].read_text()
    assert "s3cret" not in text and "analyst" not in text and "db.example:5432/police" in text


def test_bad_privacy_options_are_config_errors():
    with pytest.raises(ConfigError, match="privacy"):
        apply_privacy(tiny_plan(), privacy="secret")
    with pytest.raises(ConfigError, match="k must be"):
        apply_privacy(tiny_plan(), privacy="public", k=0)


def test_public_manifest_withholds_category_counts_that_the_total_would_give_away(tmp_path):
    plan = tiny_plan()
    plan.ingest_report["fitness"] = {"categories": {"robbery": 3, "burglary": 2, "assault": 1}}
    written = export_plan(plan, tmp_path, formats="csv", privacy="public", k=3)
    manifest = json.loads(written["manifest"][0].read_text())
    # robbery 3 shown would leave burglary + assault = 3 > (2 − 1)·2: withheld whole
    assert manifest["ingest"]["fitness"]["categories"] == {"assault": None, "burglary": None, "robbery": None}
    assert any("category" in w for w in manifest["export"]["privacy"]["totals_withheld"])
    assert plan.ingest_report["fitness"]["categories"]["assault"] == 1  # the plan is unchanged


# ------------------------------------------------------------------ geometry


def _clipped_plan(kind: str):
    """A 1 km disc cut into 200 m cells (square or hex), as if drawn around incidents."""
    from planner.grid import grid_from_boundary

    disc = gpd.GeoDataFrame(geometry=[Point(X0 + 1000, Y0 + 1000).buffer(1000)], crs=32630)
    cells = grid_from_boundary(disc, cell_size_m=200, kind=kind)
    return cells, disc


@pytest.mark.parametrize("kind", ["square", "hex"])
def test_cells_cut_by_a_hull_are_put_back_on_the_lattice(kind):
    cells, disc = _clipped_plan(kind)
    full = lattice_cells(cells, cell_size_m=200, grid_kind=kind)
    whole = np.isclose(cells.area, cells.area.max())
    assert np.allclose(shapely.area(full), cells.area.max())
    # cells the disc did not cut are unchanged; cut ones lie inside their lattice cell
    assert shapely.equals_exact(full[whole], cells.geometry.to_numpy()[whole], tolerance=1e-6).all()
    assert shapely.covers(shapely.buffer(full, 1e-6), cells.geometry.to_numpy()).all()
    out, area, rule = public_geometry(
        cells, disc, {"study_area": "buffered hull", "cell_size_m": 200, "grid_kind": kind}
    )
    assert "union of the grid cells" in rule
    assert area.geometry.iloc[0].covers(disc.geometry.iloc[0].buffer(-1e-6))
    if kind == "square":
        coords = shapely.get_coordinates(np.concatenate([out.geometry.to_numpy(), area.geometry.to_numpy()]))
        assert np.abs(coords / 200 - np.round(coords / 200)).max() < 1e-9


def test_a_given_boundary_is_kept():
    cells, disc = _clipped_plan("square")
    out, area, rule = public_geometry(cells, disc, {"study_area": "given", "cell_size_m": 200})
    assert out is cells and area is disc and "given" in rule


# ------------------------------------------------------------------ Gi* bin audit

LEAKY_GRID = np.array(
    [
        [4, 3, 0, 2, 3, 0, 0, 4, 3, 3, 4, 3, 7, 7, 4, 5],
        [1, 6, 1, 1, 2, 2, 1, 3, 5, 2, 3, 6, 4, 3, 2, 3],
        [2, 4, 2, 3, 5, 3, 3, 2, 0, 1, 2, 3, 2, 5, 3, 0],
        [3, 18, 7, 0, 9, 2, 2, 4, 3, 1, 6, 4, 7, 2, 0, 3],
        [1, 11, 6, 4, 2, 3, 1, 5, 15, 3, 3, 2, 1, 4, 1, 7],
        [2, 3, 1, 3, 1, 4, 4, 14, 17, 2, 6, 3, 1, 1, 2, 5],
        [2, 3, 5, 3, 5, 2, 4, 2, 3, 1, 5, 12, 2, 2, 4, 3],
        [3, 2, 2, 1, 4, 1, 2, 1, 4, 4, 15, 13, 5, 2, 2, 1],
        [3, 0, 1, 6, 4, 2, 2, 3, 7, 0, 1, 1, 4, 3, 4, 5],
        [1, 4, 7, 3, 1, 3, 4, 3, 1, 4, 3, 2, 3, 3, 5, 3],
        [5, 5, 6, 2, 4, 4, 3, 6, 4, 6, 2, 2, 1, 1, 4, 2],
        [3, 6, 2, 1, 2, 0, 1, 4, 2, 2, 0, 1, 2, 1, 1, 3],
        [1, 3, 1, 7, 2, 1, 1, 4, 6, 5, 1, 1, 2, 4, 0, 6],
        [3, 3, 4, 3, 6, 3, 0, 2, 2, 1, 4, 5, 3, 7, 4, 3],
        [4, 3, 2, 3, 6, 2, 4, 0, 0, 1, 6, 2, 3, 0, 3, 3],
        [2, 6, 5, 4, 5, 1, 1, 2, 5, 5, 3, 2, 2, 0, 3, 3],
    ]
)


def test_a_bin_that_gives_a_suppressed_count_away_is_withheld():
    """On this 16 × 16 grid (Gi*, queen, BH at q = 0.05) one cell's bin sits so close to its
    threshold that, with its neighbours' published counts, it proves a suppressed neighbour holds
    an incident. The audit withholds that bin; the attack then finds nothing."""
    from planner.hotspots.gistar import fdr_adjust, gi_bins, gistar_grid

    z2, p2 = gistar_grid(LEAKY_GRID.astype(float))
    z, truth = z2.ravel(), LEAKY_GRID.ravel().astype(float)
    bins = gi_bins(z, fdr_adjust(p2.ravel(), "bh"), q=0.05)
    rows, cols = np.divmod(np.arange(truth.size), 16)
    cells = gpd.GeoDataFrame(
        {"row": rows, "col": cols, "gi_z": z, "gi_bin": bins},
        geometry=shapely.box(cols * 100.0, rows * 100.0, cols * 100.0 + 100, rows * 100.0 + 100),
        crs=32630,
    )
    weights = grid_weights(rows, cols)
    published = np.where(truth >= 5, truth, np.nan)

    def attack(shown):
        know = knowledge_from_export(published, k=5, round_to=1, total=truth.sum(), n=truth.size)
        add_gistar_bins(know, weights, z, bins, truth, shown=shown, members=np.zeros(truth.size, bool))
        return interval_attack(know, truth, k=5)

    assert attack(np.ones(truth.size, bool)).above_zero == [34]  # row 2, col 2: true count 2
    audit = audit_bins(
        cells, truth, k=5, total_known=True, grid_kind="square", neighbourhood="queen", min_bin=2
    )
    assert audit.model_matches and audit.leaks_found >= 1 and 0 < len(audit.bins_withheld) <= 3
    shown = np.ones(truth.size, bool)
    shown[list(audit.bins_withheld)] = False
    assert attack(shown).above_zero == []


# ------------------------------------------------------------------ every file, every format (real data)


def _vector_files(out):
    yield "gpkg", out / "plan.gpkg"
    for folder, ext in (
        ("geojson", "geojson"),
        ("flatgeobuf", "fgb"),
        ("kml", "kml"),
        ("geoparquet", "parquet"),
    ):
        yield from ((folder, p) for p in sorted((out / folder).glob(f"*.{ext}")))
    yield from (("shapefile", p) for p in sorted((out / "shapefile").glob("*.shp.zip")))


def _read_all(kind, path):
    if kind == "gpkg":
        return {str(n): pyogrio.read_dataframe(path, layer=str(n)) for n in pyogrio.list_layers(path)[:, 0]}
    if kind == "geoparquet":
        try:
            return {path.stem: gpd.read_parquet(path)}
        except ValueError:  # attribute table without geometry
            return {path.stem: pd.read_parquet(path)}
    if kind == "shapefile":
        name = path.name.removesuffix(".shp.zip")
        return {name: pyogrio.read_dataframe(f"/vsizip/{path}/{name}.shp")}
    return {path.stem: pyogrio.read_dataframe(path)}


@pytest.fixture(scope="module")
def chicago(tmp_path_factory):
    """Chicago residential burglaries, Oct–Dec 2017 (2,566 incidents, EPSG:26971): plan, public and
    internal exports (k = 5)."""
    from planner.pipeline import run

    csv = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    plan = run(RunConfig(incidents=str(csv), crs="EPSG:26971", date_from="2017-10-01", date_to="2018-01-01"))
    out = tmp_path_factory.mktemp("chicago")
    formats = "gpkg,geojson,shp,kml,fgb,parquet,cog,csv,html"
    export_plan(plan, out / "public", formats=formats, privacy="public", k=5)
    export_plan(plan, out / "internal", formats="gpkg,csv", privacy="internal", k=5)
    return plan, out


def test_chicago_public_export_has_no_count_below_k_in_any_format(chicago):
    plan, out = chicago
    public = out / "public"
    seen = 0
    for kind, path in _vector_files(public):
        for name, frame in _read_all(kind, path).items():
            assert name != "incidents"
            assert not {"gi_z", "gi_p", "gi_p_adj", "mean_gi_z"} & set(frame.columns), (kind, name)
            counts = published_counts(frame)
            assert all(c >= 5 for c in counts), (kind, path.name, min(counts))
            seen += len(counts)
    for csv in sorted((public / "csv").glob("*.csv")):
        counts = published_counts(pd.read_csv(csv))
        assert all(c >= 5 for c in counts), csv.name
    assert seen > 100
    cells = pd.read_csv(public / "csv" / "cells.csv")
    assert cells["n_incidents"].isna().sum() == int((plan.cells["n_incidents"] < 5).sum()) > 0
    manifest = json.loads((public / "manifest.json").read_text())
    assert manifest["privacy"] == "public" and manifest["k_min"] == 5
    assert "fewer than 5" in " ".join(manifest["export"]["privacy"]["rules"])
    html = (public / "map.html").read_text(encoding="utf-8")
    assert "PUBLIC" in html and "incident_id" not in html and "gi_z" not in html


def test_chicago_internal_export_contains_incidents(chicago):
    plan, out = chicago
    internal = out / "internal"
    layers = {str(n) for n in pyogrio.list_layers(internal / "plan.gpkg")[:, 0]}
    assert "incidents" in layers
    incidents = pyogrio.read_dataframe(internal / "plan.gpkg", layer="incidents")
    assert len(incidents) == len(plan.incidents)
    assert (incidents["privacy"] == "internal - not for publication").all()
    meta = pyogrio.read_info(internal / "plan.gpkg", layer="incidents")["layer_metadata"]
    assert meta["planner_privacy"].startswith("INTERNAL")
    assert pd.read_csv(internal / "csv" / "incidents.csv").shape[0] == len(plan.incidents)


def test_grid_corner_on_an_incident_stays_where_it_is(tmp_path):
    """The old 0.5 m nudge pointed at the incident; corners now never move."""
    plan = tiny_plan()
    corner = Point(X0 + 100, Y0 + 100)
    extra = gpd.GeoDataFrame(
        {
            "incident_id": ["corner"],
            "occurred_at": [pd.Timestamp("2024-03-10 10:00")],
            "category": ["robbery"],
        },
        geometry=[corner],
        crs=plan.crs,
    )
    plan = dataclasses.replace(plan, incidents=pd.concat([plan.incidents, extra], ignore_index=True))
    export_plan(plan, tmp_path, formats="gpkg", privacy="public", k=3)
    cells = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="cells")
    assert shapely.equals_exact(cells.geometry.to_numpy(), plan.cells.geometry.to_numpy(), tolerance=0).all()
    assert box(X0, Y0, X0 + 300, Y0 + 200).equals(
        pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="study_area").geometry.iloc[0]
    )
