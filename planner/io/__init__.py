"""Ingest: read incidents and environmental layers from any common source, never losing a row.

Modules: ``sources`` (open a file or PostGIS table as a table), ``detect`` (column roles and the
coordinates' CRS), ``dates`` (date/time parsing), ``categories`` (offence names), ``incidents``
(:func:`read_incidents`: validate, quarantine, report), ``layers`` (environmental layers and
rasters), ``fitness`` (what the data can support). Row checks live in :mod:`planner._validate`.
"""

from planner.io.categories import normalise_category
from planner.io.dates import parse_dates
from planner.io.detect import ROLE_NAMES, detect_columns
from planner.io.incidents import IngestReport, IngestResult, read_incidents
from planner.io.layers import read_layer, read_layers, read_raster, split_layer_ref
from planner.io.sources import engine_url, read_table, source_name

__all__ = [
    "ROLE_NAMES",
    "IngestReport",
    "IngestResult",
    "detect_columns",
    "engine_url",
    "normalise_category",
    "parse_dates",
    "read_incidents",
    "read_layer",
    "read_layers",
    "read_raster",
    "read_table",
    "source_name",
    "split_layer_ref",
]
