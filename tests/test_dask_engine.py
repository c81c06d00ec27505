"""The Dask engine gives the same cell tables as the in-memory engine (LocalCluster on loopback)."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from planner.config import RunConfig
from planner.errors import ConfigError, DataLoadError
from planner.pipeline import run
from tests._paths import SAMPLE, shared_path

pytest.importorskip("distributed")
pytest.importorskip("dask_geopandas")

from planner import dask_engine

CHICAGO = ("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")


@pytest.fixture(scope="module")
def client() -> Any:
    with dask_engine.connect(None) as c:
        yield c


def _run_both(config: RunConfig, client: Any) -> tuple[Any, Any]:
    from planner.pipeline import _noop, _run

    memory = run(config)
    dask = _run(config.model_copy(update={"engine": "dask"}), _noop, client, None)
    return memory, dask


def _assert_same_cells(a: pd.DataFrame, b: pd.DataFrame) -> None:
    # Exact on purpose and machine-independent: both engines run in this process (threads, not
    # processes) and do the same floating-point operations per cell (the same functions on each
    # partition; counts are integers), so any difference is a bug. Nothing is compared with stored numbers.
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs == b.attrs


@pytest.mark.slow
@pytest.mark.skipif(not (SAMPLE / "incidents.csv").exists(), reason="sample city not generated")
def test_sample_city_cells_identical(client: Any, sample_plan: Any) -> None:
    from planner.pipeline import _noop, _run

    memory = sample_plan  # the session's in-memory plan of the sample city (same config but the engine)
    config = RunConfig(engine="dask")
    dask = _run(config, _noop, client, None)
    assert "street_lights__lit_length_m" in memory.cells.columns  # exposure ran on the workers
    _assert_same_cells(memory.cells, dask.cells)
    pd.testing.assert_frame_equal(memory.hotspots, dask.hotspots, check_exact=True)  # exact: see above
    assert dask.params["engine"] == "dask"


@pytest.mark.slow
def test_chicago_cells_identical(client: Any) -> None:
    path = shared_path(*CHICAGO)
    config = RunConfig(incidents=str(path), crs="EPSG:26971", date_from="2016-01-01")
    memory, dask = _run_both(config, client)
    assert memory.cells["n_incidents"].sum() > 10_000
    _assert_same_cells(memory.cells, dask.cells)


@pytest.mark.skipif(not (SAMPLE / "incidents.csv").exists(), reason="sample city not generated")
def test_partitioned_geoparquet_counts_equal_one_file(client: Any, tmp_path: Path) -> None:
    """Three GeoParquet partitions counted on the workers give the one-file counts."""
    import geopandas as gpd

    from planner import grid, io
    from planner.pipeline import filter_incidents

    whole = io.read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630").incidents
    folder = tmp_path / "parts"
    folder.mkdir()
    raw = pd.read_csv(SAMPLE / "incidents.csv")
    for i, start in enumerate(range(0, len(raw), len(raw) // 3 + 1)):
        part = raw.iloc[start : start + len(raw) // 3 + 1]
        pts = gpd.GeoDataFrame(
            part.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(part["x"], part["y"]), crs="EPSG:32630"
        )
        pts.to_parquet(folder / f"part-{i}.parquet")
    assert len(dask_engine.partitions(folder)) == 3
    boundary = gpd.read_file(SAMPLE / "city.gpkg", layer="boundary")
    cells = grid.grid_from_boundary(boundary, cell_size_m=250)
    config = RunConfig(categories=["burglary", "robbery"])
    keep = lambda g: filter_incidents(g, config)  # noqa: E731
    expected = grid.count_incidents(cells, keep(whole))
    got, totals = dask_engine.count_partitions(client, folder, cells, keep=keep)
    assert totals == {
        "partitions": 3,
        "rows_read": len(raw),
        "rows_accepted": len(whole),
        "rows_kept": len(keep(whole)),
    }
    _assert_same_cells(expected, got)
    merged, _ = dask_engine.read_incidents(client, folder)
    assert merged.report.rows_accepted == len(whole)
    assert merged.incidents["incident_id"].tolist() == whole["incident_id"].tolist()


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error() -> None:
    with (
        pytest.raises(ConfigError, match=r"Could not reach the Dask scheduler.*dask scheduler"),
        dask_engine.connect("tcp://127.0.0.1:9"),
    ):
        pass


def test_missing_dask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def fake(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".", maxsplit=1)[0] == "dask_geopandas":
            raise ImportError("no", name="dask_geopandas")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ConfigError, match=r"pip install 'planner\[dask\]'"):
        run(RunConfig(engine="dask"))


def test_partitions_errors(tmp_path: Path) -> None:
    with pytest.raises(DataLoadError, match="no GeoParquet or CSV"):
        dask_engine.partitions(tmp_path)
    with pytest.raises(DataLoadError, match="No file matches"):
        dask_engine.partitions(str(tmp_path / "*.parquet"))


def test_cli_engine_option(tmp_path: Path) -> None:
    from planner.cli import main

    assert main(["run", "--out", str(tmp_path), "--engine", "spark"]) == 2
