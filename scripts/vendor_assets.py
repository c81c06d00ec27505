"""Fetch the Leaflet/folium web assets from the npm registry into the package, verified.

Maps must work with no internet (no CDN), so the JavaScript, CSS, fonts and images folium links to
ship inside the ``planner`` package (``planner/maps/vendor/``, package data of the wheel). Nothing
third-party is committed: this script runs at build time (``setup.py``'s ``build_py``, ``make
setup``). Each npm tarball is checked against the registry's pinned SHA-512 integrity before any file
is taken from it, only the files the maps use (and the licences and ``package.json``, which names
the licence where a package ships no licence file) are kept, and ``MANIFEST.json``
records every file's SHA-256 so a later build verifies the copy offline instead of fetching again.

Usage: ``python scripts/vendor_assets.py [DEST] [--copy-to DIR] [--check]`` (DEST defaults to
``planner/maps/vendor``; ``--copy-to static/vendor`` also copies the files for the dashboard's
Streamlit static serving; ``--check`` only verifies and fails if anything is missing or changed).
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = ROOT / "planner" / "maps" / "vendor"
LICENCES = ("LICENSE*", "LICENCE*", "MIT-LICEN*", "license*")

# target folder -> (npm package, version, dist.integrity, files to keep)
PACKAGES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "leaflet": (
        "leaflet", "1.9.3",
        "sha512-iB2cR9vAkDOu5l3HAay2obcUHZ7xwUBBjph8+PGtmW/2lYhbLizWtG7nTeYht36WfOslixQF9D/uSIzhZgGMfQ==",
        ("dist/leaflet.js", "dist/leaflet.css", "dist/images/*"),
    ),
    "jquery": (
        "jquery", "3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        ("dist/jquery.min.js",),
    ),
    "bootstrap": (
        "bootstrap", "5.2.2",
        "sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ==",
        ("dist/js/bootstrap.bundle.min.js", "dist/css/bootstrap.min.css"),
    ),
    "fontawesome": (
        "@fortawesome/fontawesome-free", "6.2.0",
        "sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ==",
        ("css/all.min.css", "webfonts/*.woff2"),
    ),
    "awesome-markers": (
        "leaflet.awesome-markers", "2.0.5",
        "sha512-Ne/xDjkGyaujwNVVkv2tyXQUV0ZW7gZ0Mo0FuQY4jp2qWrvXi0hwDBvmZyF/8YOvybyMabTMM/mFWCTd1jZIQA==",
        ("dist/leaflet.awesome-markers.min.js", "dist/leaflet.awesome-markers.css", "dist/images/*"),
    ),
    "markercluster": (
        "leaflet.markercluster", "1.5.3",
        "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        ("dist/leaflet.markercluster.js", "dist/MarkerCluster.css", "dist/MarkerCluster.Default.css"),
    ),
    "leaflet-draw": (
        "leaflet-draw", "1.0.4",
        "sha512-rsQ6saQO5ST5Aj6XRFylr5zvarWgzWnrg46zQ1MEOEIHsppdC/8hnN8qMoFvACsPvTioAuysya/TVtog15tyAQ==",
        ("dist/leaflet.draw.js", "dist/leaflet.draw.css", "dist/images/*"),
    ),
    "fullscreen": (
        "leaflet.fullscreen", "3.0.0",
        "sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        ("Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg"),
    ),
    "leaflet-heat": (
        "leaflet.heat", "0.2.0",
        "sha512-Cd5PbAA/rX3X3XKxfDoUGi9qp78FyhWYurFg3nsfhntcM/MCNK08pRkf4iEenO1KNqwVPKCmkyktjW3UD+h9bQ==",
        ("dist/leaflet-heat.js",),
    ),
}  # fmt: skip


class AssetError(RuntimeError):
    """The assets could not be fetched or do not match their checksums."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tarball(package: str, version: str, integrity: str) -> bytes:
    name = package.rsplit("/", 1)[-1]
    url = f"{REGISTRY}/{package}/-/{name}-{version}.tgz"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as exc:
        raise AssetError(f"could not download {url} ({exc}); the npm registry must be reachable") from None
    algorithm, expected = integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")
    if digest != expected:
        raise AssetError(f"{url} does not match its pinned {algorithm} integrity; refusing to use it")
    return data


def _extract(data: bytes, keep: tuple[str, ...], target: Path) -> list[Path]:
    written = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = member.name.split("/", 1)[1]  # strip the tarball's "package/" folder
            top_licence = "/" not in rel and any(fnmatch.fnmatch(rel, p) for p in (*LICENCES, "package.json"))
            if not (top_licence or any(fnmatch.fnmatch(rel, p) for p in keep)):
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
            written.append(out)
    missing = [p for p in keep if "*" not in p and not (target / p).exists()]
    if missing:
        raise AssetError(f"{target.name}: the package no longer has {missing}")
    return written


def fetch(dest: Path) -> dict[str, object]:
    """Download, verify and extract every package into ``dest``; returns the manifest written."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    files: dict[str, str] = {}
    for target, (package, version, integrity, keep) in PACKAGES.items():
        for path in _extract(_tarball(package, version, integrity), keep, dest / target):
            files[path.relative_to(dest).as_posix()] = _sha256(path)
    manifest = {
        "packages": {t: {"npm": f"{p}@{v}", "integrity": i} for t, (p, v, i, _) in PACKAGES.items()},
        "files": dict(sorted(files.items())),
    }
    (dest / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def problems(dest: Path) -> list[str]:
    """What is missing or changed in ``dest`` compared with its ``MANIFEST.json`` (empty: all good)."""
    manifest_path = dest / "MANIFEST.json"
    if not manifest_path.exists():
        return [f"{manifest_path} is missing"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pinned = {t: {"npm": f"{p}@{v}", "integrity": i} for t, (p, v, i, _) in PACKAGES.items()}
    if manifest.get("packages") != pinned:
        return ["the vendored packages are not the pinned versions"]
    out = []
    for rel, digest in manifest["files"].items():
        path = dest / rel
        if not path.exists():
            out.append(f"{rel} is missing")
        elif _sha256(path) != digest:
            out.append(f"{rel} does not match its checksum")
    return out


def main(argv: list[str] | None = None) -> int:
    """Fetch or verify the assets; 0 when they are in place and match their checksums."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("dest", nargs="?", default=str(DEFAULT_DEST))
    parser.add_argument("--copy-to", help="also copy the files here (Streamlit static serving)")
    parser.add_argument("--check", action="store_true", help="only verify; fail if anything is wrong")
    args = parser.parse_args(argv)
    dest = Path(args.dest)
    found = problems(dest)
    try:
        if found and args.check:
            raise AssetError("; ".join(found[:5]))
        if found:
            fetch(dest)
            found = problems(dest)
            if found:
                raise AssetError("; ".join(found[:5]))
            print(f"vendored map assets into {dest}")
        else:
            print(f"map assets in {dest} verified")
        if args.copy_to:
            shutil.copytree(dest, args.copy_to, dirs_exist_ok=True)
    except AssetError as exc:
        print(f"vendor_assets: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
