"""Ingest: read incidents and environmental layers from any common source, never losing a row.

Modules: ``sources`` (open a file or PostGIS table as a table), ``profile`` (what each column's
values look like), ``detect`` (column roles from values, names breaking ties), ``coords`` (the
coordinates and the CRS they are written in), ``dates`` (date and time parsing and combining),
``categories`` (publishers' offence names mapped onto categories, ``category_map.toml``),
``locations`` (publishers' place types mapped onto place-type keys, ``location_types.toml``),
``incidents`` (:func:`read_incidents`: validate, quarantine, report), ``layers`` (environmental
layers and rasters), ``fitness`` (what the data can support). Row checks live in
:mod:`planner._validate`.
"""

from planner.io.categories import CategoryMap, load_category_map, normalise_category
from planner.io.dates import parse_dates
from planner.io.detect import ROLE_NAMES, ROLES, Detection, detect_columns, detect_roles
from planner.io.incidents import IngestReport, IngestResult, read_incidents
from planner.io.layers import LayerRef, parse_layer_ref, read_layer, read_layers, read_raster, split_layer_ref
from planner.io.locations import PlaceVocabulary, location_keys, place_vocabulary
from planner.io.sources import engine_url, read_table, source_name

__all__ = [
    "ROLES",
    "ROLE_NAMES",
    "CategoryMap",
    "Detection",
    "IngestReport",
    "IngestResult",
    "LayerRef",
    "PlaceVocabulary",
    "detect_columns",
    "detect_roles",
    "engine_url",
    "load_category_map",
    "location_keys",
    "normalise_category",
    "parse_dates",
    "parse_layer_ref",
    "place_vocabulary",
    "read_incidents",
    "read_layer",
    "read_layers",
    "read_raster",
    "read_table",
    "source_name",
    "split_layer_ref",
]
