"""`planner run` with a single environmental layer, for every layer kind the registry knows.

Only a ward layer crashed the risk stage with a traceback (issue 22): the model had no factor to fit
and kept no baseline. The tiny city is a 2 km × 2 km window (503000..505000, 5703000..5705000,
EPSG:32630) of the sample city: every 8th incident inside it (287) and the sample city's layers
that touch the window; kinds the sample city has no layer for get 25 seeded random points in the
window, and ``lighting`` is the sample city's lux raster. Every run must finish; the risk terrain
is either fitted (``risk_rrs`` on the cells) or skipped with a warning saying why.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from _paths import SAMPLE
from shapely.geometry import box

from planner import pipeline
from planner.cli import main
from planner.config import RunConfig
from planner.exposure.layers import known_layer_kinds, load_registry

WINDOW = (503000.0, 5703000.0, 505000.0, 5705000.0)
KINDS = sorted(known_layer_kinds())


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Incident file and one layer reference per kind (see the module docstring)."""
    out = tmp_path_factory.mktemp("tiny_city")
    x0, y0, x1, y1 = WINDOW
    inc = pd.read_csv(SAMPLE / "incidents.csv")
    inside = inc[inc["x"].between(x0, x1) & inc["y"].between(y0, y1)]
    inside.iloc[::8].to_csv(out / "incidents.csv", index=False)
    refs = {"incidents": str(out / "incidents.csv")}
    have = {str(name) for name, _ in pyogrio.list_layers(SAMPLE / "city.gpkg")}
    registry = load_registry()
    rng = np.random.default_rng(22)
    for kind in KINDS:
        if kind in have:
            layer = gpd.read_file(SAMPLE / "city.gpkg", layer=kind, mask=box(*WINDOW))
        elif kind in registry and registry[kind].geometry_type == "raster":
            refs[kind] = str(SAMPLE / "lux.tif")
            continue
        else:
            assert registry[kind].geometry_type == "point", kind
            xy = rng.uniform([x0, y0], [x1, y1], size=(25, 2))
            layer = gpd.GeoDataFrame(
                {"id": [f"{kind}{i}" for i in range(25)]},
                geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                crs="EPSG:32630",
            )
        assert len(layer), kind
        layer.to_file(out / "city.gpkg", layer=kind)
        refs[kind] = f"{out / 'city.gpkg'}::{kind}"
    return refs


@pytest.mark.parametrize("kind", KINDS)
def test_run_with_only_this_layer_kind(tiny_city, kind):
    config = RunConfig(incidents=tiny_city["incidents"], crs="EPSG:32630", layers={kind: tiny_city[kind]})
    plan = pipeline.run(config, stages=("exposure", "risk", "recommend"))
    skipped = [w for w in plan.warnings if w.startswith("Risk terrain skipped")]
    assert "risk_rrs" in plan.cells.columns or skipped, plan.warnings
    if kind in {"wards", "land_use"}:  # context kinds: never a risk factor, and the plan says why
        assert skipped and f"({kind})" in skipped[0] and "street_lights" in skipped[0]


def test_cli_run_with_only_wards_has_no_traceback(tiny_city, tmp_path, capsys):
    """The command that crashed: `planner run --layer wards=...` exits 0 and says why the risk
    terrain was skipped.
    """
    code = main(
        [
            "run",
            "--incidents",
            tiny_city["incidents"],
            "--crs",
            "EPSG:32630",
            "--layer",
            f"wards={tiny_city['wards']}",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "Risk terrain skipped" in captured.out + captured.err
    assert (tmp_path / "run" / "plan.gpkg").exists()
