"""``planner export``: CLI errors, the dashboard and the CLI give identical files, and the export
manifest reproduces the run's tables."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from _tiny_plan import tiny_plan

from planner.cli import main
from planner.export import write_run_outputs


def test_cli_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "not a plan folder" in err and "planner run --out" in err
    write_run_outputs(tiny_plan(), tmp_path / "run")
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "o"), "--format", "gpkg,docx"]) == 2
    err = capsys.readouterr().err
    assert "Unknown export format(s): docx" in err and "Traceback" not in err
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "o"), "--privacy", "open"]) == 2
    assert "privacy" in capsys.readouterr().err


@pytest.mark.parametrize("privacy", ["public", "internal"])
def test_dashboard_and_cli_write_identical_files(tmp_path, privacy):
    from planner.export import export_zip

    plan = tiny_plan()
    write_run_outputs(plan, tmp_path / "run")
    cli = tmp_path / "cli"
    assert main(["export", str(tmp_path / "run"), "--out", str(cli), "--privacy", privacy, "--k", "3"]) == 0
    data = export_zip(plan, privacy=privacy, k=3)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        dashboard = {name: zf.read(name) for name in zf.namelist()}
    files = {p.relative_to(cli).as_posix(): p.read_bytes() for p in cli.rglob("*") if p.is_file()}
    assert sorted(dashboard) == sorted(files)
    assert len(files) > 20
    # Byte-for-byte is sound here: both sets of files are written in this test, on this machine, from
    # the same plan (the two writers must agree); nothing is compared with a committed file.
    different = [name for name in files if files[name] != dashboard[name]]
    # only the manifest differs: its export time and where the plan came from
    assert different == ["manifest.json"]
    a, b = json.loads(files["manifest.json"]), json.loads(dashboard["manifest.json"])
    for m in (a, b):
        m.pop("created_at")
        m["export"].pop("source")
    assert a == b


def _small_city_csv(path):
    """400 incidents in a 2 km square (EPSG:32630): three clusters and a uniform background, 2024."""
    rng = np.random.default_rng(7)
    centres = np.array([[500400, 5700400], [501500, 5701200], [500800, 5701600]])
    xy = np.vstack(
        [c + rng.normal(0, 60, size=(100, 2)) for c in centres]
        + [rng.uniform([500000, 5700000], [502000, 5702000], size=(100, 2))]
    )
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366 * 24 * 60, size=400), unit="min")
    pd.DataFrame(
        {
            "incident_id": [f"c{i:03d}" for i in range(400)],
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "category": rng.choice(["burglary", "robbery", "assault"], size=400),
            "x": xy[:, 0].round(1),
            "y": xy[:, 1].round(1),
        }
    ).to_csv(path, index=False)


def test_run_from_export_manifest_reproduces_tables(tmp_path):
    csv = tmp_path / "small.csv"
    _small_city_csv(csv)
    args = ["--incidents", str(csv), "--crs", "EPSG:32630", "--cell-size", "100"]
    assert main(["run", *args, "--out", str(tmp_path / "a")]) == 0
    assert main(["export", str(tmp_path / "a"), "--out", str(tmp_path / "ea"), "--format", "csv,gpkg"]) == 0
    manifest = json.loads((tmp_path / "ea" / "manifest.json").read_text())
    assert manifest["inputs"][0]["sha256"] and manifest["parameters"]["bandwidth_m"] > 0
    assert manifest["config"]["bandwidth_m"] == manifest["parameters"]["bandwidth_m"]  # automatic, recorded
    # a public manifest names the input file without its folder; an internal one keeps the path
    assert manifest["config"]["incidents"] == "small.csv" and manifest["inputs"][0]["path"] == "small.csv"
    internal = tmp_path / "ia"
    assert (
        main(
            [
                "export",
                str(tmp_path / "a"),
                "--out",
                str(internal),
                "--format",
                "csv",
                "--privacy",
                "internal",
            ]
        )
        == 0
    )
    assert json.loads((internal / "manifest.json").read_text())["config"]["incidents"] == str(csv)
    assert main(["run", "--config", str(internal / "manifest.json"), "--out", str(tmp_path / "b")]) == 0
    assert main(["export", str(tmp_path / "b"), "--out", str(tmp_path / "eb"), "--format", "csv,gpkg"]) == 0
    tables = sorted(p.name for p in (tmp_path / "ea" / "csv").glob("*.csv"))
    assert {"cells.csv", "hotspots.csv"} <= set(tables)
    # Byte-for-byte is sound here: both runs are made in this test on this machine (reproducibility of
    # a re-run from the manifest), not compared with a committed file.
    for name in tables:
        assert (tmp_path / "ea" / "csv" / name).read_bytes() == (
            tmp_path / "eb" / "csv" / name
        ).read_bytes(), name
    assert len(pd.read_csv(tmp_path / "ea" / "csv" / "hotspots.csv")) > 0
