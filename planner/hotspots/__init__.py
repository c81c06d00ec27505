"""Hotspot statistics over incidents and cells (projected CRS, metres).

Submodules (import them directly; this package imports none of them so each can be used alone):

- :mod:`planner.hotspots.kde` — kernel density surfaces (quartic, Gaussian, Epanechnikov) by
  binning + FFT, bandwidth rules (ArcGIS, Silverman, Scott).
- :mod:`planner.hotspots.gistar` — Getis-Ord Gi* (convolution fast path, sparse weights), global
  FDR (BH/BY/Bonferroni), Esri-style ``gi_bin``, optional conditional permutations.
- :mod:`planner.hotspots.polygons` — significant hot cells dissolved into hotspot polygons with
  their statistics and time profiles.
- :mod:`planner.hotspots.clusters` — DBSCAN / HDBSCAN density clusters as alternative hotspots.
- :mod:`planner.hotspots.concentration` — Lorenz curve, Gini, share in the top cells.
- :mod:`planner.hotspots.emerging`, :mod:`planner.hotspots.nearrepeat`,
  :mod:`planner.hotspots.repeats` — space-time classes, near-repeat (Knox), repeat victimisation.

The most used functions are also importable from here (loaded on first use, so importing this
package stays cheap): ``from planner.hotspots import gistar_grid, gistar_cells, kde_surface,
hotspots_from_cells``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "gistar_grid": "planner.hotspots.gistar",
    "gistar_cells": "planner.hotspots.gistar",
    "kde_surface": "planner.hotspots.kde",
    "hotspots_from_cells": "planner.hotspots.polygons",
}
__all__ = ["gistar_cells", "gistar_grid", "hotspots_from_cells", "kde_surface"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'planner.hotspots' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
