"""Vendored map assets (issue #17): every npm tarball is checked against its recorded sha512 before
it is unpacked, and the files the maps load against their recorded sha256, wherever they are."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from _paths import ROOT

SCRIPT = ROOT / "scripts" / "vendor_assets.sh"
VENDOR = ROOT / "static" / "vendor"


def _run(*args, env=None):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, check=False)


def test_recorded_checksums_cover_every_file_the_maps_load():
    from planner.maps.assets import LOCAL

    recorded = (ROOT / "scripts" / "vendor_assets.sha256").read_text()
    assert all(path in recorded for path in LOCAL.values() if path)
    integrity = (ROOT / "scripts" / "vendor_assets.integrity").read_text()
    fetched = [line.split()[1] for line in SCRIPT.read_text().splitlines() if line.startswith("fetch ")]
    assert fetched and all(f"{spec} sha512-" in integrity for spec in fetched)


def test_vendored_files_match_and_a_changed_file_is_caught(tmp_path):
    if not (VENDOR / "leaflet" / "dist" / "leaflet.js").exists():
        pytest.skip("map assets not vendored (make setup)")
    assert _run("--verify", str(VENDOR)).returncode == 0
    copy = tmp_path / "vendor"
    shutil.copytree(VENDOR, copy)
    with (copy / "leaflet" / "dist" / "leaflet.js").open("a") as fh:
        fh.write("\n/* tampered */\n")
    result = _run("--verify", str(copy))
    assert result.returncode == 1 and "checksum mismatch" in result.stderr and "leaflet.js" in result.stderr


def test_a_tarball_with_another_hash_is_not_unpacked(tmp_path):
    """A fake ``npm`` (first on PATH) hands over a tarball that is not the recorded leaflet 1.9.3."""
    fake_pkg = tmp_path / "package"
    (fake_pkg / "dist").mkdir(parents=True)
    (fake_pkg / "dist" / "leaflet.js").write_text("alert('not leaflet')")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(
        f"#!/usr/bin/env bash\ntar -czf leaflet-1.9.3.tgz -C {tmp_path} package\necho leaflet-1.9.3.tgz\n"
    )
    npm.chmod(0o755)
    dest = tmp_path / "dest"
    result = _run(str(dest), env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert result.returncode == 1 and "integrity mismatch for leaflet@1.9.3" in result.stderr
    assert not (dest / "leaflet" / "dist" / "leaflet.js").exists()


def test_the_app_lock_pins_every_dependency_with_hashes():
    import re
    import tomllib

    lock = (ROOT / "requirements-app.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", lock, flags=re.M))
    blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", lock.split("==", 1)[1])
    assert all("--hash=sha256:" in block for block in blocks)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["app"]]
    names = {re.split(r"[\[<>=!~ ]", req, maxsplit=1)[0].lower().replace("_", "-") for req in wanted}
    pinned = {name.lower().replace("_", "-") for name in pins}
    assert names <= pinned, names - pinned
    assert {"defusedxml", "authlib", "streamlit"} <= pinned
