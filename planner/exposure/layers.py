"""Layer specs: what each kind of environmental-design layer is and how it acts on a place.

Each kind is one TOML file in the top-level ``layers/`` folder of the source tree; the build copies
them into the package (``planner/layer_specs/``), so every install has them (:func:`bundled_layers_dir`
finds either). A file is parsed into a frozen, validated :class:`LayerSpec`. Users add a kind with a
folder of their own specs: ``load_registry(extra_dirs=[...])``, or for every registry loaded inside
``with user_layer_dirs([...]):`` (what ``--layers-dir`` and ``RunConfig.layer_dirs`` do); a layer of a
kind the registry does not know is adapted to a spec with :func:`map_layer`. :func:`known_layer_kinds` lists every kind a
run accepts with its meaning (``planner layers``), including :data:`EXTRA_KINDS` read without a spec.

A spec says the kind's **role** (``guardian``: lighting, cameras; ``generator``: bars, transit stops;
``access``: alley entrances, gates; ``context``: streets, buildings, disorder signals), how it
**acts** on a place (``coverage`` within a radius, ``nearest`` distance, ``density``, ``viewshed``,
or ``zonal`` statistics of a raster), its default influence radius in metres, the intervention ids
that address a deficit of it, optional attribute fields, and its map style. ``deficit = true`` marks
a layer whose features are a *lack* of a guardian (street-light outage reports).
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner import _hints
from planner.errors import LayerDefinitionError, ValidationError

logger = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Where the build puts the specs inside the package (setup.py copies layers/*.toml there).
INSTALLED_LAYERS_DIR = _PACKAGE_DIR / "layer_specs"
# The top-level folder of a source or editable checkout, next to the planner package.
SOURCE_LAYERS_DIR = _PACKAGE_DIR.parent / "layers"


def bundled_layers_dir() -> Path:
    """The folder of the shipped layer specs: inside an installed package ``planner/layer_specs/``,
    in a source or editable checkout the top-level ``layers/`` next to the ``planner`` package.

    Raises
    ------
    LayerDefinitionError
        When neither folder holds any ``*.toml`` spec (a broken install).
    """
    for folder in (INSTALLED_LAYERS_DIR, SOURCE_LAYERS_DIR):
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    raise LayerDefinitionError(
        f"The layer specs are missing: neither {INSTALLED_LAYERS_DIR} (installed package) nor "
        f"{SOURCE_LAYERS_DIR} (source checkout) holds *.toml files. Reinstall the planner "
        "(pip install scp-planner) or pass paths= to load_registry."
    )


def _default_layers_dir() -> Path:
    try:
        return bundled_layers_dir()
    except LayerDefinitionError:
        return INSTALLED_LAYERS_DIR  # load_registry raises the clear message when it is needed


LAYERS_DIR = _default_layers_dir()
_USER_DIRS: ContextVar[tuple[Path, ...]] = ContextVar("planner_user_layer_dirs", default=())


@contextmanager
def user_layer_dirs(dirs: Iterable[str | Path]) -> Iterator[tuple[Path, ...]]:
    """Inside the block, every :func:`load_registry` call also loads the specs in ``dirs``.

    This is how a run's ``layer_dirs`` (``--layers-dir``) reach every stage that reads the
    registry (exposure, risk terrain, recommendations, the map) without passing it down.

    Parameters
    ----------
    dirs : iterable of path
        Folders of user specs (``*.toml``), added after any already in effect (a folder already in
        effect is not added twice).

    Yields
    ------
    tuple of Path
        The folders in effect inside the block.
    """
    current = _USER_DIRS.get()
    folders = (*current, *(d for d in dict.fromkeys(Path(d) for d in dirs) if d not in current))
    token = _USER_DIRS.set(folders)
    try:
        yield folders
    finally:
        _USER_DIRS.reset(token)


# Kinds the planner reads without a spec: they are context for summaries and maps, not measured.
EXTRA_KINDS: dict[str, str] = {
    "wards": "Ward polygons (ward_id, name): hotspots and measures are labelled with their ward and "
    "the portfolio can require measures in every ward (--min-per-ward); not measured as exposure.",
    "land_use": "Land-use zones (zone: centre, residential, industrial, park): context on the map; "
    "not measured as exposure.",
}

GEOMETRY_TYPES = ("point", "line", "polygon", "raster")
ROLES = ("guardian", "generator", "access", "context")
ACTS_AS = ("coverage", "nearest", "density", "viewshed", "zonal")
# Okabe–Ito colour-blind-safe palette plus a neutral grey for context layers.
PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
    "#999999",
)
_SHAPELY_TYPES = {
    "point": {"Point", "MultiPoint"},
    "line": {"LineString", "MultiLineString", "LinearRing"},
    "polygon": {"Polygon", "MultiPolygon"},
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KNOWN_KEYS = {
    "name",
    "title",
    "description",
    "geometry_type",
    "role",
    "deficit",
    "acts_as",
    "radius_m",
    "units",
    "addressed_by",
    "risk_candidate",
    "fields",
    "style",
}
_FIELD_KEYS = {
    "id",
    "status",
    "working_values",
    "broken_values",
    "lumens",
    "height",
    "direction",
    "fov",
    "range",
    "default_fov_deg",
    "default_range_m",
    "kind",
    "kind_values",
}


@dataclass(frozen=True)
class LayerStyle:
    """How a layer is drawn: ``color`` (hex, colour-blind-safe palette), marker ``radius`` in
    pixels, line ``weight`` in pixels and an ``icon`` name (Font Awesome).
    """

    color: str
    radius: float = 3.0
    weight: float = 1.0
    icon: str = ""


@dataclass(frozen=True)
class LayerFields:
    """Optional attribute columns of a layer kind and the values they take.

    ``status`` with ``working_values`` / ``broken_values`` (lamps); ``direction`` (compass degrees,
    0 = north, clockwise), ``fov`` (degrees) and ``range`` (metres) for cameras, with defaults used
    when a column is missing; ``kind`` with ``kind_values`` (access-point kinds).
    """

    id: str | None = None
    status: str | None = None
    working_values: tuple[str, ...] = ()
    broken_values: tuple[str, ...] = ()
    lumens: str | None = None
    height: str | None = None
    direction: str | None = None
    fov: str | None = None
    range: str | None = None
    default_fov_deg: float = 360.0
    default_range_m: float | None = None
    kind: str | None = None
    kind_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """A validated layer kind (one ``layers/<name>.toml`` file).

    Attributes
    ----------
    name : str
        Kind name, equal to the file stem (``street_lights``).
    title, description : str
        Human-readable label and one-line explanation.
    geometry_type : {"point", "line", "polygon", "raster"}
    role : {"guardian", "generator", "access", "context"}
    acts_as : {"coverage", "nearest", "density", "viewshed", "zonal"}
    radius_m : float
        Default influence radius in metres (lamp light radius, camera range, walking distance).
    deficit : bool
        True when each feature is a *lack* of a guardian (outage reports): it counts as risk.
    units : str
        Units of raster values (``"lux"``).
    addressed_by : tuple of str
        Intervention ids that address a deficit of (or the risk from) this kind.
    risk_candidate : bool
        Whether the risk-terrain model tests this layer as a factor.
    fields : LayerFields
    style : LayerStyle
    path : Path or None
        The file the spec came from.
    """

    name: str
    title: str
    geometry_type: str
    role: str
    acts_as: str
    radius_m: float
    style: LayerStyle
    description: str = ""
    deficit: bool = False
    units: str = ""
    addressed_by: tuple[str, ...] = ()
    risk_candidate: bool = True
    fields: LayerFields = field(default_factory=LayerFields)
    path: Path | None = None


def _check_name(data: Mapping[str, Any], path: Path, problems: list[str]) -> str:
    name = data.get("name", "")
    if "name" in data and (not isinstance(name, str) or not _NAME.match(name)):
        problems.append(f"'name' must be a lower-case snake_case word, got {name!r}")
    elif "name" in data and name != path.stem:
        problems.append(f"'name' is {name!r} but the file is {path.name}; they must match")
    return str(name)


def _choice(data: Mapping[str, Any], key: str, options: tuple[str, ...], problems: list[str]) -> str:
    value = data.get(key)
    if key in data and value not in options:
        problems.append(f"'{key}' must be one of {list(options)}, got {value!r}")
    return str(value)


def _check_action(data: Mapping[str, Any], geometry_type: str, acts_as: str, problems: list[str]) -> float:
    """The influence radius in metres, checked against the geometry type and the way the layer acts."""
    radius = data.get("radius_m", 0.0)
    if "radius_m" in data and (isinstance(radius, bool) or not isinstance(radius, int | float) or radius < 0):
        problems.append(f"'radius_m' must be a number of metres ≥ 0, got {radius!r}")
        radius = 0.0
    if acts_as in {"coverage", "nearest", "density", "viewshed"} and geometry_type == "point" and radius <= 0:
        problems.append(f"'radius_m' must be > 0 for a point layer acting as {acts_as!r}")
    if acts_as == "zonal" and geometry_type != "raster":
        problems.append("'acts_as = \"zonal\"' needs 'geometry_type = \"raster\"'")
    if acts_as == "viewshed" and geometry_type != "point":
        problems.append("'acts_as = \"viewshed\"' needs 'geometry_type = \"point\"' (camera positions)")
    for key in ("deficit", "risk_candidate"):
        if key in data and not isinstance(data[key], bool):
            problems.append(f"'{key}' must be true or false, got {data[key]!r}")
    return float(radius)


def _parse_fields(raw_fields: Any, problems: list[str]) -> LayerFields:
    if not isinstance(raw_fields, Mapping):
        problems.append("'[fields]' must be a table")
        return LayerFields()
    bad = set(raw_fields) - _FIELD_KEYS
    if bad:
        problems.append(f"[fields] has unknown keys {sorted(bad)}; allowed: {sorted(_FIELD_KEYS)}")
        return LayerFields()
    fields = LayerFields()
    try:
        values = dict(raw_fields)
        for key in ("working_values", "broken_values", "kind_values"):
            if key in values:
                values[key] = tuple(str(v) for v in values[key])
        for key in ("default_fov_deg", "default_range_m"):
            if key in values:
                values[key] = float(values[key])
        fields = LayerFields(**values)
    except (TypeError, ValueError) as exc:
        problems.append(f"[fields] is malformed: {exc}")
    if fields.status and not fields.working_values:
        problems.append("[fields] 'status' needs 'working_values' (the values of a working lamp)")
    if not 0 < fields.default_fov_deg <= 360:
        problems.append(f"[fields] 'default_fov_deg' must lie in (0, 360], got {fields.default_fov_deg}")
    return fields


def _parse_style(data: Mapping[str, Any], problems: list[str]) -> LayerStyle:
    raw_style = data.get("style", {})
    if "style" not in data:
        return LayerStyle(color="#999999")
    if not isinstance(raw_style, Mapping) or "color" not in raw_style:
        problems.append("'[style]' must be a table with at least 'color'")
        return LayerStyle(color="#999999")
    color = str(raw_style["color"]).upper()
    if color not in PALETTE:
        problems.append(
            f"[style] 'color' {raw_style['color']!r} is not in the colour-blind-safe palette {list(PALETTE)}"
        )
    try:
        return LayerStyle(
            color=color,
            radius=float(raw_style.get("radius", 3.0)),
            weight=float(raw_style.get("weight", 1.0)),
            icon=str(raw_style.get("icon", "")),
        )
    except (TypeError, ValueError) as exc:
        problems.append(f"[style] is malformed: {exc}")
        return LayerStyle(color="#999999")


def _spec_from_mapping(data: Mapping[str, Any], *, path: Path) -> LayerSpec:
    """Validate one parsed TOML mapping; every problem is listed in one LayerDefinitionError."""
    problems: list[str] = []
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}; allowed: {sorted(_KNOWN_KEYS)}")
    problems += [
        f"'{key}' is missing"
        for key in ("name", "title", "geometry_type", "role", "acts_as", "radius_m", "style")
        if key not in data
    ]
    name = _check_name(data, path, problems)
    geometry_type = _choice(data, "geometry_type", GEOMETRY_TYPES, problems)
    role = _choice(data, "role", ROLES, problems)
    acts_as = _choice(data, "acts_as", ACTS_AS, problems)
    radius = _check_action(data, geometry_type, acts_as, problems)
    addressed = data.get("addressed_by", [])
    if not isinstance(addressed, list) or not all(isinstance(a, str) and _NAME.match(a) for a in addressed):
        problems.append(f"'addressed_by' must be a list of intervention ids, got {addressed!r}")
        addressed = []
    fields = _parse_fields(data.get("fields", {}), problems)
    style = _parse_style(data, problems)
    if problems:
        raise LayerDefinitionError(
            f"The layer spec {path} is not valid. Fix these fields:", problems=problems
        )
    return LayerSpec(
        name=name,
        title=str(data["title"]),
        description=str(data.get("description", "")),
        geometry_type=geometry_type,
        role=role,
        acts_as=acts_as,
        radius_m=radius,
        deficit=bool(data.get("deficit", False)),
        units=str(data.get("units", "")),
        addressed_by=tuple(addressed),
        risk_candidate=bool(data.get("risk_candidate", role != "context")),
        fields=fields,
        style=style,
        path=path,
    )


def read_spec(path: str | Path) -> LayerSpec:
    """Parse and validate one layer-spec TOML file.

    Raises
    ------
    LayerDefinitionError
        Naming the file and every bad field (or the TOML syntax error).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise LayerDefinitionError(f"Cannot read the layer spec {path}: {exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise LayerDefinitionError(
            f"The layer spec {path} is not valid TOML ({exc}). Check quotes and brackets."
        ) from exc
    return _spec_from_mapping(data, path=path)


def load_registry(
    paths: Iterable[str | Path] | None = None, *, extra_dirs: Iterable[str | Path] = ()
) -> dict[str, LayerSpec]:
    """Load every layer spec into a ``{name: LayerSpec}`` registry.

    Parameters
    ----------
    paths : iterable of path, optional
        Spec files to load instead of the bundled ones (:func:`bundled_layers_dir`).
    extra_dirs : iterable of path
        Folders of user specs (``*.toml``) loaded after the bundled ones and after those of an
        enclosing :func:`user_layer_dirs`; a user file with the same name as a bundled kind
        replaces it (logged).

    Returns
    -------
    dict of str to LayerSpec, sorted by name.
    """
    files = sorted(bundled_layers_dir().glob("*.toml")) if paths is None else [Path(p) for p in paths]
    for entry in (*_USER_DIRS.get(), *extra_dirs):
        folder = Path(entry)
        if not folder.is_dir():
            option = _hints.hint("layer_dirs=[...] (or extra_dirs=[...])", "--layers-dir DIR")
            raise LayerDefinitionError(
                f"The layer-spec folder {folder} does not exist or is not a folder. Give a folder of "
                f"*.toml layer specs as {option}."
            )
        files += sorted(folder.glob("*.toml"))
    registry: dict[str, LayerSpec] = {}
    for path in files:
        spec = read_spec(path)
        if spec.name in registry:
            logger.info("layer spec %s replaces %s", path, registry[spec.name].path)
        registry[spec.name] = spec
    return dict(sorted(registry.items()))


def map_layer(
    gdf: gpd.GeoDataFrame,
    spec_name: str,
    *,
    columns: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[Any, Any]] | None = None,
    registry: Mapping[str, LayerSpec] | None = None,
) -> gpd.GeoDataFrame:
    """Adapt a user's layer to a known kind: rename its columns and check its geometry.

    Parameters
    ----------
    gdf : GeoDataFrame
        The user's layer, in any CRS (the CRS is kept).
    spec_name : str
        The kind to map onto, e.g. ``"street_lights"`` or ``"street_light_outages"``.
    columns : mapping, optional
        User column → spec column, e.g. ``{"STATUS": "status", "OBJECTID": "lamp_id"}``.
    values : mapping, optional
        Per spec column, a recoding of values, e.g. ``{"status": {"OUT": "broken", "ON": "working"}}``.
    registry : mapping, optional
        Registry to use (default :func:`load_registry`).

    Returns
    -------
    GeoDataFrame
        A new frame with renamed columns and ``attrs["layer_kind"] = spec_name``.

    Raises
    ------
    ValidationError
        Listing every problem (unknown kind, missing columns, wrong geometry type).
    """
    registry = registry if registry is not None else load_registry()
    problems: list[str] = []
    spec = registry.get(spec_name)
    if spec is None:
        raise ValidationError(
            f"There is no layer kind {spec_name!r}. Choose one of {sorted(registry)} or add a "
            f"{spec_name}.toml spec (load_registry(extra_dirs=[...]))."
        )
    columns = dict(columns or {})
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        problems.append(f"columns {missing} are not in the layer (it has {list(gdf.columns)})")
    if spec.geometry_type == "raster":
        problems.append(f"{spec_name!r} is a raster kind; read it with planner.surface.read_surface")
    elif len(gdf):
        types = set(gdf.geometry.geom_type.dropna().unique())
        wrong = types - _SHAPELY_TYPES[spec.geometry_type]
        if wrong:
            problems.append(
                f"{spec_name!r} needs {spec.geometry_type} geometries but the layer has {sorted(wrong)}"
            )
    if problems:
        raise ValidationError(f"The layer cannot be mapped onto {spec_name!r}:", problems=problems)
    out = gdf.rename(columns=columns)
    for col, recode in (values or {}).items():
        if col not in out.columns:
            raise ValidationError(f"values= recodes column {col!r} but the mapped layer has no such column.")
        out[col] = out[col].map(lambda v, r=recode: r.get(v, v))
    out.attrs = {**gdf.attrs, "layer_kind": spec_name}
    return out


def known_layer_kinds(registry: Mapping[str, LayerSpec] | None = None) -> dict[str, str]:
    """Every layer kind a run accepts → what it is (the spec's title and description, or the note of
    an :data:`EXTRA_KINDS` kind read without a spec), sorted by kind.
    """
    registry = registry if registry is not None else load_registry()
    kinds = {name: f"{spec.title}: {spec.description}".rstrip(": ") for name, spec in registry.items()}
    kinds.update({k: v for k, v in EXTRA_KINDS.items() if k not in kinds})
    return dict(sorted(kinds.items()))


__all__ = [
    "EXTRA_KINDS",
    "INSTALLED_LAYERS_DIR",
    "LAYERS_DIR",
    "SOURCE_LAYERS_DIR",
    "LayerFields",
    "LayerSpec",
    "LayerStyle",
    "bundled_layers_dir",
    "known_layer_kinds",
    "load_registry",
    "map_layer",
    "read_spec",
    "user_layer_dirs",
]
