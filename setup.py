"""Build hook: the offline map assets are fetched (or verified) before the package is built, and the
layer specs are copied into it.

Everything else about the package is in ``pyproject.toml``. ``build_py`` runs
``scripts/vendor_assets.py``, which downloads the pinned Leaflet/folium files from the npm registry
into ``planner/maps/vendor/`` (checking each tarball's SHA-512) or, when they are already there,
verifies them against ``vendor/MANIFEST.json`` offline; the files then ship as package data, so
``pip install`` of the wheel gives maps that need no internet. The environmental layer specs live in
the top-level ``layers/`` folder (where users read and extend them); ``build_py`` copies
``layers/*.toml`` into ``planner/layer_specs/`` of the built package, where
``planner.exposure.layers`` finds them in an installed wheel.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LAYERS = HERE / "layers"
LAYER_SPECS_IN_PACKAGE = Path("planner") / "layer_specs"


class BuildWithMapAssets(build_py):
    """``build_py`` that first fetches or verifies the vendored map assets and ships the layer specs."""

    def run(self) -> None:
        """Vendor (or verify) the map assets, build as usual, then copy the layer specs in."""
        script = HERE / "scripts" / "vendor_assets.py"
        if script.exists():  # building from a tree without scripts/ (an sdist already holds the files)
            subprocess.run(
                [sys.executable, str(script), str(HERE / "planner" / "maps" / "vendor")], check=True
            )
        super().run()
        self._copy_layer_specs()

    def _copy_layer_specs(self) -> None:
        """Copy ``layers/*.toml`` into ``planner/layer_specs/`` of the build; no specs is an error."""
        specs = sorted(LAYERS.glob("*.toml"))
        if not specs:
            raise SystemExit(f"No layer specs in {LAYERS}: the package would ship without its layer kinds.")
        target = Path(self.build_lib) / LAYER_SPECS_IN_PACKAGE
        target.mkdir(parents=True, exist_ok=True)
        for spec in specs:
            shutil.copy2(spec, target / spec.name)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """The built files, the copied layer specs included (so installers record them)."""
        copied = [
            str(Path(self.build_lib) / LAYER_SPECS_IN_PACKAGE / p.name) for p in sorted(LAYERS.glob("*.toml"))
        ]
        return [*super().get_outputs(include_bytecode), *copied]


setup(cmdclass={"build_py": BuildWithMapAssets})
