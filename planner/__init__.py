"""Geospatial situational crime prevention planner.

Stages (data flows one way): :mod:`planner.io` (ingest) → :mod:`planner.grid` →
:mod:`planner.hotspots` → :mod:`planner.exposure` → :mod:`planner.risk` →
:mod:`planner.interventions` → :mod:`planner.evaluate` → :mod:`planner.export` /
:mod:`planner.maps`. :func:`planner.pipeline.run` composes them into a :class:`planner.plan.Plan`.
"""

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scp-planner")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
