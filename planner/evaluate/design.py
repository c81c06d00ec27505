"""Evaluation designs, fixed before the measure starts and evaluated later from the unchanged file.

A design names three areas in the analysis CRS (projected, metres):

* the **treatment** area (a polygon, e.g. a ward or the union of chosen hotspots);
* a **buffer** ring around it (given width, or automatic: the ring whose area equals the
  treatment's for a disc, ``w = r_eq·(√2 − 1)`` with ``r_eq = √(area/π)``), clipped to the
  study area;
* a **control** area: given, or proposed by :func:`propose_control` from grid cells whose
  before-period level and trend match the treatment's and that do not touch the buffer;

plus, optionally, a **displacement control** matched in the same way to the buffer (the control of
the WDD displacement term). Periods are half-open ``[start, end)`` dates; crime categories, hours of
day and other column filters select the crimes; harm weights (category → weight) add a
harm-weighted WDD.

:func:`save_design` writes JSON with a SHA-256 checksum and the creation time *before* the
measure starts; :func:`evaluate_design` refuses a file whose checksum no longer matches, counts
the incidents per area and period and returns WDQ/TNE, WDD (+ harm), the rate ratio, E-tests,
power and the before/after series (:func:`before_after_series`, :func:`before_after_chart`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydantic
import shapely
from pyproj import CRS

from planner._hours import NIGHT_HOURS
from planner._params import check_fraction, check_positive
from planner.crs import require_projected, to_analysis_crs
from planner.errors import ConfigError, DataLoadError, InsufficientDataError, ValidationError
from planner.evaluate.control import (
    auto_buffer_width_m,
    proposal_summary,
    propose_control,
)
from planner.evaluate.displacement import (
    HarmResult,
    RateRatioResult,
    WDDResult,
    WDQResult,
    e_test,
    rate_ratio,
    wdd,
    wdd_harm,
    wdq,
)
from planner.evaluate.power import PowerResult, minimum_detectable_effect

logger = logging.getLogger(__name__)

AREAS = ("treatment", "buffer", "control", "disp_control")
FORMAT = "planner-evaluation-design"

__all__ = [
    "NIGHT_HOURS",
    "EvaluationDesign",
    "EvaluationResult",
    "assign_areas",
    "before_after_series",
    "count_design",
    "design_power",
    "evaluate_design",
    "load_design",
    "make_design",
    "save_design",
    "select_incidents",
]


class EvaluationDesign(pydantic.BaseModel):
    """A pre-registered evaluation design (geometries as WKT in ``crs``; dates half-open)."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    name: str = "evaluation"
    crs: str
    treatment_wkt: str
    buffer_wkt: str
    control_wkt: str
    disp_control_wkt: str | None = None
    buffer_width_m: float
    control_method: str = "given"
    control_fit: dict[str, Any] | None = None
    start: dt.date
    before: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date]
    categories: tuple[str, ...] | None = None
    hours: tuple[int, ...] | None = None
    where: dict[str, tuple[str, ...]] = pydantic.Field(default_factory=dict)
    harm_weights: dict[str, float] | None = None
    area_weighted: bool = False
    alpha: float = 0.1
    notes: str = ""

    def geometry(self, area: str) -> shapely.Geometry | None:
        """The polygon of ``area`` (one of ``treatment``, ``buffer``, ``control``, ``disp_control``)."""
        wkt = {
            "treatment": self.treatment_wkt,
            "buffer": self.buffer_wkt,
            "control": self.control_wkt,
            "disp_control": self.disp_control_wkt,
        }[area]
        return None if wkt is None else shapely.from_wkt(wkt)

    @property
    def before_days(self) -> float:
        """Length of the before period in days."""
        return float((self.before[1] - self.before[0]).days)

    @property
    def after_days(self) -> float:
        """Length of the after period in days."""
        return float((self.after[1] - self.after[0]).days)

    @property
    def areas(self) -> list[str]:
        """Names of the areas this design has, in counting order."""
        return [a for a in AREAS if a != "disp_control" or self.disp_control_wkt is not None]

    def area_m2(self, area: str) -> float:
        """Area of ``area`` in square metres (0 when the design lacks it)."""
        geom = self.geometry(area)
        return 0.0 if geom is None else float(geom.area)

    def areas_gdf(self) -> gpd.GeoDataFrame:
        """The design's areas as a GeoDataFrame (``area``, ``area_m2``, ``geometry``) in ``crs``."""
        names = self.areas
        return gpd.GeoDataFrame(
            {"area": names, "area_m2": [self.area_m2(a) for a in names]},
            geometry=[self.geometry(a) for a in names],
            crs=self.crs,
        )


def _check_design(d: EvaluationDesign) -> None:
    """Collect every problem with a design and raise one ValidationError."""
    problems = []
    try:
        crs = CRS.from_user_input(d.crs)
        if not crs.is_projected:
            problems.append(f"crs {d.crs!r} is not projected; use the metric analysis CRS")
    except Exception:
        problems.append(f"crs {d.crs!r} is not a coordinate reference system")
    geoms = {}
    for area in AREAS:
        try:
            g = d.geometry(area)
        except Exception:
            problems.append(f"{area}_wkt is not valid WKT")
            continue
        if g is None:
            continue
        if g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon") or g.area <= 0:
            problems.append(f"the {area} area must be a non-empty polygon")
        elif not g.is_valid:
            problems.append(f"the {area} polygon is invalid ({shapely.is_valid_reason(g)})")
        else:
            geoms[area] = g
    if "treatment" in geoms and "buffer" in geoms:
        zone = shapely.union(geoms["treatment"], geoms["buffer"])
        for area in ("control", "disp_control"):
            if area in geoms and shapely.intersection(zone, geoms[area]).area > 1e-6:
                problems.append(
                    f"the {area} area overlaps the treatment area or its buffer; a control must be "
                    "untouched by the measure (choose one further away or a narrower buffer)"
                )
    if (
        "control" in geoms
        and "disp_control" in geoms
        and shapely.intersection(geoms["control"], geoms["disp_control"]).area > 1e-6
    ):
        problems.append("the control and displacement-control areas overlap")
    b0, b1 = d.before
    a0, a1 = d.after
    if not b0 < b1:
        problems.append(f"the before period [{b0}, {b1}) is empty")
    if not a0 < a1:
        problems.append(f"the after period [{a0}, {a1}) is empty")
    if b1 > d.start:
        problems.append(f"the before period must end on or before the start date {d.start}")
    if a0 < d.start:
        problems.append(f"the after period must begin on or after the start date {d.start}")
    if d.hours is not None and (not d.hours or any(not 0 <= h <= 23 for h in d.hours)):
        problems.append(f"hours must be whole hours of day in 0..23, got {list(d.hours)}")
    if d.harm_weights is not None:
        bad = {k: v for k, v in d.harm_weights.items() if not (math.isfinite(v) and v > 0)}
        if bad or not d.harm_weights:
            problems.append(f"harm weights must be numbers > 0 per category, got {d.harm_weights}")
    if not 0 < d.alpha < 1:
        problems.append(f"alpha must lie in (0, 1), got {d.alpha}")
    if problems:
        raise ValidationError(f"The evaluation design {d.name!r} is not usable:", problems=problems)


# ------------------------------------------------------------------------------- incident selection


def select_incidents(incidents: gpd.GeoDataFrame, design: EvaluationDesign) -> gpd.GeoDataFrame:
    """The incidents the design counts: its categories, hours and column filters, in its CRS.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incident points (``occurred_at``, ``category``, ``geometry``) in a projected CRS; they are
        transformed to the design's CRS when it differs.
    design : EvaluationDesign

    Returns
    -------
    GeoDataFrame
        A filtered copy in ``design.crs``.
    """
    require_projected(incidents, what="incidents")
    problems = []
    needed = {"occurred_at"} | ({"category"} if design.categories or design.harm_weights else set())
    needed |= set(design.where)
    missing = sorted(needed - set(incidents.columns))
    if missing:
        problems.append(f"missing column(s) {missing}")
    res = incidents.attrs.get("time_resolution")
    if design.hours is not None and res in ("day", "month"):
        problems.append(
            f"the design counts hours {list(design.hours)} but the incidents have {res} "
            "resolution (no time of day); drop the hours filter"
        )
    if problems:
        raise ValidationError("The incidents cannot be counted for this design:", problems=problems)
    out = to_analysis_crs(incidents, CRS.from_user_input(design.crs))
    when = pd.to_datetime(out["occurred_at"])
    keep = when.notna().to_numpy().copy()
    if design.categories:
        keep &= out["category"].isin(design.categories).to_numpy()
    if design.hours is not None:
        keep &= when.dt.hour.isin(design.hours).to_numpy()
    for col, values in design.where.items():
        keep &= out[col].astype(str).isin(values).to_numpy()
    return out.loc[keep]


def assign_areas(incidents: gpd.GeoDataFrame, design: EvaluationDesign) -> np.ndarray:
    """Area name of each incident (treatment first, then buffer, control, disp_control) or ``""``.

    Points on a shared edge go to the first area in that order.
    """
    xy = shapely.get_coordinates(incidents.geometry.to_numpy())
    if len(xy) != len(incidents):
        raise ValidationError("The incidents must be single points with coordinates.")
    out = np.full(len(incidents), "", dtype=object)
    free = np.ones(len(incidents), dtype=bool)
    for area in AREAS:
        geom = design.geometry(area)
        if geom is None or not free.any():
            continue
        shapely.prepare(geom)
        hit = np.zeros(len(incidents), dtype=bool)
        hit[free] = shapely.intersects_xy(geom, xy[free, 0], xy[free, 1])
        out[hit] = area
        free &= ~hit
    return out


def _period_of(when: pd.Series, design: EvaluationDesign) -> np.ndarray:
    """'before', 'after' or '' for each timestamp (half-open periods)."""
    t = pd.to_datetime(when).to_numpy()
    b0, b1 = (np.datetime64(x) for x in design.before)
    a0, a1 = (np.datetime64(x) for x in design.after)
    out = np.full(len(t), "", dtype=object)
    out[(t >= b0) & (t < b1)] = "before"
    out[(t >= a0) & (t < a1)] = "after"
    return out


def count_design(
    incidents: gpd.GeoDataFrame, design: EvaluationDesign, *, by_category: bool = False
) -> pd.DataFrame:
    """Counts per area (rows) and period (columns ``before``, ``after``) for the design's crimes.

    With ``by_category`` the index is (category, area). Areas the design lacks are left out.
    """
    sel = select_incidents(incidents, design)
    area = assign_areas(sel, design)
    period = _period_of(sel["occurred_at"], design)
    frame = pd.DataFrame({"area": area, "period": period})
    keys = ["area"]
    if by_category:
        frame["category"] = sel["category"].astype(str).to_numpy()
        keys = ["category", "area"]
    frame = frame[(frame["area"] != "") & (frame["period"] != "")]
    table = frame.groupby([*keys, "period"]).size().unstack("period")
    table = table.reindex(columns=["before", "after"]).fillna(0).astype("int64")
    present = design.areas
    idx: pd.Index = pd.Index(present, name="area")
    if by_category:
        cats = sorted(design.harm_weights or set(frame["category"]))
        idx = pd.MultiIndex.from_product([cats, present], names=["category", "area"])
    return table.reindex(idx, fill_value=0)


# ------------------------------------------------------------------------------------ making designs


def _as_geometry(obj: Any, *, what: str, crs: CRS | None) -> tuple[shapely.Geometry, CRS]:
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries):
        own = require_projected(obj, what=what)
        if crs is not None and not own.equals(crs):
            obj = obj.to_crs(crs)
            own = crs
        if len(obj) == 0:
            raise ValidationError(f"The {what} has no rows; give at least one polygon.")
        return shapely.make_valid(shapely.union_all(obj.geometry.to_numpy())), own
    if isinstance(obj, shapely.Geometry):
        if crs is None:
            raise ConfigError(f"The {what} is a bare geometry; pass crs= (its projected CRS).")
        return shapely.make_valid(obj), crs
    raise ValidationError(
        f"The {what} must be a GeoDataFrame, GeoSeries or shapely polygon; got {type(obj).__name__}."
    )


def _to_date(value: Any, *, name: str) -> dt.date:
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        raise ConfigError(f"The {name!r} date of evaluate.make_design is not a date: {value!r}.") from None


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of ``geom`` (overlays can leave slivers of lines and points)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def make_design(
    treatment: Any,
    *,
    start: Any,
    before_days: int | None = 365,
    after_days: int | None = 365,
    before: tuple[Any, Any] | None = None,
    after: tuple[Any, Any] | None = None,
    crs: Any = None,
    buffer_m: float | None = None,
    control: Any = None,
    incidents: gpd.GeoDataFrame | None = None,
    cells: gpd.GeoDataFrame | None = None,
    study_area: gpd.GeoDataFrame | None = None,
    cell_size_m: float | None = None,
    disp_control: bool | Any = True,
    categories: Sequence[str] | None = None,
    hours: Sequence[int] | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    harm_weights: Mapping[str, float] | None = None,
    area_weighted: bool = False,
    alpha: float = 0.1,
    name: str = "evaluation",
    notes: str = "",
) -> EvaluationDesign:
    """Build an evaluation design (then save it with :func:`save_design` before the measure starts).

    Parameters
    ----------
    treatment : GeoDataFrame, GeoSeries or shapely polygon
        Treatment area (e.g. a ward, or hotspots selected by id), projected CRS; rows are unioned.
    start : date-like
        The date the measure starts.
    before_days, after_days : int
        Period lengths in days when ``before``/``after`` are not given: ``[start − before_days,
        start)`` and ``[start, start + after_days)``.
    before, after : (date-like, date-like), optional
        Explicit half-open periods (e.g. to leave out an installation month).
    crs : optional
        CRS of a bare shapely ``treatment``/``control``.
    buffer_m : float, optional
        Buffer ring width in metres; default :func:`auto_buffer_width_m`.
    control : GeoDataFrame, GeoSeries or polygon, optional
        A given control area. Default: proposed by :func:`propose_control` from ``incidents``.
    incidents : GeoDataFrame, optional
        Incidents for proposing the control(s) (before-period data only is used).
    cells, study_area, cell_size_m : optional
        Grid for the proposal, or the study area and cell size to build one; the buffer is
        clipped to ``study_area`` when given.
    disp_control : bool or polygon
        ``True`` proposes a displacement control matched to the buffer (when proposing), a
        polygon gives one, ``False`` leaves the WDD displacement term out.
    categories, hours, where : optional
        Which crimes: categories, hours of day (e.g. :data:`NIGHT_HOURS`) and other column
        filters such as ``{"location_type": ["street"]}``.
    harm_weights : mapping, optional
        Category → harm weight for the harm-weighted WDD.
    area_weighted : bool
        Divide WDD counts by area (relative to the treatment's) — densities instead of counts.
    alpha : float
        Two-sided level of the intervals (default 0.1, 90 % intervals as in ptools).
    name, notes : str
        Free text kept in the file.

    Returns
    -------
    EvaluationDesign
    """
    where_fn = "evaluate.make_design"
    crs_obj = None if crs is None else CRS.from_user_input(crs)
    geom, crs_obj = _as_geometry(treatment, what="treatment area", crs=crs_obj)
    start_d = _to_date(start, name="start")
    if before is None:
        days = int(check_positive(before_days, name="before_days", where=where_fn))
        before = (start_d - dt.timedelta(days=days), start_d)
    if after is None:
        days = int(check_positive(after_days, name="after_days", where=where_fn))
        after = (start_d, start_d + dt.timedelta(days=days))
    before_d = (_to_date(before[0], name="before"), _to_date(before[1], name="before"))
    after_d = (_to_date(after[0], name="after"), _to_date(after[1], name="after"))
    width = (
        auto_buffer_width_m(geom)
        if buffer_m is None
        else check_positive(buffer_m, name="buffer_m", where=where_fn)
    )
    ring = shapely.difference(geom.buffer(width), geom)
    area_geom = None
    if study_area is not None:
        area_geom, _ = _as_geometry(study_area, what="study area", crs=crs_obj)
        ring = _polygonal(shapely.intersection(ring, area_geom))
    avoid = shapely.union(geom, ring)
    filters = {k: tuple(str(v) for v in vals) for k, vals in (where or {}).items()}
    base = EvaluationDesign(
        name=name,
        crs=crs_obj.to_string(),
        treatment_wkt=geom.wkt,
        buffer_wkt=ring.wkt,
        control_wkt=geom.wkt,  # placeholder until the control is known; replaced below
        buffer_width_m=width,
        start=start_d,
        before=before_d,
        after=after_d,
        categories=None if categories is None else tuple(categories),
        hours=None if hours is None else tuple(int(h) for h in hours),
        where=filters,
        harm_weights=None if harm_weights is None else {str(k): float(v) for k, v in harm_weights.items()},
        area_weighted=area_weighted,
        alpha=check_fraction(alpha, name="alpha", where=where_fn),
        notes=notes,
    )
    fit: dict[str, Any] | None = None
    disp_geom: shapely.Geometry | None = None
    if control is not None:
        control_geom, _ = _as_geometry(control, what="control area", crs=crs_obj)
        method = "given"
        if disp_control is not True and disp_control is not False:
            disp_geom, _ = _as_geometry(disp_control, what="displacement control", crs=crs_obj)
    else:
        if incidents is None:
            raise ConfigError(
                f"{where_fn} needs either control= (a control area) or incidents= (to propose one "
                "from grid cells with a similar before-period level and trend)."
            )
        sel = select_incidents(incidents, base)
        grid_area = study_area if study_area is not None else None
        prop = propose_control(
            sel, geom, avoid, before=before_d, cells=cells, study_area=grid_area, cell_size_m=cell_size_m
        )
        control_geom, method = prop.geometry, "proposed"
        fit = {"control": proposal_summary(prop)}
        if disp_control is True:
            try:
                dprop = propose_control(
                    sel,
                    ring,
                    avoid,
                    before=before_d,
                    cells=cells,
                    study_area=grid_area,
                    cell_size_m=prop.cell_size_m,
                    exclude=control_geom,
                )
                disp_geom = dprop.geometry
                fit["disp_control"] = proposal_summary(dprop)
            except InsufficientDataError as exc:
                logger.warning("no displacement control proposed: %s", exc)
        elif disp_control is not False:
            disp_geom, _ = _as_geometry(disp_control, what="displacement control", crs=crs_obj)
    design = base.model_copy(
        update={
            "control_wkt": control_geom.wkt,
            "disp_control_wkt": None if disp_geom is None else disp_geom.wkt,
            "control_method": method,
            "control_fit": fit,
        }
    )
    _check_design(design)
    return design


# ------------------------------------------------------------------------------------- save / load


def _checksum(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_design(
    design: EvaluationDesign, path: str | Path, *, overwrite: bool = False, now: dt.datetime | None = None
) -> Path:
    """Write the design to JSON with its creation time and a SHA-256 checksum.

    Save it *before* the measure starts: the file records ``created_at`` and the evaluation
    reports whether it predates the start date. An existing file is not overwritten unless
    ``overwrite=True`` (a pre-registered design should not change).

    Returns
    -------
    Path
        The path written.
    """
    from planner import __version__

    _check_design(design)
    path = Path(path)
    if path.exists() and not overwrite:
        raise ConfigError(
            f"{path} already exists; a saved design should not change. Choose another file name, "
            "or pass overwrite=True (--force) if the measure has not started."
        )
    created = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": 1,
        "created_at": created,
        "planner_version": __version__,
        "design": design.model_dump(mode="json"),
    }
    payload["sha256"] = _checksum(payload)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    logger.info("evaluation design saved to %s (sha256 %s)", path, payload["sha256"][:12])
    return path


def load_design(path: str | Path) -> tuple[EvaluationDesign, dict[str, Any]]:
    """Read a design saved by :func:`save_design`, refusing it when its checksum does not match.

    Returns
    -------
    (EvaluationDesign, dict)
        The design and the file's metadata (``created_at``, ``planner_version``, ``sha256``).
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataLoadError(f"The design file {path} does not exist; save one with save_design.") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise DataLoadError(f"The design file {path} could not be read as JSON: {exc}.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValidationError(f"{path} is not an evaluation design file (format {FORMAT!r} expected).")
    stored = payload.pop("sha256", None)
    if stored != _checksum(payload):
        raise ValidationError(
            f"The design file {path} was changed after it was saved (its SHA-256 checksum does not "
            "match), so it is no longer the design fixed before the measure started. Restore the "
            "original file, or save a new design and report it as a post-hoc evaluation."
        )
    try:
        design = EvaluationDesign.model_validate(payload["design"])
    except pydantic.ValidationError as exc:
        raise ValidationError(
            f"The design in {path} is malformed:",
            problems=[f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()],
        ) from None
    _check_design(design)
    meta = {k: payload[k] for k in ("created_at", "planner_version")} | {"sha256": stored}
    return design, meta


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class EvaluationResult:
    """Everything :func:`evaluate_design` found, with a plain-language summary."""

    design: EvaluationDesign
    meta: dict[str, Any]
    counts: pd.DataFrame
    wdq: WDQResult
    wdd: WDDResult
    wdd_local: WDDResult
    rate_ratio: RateRatioResult | None
    wdd_harm: HarmResult | None
    e_tests: dict[str, float | None]
    power: PowerResult
    series: pd.DataFrame
    registered_before_start: bool | None
    interpretation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (series and design geometry left out; counts as nested dicts)."""
        return {
            "design": self.design.name,
            "design_sha256": self.meta.get("sha256"),
            "created_at": self.meta.get("created_at"),
            "registered_before_start": self.registered_before_start,
            "start": self.design.start.isoformat(),
            "before": [d.isoformat() for d in self.design.before],
            "after": [d.isoformat() for d in self.design.after],
            "counts": {a: {k: int(v) for k, v in row.items()} for a, row in self.counts.iterrows()},
            "wdq": self.wdq.to_dict(),
            "wdd": self.wdd.to_dict(),
            "wdd_local": self.wdd_local.to_dict(),
            "rate_ratio": None if self.rate_ratio is None else self.rate_ratio.to_dict(),
            "wdd_harm": None if self.wdd_harm is None else self.wdd_harm.to_dict(),
            "e_tests": self.e_tests,
            "power": self.power.to_dict(),
            "interpretation": self.interpretation,
        }


def design_power(
    design: EvaluationDesign, incidents: gpd.GeoDataFrame, *, power: float = 0.8, dispersion: float = 1.0
) -> PowerResult:
    """Minimum detectable effect of a design, from its before-period counts (run before the start)."""
    pair = _pairs(count_design(incidents, design))
    return minimum_detectable_effect(
        pair["treatment"][0],
        pair["control"][0],
        before_days=design.before_days,
        after_days=design.after_days,
        alpha=design.alpha,
        power=power,
        dispersion=dispersion,
    )


def _pairs(table: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(before, after) counts per area from a :func:`count_design` table."""
    values = table[["before", "after"]].to_numpy(dtype=np.int64)
    return {str(a): (int(b), int(c)) for a, (b, c) in zip(table.index, values, strict=True)}


def _wdd_for(table: pd.DataFrame, design: EvaluationDesign, *, local_only: bool = False) -> WDDResult:
    """WDD from a counts table (rows = areas) with the design's time (and area) weights."""
    pair = _pairs(table)
    has_disp = "disp_control" in pair and not local_only
    tw = (design.before_days / design.after_days, 1.0)
    aw = None
    if design.area_weighted:
        ref = design.area_m2("treatment")
        aw = [
            design.area_m2("control") / ref,
            1.0,
            design.area_m2("disp_control") / ref if has_disp else 1.0,
            design.area_m2("buffer") / ref,
        ]
    return wdd(
        pair["control"],
        pair["treatment"],
        pair["disp_control"] if has_disp else None,
        pair["buffer"] if has_disp else None,
        time_weights=tw,
        area_weights=aw,
        alpha=design.alpha,
    )


def evaluate_design(
    design: EvaluationDesign | str | Path, incidents: gpd.GeoDataFrame, *, freq: str = "MS"
) -> EvaluationResult:
    """Evaluate a saved design against incidents: WDQ/TNE, WDD (+ harm), rate ratio, E-tests, power.

    Parameters
    ----------
    design : EvaluationDesign or path
        The design, or the JSON file written by :func:`save_design` (checked against its
        checksum; a changed file is refused).
    incidents : GeoDataFrame
        Incidents (projected CRS; transformed to the design's CRS when different) covering the
        before and after periods.
    freq : str
        pandas frequency of the chart series (default month starts).

    Returns
    -------
    EvaluationResult
    """
    if isinstance(design, str | Path):
        design, meta = load_design(design)
    else:
        _check_design(design)
        meta = {}
    counts = count_design(incidents, design)
    pair = _pairs(counts)
    wdq_res = wdq(pair["treatment"], pair["buffer"], pair["control"]) if min(pair["control"]) > 0 else None
    if wdq_res is None:
        raise InsufficientDataError(
            f"The control area of design {design.name!r} has no counted crimes in one period "
            f"(before, after = {pair['control']}); the evaluation needs a busier control area."
        )
    wdd_total = _wdd_for(counts, design)
    wdd_local = _wdd_for(counts, design, local_only=True)
    rr = (
        rate_ratio(pair["control"], pair["treatment"], alpha=design.alpha)
        if min(*pair["control"], *pair["treatment"]) > 0
        else None
    )
    harm = None
    if design.harm_weights:
        by_cat = count_design(incidents, design, by_category=True)
        parts = [_wdd_for(pd.DataFrame(by_cat.xs(c, level="category")), design) for c in design.harm_weights]
        harm = wdd_harm(parts, list(design.harm_weights.values()), alpha=design.alpha)
    tests: dict[str, float | None] = {}
    for area, (b, a) in pair.items():
        tests[area] = None if b == a == 0 else e_test(b, a, n1=design.before_days, n2=design.after_days)
    pow_res = minimum_detectable_effect(
        pair["treatment"][0],
        pair["control"][0],
        before_days=design.before_days,
        after_days=design.after_days,
        alpha=design.alpha,
    )
    created = meta.get("created_at")
    registered = None if created is None else pd.Timestamp(created).date() < design.start
    series = before_after_series(incidents, design, freq=freq)
    lines = [wdd_local.interpretation]
    if rr is not None:
        lines.append(rr.interpretation)
    if wdd_total.has_displacement_areas:
        lines.append("With the buffer and its own control: " + wdd_total.interpretation)
    lines.append(wdq_res.interpretation)
    if harm is not None:
        lines.append(harm.interpretation)
    if registered is False:
        lines.append(
            "The design file was saved after the start date, so this is a post-hoc evaluation; "
            "treat it with more caution than a design fixed in advance."
        )
    elif registered is None:
        lines.append("The design was not read from a saved file, so its pre-registration is not checked.")
    return EvaluationResult(
        design=design,
        meta=meta,
        counts=counts,
        wdq=wdq_res,
        wdd=wdd_total,
        wdd_local=wdd_local,
        rate_ratio=rr,
        wdd_harm=harm,
        e_tests=tests,
        power=pow_res,
        series=series,
        registered_before_start=registered,
        interpretation=" ".join(lines),
    )


# ------------------------------------------------------------------------------------------- charts


def before_after_series(
    incidents: gpd.GeoDataFrame, design: EvaluationDesign, *, freq: str = "MS"
) -> pd.DataFrame:
    """Tidy counts per time bin and area over the design's periods, for charts.

    Returns
    -------
    DataFrame
        ``period`` (bin start, Timestamp), ``area``, ``count``, ``days`` (days of the bin inside
        the design's periods), ``phase`` (``before``/``after``/``gap``); every bin × area present.
    """
    lo = pd.Timestamp(design.before[0])
    hi = pd.Timestamp(design.after[1])
    try:
        edges = pd.date_range(lo.to_period("D").to_timestamp(), hi, freq=freq)
    except ValueError:
        raise ConfigError(f"freq={freq!r} is not a pandas frequency such as 'MS', 'W-MON', 'D'.") from None
    edges = edges.union(pd.DatetimeIndex([lo, hi])).unique().sort_values()
    edges = edges[(edges >= lo) & (edges <= hi)]
    sel = select_incidents(incidents, design)
    area = assign_areas(sel, design)
    t = pd.to_datetime(sel["occurred_at"]).to_numpy()
    ok = (area != "") & (t >= lo.to_datetime64()) & (t < hi.to_datetime64())
    idx = np.searchsorted(edges.to_numpy(), t[ok], side="right") - 1
    present = design.areas
    codes = np.array([present.index(a) for a in area[ok]], dtype=np.int64)
    n_bins = len(edges) - 1
    counts = np.zeros((n_bins, len(present)), dtype=np.int64)
    np.add.at(counts, (idx, codes), 1)
    starts, ends = edges[:-1], edges[1:]
    days = ((ends - starts) / pd.Timedelta(days=1)).to_numpy()
    b1, a0 = pd.Timestamp(design.before[1]), pd.Timestamp(design.after[0])
    phase = np.where(ends <= b1, "before", np.where(starts >= a0, "after", "gap"))
    return pd.DataFrame(
        {
            "period": np.repeat(starts.to_numpy(), len(present)),
            "area": np.tile(present, n_bins),
            "count": counts.ravel(),
            "days": np.repeat(days, len(present)),
            "phase": np.repeat(phase, len(present)),
        }
    )
