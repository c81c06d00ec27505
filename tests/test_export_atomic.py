"""No half-written results (issue #17): ``planner run`` and ``planner export`` write into a folder
beside ``--out`` and rename it on success; a non-empty ``--out`` needs ``--overwrite`` (which
removes only the planner's own files); a failure or a kill at any write step leaves nothing that
``planner export`` takes for a plan; disk-full and permission errors are one message (exit 2);
``quarantine.csv`` is always written; a plan without hotspots exports."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from _tiny_plan import tiny_plan

from planner.cli import main
from planner.errors import DataLoadError
from planner.export import export_plan, read_plan, write_run_outputs
from planner.export.output_dir import TMP_TAG


def _small_city_csv(path, *, bad_rows: int = 0, clustered: bool | None = True):
    """400 incidents in a 2 km square (EPSG:32630), 2024; ``bad_rows`` more with no coordinates."""
    rng = np.random.default_rng(7)
    centres = np.array([[500400, 5700400], [501500, 5701200], [500800, 5701600]])
    if clustered is None:  # one incident at the centre of every 100 m cell: no variation, no hotspot
        gx, gy = np.meshgrid(np.arange(20) * 100 + 50.0, np.arange(20) * 100 + 50.0)
        xy = np.column_stack([gx.ravel() + 500000, gy.ravel() + 5700000])
    elif clustered:
        xy = np.vstack(
            [c + rng.normal(0, 60, size=(100, 2)) for c in centres]
            + [rng.uniform([500000, 5700000], [502000, 5702000], size=(100, 2))]
        )
    else:
        xy = rng.uniform([500000, 5700000], [502000, 5702000], size=(400, 2))
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366 * 24 * 60, size=400), unit="min")
    frame = pd.DataFrame(
        {
            "incident_id": [f"c{i:03d}" for i in range(400)],
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "category": rng.choice(["burglary", "robbery", "assault"], size=400),
            "x": xy[:, 0].round(1),
            "y": xy[:, 1].round(1),
        }
    )
    if bad_rows:
        bad = frame.head(bad_rows).assign(incident_id=[f"bad{i}" for i in range(bad_rows)], x=np.nan)
        frame = pd.concat([frame, bad], ignore_index=True)
    frame.to_csv(path, index=False)
    return path


RUN_ARGS = ["--crs", "EPSG:32630", "--cell-size", "100"]


def _accepted(folder) -> bool:
    try:
        read_plan(folder)
    except DataLoadError:
        return False
    return True


def test_run_writes_quarantine_and_counts_it(tmp_path, capsys):
    csv = _small_city_csv(tmp_path / "in.csv", bad_rows=3)
    out = tmp_path / "run"
    assert main(["run", "--incidents", str(csv), *RUN_ARGS, "--out", str(out)]) == 0
    assert "3 row(s) quarantined (quarantine.csv)" in capsys.readouterr().out
    quarantine = pd.read_csv(out / "quarantine.csv")
    assert len(quarantine) == 3 and quarantine["reason"].str.contains("coordinates").all()
    assert _accepted(out) and len(read_plan(out).quarantine) == 3
    assert not list(tmp_path.glob(f"*{TMP_TAG}*"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f["path"] for f in manifest["files"]} >= {"plan.gpkg", "quarantine.csv", "map.html"}


def test_empty_quarantine_is_still_written(tmp_path):
    written = write_run_outputs(tiny_plan(), tmp_path / "run")
    assert (tmp_path / "run" / "quarantine.csv").read_text().strip() == "reason"
    assert written["quarantine"] == tmp_path / "run" / "quarantine.csv"


def test_non_empty_out_is_refused_and_overwrite_removes_only_planner_files(tmp_path, capsys):
    out = tmp_path / "run"
    write_run_outputs(tiny_plan(), out)
    (out / "notes.txt").write_text("mine")
    assert main(["export", str(out), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    stale = out / "old.tif"
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"].append({"path": "old.tif", "sha256": "x", "bytes": 1})
    stale.write_bytes(b"x")
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Exception, match="not empty"):
        write_run_outputs(tiny_plan(), out)
    write_run_outputs(tiny_plan(), out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"  # not the planner's: kept
    assert not stale.exists()  # the planner's earlier file: removed
    assert _accepted(out)
    unrelated = tmp_path / "photos"
    unrelated.mkdir()
    (unrelated / "a.jpg").write_bytes(b"jpg")
    assert main(["export", str(out), "--out", str(unrelated), "--format", "csv"]) == 2
    assert (unrelated / "a.jpg").exists() and not (unrelated / "csv").exists()
    assert main(["export", str(out), "--out", str(unrelated), "--format", "csv", "--overwrite"]) == 0
    assert (unrelated / "a.jpg").exists() and (unrelated / "csv" / "cells.csv").exists()


WRITE_STEPS = [
    "planner.export.plan_files.write_layer",
    "planner.surface.Surface.to_geotiff",
    "planner.export.plan_files.write_quarantine",
    "planner.maps.map_to_html",
    "planner.export.plan_files.write_manifest",
    "planner.export.output_dir.os.replace",
]


@pytest.mark.parametrize("step", WRITE_STEPS)
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_failed_write_step_leaves_no_plan_and_one_message(tmp_path, monkeypatch, capsys, step, code):
    plan = tiny_plan()

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(step, fail)
    out = tmp_path / "run"
    with pytest.raises(DataLoadError, match=os.strerror(code)) as caught:
        write_run_outputs(plan, out)
    assert "Could not write the outputs" in str(caught.value) and "--out" in str(caught.value)
    assert not out.exists()
    assert not list(tmp_path.glob(f"*{TMP_TAG}*"))


def test_disk_full_during_export_is_one_message_exit_2(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    write_run_outputs(tiny_plan(), run)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("planner.export.formats.write_csvs", full)
    assert main(["export", str(run), "--out", str(tmp_path / "pub"), "--format", "gpkg,csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("Error:") == 1 and "No space left on device" in err and "Traceback" not in err
    assert not (tmp_path / "pub").exists() and not list(tmp_path.glob(f"*{TMP_TAG}*"))


def test_gdal_style_errors_are_recognised(tmp_path, monkeypatch):
    def gdal_full(*args, **kwargs):
        raise RuntimeError(
            "sqlite3_exec(CREATE TABLE ...) failed: database or disk is full: No space left on device"
        )

    monkeypatch.setattr("planner.export.plan_files.write_layer", gdal_full)
    with pytest.raises(DataLoadError, match="No space left"):
        write_run_outputs(tiny_plan(), tmp_path / "run")


def test_a_bug_is_not_disguised_as_a_disk_error(tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise KeyError("n_incidents")

    monkeypatch.setattr("planner.export.plan_files.write_quarantine", bug)
    with pytest.raises(KeyError):
        write_run_outputs(tiny_plan(), tmp_path / "run")
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(f"*{TMP_TAG}*"))


# A parent that runs the planner once (so its imports are done), then for each folder read from stdin forks a child running
# ``planner run … --out FOLDER`` (the parent's imports are shared, each run is a process of its own),
# and reports the child's exit code; write steps pause and announce themselves with the child's pid.
DRIVER = textwrap.dedent(
    """
    import contextlib, io, os, sys, tempfile, time, importlib
    from planner.cli import main

    # one run before forking, so every import (most are lazy) is done once, not in each child
    with contextlib.redirect_stdout(io.StringIO()), tempfile.TemporaryDirectory() as warm:
        assert main([*sys.argv[2:], "--out", os.path.join(warm, "run")]) == 0

    def pausing(path):
        module, name = path.rsplit(".", 1)
        owner = importlib.import_module(module)
        original = getattr(owner, name)
        def wrapped(*args, **kwargs):
            print("STEP", path, os.getpid(), flush=True)
            time.sleep(0.15)
            return original(*args, **kwargs)
        setattr(owner, name, wrapped)

    for path in sys.argv[1].split(","):
        pausing(path)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            code = main([*sys.argv[2:], "--out", line.strip()])
            sys.stdout.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print("EXIT", os.waitstatus_to_exitcode(status), flush=True)
    """
)


@pytest.mark.slow
def test_killing_a_run_at_any_write_step_leaves_no_folder_export_accepts(tmp_path):
    """``planner run`` in a process of its own whose write steps pause and announce themselves;
    killed (SIGKILL) at the 1st, 2nd, … step in turn until a run gets through. After every kill, no
    folder beside ``--out`` is taken for a plan (the temporary one is refused as interrupted)."""
    csv = _small_city_csv(tmp_path / "in.csv")
    steps = [
        "planner.export.plan_files.write_layer",
        "planner.export.plan_files.write_quarantine",
        "planner.maps.map_to_html",
        "planner.export.plan_files.write_manifest",
    ]
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    runs = tmp_path / "runs"
    runs.mkdir()
    killed_at: list[str] = []
    parent = subprocess.Popen(
        [sys.executable, str(driver), ",".join(steps), "run", "--incidents", str(csv), *RUN_ARGS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert parent.stdin is not None and parent.stdout is not None
    try:
        for target in range(1, 15):
            out = runs / f"run{target:02d}"
            parent.stdin.write(f"{out}\n")
            parent.stdin.flush()
            seen, code = 0, None
            for line in parent.stdout:
                if line.startswith("STEP"):
                    seen += 1
                    if seen == target:
                        _, path, pid = line.split()
                        os.kill(int(pid), signal.SIGKILL)
                        killed_at.append(path.rsplit(".", 1)[1])
                elif line.startswith("EXIT"):
                    code = int(line.split()[1])
                    break
            folders = [p for p in runs.iterdir() if p.is_dir() and out.name in p.name]
            if code == 0:
                assert _accepted(out) and folders == [out]
                break
            assert code == -signal.SIGKILL
            assert not out.exists()
            for folder in folders:
                with pytest.raises(DataLoadError, match="interrupted"):
                    read_plan(folder)
        else:
            pytest.fail("no run got through 14 write steps")
    finally:
        parent.stdin.close()
        parent.wait(timeout=120)
    assert {"write_layer", "write_quarantine", "map_to_html", "write_manifest"} <= set(killed_at)


def test_a_plan_with_no_hotspots_runs_and_exports(tmp_path):
    csv = _small_city_csv(tmp_path / "even.csv", clustered=None)
    out = tmp_path / "run"
    assert main(["run", "--incidents", str(csv), *RUN_ARGS, "--out", str(out)]) == 0
    plan = read_plan(out)
    assert len(plan.hotspots) == 0
    for privacy in ("public", "internal"):
        written = export_plan(out, tmp_path / privacy, privacy=privacy, k=3)
        assert written["manifest"][0].exists() and (tmp_path / privacy / "brief.pdf").exists()
