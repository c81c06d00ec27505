"""Mechanism before effect: which of a hotspot's crimes a measure's mechanism can reach.

A measure's effect applies only to the crimes its mechanism reaches, measured from the data and the
layers (catalogue field ``reach``):

* ``car_park``: crimes whose place type is ``car_park`` (the incidents' ``location_type`` mapped by
  the place-type vocabulary, :mod:`planner.io.locations`), or that lie within
  :data:`CAR_PARK_NEAR_M` of a ``car_parks`` polygon. Without either source it is not offered.
* ``night_unlit``: night-time crimes (``planner._hours``) in under-lit places: below
  :data:`UNDERLIT_LUX` on a lux raster, else no working lamp within :data:`UNLIT_LAMP_DISTANCE_M`, else
  the hotspot's unlit street share. With no hour of day the night share is *estimated* from
  :data:`NIGHT_SHARE_DEFAULT` (a sourced default with an interval) and the row says so. Estimating
  rather than withholding the measure ("needs time of day") was chosen because month-resolution
  open data (police.uk) would otherwise never be offered lighting; the Beta-distributed default
  carries the doubt into the intervals and the ranking.
* ``residential_burglary``: burglaries at dwellings (place type ``dwelling``; without a place-type
  column every burglary is taken as residential, stated). ``new_dwellings``: burglaries expected in
  planned new dwellings.
* ``all``: every evidenced crime, times the measure's ``[scope]`` share when given.

Uncertainty of the reached share is carried as a product of Beta factors (Jeffreys priors on the
measured counts, a fitted Beta for the night-share default) and a fixed multiplier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planner import _hints
from planner._hours import NIGHT_LABEL, has_time_of_day, night_flags, unknown_time_of
from planner._period import period_years, year_index
from planner.interventions.catalog import Intervention
from planner.io.locations import location_keys

logger = logging.getLogger(__name__)

CAR_PARK_NEAR_M = 25.0
UNDERLIT_LUX = 2.0
UNLIT_LAMP_DISTANCE_M = 40.0
M2_PER_DWELLING_FOOTPRINT = 60.0
DWELLINGS_PER_HECTARE = 25.0
#: Night share of property crime when the hour of day is unknown: mean and 90% interval.
NIGHT_SHARE_DEFAULT = (0.45, 0.30, 0.60)
NIGHT_SHARE_SOURCE = (
    "hour of day unknown, so the night share is estimated at 45% (90% interval 30-60%): US National "
    "Crime Survey household burglaries were 'about evenly divided between day and night' (BJS 1985, NCJ "
    "96021) and the CSEW puts two-fifths of thefts from dwellings and three-fifths of thefts outside "
    "them in the evening or night (ONS, 18:00-06:00); record times to measure it"
)


GROUP_COLUMNS = ("victim_sex", "victim_age_band")  # victim groups (planner.io.groups), when known


@dataclass(frozen=True)
class IncidentFlags:
    """Incidents inside hotspots with the per-incident facts the reach rules need.

    ``frame`` columns: ``hotspot_id``, ``category``, ``location`` (place type, e.g. ``car_park``;
    NA when unknown),
    ``night`` (boolean, NA when the hour is unknown), ``at_car_park`` and ``under_lit`` (boolean, NA
    when the data cannot tell), ``year`` (whole years since the first incident).
    """

    frame: pd.DataFrame
    car_park_method: str | None
    under_lit_method: str | None
    has_hours: bool
    full_years: int
    layers: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Reach:
    """The crimes a measure reaches in one hotspot, and how that was measured."""

    evidenced: int
    reached: float
    factors: tuple[tuple[float, float], ...]
    multiplier: float
    method: str
    yearly: np.ndarray
    mix: pd.Series
    time_of_day: str = "not used"
    notes: tuple[str, ...] = field(default=())
    xy: np.ndarray | None = field(default=None, repr=False)
    rows: pd.Index | None = field(default=None, repr=False)  # the reached incidents' labels in flags.frame

    def sites(self, size_m: float) -> int | None:
        """Distinct ``size_m`` squares holding a reached crime (``None`` without positions)."""
        if self.xy is None or not len(self.xy):
            return None
        return len(np.unique(np.floor(self.xy / size_m).astype(np.int64), axis=0))

    @property
    def share(self) -> float:
        """Point estimate of the reached share of the evidenced crimes."""
        out = self.multiplier
        for a, b in self.factors:
            out *= a / (a + b)
        return float(out)

    def share_draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Monte Carlo draws of the reached share (product of Beta factors times the multiplier)."""
        out = np.full(n, self.multiplier)
        for a, b in self.factors:
            out *= rng.beta(a, b, n)
        return out


def _place_types(incidents: pd.DataFrame) -> pd.Series:
    """The incidents' place types (:mod:`planner.io.locations` keys; the keys map onto themselves,
    so ingested incidents keep theirs and a publisher's values given directly are mapped); NA where
    unknown or without a ``location_type`` column.
    """
    if "location_type" not in incidents.columns:
        return pd.Series(pd.NA, index=incidents.index, dtype="string")
    loc = incidents["location_type"].astype("string")
    return location_keys(loc.mask(loc.str.strip().str.lower().isin(["nan", "none"])))


def _near_polygons(points: np.ndarray, polygons: gpd.GeoDataFrame, distance_m: float) -> np.ndarray:
    pts = shapely.points(points)
    hit, _ = shapely.STRtree(np.asarray(polygons.geometry.values)).query(
        pts, predicate="dwithin", distance=distance_m
    )
    out = np.zeros(len(points), dtype=bool)
    out[hit] = True
    return out


def _raster_dark(xy: np.ndarray, surface: Any) -> np.ndarray:
    """1.0 below UNDERLIT_LUX on the raster, 0.0 above, NaN outside it."""
    arr = np.asarray(surface.array, dtype=float)
    inv = ~surface.transform  # pixel (col, row) from map (x, y)
    cols = np.floor(inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c).astype(np.int64)
    rows = np.floor(inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f).astype(np.int64)
    inside = (rows >= 0) & (rows < arr.shape[0]) & (cols >= 0) & (cols < arr.shape[1])
    lux = np.full(len(xy), np.nan)
    lux[inside] = arr[rows[inside], cols[inside]]
    return np.where(np.isnan(lux), np.nan, (lux < UNDERLIT_LUX).astype(float))


def _lamp_dark(xy: np.ndarray, lamps: gpd.GeoDataFrame) -> np.ndarray:
    """1.0 where no working lamp stands within UNLIT_LAMP_DISTANCE_M, else 0.0."""
    from planner.exposure import lamp_status
    from planner.exposure.layers import load_registry

    working = lamp_status(lamps, load_registry()["street_lights"])
    coords = shapely.get_coordinates(np.asarray(lamps.geometry.values)[working])
    if not len(coords):
        return np.ones(len(xy))
    dist, _ = cKDTree(coords).query(xy)
    return (dist > UNLIT_LAMP_DISTANCE_M).astype(float)


_LUX_TEXT = (
    f"below {UNDERLIT_LUX:g} lux on the lighting raster (the lowest average of the EN 13201-2 pedestrian "
    "classes, P6; assumption)"
)
_LAMP_TEXT = (
    f"no working lamp within {UNLIT_LAMP_DISTANCE_M:g} m in the street_lights layer (about one lamp spacing "
    "on a residential road; incident points are not on the carriageway)"
)


def _under_lit(xy: np.ndarray, layers: dict[str, Any]) -> tuple[np.ndarray | None, str | None]:
    """Per incident: 1.0 under-lit, 0.0 lit, NaN unknown; and how that was measured.

    With both a lux raster and a lamp layer, a place is under-lit when the raster says so and no
    working lamp of the layer stands within reach (the layer may be newer than the raster, e.g. a
    what-if lamp).
    """
    surface = layers.get("lighting")
    has_raster = surface is not None and hasattr(surface, "array") and hasattr(surface, "transform")
    lamps = layers.get("street_lights")
    has_lamps = isinstance(lamps, gpd.GeoDataFrame) and len(lamps) > 0
    if has_raster and has_lamps:
        assert isinstance(lamps, gpd.GeoDataFrame)
        both = np.fmin(_raster_dark(xy, surface), _lamp_dark(xy, lamps))
        return both, f"{_LUX_TEXT}, with {_LAMP_TEXT.replace('no working lamp', 'no working lamp either')}"
    if has_raster:
        return _raster_dark(xy, surface), _LUX_TEXT
    if has_lamps:
        assert isinstance(lamps, gpd.GeoDataFrame)
        return _lamp_dark(xy, lamps), _LAMP_TEXT
    return None, None


def incident_flags(
    hotspots: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, layers: dict[str, Any] | None = None
) -> IncidentFlags:
    """Per-incident facts for the incidents inside ``hotspots`` (same projected CRS, metres)."""
    layers = layers or {}
    resolution = incidents.attrs.get("time_resolution")
    base = pd.DataFrame(
        {
            "category": incidents["category"].astype("string").to_numpy(),
            "location": _place_types(incidents).to_numpy(),
            "night": night_flags(incidents["occurred_at"], resolution, unknown_time_of(incidents)).to_numpy(),
            **{c: incidents[c].astype("string").to_numpy() for c in GROUP_COLUMNS if c in incidents.columns},
        },
        index=incidents.index,
    )
    base["year"] = year_index(incidents["occurred_at"], resolution)
    pts = gpd.GeoDataFrame(base, geometry=incidents.geometry.values, crs=incidents.crs)
    joined = gpd.sjoin(pts, hotspots[["hotspot_id", "geometry"]], predicate="within", how="inner")
    xy = shapely.get_coordinates(np.asarray(joined.geometry.values))
    frame = pd.DataFrame(joined.drop(columns=["geometry", "index_right"]))
    frame["x"], frame["y"] = xy[:, 0], xy[:, 1]
    loc = frame["location"].astype("string")
    car_parks = layers.get("car_parks")
    methods = []
    at_park = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    if loc.notna().any():
        at_park = loc.eq("car_park").astype("boolean")
        methods.append("the incident's location type is a car park (place type car_park)")
    if isinstance(car_parks, gpd.GeoDataFrame) and len(car_parks) and len(frame):
        near = pd.Series(_near_polygons(xy, car_parks, CAR_PARK_NEAR_M), index=frame.index)
        at_park = (at_park.fillna(False) | near).astype("boolean")
        methods.append(f"the incident lies within {CAR_PARK_NEAR_M:g} m of a car_parks polygon")
    frame["at_car_park"] = at_park
    frame["at_home"] = loc.eq("dwelling").fillna(False).astype(bool)
    lit, lit_method = _under_lit(xy, layers) if len(frame) else (None, None)
    frame["under_lit"] = (
        pd.Series(lit, index=frame.index).map({1.0: True, 0.0: False}).astype("boolean")
        if lit is not None
        else pd.Series(pd.NA, index=frame.index, dtype="boolean")
    )
    years = period_years(incidents["occurred_at"], resolution) if len(incidents) else 0.0
    years = years if np.isfinite(years) else 0.0
    return IncidentFlags(
        frame=frame,
        car_park_method=" or ".join(methods) or None,
        under_lit_method=lit_method,
        has_hours=has_time_of_day(resolution),
        full_years=int(np.floor(years + 1e-9)),
        layers=layers,
    )


def _yearly(sub: pd.DataFrame, full_years: int) -> np.ndarray:
    if full_years < 1:
        return np.zeros(0)
    years = np.clip(sub["year"].to_numpy(np.int64), 0, None)
    return np.bincount(years, minlength=full_years + 1)[:full_years].astype(float)


def _jeffreys(k: float, n: float) -> tuple[float, float]:
    return (k + 0.5, max(n - k, 0.0) + 0.5)


def _beta_from_interval(mean: float, low: float, high: float) -> tuple[float, float]:
    sd = (high - low) / (2 * 1.645)
    conc = mean * (1 - mean) / sd**2 - 1
    return (mean * conc, (1 - mean) * conc)


def dwellings_of(row: pd.Series) -> tuple[float, str]:
    """Dwellings in a hotspot and how that number was obtained (column, buildings layer, or assumption)."""
    value = row.get("dwellings")
    if value is not None and pd.notna(value) and float(value) > 0:
        return float(value), "from the hotspots' dwellings column"
    share, area = row.get("buildings__area_share"), float(row.get("area_m2", np.nan))
    if share is not None and pd.notna(share) and float(share) > 0 and np.isfinite(area):
        footprint = float(share) * area
        return footprint / M2_PER_DWELLING_FOOTPRINT, (
            f"building footprint {footprint:,.0f} m² (buildings layer) ÷ {M2_PER_DWELLING_FOOTPRINT:g} m² per "
            "dwelling (assumption)"
        )
    hectares = area / 1e4 if np.isfinite(area) else 0.0
    return hectares * DWELLINGS_PER_HECTARE, (
        f"{hectares:,.1f} ha × {DWELLINGS_PER_HECTARE:g} dwellings per hectare (assumption: a typical gross "
        "residential density; give a buildings layer or a dwellings column)"
    )


def _evidenced(item: Intervention, inc: pd.DataFrame) -> pd.DataFrame:
    evid = inc[inc["category"].isin(item.crime_types)]
    if item.setting_filter and evid["location"].notna().any():
        evid = evid[evid["location"].isin(item.settings) | evid["location"].isna()]
    return evid


def measure_reach(item: Intervention, inc: pd.DataFrame, row: pd.Series, flags: IncidentFlags) -> Reach | str:
    """The crimes ``item`` reaches in one hotspot (``inc``: its rows of ``flags.frame``), or why none."""
    if item.reach == "car_park":
        return _reach_car_park(item, inc, flags)
    if item.reach == "night_unlit":
        return _reach_night_unlit(item, inc, row, flags)
    if item.reach in ("residential_burglary", "new_dwellings"):
        return _reach_residential(item, inc, row, flags)
    if item.reach == "near_layer":
        return _reach_near_layer(item, inc, flags)
    return _reach_all(item, inc, row, flags)


def _reach_near_layer(item: Intervention, inc: pd.DataFrame, flags: IncidentFlags) -> Reach | str:
    layer = flags.layers.get(item.reach_layer)
    if not isinstance(layer, gpd.GeoDataFrame) or not len(layer):
        return f"no {item.reach_layer} layer, so the crimes near it cannot be found; give --layer {item.reach_layer}=FILE"
    what = f"the {item.reach_layer} layer"
    if item.reach_layer_kinds and "kind" in layer.columns:
        layer = layer[layer["kind"].astype(str).isin(item.reach_layer_kinds)]
        what = f"{' or '.join(item.reach_layer_kinds)} features of the {item.reach_layer} layer"
        if not len(layer):
            return f"no {what}"
    evid = _evidenced(item, inc)
    if not len(evid):
        return "none of its evidenced crime types here"
    near = evid[_near_polygons(evid[["x", "y"]].to_numpy(), layer, item.reach_distance_m)]
    if not len(near):
        return f"no evidenced crime within {item.reach_distance_m:g} m of {what}"
    method = f"{len(near)} of {len(evid)} evidenced crimes within {item.reach_distance_m:g} m of {what}"
    if item.reach_note:
        method += f" ({item.reach_note})"
    return Reach(
        len(evid),
        float(len(near)),
        (_jeffreys(len(near), len(evid)),),
        1.0,
        method,
        _yearly(evid, flags.full_years),
        near["category"].value_counts(),
        xy=near[["x", "y"]].to_numpy(),
        rows=near.index,
    )


def _reach_all(item: Intervention, inc: pd.DataFrame, row: pd.Series, flags: IncidentFlags) -> Reach | str:
    evid = _evidenced(item, inc)
    if not len(evid):
        return "none of its evidenced crime types here"
    share = item.scope.share(row) if item.scope is not None else None
    method = f"all {len(evid)} evidenced crimes ({', '.join(item.crime_types)})"
    if item.scope is not None:
        if share is None:
            method += f"; {item.scope.column} not measured, so the whole hotspot counts (an upper bound)"
        elif share <= 0:
            return f"nothing left to reach: {item.scope.note or item.scope.column} is 0"
        else:
            method += f" × {share:.0%}, {item.scope.note or item.scope.column}"
    mult = 1.0 if share is None else share
    return Reach(
        len(evid),
        len(evid) * mult,
        (),
        mult,
        method,
        _yearly(evid, flags.full_years),
        evid["category"].value_counts(),
        rows=evid.index,
    )


def _reach_car_park(item: Intervention, inc: pd.DataFrame, flags: IncidentFlags) -> Reach | str:
    if flags.car_park_method is None:
        layer = _hints.hint("layers={'car_parks': FILE}", "--layer car_parks=FILE")
        column = _hints.column_hint("location_type", "COLUMN")
        return (
            "no location type and no car_parks layer, so crimes at car parks cannot be told apart; "
            f"give {layer} or a location type column ({column})"
        )
    evid = inc[inc["category"].isin(item.crime_types)]
    if not len(evid):
        return "none of its evidenced crime types here"
    at = evid[evid["at_car_park"].fillna(False).astype(bool)]
    if not len(at):
        return f"no {'/'.join(item.crime_types)} crime at a car park here ({flags.car_park_method})"
    method = f"{len(at)} of {len(evid)} evidenced crimes at a car park ({flags.car_park_method})"
    return Reach(
        len(evid),
        float(len(at)),
        (_jeffreys(len(at), len(evid)),),
        1.0,
        method,
        _yearly(evid, flags.full_years),
        at["category"].value_counts(),
        xy=at[["x", "y"]].to_numpy(),
        rows=at.index,
    )


def _reach_night_unlit(
    item: Intervention, inc: pd.DataFrame, row: pd.Series, flags: IncidentFlags
) -> Reach | str:
    evid = inc[inc["category"].isin(item.crime_types)]
    if not len(evid):
        return "none of its evidenced crime types here"
    per_incident = flags.under_lit_method is not None
    lit_share = row.get("street_lights__lit_share")
    if not per_incident and (lit_share is None or pd.isna(lit_share)):
        return "no lighting raster, street_lights layer or lit-share column, so under-lit places are unknown"
    night_known = evid["night"].notna().any()
    pool = evid[evid["night"].fillna(False).astype(bool)] if night_known else evid
    factors: list[tuple[float, float]] = []
    notes: list[str] = []
    if night_known:
        factors.append(_jeffreys(len(pool), len(evid)))
        time_of_day = "measured"
        night_text = f"{len(pool)} of {len(evid)} at night ({NIGHT_LABEL})"
    else:
        factors.append(_beta_from_interval(*NIGHT_SHARE_DEFAULT))
        time_of_day = "estimated (hour of day unknown)"
        night_text = f"night share estimated at {NIGHT_SHARE_DEFAULT[0]:.0%} of {len(evid)}"
        notes.append(NIGHT_SHARE_SOURCE)
    if per_incident:
        dark = pool[pool["under_lit"].fillna(False).astype(bool)]
        if not len(dark):
            return f"no {'night-time ' if night_known else ''}crime of its types in an under-lit place ({flags.under_lit_method})"
        factors.append(_jeffreys(len(dark), len(pool)))
        reached_rows = dark
        lit_text = f"{len(dark)} of those in under-lit places ({flags.under_lit_method})"
    else:
        unlit = 1.0 - min(max(float(lit_share), 0.0), 1.0)
        if unlit <= 0:
            return "every street of the hotspot is lit (street_lights__lit_share = 1)"
        factors.append(_jeffreys(unlit * len(pool), len(pool)))
        reached_rows = pool
        lit_text = f"× {unlit:.0%} unlit street share (crimes assumed spread evenly along the streets)"
    reach = Reach(
        len(evid),
        0.0,
        tuple(factors),
        1.0,
        f"{night_text}; {lit_text}",
        _yearly(evid, flags.full_years),
        reached_rows["category"].value_counts(),
        time_of_day,
        tuple(notes),
        reached_rows[["x", "y"]].to_numpy() if per_incident else None,
        reached_rows.index,
    )
    return Reach(**{**reach.__dict__, "reached": reach.share * len(evid)})


def _reach_residential(
    item: Intervention, inc: pd.DataFrame, row: pd.Series, flags: IncidentFlags
) -> Reach | str:
    evid = inc[inc["category"].isin(item.crime_types)]
    if not len(evid):
        return "no burglary here"
    known = evid["location"].notna()
    notes: list[str] = []
    if known.any():
        res = evid[evid["at_home"].to_numpy() | ~known.to_numpy()]
        method = f"{len(res)} of {len(evid)} burglaries at dwellings (location type)"
    else:
        res = evid
        method = f"all {len(evid)} burglaries (no location type: every burglary taken as residential, an assumption)"
    if not len(res):
        return "no residential burglary here (location type)"
    factors = (_jeffreys(len(res), len(evid)),)
    mult = 1.0
    if item.reach == "new_dwellings":
        planned = row.get("planned_dwellings")
        if planned is None or pd.isna(planned) or float(planned) <= 0:
            return "no planned new dwellings (hotspot column planned_dwellings)"
        dwellings, how = dwellings_of(row)
        mult = float(planned) / max(dwellings, 1.0)
        method += f"; expected in {float(planned):g} planned dwellings at the rate of the {dwellings:,.0f} existing ({how})"
    reach = Reach(
        len(evid),
        0.0,
        factors,
        mult,
        method,
        _yearly(evid, flags.full_years),
        res["category"].value_counts(),
        notes=tuple(notes),
        xy=res[["x", "y"]].to_numpy(),
        rows=res.index,
    )
    return Reach(**{**reach.__dict__, "reached": reach.share * len(evid)})


def group_shares(reach: Reach, flags: IncidentFlags) -> dict[str, dict[str, int]]:
    """Victim groups of the crimes a measure reaches: column → group → count (known groups only)."""
    if reach.rows is None or not len(reach.rows):
        return {}
    rows = flags.frame.loc[reach.rows]
    out: dict[str, dict[str, int]] = {}
    for column in GROUP_COLUMNS:
        if column in rows.columns:
            counts = rows[column].value_counts()
            counts = counts[counts.index != "unknown"]
            if len(counts):
                out[column] = {str(k): int(v) for k, v in counts.items()}
    return out


def groups_text(groups: dict[str, dict[str, int]]) -> str:
    """``Victims of the reached crimes: 62% women and girls, 48% aged 18–24.`` (largest group of each
    kind; counts from the incidents' victim columns, unknowns left out).
    """
    from planner.io.groups import group_label

    parts = []
    for column in ("victim_sex", "victim_age_band"):
        counts = groups.get(column)
        if counts:
            total = sum(counts.values())
            top = max(sorted(counts), key=lambda k: counts[k])
            parts.append(
                f"{counts[top] / total:.0%} {group_label(top)} (of {total} with a known {column.split('_', 1)[1].replace('_', ' ')})"
            )
    return f"Victims of the reached crimes: {'; '.join(parts)}." if parts else ""


__all__ = [
    "CAR_PARK_NEAR_M",
    "NIGHT_SHARE_DEFAULT",
    "UNDERLIT_LUX",
    "UNLIT_LAMP_DISTANCE_M",
    "IncidentFlags",
    "Reach",
    "dwellings_of",
    "group_shares",
    "groups_text",
    "incident_flags",
    "measure_reach",
]
