"""Jurisdictions: which country's money, cost-of-crime table, measures and law apply to a study area.

The data file ``jurisdictions.toml`` holds, per jurisdiction (UK, US, Canada), the currency and the
price year every money figure is shown in, the price index used to inflate the cost tables (with
how it was checked), the cost-of-crime table, measures that do not exist there (Secured by Design
is UK-only) and plain-language legal and privacy notes. The jurisdiction is found from the study
area's longitude/latitude against coarse offline outlines, or named by the user. Outside every
outline, or within :data:`BORDER_MARGIN_KM` of another jurisdiction's outline, nothing is costed and
the reason says why: costs in a currency that does not belong to the place would mislead.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from planner.errors import ConfigError, ValidationError

#: A study area closer than this to another jurisdiction's (coarse) outline is ambiguous.
BORDER_MARGIN_KM = 10.0
#: Values accepted for ``RunConfig.jurisdiction`` besides the codes in the data file.
AUTO, NONE = "auto", "none"
_KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class PriceIndex:
    """Annual price index of one currency (``values``: year → index), with its source and check."""

    series: str
    source: str
    verification: str
    check: str
    values: dict[int, float]

    def factor(self, from_year: int, to_year: int) -> float:
        """Multiplier taking money of ``from_year`` to ``to_year`` prices."""
        missing = [y for y in (from_year, to_year) if y not in self.values]
        if missing:
            raise ConfigError(
                f"The price index {self.series!r} has no value for {missing}; it covers "
                f"{sorted(self.values)}. Choose a price year among those (price_year=...)."
            )
        return self.values[to_year] / self.values[from_year]


@dataclass(frozen=True)
class Conversion:
    """A labelled currency conversion of a cost table that belongs to another country."""

    from_currency: str
    rate: float
    source: str
    verification: str
    note: str


@dataclass(frozen=True)
class Jurisdiction:
    """One jurisdiction (see ``jurisdictions.toml`` for the meaning of every field)."""

    code: str
    name: str
    currency: str
    price_year: int
    crime_costs: str
    price_index: PriceIndex
    unavailable: dict[str, str]
    notes: dict[str, str]
    outlines: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    conversion: Conversion | None = None

    def note(self, key: str) -> str:
        """The legal/privacy note of kind ``key`` ('' when there is none)."""
        return self.notes.get(key, "")


@dataclass(frozen=True)
class ExchangeRate:
    """``rate`` units of ``to_currency`` per unit of ``from_currency`` in ``year``."""

    from_currency: str
    to_currency: str
    year: int
    rate: float
    source: str
    verification: str


@dataclass(frozen=True)
class JurisdictionChoice:
    """The jurisdiction that applies (``None``: none does) and how it was chosen."""

    jurisdiction: Jurisdiction | None
    how: str
    lonlat: tuple[float, float] | None = None

    @property
    def code(self) -> str | None:
        """Code of the chosen jurisdiction, or ``None``."""
        return self.jurisdiction.code if self.jurisdiction is not None else None


def data_path() -> Path:
    """Path of the jurisdictions TOML shipped with the package."""
    return Path(str(resources.files("planner.interventions").joinpath("jurisdictions.toml")))


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict[str, Jurisdiction], tuple[ExchangeRate, ...]]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    problems: list[str] = []
    out: dict[str, Jurisdiction] = {}
    for i, raw in enumerate(data.get("jurisdiction", [])):
        try:
            item = _parse_jurisdiction(raw)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{path}: jurisdiction {i + 1}: {exc!r}; fix the entry")
            continue
        out[item.code] = item
    rates = []
    for raw in data.get("exchange", []):
        try:
            rates.append(
                ExchangeRate(
                    str(raw["from_currency"]),
                    str(raw["to_currency"]),
                    int(raw["year"]),
                    float(raw["rate"]),
                    str(raw["source"]),
                    str(raw["verification"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{path}: exchange rate {raw!r}: {exc!r}")
    if problems or not out:
        raise ValidationError("The jurisdiction data file is invalid.", problems=problems or ["no entries"])
    return out, tuple(rates)


def _parse_jurisdiction(raw: dict[str, Any]) -> Jurisdiction:
    pi = raw["price_index"]
    index = PriceIndex(
        series=str(pi["series"]),
        source=str(pi["source"]),
        verification=str(pi["verification"]),
        check=str(pi["check"]),
        values={int(k): float(v) for k, v in pi["values"].items()},
    )
    conv = raw.get("conversion")
    conversion = (
        Conversion(
            str(conv["from_currency"]),
            float(conv["rate"]),
            str(conv["source"]),
            str(conv["verification"]),
            str(conv["note"]),
        )
        if conv
        else None
    )
    outlines = tuple(shapely.Polygon(o["ring"]) for o in raw.get("outline", []))
    if not outlines or not all(p.is_valid for p in outlines):
        raise ValueError("every outline ring must be a valid polygon of [lon, lat] pairs")
    return Jurisdiction(
        code=str(raw["code"]),
        name=str(raw["name"]),
        currency=str(raw["currency"]),
        price_year=int(raw["price_year"]),
        crime_costs=str(raw["crime_costs"]),
        price_index=index,
        unavailable={str(k): str(v) for k, v in (raw.get("unavailable") or {}).items()},
        notes={str(k): str(v) for k, v in (raw.get("notes") or {}).items()},
        outlines=outlines,
        conversion=conversion,
    )


def load_jurisdictions() -> dict[str, Jurisdiction]:
    """Every jurisdiction in the shipped data file, by code."""
    return _load(str(data_path()))[0]


def exchange_rate(from_currency: str, to_currency: str) -> ExchangeRate:
    """The labelled rate from one currency to another (direct, inverse, or chained once)."""
    if from_currency == to_currency:
        return ExchangeRate(from_currency, to_currency, 0, 1.0, "same currency", "exact")
    rates = _load(str(data_path()))[1]
    table: dict[tuple[str, str], ExchangeRate] = {}
    for r in rates:
        table[(r.from_currency, r.to_currency)] = r
        table[(r.to_currency, r.from_currency)] = ExchangeRate(
            r.to_currency, r.from_currency, r.year, 1.0 / r.rate, r.source, r.verification
        )
    if (from_currency, to_currency) in table:
        return table[(from_currency, to_currency)]
    for (a, b), first in table.items():
        if a == from_currency and (b, to_currency) in table:
            second = table[(b, to_currency)]
            return ExchangeRate(
                from_currency,
                to_currency,
                first.year,
                first.rate * second.rate,
                f"{first.source}; then {second.source}",
                "unverified",
            )
    raise ConfigError(
        f"No exchange rate from {from_currency} to {to_currency} is known; choose currency= among "
        f"{sorted({r.from_currency for r in rates} | {r.to_currency for r in rates})}."
    )


def price_index_for(currency: str) -> PriceIndex:
    """The price index of the jurisdiction whose own currency is ``currency``."""
    for j in load_jurisdictions().values():
        if j.currency == currency and j.conversion is None:
            return j.price_index
    raise ConfigError(f"No price index is known for {currency}; give costs in GBP or USD.")


def get_jurisdiction(code: str) -> Jurisdiction:
    """The jurisdiction with ``code`` (``UK``, ``US``, ``CA``); a clear error otherwise."""
    known = load_jurisdictions()
    key = code.strip().upper()
    if key == "GB":
        key = "UK"
    if key not in known:
        raise ConfigError(
            f"Unknown jurisdiction {code!r}; use one of {sorted(known)}, {AUTO!r} (from the data's "
            f"location) or {NONE!r} (no costs), e.g. --jurisdiction US."
        )
    return known[key]


def _distance_km(poly: Any, lon: float, lat: float) -> float:
    """Approximate distance (km) from a point to a lon/lat polygon (longitude scaled by cos(lat))."""
    scale = math.cos(math.radians(lat))
    coords = np.asarray(poly.exterior.coords)
    local = shapely.Polygon(np.c_[(coords[:, 0] - lon) * scale, coords[:, 1] - lat])
    return float(local.exterior.distance(shapely.Point(0.0, 0.0))) * _KM_PER_DEGREE


def jurisdiction_at(lon: float, lat: float) -> JurisdictionChoice:
    """The jurisdiction containing (lon, lat), or none with the reason (outside, or near a border)."""
    known = load_jurisdictions()
    point = shapely.Point(lon, lat)
    inside = [j for j in known.values() if any(p.covers(point) for p in j.outlines)]
    where = f"({lon:.3f}, {lat:.3f})"
    if not inside:
        return JurisdictionChoice(
            None,
            f"the study area at lon/lat {where} lies outside the built-in outlines of "
            f"{', '.join(j.name for j in known.values())}, so no cost table, currency or law is applied; "
            "name one with --jurisdiction if it applies",
            (lon, lat),
        )
    home = inside[0]
    near = [
        j
        for j in known.values()
        if j.code != home.code
        and (j in inside or min(_distance_km(p, lon, lat) for p in j.outlines) < BORDER_MARGIN_KM)
    ]
    if near:
        return JurisdictionChoice(
            None,
            f"the study area at lon/lat {where} lies within {BORDER_MARGIN_KM:g} km of the "
            f"{home.name}–{near[0].name} border of the built-in (coarse) outlines, so the jurisdiction "
            "is ambiguous; name it with --jurisdiction",
            (lon, lat),
        )
    return JurisdictionChoice(home, f"detected from the study area's location, lon/lat {where}", (lon, lat))


def study_area_lonlat(frame: Any) -> tuple[float, float]:
    """Longitude/latitude of the centre of ``frame``'s bounding box (any CRS with a definition)."""
    if frame.crs is None:
        raise ConfigError(
            "The hotspots have no CRS, so their location (and jurisdiction) is unknown; give "
            "jurisdiction='UK'|'US'|'CA' or set the CRS."
        )
    minx, miny, maxx, maxy = frame.total_bounds
    to_ll = Transformer.from_crs(CRS.from_user_input(frame.crs), CRS.from_epsg(4326), always_xy=True)
    lon, lat = to_ll.transform((minx + maxx) / 2, (miny + maxy) / 2)
    return float(lon), float(lat)


def choose_jurisdiction(frame: Any, *, override: str | None = None) -> JurisdictionChoice:
    """The jurisdiction for a study area (``frame``: hotspots or incidents) or the user's override.

    Parameters
    ----------
    frame : GeoDataFrame
        Geometries of the study area in any CRS (their bounding-box centre is used).
    override : str, optional
        ``UK``, ``US``, ``CA``, ``auto`` / ``None`` (from the location) or ``none`` (no costs).
    """
    if override is not None and override.strip().lower() == NONE:
        return JurisdictionChoice(
            None, "no jurisdiction, as requested (jurisdiction='none'): nothing is costed"
        )
    if override is not None and override.strip().lower() != AUTO:
        j = get_jurisdiction(override)
        return JurisdictionChoice(j, f"given by the user (jurisdiction={j.code!r})")
    if len(frame) == 0:
        return JurisdictionChoice(None, "no hotspots, so no location to choose a jurisdiction from")
    lon, lat = study_area_lonlat(frame)
    return jurisdiction_at(lon, lat)


__all__ = [
    "AUTO",
    "BORDER_MARGIN_KM",
    "NONE",
    "Conversion",
    "ExchangeRate",
    "Jurisdiction",
    "JurisdictionChoice",
    "PriceIndex",
    "choose_jurisdiction",
    "exchange_rate",
    "get_jurisdiction",
    "jurisdiction_at",
    "load_jurisdictions",
    "price_index_for",
    "study_area_lonlat",
]
