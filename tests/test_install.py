"""Issue #15: a plain `pip install` of the package (no make) gives offline maps, layer specs and the
category map; a broken install fails with a clear message instead of writing a CDN-dependent map.

The wheel is built from a copy of the source tree with ``--no-build-isolation`` (offline: the build
hook verifies the vendored assets against their manifest instead of fetching), installed with
``--no-deps`` into a fresh venv that sees the project venv's dependencies through a ``.pth`` path
entry (not its editable install of ``planner``), and run from a folder outside the source tree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from _paths import ROOT

from planner.maps import assets

EXTERNAL = re.compile(r"<(?:script|link)[^>]+(?:src|href)=\"https?://", re.I)
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "planner", "scripts", "layers")
LAYER_KINDS = sorted(p.stem for p in (ROOT / "layers").glob("*.toml"))

pytestmark = pytest.mark.slow


def _copy_source(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def _run(args: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=False, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not assets.assets_available():
        pytest.skip("map assets not vendored; run 'make setup'")
    work = tmp_path_factory.mktemp("install")
    src = _copy_source(work / "src")
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(work / "dist"),
            str(src),
        ]
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((work / "dist").glob("scp_planner-*.whl"))
    venv = work / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    (site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {"wheel": wheel, "venv": venv, "python": python, "site": site, "work": work}


def test_wheel_ships_assets_specs_and_category_map(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    assert "planner/maps/vendor/leaflet/dist/leaflet.js" in names
    assert "planner/maps/vendor/MANIFEST.json" in names
    assert "planner/io/category_map.toml" in names
    assert LAYER_KINDS and {f"planner/layer_specs/{kind}.toml" for kind in LAYER_KINDS} <= names
    record = next(n for n in names if n.endswith(".dist-info/RECORD"))
    recorded = zipfile.ZipFile(installed["wheel"]).read(record).decode()
    assert all(f"planner/layer_specs/{kind}.toml," in recorded for kind in LAYER_KINDS)


def test_installed_planner_lists_every_shipped_layer_kind(installed, tmp_path):
    """The wheel reads its own copy of layers/ (not the checkout's) and `planner layers` lists each kind."""
    shipped = installed["site"] / "planner" / "layer_specs"
    assert sorted(p.stem for p in shipped.glob("*.toml")) == LAYER_KINDS
    listed = _run([str(installed["venv"] / "bin" / "planner"), "layers", "--json"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-3000:]
    rows = {r["kind"]: r for r in json.loads(listed.stdout)}
    assert set(LAYER_KINDS) <= set(rows)
    assert all(Path(rows[kind]["spec"]).parent == shipped for kind in LAYER_KINDS)


def test_pip_installed_planner_writes_an_offline_map(installed, tmp_path):
    csv = tmp_path / "crimes.csv"
    rows = ["lon,lat,date,offence"] + [
        f"{-1.15 + (i % 7) * 0.002:.4f},{52.95 + (i % 5) * 0.002:.4f},2023-0{1 + i % 9}-1{i % 10} 1{i % 10}:30,Burglary"
        for i in range(80)
    ]
    csv.write_text("\n".join(rows) + "\n")
    which = _run([str(installed["python"]), "-c", "import planner; print(planner.__file__)"], cwd=tmp_path)
    assert str(installed["site"]) in which.stdout, which.stdout + which.stderr  # the wheel, not the checkout
    planner_cli = installed["venv"] / "bin" / "planner"
    result = _run(
        [str(planner_cli), "run", "--incidents", str(csv), "--out", str(tmp_path / "out")], cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    html = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "L.map(" in html and not EXTERNAL.search(html)
    layers = _run([str(planner_cli), "layers"], cwd=tmp_path)
    assert layers.returncode == 0 and "street_lights" in layers.stdout


def test_missing_assets_fail_with_a_clear_message(installed, tmp_path):
    vendor = installed["site"] / "planner" / "maps" / "vendor"
    hidden = vendor.with_name("vendor_hidden")
    vendor.rename(hidden)
    try:
        csv = tmp_path / "crimes.csv"
        csv.write_text(
            "lon,lat\n"
            + "".join(f"{-1.15 + (i % 7) * 0.002:.4f},{52.95 + (i % 5) * 0.002:.4f}\n" for i in range(40))
        )
        result = _run(
            [
                str(installed["venv"] / "bin" / "planner"),
                "run",
                "--incidents",
                str(csv),
                "--out",
                str(tmp_path / "o"),
            ],
            cwd=tmp_path,
        )
    finally:
        hidden.rename(vendor)
    assert result.returncode == 2
    assert "offline map files are missing" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o" / "map.html").exists()
