"""Vendored map assets (#15, #17): each npm tarball is checked against its pinned sha512 before any
file is taken from it, and the vendored files against the sha256 recorded when they were unpacked,
wherever they are (the package folder, a wheel, the dashboard's static folder)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import shutil
import tarfile

import pytest
from _paths import ROOT

SCRIPT = ROOT / "scripts" / "vendor_assets.py"


@pytest.fixture(scope="module")
def vendor():
    spec = importlib.util.spec_from_file_location("vendor_assets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_every_file_the_maps_load_is_pinned_and_recorded(vendor):
    from planner.maps.assets import LOCAL, VENDOR_DIR

    if not (VENDOR_DIR / "MANIFEST.json").exists():
        pytest.skip("map assets not vendored (make setup)")
    import json

    manifest = json.loads((VENDOR_DIR / "MANIFEST.json").read_text())
    assert all(path in manifest["files"] for path in LOCAL.values() if path)
    assert all(entry["integrity"].startswith("sha512-") for entry in manifest["packages"].values())
    assert vendor.problems(VENDOR_DIR) == []


def test_a_changed_file_is_caught(vendor, tmp_path):
    from planner.maps.assets import VENDOR_DIR

    if not (VENDOR_DIR / "MANIFEST.json").exists():
        pytest.skip("map assets not vendored (make setup)")
    copy = tmp_path / "vendor"
    shutil.copytree(VENDOR_DIR, copy)
    with (copy / "leaflet" / "dist" / "leaflet.js").open("a") as fh:
        fh.write("\n/* tampered */\n")
    assert vendor.problems(copy) == ["leaflet/dist/leaflet.js does not match its checksum"]
    assert vendor.main([str(copy), "--check"]) == 1


def test_a_tarball_with_another_hash_is_refused(vendor, monkeypatch):
    """The registry (faked) hands over a tarball that is not the pinned leaflet 1.9.3."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"alert('not leaflet')"
        info = tarfile.TarInfo("package/dist/leaflet.js")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    fake = buf.getvalue()

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(vendor.urllib.request, "urlopen", lambda *a, **k: Response(fake))
    package, version, integrity, _ = vendor.PACKAGES["leaflet"]
    assert integrity != "sha512-" + base64.b64encode(hashlib.sha512(fake).digest()).decode()
    with pytest.raises(vendor.AssetError, match="does not match its pinned sha512 integrity"):
        vendor._tarball(package, version, integrity)
