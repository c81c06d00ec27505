"""Build hook: the offline map assets are fetched (or verified) before the package is built.

Everything else about the package is in ``pyproject.toml``. ``build_py`` runs
``scripts/vendor_assets.py``, which downloads the pinned Leaflet/folium files from the npm registry
into ``planner/maps/vendor/`` (checking each tarball's SHA-512) or, when they are already there,
verifies them against ``vendor/MANIFEST.json`` offline; the files then ship as package data, so
``pip install`` of the wheel gives maps that need no internet.
"""

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithMapAssets(build_py):
    """``build_py`` that first fetches or verifies the vendored map assets."""

    def run(self) -> None:
        """Vendor (or verify) the map assets, then build as usual."""
        script = HERE / "scripts" / "vendor_assets.py"
        if script.exists():  # building from a tree without scripts/ (an sdist already holds the files)
            subprocess.run(
                [sys.executable, str(script), str(HERE / "planner" / "maps" / "vendor")], check=True
            )
        super().run()


setup(cmdclass={"build_py": BuildWithMapAssets})
