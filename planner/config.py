"""Validated run configuration: every parameter of a run, in one object that reproduces it.

A :class:`RunConfig` is built from CLI options, a TOML/JSON config file, or a previous run's
``manifest.json`` (its ``config`` block, with the automatically chosen values filled in), so
``planner run --config manifest.json`` reproduces the same tables.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planner.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data"


class RunConfig(BaseModel):
    """Every parameter of a planner run. ``None`` means "choose automatically and record it"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    incidents: str | None = Field(
        None, description="Incident file, PostGIS URL, or None for the sample city."
    )
    crs: str | None = Field(None, description="CRS of bare coordinates in the incident file.")
    default_category: str | None = Field(
        None, description="Category of incidents without one (e.g. 'burglary' for a burglaries-only file)."
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Column role → source column overrides."
    )
    drop_duplicates: bool = Field(
        False, description="Quarantine exact duplicate records (same place, time and category)."
    )
    analysis_crs: str | None = Field(
        None, description="Projected metric CRS for the run; default: automatic."
    )
    boundary: str | None = Field(
        None, description="Study-area polygon file; default: sample city or incident hull."
    )
    layers: dict[str, str] = Field(
        default_factory=dict,
        description="Layer kind → FILE[::LAYER][@CRS]; @CRS (e.g. @EPSG:2263) is the CRS of bare x/y "
        "coordinates in that layer's file.",
    )
    layer_dirs: list[str] = Field(
        default_factory=list,
        description="Folders of the user's own layer specs (*.toml, one per kind), added to the shipped "
        "ones in layers/; a spec with a shipped kind's name replaces it.",
    )
    category_map: list[str] = Field(
        default_factory=list,
        description="User category-map TOML files (publishers' offence names → categories), tried "
        "before the shipped map.",
    )
    audits: str | None = Field(
        None,
        description="Safety-audit points (CSV/GeoJSON/...) for perceived-safety surfaces; default: the "
        "sample city's audits when using the sample city, none otherwise; 'none' switches them off.",
    )
    audits_crs: str | None = Field(None, description="CRS of bare x/y coordinates in the audit file.")
    categories: list[str] | None = Field(None, description="Only these categories (default: all).")
    date_from: str | None = Field(None, description="Keep incidents with occurred_at ≥ this date.")
    date_to: str | None = Field(None, description="Keep incidents with occurred_at < this date.")
    attribute_filters: dict[str, list[str]] = Field(
        default_factory=dict, description="Source column → values to keep (e.g. location_type)."
    )
    cell_size_m: float | None = Field(None, gt=0)
    grid_kind: Literal["square", "hex"] = "square"
    kernel: Literal["quartic", "gaussian", "epanechnikov"] = "quartic"
    bandwidth_m: float | None = Field(None, gt=0)
    neighbourhood: Literal["queen", "rook"] = "queen"
    fdr: Literal["bh", "by", "bonferroni", "none"] = "bh"
    q: float = Field(0.05, gt=0, lt=1)
    min_bin: int = Field(
        2, ge=1, le=3, description="Gi* bin (confidence level) a cell needs to join a hotspot."
    )
    max_hotspot_cells: int | None = Field(
        16,
        ge=1,
        description="Hot areas of more cells are split at their peaks into places small enough to act on; "
        "None keeps every connected hot area whole.",
    )
    hotspot_surface: Literal["auto", "gistar"] = Field(
        "auto",
        description="Which surface picks the hotspot cells: 'auto' = the one that best predicted a later year "
        "in a rolling yearly backtest (when dates allow), 'gistar' = always the Gi* significance rule.",
    )
    hotspot_split_by: Literal["kde", "gi_z", "n_incidents"] = Field(
        "kde", description="Cell value whose peaks split large hot areas."
    )
    risk_distances_m: tuple[float, ...] | None = Field(
        None,
        description="Distances (metres) at which risk-terrain factors are tested; default ¼, ½, ¾, 1, 1½, 2, 3, "
        "4, 6 and 8 risk cells, the one that fits is chosen by spatially blocked cross-validation.",
    )
    risk_cell_size_m: float | None = Field(
        None,
        gt=0,
        description="Cell size (metres) of the risk terrain's own grid; default the smallest of 50/75/100 m "
        "with at most 40,000 cells.",
    )
    risk_zones: str | None = Field(
        "land_use",
        description="Polygon layer of zones (land use) whose shares are the risk terrain's baseline.",
    )
    risk_min_incidents: int = Field(
        100,
        ge=10,
        description="Crime types with fewer incidents are not given a risk-terrain model of their own.",
    )
    risk_family: Literal["auto", "poisson", "negative_binomial"] = Field(
        "auto", description="Count model of the risk terrain: chosen by BIC, or fixed."
    )
    budget: float | None = Field(None, ge=0)
    objective: Literal["net_benefit", "prevented"] = Field(
        "net_benefit", description="What the portfolio maximises: expected net benefit or crimes prevented."
    )
    max_surveillance_share: float | None = Field(
        None, ge=0, le=1, description="Cap on the share of the budget spent on surveillance (cameras)."
    )
    min_per_ward: int | None = Field(
        None,
        ge=0,
        description="At least this many chosen measures in every ward with a hotspot (needs a wards layer).",
    )
    jurisdiction: Literal["auto", "UK", "US", "CA", "none"] = Field(
        "auto",
        description="Whose costs, currency and law apply: 'auto' from the study area's location, a code, "
        "or 'none' (nothing costed).",
    )
    currency: Literal["GBP", "USD", "CAD"] | None = Field(
        None, description="Currency of costs and benefits; default: the jurisdiction's own."
    )
    price_year: int | None = Field(
        None, description="Price year of costs and benefits; default: the jurisdiction's (2024)."
    )
    rank_by: Literal["net_benefit_per_cost", "net_benefit", "bcr", "prevented", "p_benefit_exceeds_cost"] = (
        Field(
            "net_benefit_per_cost",
            description="How measures are ranked within a hotspot (default: expected net benefit per unit cost).",
        )
    )
    allow_access_restriction: bool = False
    allow_surveillance_priority: bool = False
    privacy: Literal["public", "internal"] = "internal"
    k_min: int = Field(5, ge=1)
    seed: int = 20261128
    engine: Literal["memory", "dask"] = Field(
        "memory",
        description="'memory' (one process) or 'dask' (ingest, grid counts and exposure on distributed).",
    )
    scheduler: str | None = Field(
        None, description="Dask scheduler address for engine='dask' (default: a local cluster)."
    )

    @field_validator("layers")
    @classmethod
    def _layer_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        for kind in value:
            if not kind.replace("_", "").isalnum():
                raise ValueError(f"layer kind {kind!r} must be a simple name like 'street_lights'")
        return value

    @property
    def uses_sample_city(self) -> bool:
        """True when the run uses the bundled sample city."""
        return self.incidents is None


def config_from_mapping(values: dict[str, Any], *, source: str = "options") -> RunConfig:
    """Validate ``values`` into a :class:`RunConfig`; every problem is listed in one ConfigError."""
    try:
        return RunConfig(**values)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        ]
        raise ConfigError(f"Invalid configuration in {source}.", problems=problems) from None


def load_config(path: str | Path, **overrides: Any) -> RunConfig:
    """Read a TOML or JSON config file, or a ``manifest.json`` written by a previous run.

    Options given in ``overrides`` (not ``None``) win over the file.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"Config file {path} does not exist. Give the path of a .toml or .json file.")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Config file {path} could not be parsed: {exc}. Fix the syntax.") from None
    if isinstance(data, dict) and "config" in data and "planner_version" in data:
        data = data["config"]  # a manifest: reuse its resolved config
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must hold a table/object of options.")
    data = {**data, **{k: v for k, v in overrides.items() if v is not None and v != {}}}
    return config_from_mapping(data, source=str(path))
