"""Exports: the working files of ``planner run`` and publishable exports with privacy levels.

Modules, by what they do:

- :mod:`planner.export.plan_files` — ``plan.gpkg``/surfaces/manifest of a run and :func:`read_plan`;
- :mod:`planner.export.privacy` — the ``public`` view of a plan (k-suppression, rounding, vertex
  clearance from incident locations);
- :mod:`planner.export.formats` — one writer per file format;
- :mod:`planner.export.styles` — QGIS/SLD styles stored in the GeoPackage's ``layer_styles``;
- :mod:`planner.export.brief` — the printable brief (HTML and PDF);
- :mod:`planner.export.publish` — :func:`export_plan` and :func:`export_zip`, used by the CLI and the
  dashboard alike.
"""

from planner.export.plan_files import (
    plan_tables,
    read_plan,
    run_outputs_zip,
    write_layer,
    write_manifest,
    write_plan_data,
    write_run_outputs,
)
from planner.export.publish import FORMATS, export_plan, export_zip
from planner.export.stage_files import write_exposure_outputs, write_risk_outputs, write_table

__all__ = [
    "FORMATS",
    "export_plan",
    "export_zip",
    "plan_tables",
    "read_plan",
    "run_outputs_zip",
    "write_exposure_outputs",
    "write_layer",
    "write_manifest",
    "write_plan_data",
    "write_risk_outputs",
    "write_run_outputs",
    "write_table",
]
