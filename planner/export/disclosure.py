"""Disclosure control: the ``public`` view of a plan, from which no small count and no incident
location can be worked back.

Every published number is a function of one protected table, the **published cell counts** (true
counts of at least ``k``, rounded; smaller counts, zero included, are null), plus per-hotspot count
profiles published under the total rule of :mod:`planner.export.suppression`:

- cells: ``n_incidents`` published or null; ``kde`` and the density raster are kernel sums of the
  *published* counts at the cells' centres (a kernel density of incident points gives their
  locations back); Gi* only as the confidence ``gi_bin`` (z and p are linear in all counts, the
  suppressed ones included, so they give the suppressed counts back exactly); emerging-hot-spot
  classes only on cells whose count is published, without the Mann–Kendall statistics;
- hotspots: ``n_incidents`` is the sum of their *published* cells (a true total minus the published
  cells would be the suppressed ones); per-year, density and share are that sum over the public
  period, area and citywide count; profiles (crime type, place type, hour, weekday) list every key
  of a controlled vocabulary, null below ``k``, and are withheld whole where the total would show a
  suppressed entry above zero; ``night_share`` and ``top_category`` come from the published profile;
  ``mean_gi_z`` is not published;
- measures: re-derived by the pipeline's own ranking (:func:`planner.pipeline.add_recommendations`)
  from the published profiles (:mod:`planner.export.public_measures`);
- geometry: grid cells on their lattice and the given boundary only (:mod:`planner.export.public_geometry`);
- manifest: dates to the month, counts rounded and totals withheld where they would disclose, file
  names without folders, no database password, no free-text warnings
  (:mod:`planner.export.public_context`).

Free text never reaches a public file: category and place-type keys outside the controlled
vocabularies below are pooled as ``other`` before suppression.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planner._hours import NIGHT_HOURS
from planner.export import suppression as sup
from planner.export.privacy import PrivacyReport, public_note
from planner.io.groups import AGE_BANDS, SEX_VALUES
from planner.plan import Plan
from planner.surface import Surface

logger = logging.getLogger(__name__)

#: Crime categories a public file may name (canonical names of the planner, its catalogue and cost
#: tables, police.uk and US UCR-style categories, normalised); any other value is pooled as "other".
CATEGORY_VOCABULARY = frozenset(
    {
        "anti_social_behaviour",
        "arson",
        "assault",
        "bicycle_theft",
        "burglary",
        "criminal_damage",
        "criminal_damage_and_arson",
        "drugs",
        "homicide",
        "larceny",
        "motor_vehicle_theft",
        "other",
        "other_crime",
        "other_theft",
        "possession_of_weapons",
        "public_order",
        "robbery",
        "sexual_offence",
        "shoplifting",
        "theft",
        "theft_from_the_person",
        "theft_from_vehicle",
        "theft_of_vehicle",
        "unknown",
        "vehicle_crime",
        "violence",
        "violence_and_sexual_offences",
        "violent_crime",
    }
)
#: Place types a public file may name; anything else (street names, house numbers) is "other".
LOCATION_VOCABULARY = frozenset(
    {
        "alley",
        "car_park",
        "centre",
        "commercial",
        "dwelling",
        "education",
        "industrial",
        "licensed_premises",
        "other",
        "park",
        "residential",
        "retail",
        "school",
        "street",
        "transit",
        "unknown",
    }
)
#: Cell and hotspot columns a public file may carry (besides ``<layer>__<measure>`` exposure
#: columns, which come from the environmental layers, not from incidents).
CELL_COLUMNS = (
    "cell_id",
    "row",
    "col",
    "area_m2",
    "n_incidents",
    "kde",
    "gi_bin",
    "hotspot_id",
    "ehsa_category",
    "n_sig_hot_bins",
    "n_sig_cold_bins",
    "risk_rrs",
)
SEX_VOCABULARY = frozenset(SEX_VALUES)
AGE_VOCABULARY = frozenset(AGE_BANDS)
HOTSPOT_COLUMNS = (
    "hotspot_id",
    "n_cells",
    "area_m2",
    "n_incidents",
    "incidents_per_year",
    "density_per_km2",
    "share_of_incidents",
    "top_category",
    "category_mix",
    "night_share",
    "hour_profile",
    "weekday_profile",
    "location_mix",
    "victim_sex_mix",
    "victim_age_mix",
    "ward_id",
)
_EHSA_COLUMNS = ("ehsa_category", "n_sig_hot_bins", "n_sig_cold_bins")


def vocabulary_key(value: Any, vocabulary: frozenset[str]) -> str:
    """``value`` if it is in ``vocabulary``, else ``"other"`` (missing → ``"unknown"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    text = str(value)
    return text if text in vocabulary else "other"


@dataclasses.dataclass(frozen=True)
class PublicCounts:
    """The protected table every public number is computed from."""

    cells: pd.Series  # published count per cell (Int64, null below k)
    n_total: int | None  # published citywide count (None when it would disclose)
    years: float  # public period in years (whole months / 12)
    months: tuple[str, str] | None  # first and last month, "YYYY-MM"
    category_keys: list[str]
    location_keys: list[str]


def public_period(plan: Plan) -> tuple[float, tuple[str, str] | None]:
    """The analysis period in whole calendar months: (years, ("YYYY-MM", "YYYY-MM"))."""
    times = (
        pd.to_datetime(plan.incidents.get("occurred_at"), errors="coerce") if len(plan.incidents) else None
    )
    if times is None or times.dropna().empty:
        lo, hi = plan.ingest_report.get("date_min"), plan.ingest_report.get("date_max")
        if not lo or not hi:
            years = float(plan.params.get("period_years") or 1.0)
            return round(years * 12) / 12 or 1.0, None
        first, last = pd.Timestamp(lo), pd.Timestamp(hi)
    else:
        first, last = times.min(), times.max()
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return months / 12.0, (f"{first:%Y-%m}", f"{last:%Y-%m}")


def public_counts(plan: Plan, *, k: int, round_to: int) -> PublicCounts:
    """The published cell counts, the citywide total (or None) and the period and vocabularies."""
    true = pd.to_numeric(plan.cells["n_incidents"], errors="coerce").fillna(0).to_numpy(float)
    cells = sup.publish_counts(true, k=k, round_to=round_to)
    cells.index = plan.cells.index
    total = int(plan.params.get("n_incidents", len(plan.incidents)) or true.sum())
    # published only if safe at every level 2 … k, so exports with larger k never publish a
    # total that an export with smaller k withheld (differencing the two would undo it)
    safe = all(
        sup.suppressed_can_all_be_zero(total, true[true >= level].sum(), int((true < level).sum()), level)
        for level in range(2, k + 1)
    )
    years, months = public_period(plan)
    inc = plan.incidents
    categories = sorted(
        {vocabulary_key(c, CATEGORY_VOCABULARY) for c in inc["category"]} if "category" in inc else set()
    )
    locations = sorted(
        {vocabulary_key(c, LOCATION_VOCABULARY) for c in inc["location_type"]}
        if "location_type" in inc
        else set()
    )
    return PublicCounts(
        cells=cells,
        n_total=sup.rounded(total, k=k, round_to=round_to) if safe and total >= k else None,
        years=years,
        months=months,
        category_keys=categories,
        location_keys=locations,
    )


def kernel_sum(
    xy: np.ndarray, sources: np.ndarray, weights: np.ndarray, *, kernel: str, bandwidth_m: float
) -> np.ndarray:
    """Σ weight × kernel(distance) at each point of ``xy`` (per m²), sources within the kernel's reach."""
    from planner.hotspots.kde import GAUSS_TRUNCATE, kernel_values

    out = np.zeros(len(xy))
    if not len(xy) or not len(sources):
        return out
    reach = bandwidth_m * (GAUSS_TRUNCATE if kernel == "gaussian" else 1.0)
    pairs = cKDTree(xy).sparse_distance_matrix(cKDTree(sources), reach, output_type="coo_matrix")
    values = kernel_values(kernel, pairs.data, bandwidth_m) * weights[pairs.col]
    np.add.at(out, pairs.row, values)
    return out


def public_density(
    cells: gpd.GeoDataFrame, counts: pd.Series, surface: Surface | None, *, plan: Plan, years: float
) -> tuple[np.ndarray, Surface | None]:
    """Kernel density of the published counts at the cells' centres: (cell values, raster).

    Units: incidents per km² per year (analysis CRS metres). Suppressed cells add nothing, so the
    surface says nothing about where inside a cell, or in which small-count cell, incidents were.
    """
    bandwidth = float(plan.params.get("bandwidth_m") or plan.config.bandwidth_m or 0.0)
    kernel = str(plan.params.get("kernel") or plan.config.kernel)
    if bandwidth <= 0:
        return np.full(len(cells), np.nan), None
    centres = shapely.get_coordinates(shapely.point_on_surface(cells.geometry.to_numpy()))
    ok = counts.notna().to_numpy()
    weights = counts[ok].to_numpy(float)
    scale = 1e6 / max(years, 1e-9)
    at_cells = kernel_sum(centres, centres[ok], weights, kernel=kernel, bandwidth_m=bandwidth) * scale
    if surface is None:
        return at_cells, None
    n_rows, n_cols = surface.array.shape
    cols, rows = np.meshgrid(np.arange(n_cols) + 0.5, np.arange(n_rows) + 0.5)
    px, py = surface.transform * (cols.ravel(), rows.ravel())
    area = shapely.union_all(cells.geometry.to_numpy())
    inside = shapely.contains_xy(area, px, py) | shapely.intersects_xy(area, px, py)
    grid = np.full(n_rows * n_cols, np.nan)
    xy = np.column_stack([px, py])[inside]
    grid[inside] = kernel_sum(xy, centres[ok], weights, kernel=kernel, bandwidth_m=bandwidth) * scale
    raster = dataclasses.replace(
        surface,
        array=grid.reshape(n_rows, n_cols),
        params={"bandwidth_m": bandwidth, "kernel": kernel, "source": "published cell counts"},
    )
    return at_cells, raster


def _public_cells(base: gpd.GeoDataFrame, pc: PublicCounts, kde: np.ndarray) -> gpd.GeoDataFrame:
    """Whitelisted cell columns; counts, kde and emerging classes only where published."""
    keep = [c for c in CELL_COLUMNS if c in base.columns] + [c for c in base.columns if "__" in c]
    out = gpd.GeoDataFrame(base[keep].copy(), geometry=base.geometry, crs=base.crs)
    out["n_incidents"] = pc.cells.to_numpy()
    out["kde"] = kde
    published = pc.cells.notna().to_numpy()
    for col in _EHSA_COLUMNS:
        if col in out.columns:
            out[col] = out[col].where(published)
    return out


def _public_bins(
    plan: Plan, cells: gpd.GeoDataFrame, pc: PublicCounts, *, k: int, report: PrivacyReport
) -> gpd.GeoDataFrame:
    """Gi* bins with those withheld that would show a suppressed count above zero
    (:mod:`planner.export.gistar_audit`); cells withdrawn from hotspots for the same reason.
    """
    from planner.export.gistar_audit import audit_bins

    if "gi_bin" not in cells.columns:
        return cells
    out = cells.copy()
    bins = pd.to_numeric(plan.cells["gi_bin"], errors="coerce").astype("Int64")
    if "gi_z" not in plan.cells.columns:
        report.bins_withheld = len(out)
        out["gi_bin"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
        return out
    audit = audit_bins(
        plan.cells,
        pd.to_numeric(plan.cells["n_incidents"], errors="coerce").fillna(0).to_numpy(float),
        k=k,
        total_known=pc.n_total is not None,
        grid_kind=str(plan.params.get("grid_kind") or plan.config.grid_kind),
        neighbourhood=str(plan.params.get("neighbourhood") or plan.config.neighbourhood),
        min_bin=int(plan.params.get("min_bin") or plan.config.min_bin),
    )
    withheld = np.zeros(len(out), dtype=bool)
    withheld[list(audit.bins_withheld)] = True
    out["gi_bin"] = bins.where(~withheld).to_numpy()
    if audit.members_dropped and "hotspot_id" in out.columns:
        dropped = np.zeros(len(out), dtype=bool)
        dropped[list(audit.members_dropped)] = True
        out["hotspot_id"] = out["hotspot_id"].where(~dropped)
    report.bins_withheld = int(withheld.sum())
    report.hotspot_cells_withdrawn = len(audit.members_dropped)
    return out


def _mix_counts(value: Any, vocabulary: frozenset[str]) -> dict[str, float]:
    """A JSON count mix with its keys mapped onto ``vocabulary`` (others pooled as "other")."""
    parsed = json.loads(value) if isinstance(value, str) and value else value
    out: dict[str, float] = {}
    if isinstance(parsed, dict):
        for key, n in parsed.items():
            name = vocabulary_key(key, vocabulary)
            out[name] = out.get(name, 0.0) + float(n or 0)
    return out


def _profiles(row: pd.Series, pc: PublicCounts, *, k: int, round_to: int) -> dict[str, Any]:
    """The hotspot's published profiles, night share and top category; counts of suppressions."""
    total = float(row.get("n_incidents") or 0)
    out: dict[str, Any] = {"_suppressed": 0, "_withheld": 0}
    for col, vocab, keys in (
        ("category_mix", CATEGORY_VOCABULARY, pc.category_keys),
        ("location_mix", LOCATION_VOCABULARY, pc.location_keys),
        # victim groups: the whole controlled vocabulary is shown (zeros too), k-suppressed per group
        ("victim_sex_mix", SEX_VOCABULARY, sorted(SEX_VOCABULARY)),
        ("victim_age_mix", AGE_VOCABULARY, sorted(AGE_VOCABULARY)),
    ):
        if col not in row.index:
            continue
        counts = _mix_counts(row[col], vocab)
        result = sup.protect_profile(
            counts, keys=sorted({*keys, *counts}), k=k, round_to=round_to, total=total
        )
        out[col] = None if result.published is None else json.dumps(result.published)
        out["_suppressed"] += result.suppressed
        out["_withheld"] += int(result.withheld)
        if col == "category_mix":
            shown = {key: v for key, v in (result.published or {}).items() if v is not None}
            out["top_category"] = max(sorted(shown), key=lambda key: shown[key]) if shown else None
    for col in ("hour_profile", "weekday_profile"):
        value = row.get(col)
        if not isinstance(value, str) or not value:
            out[col] = None
            continue
        entries, n = sup.protect_sequence(json.loads(value), k=k, round_to=round_to, total=total)
        out[col] = None if entries is None else json.dumps(entries)
        out["_suppressed"] += n if entries is not None else 0
        out["_withheld"] += int(entries is None)
        if col == "hour_profile":
            out["night_share"] = _night_share(entries)
    return out


def _night_share(hours: list[int | None] | None) -> float:
    """Share of the published hourly counts that fall in the night hours (NaN when none)."""
    if not hours:
        return float("nan")
    shown = {h: v for h, v in enumerate(hours) if v is not None}
    total = sum(shown.values())
    return sum(v for h, v in shown.items() if h in NIGHT_HOURS) / total if total else float("nan")


def _public_hotspots(
    plan: Plan, cells: gpd.GeoDataFrame, pc: PublicCounts, *, k: int, round_to: int, report: PrivacyReport
) -> gpd.GeoDataFrame:
    """Hotspots whose published cells hold at least ``k`` incidents, with public statistics."""
    hs = plan.hotspots
    rows: list[dict[str, Any]] = []
    geoms = []
    counts = pc.cells.to_numpy(dtype=float, na_value=np.nan)
    for _, h in hs.iterrows():
        hid = h["hotspot_id"]
        member = (cells["hotspot_id"] == hid).to_numpy()
        n_pub = float(np.nansum(counts[member]))
        if not member.any() or n_pub < k:
            report.hotspots_suppressed.append(str(hid))
            continue
        area = float(cells.loc[member].geometry.area.sum())
        record: dict[str, Any] = {c: h[c] for c in HOTSPOT_COLUMNS if c in h.index}
        record.update({c: h[c] for c in hs.columns if "__" in c})
        profiles = _profiles(h, pc, k=k, round_to=round_to)
        report.profile_entries_suppressed += profiles.pop("_suppressed")
        report.profiles_withheld += profiles.pop("_withheld")
        record.update(profiles)
        record.update(
            n_cells=int(member.sum()),
            area_m2=area,
            n_incidents=int(n_pub),
            incidents_per_year=n_pub / pc.years,
            density_per_km2=n_pub / (area / 1e6) if area else np.nan,
            share_of_incidents=n_pub / pc.n_total if pc.n_total else np.nan,
        )
        rows.append(record)
        geoms.append(shapely.union_all(cells.loc[member].geometry.to_numpy()))
    columns = [c for c in HOTSPOT_COLUMNS if c in hs.columns or c in {"top_category", "night_share"}]
    columns += [c for c in hs.columns if "__" in c]
    frame = pd.DataFrame(rows).reindex(columns=columns)
    out = gpd.GeoDataFrame(frame, geometry=geoms, crs=hs.crs)
    if "n_incidents" in out.columns:
        out["n_incidents"] = out["n_incidents"].astype("Int64")
    return out


def public_view(plan: Plan, *, k: int, round_to: int) -> tuple[Plan, PrivacyReport]:
    """The plan as it may be published, and the report of what was withheld.

    Parameters
    ----------
    plan : Plan
        A whole plan (with its incidents), in the analysis CRS.
    k : int
        Smallest count shown; every count below ``k`` (zero included) is null.
    round_to : int
        Published counts are rounded to multiples of this (1 = exact).
    """
    from planner.export.public_context import public_context
    from planner.export.public_geometry import public_geometry
    from planner.export.public_measures import public_measures
    from planner.export.public_perception import public_perception

    report = PrivacyReport(level="public", k=k, round_to=round_to, note=public_note(k, round_to))
    base_cells, study_area, area_rule = public_geometry(plan.cells, plan.study_area, plan.params)
    pc = public_counts(plan, k=k, round_to=round_to)
    kde, density = public_density(
        base_cells, pc.cells, plan.surfaces.get("density"), plan=plan, years=pc.years
    )
    cells = _public_cells(base_cells, pc, kde)
    report.cells_suppressed = int(pc.cells.isna().sum())
    cells = _public_bins(plan, cells, pc, k=k, report=report)
    hotspots = _public_hotspots(plan, cells, pc, k=k, round_to=round_to, report=report)
    if "hotspot_id" in cells.columns:
        cells["hotspot_id"] = cells["hotspot_id"].where(cells["hotspot_id"].isin(hotspots["hotspot_id"]))
    surfaces = _public_surfaces(plan, cells, density)
    context = public_context(plan, pc, k=k, round_to=round_to)
    report.totals_withheld = context.withheld
    public = dataclasses.replace(
        plan,
        config=context.config,
        incidents=plan.incidents.iloc[0:0].copy(),
        quarantine=pd.DataFrame(),
        ingest_report=context.ingest,
        study_area=study_area,
        cells=cells,
        hotspots=hotspots,
        surfaces=surfaces,
        recommendations=None,
        portfolio=None,
        evaluation={},
        params=context.params,
        inputs=context.inputs,
        warnings=[],
    )
    public = public_measures(public, plan, pc, report=report)
    public = dataclasses.replace(public, perception=public_perception(plan.perception, cells))
    report.rules = public_rules(k=k, round_to=round_to, area_rule=area_rule)
    logger.info(
        "public view: %d cells and %d hotspots suppressed, %d profiles withheld",
        report.cells_suppressed,
        len(report.hotspots_suppressed),
        report.profiles_withheld,
    )
    return public, report


def _public_surfaces(plan: Plan, cells: gpd.GeoDataFrame, density: Surface | None) -> dict[str, Surface]:
    """Density from published counts; per-cell surfaces (risk) re-rasterised on the public cells."""
    from planner.surface import surface_from_cells

    out: dict[str, Surface] = {}
    if density is not None:
        out["density"] = density
    size = float(plan.params.get("cell_size_m") or 0.0) or None
    for name, surface in plan.surfaces.items():
        if name == "density":
            continue
        column = name if name in cells.columns else None
        if column is None:
            continue  # a surface that is not one value per cell cannot be checked: left out
        out[name] = surface_from_cells(
            cells, cells[column].to_numpy(float), name=name, units=surface.units, cell_size_m=size
        )
    return out


def public_rules(*, k: int, round_to: int, area_rule: str) -> list[str]:
    """The rules of the public view, in words (manifest and brief)."""
    rounding = (
        f"Published counts are rounded to the nearest multiple of {round_to} (never below {k})."
        if round_to > 1
        else "Published counts are exact (round_to = 1)."
    )
    return [
        "No incident points, no incident-level attributes and no quarantined rows are published.",
        f"Cell counts below {k}, zero included, are null; a null means only 'fewer than {k}'.",
        rounding,
        "Every other figure (hotspot counts, per year, density, shares, kernel density, measures) is "
        "computed from the published cell counts and profiles, so none of them gives a suppressed count back.",
        "Hotspot counts are the sums of their published cells; a hotspot whose published cells hold "
        f"fewer than {k} incidents is left out.",
        "Gi* is published as its confidence bin only (z-scores and p-values would give suppressed counts "
        "back); a bin that, with its neighbours' published counts, would show a suppressed count above zero "
        "is withheld (checked by solving the attacker's linear programme); emerging-hot-spot classes only "
        "for cells whose count is published.",
        f"Count profiles list every category, place type, hour or weekday, null below {k}; a profile is "
        "withheld whole where its total would show that a suppressed entry is above zero.",
        "Crime types and place types outside the planner's controlled vocabularies are pooled as 'other'; "
        "no free text from the data is published.",
        f"Geometry comes from the grid lattice and the given boundary only: {area_rule}.",
        "Dates are given to the month; file names without folders; no database password; totals that "
        "would disclose are withheld.",
        "Measures are re-ranked from the published profiles by the same method as the full plan.",
    ]
