"""The printable brief: a summary page, one page per top hotspot and a methods appendix.

Written twice from the same content: ``brief.pdf`` (matplotlib's PDF backend, A4 portrait, no
network) and ``brief.html`` (one section per page, figures as inline PNG). Every page states the
privacy level. Hotspot pages show the map, the crime profile, how the environment differs from the
study area, the ranked measures with their evidence and intervals, and privacy/access notes.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.export.privacy import PrivacyReport
from planner.plan import Plan

A4 = (8.27, 11.69)
CAVEATS = [
    "Police-recorded crime is not all crime: reporting rates differ by offence, place and group "
    "(burglary with loss is reported far more often than assault or vandalism).",
    "Recording practice changes over time and between forces or departments, so trends can reflect "
    "recording rather than behaviour.",
    "Locations are often snapped to a street segment, block or address point; points that repeat the "
    "same coordinates (see 'duplicate locations') are a sign of this. Small-area patterns below that "
    "precision are artefacts.",
    "Counts in small areas are noisy. Hotspots here are clusters of cells that are significant by "
    "the Getis-Ord Gi* statistic after false-discovery-rate correction, not simply high counts.",
    "Effects of measures come from evaluations elsewhere; the intervals show that uncertainty, and "
    "local conditions can differ. Displacement and diffusion of benefits should be checked after "
    "implementation (see 'planner evaluate').",
    "Publishing maps of crime can stigmatise places and people living there. Public exports suppress "
    "small counts and contain no incident points; describe places by their problems and remedies.",
]


EMMIE_NOTE = (
    "EMMIE grade: the quality of the evidence on each measure's Effect, Mechanism, Moderators (Mo), "
    "Implementation and Economics (Ec), graded 0 none, 1 limited, 2 moderate, 3 strong, 4 very strong "
    "(the What Works Centre for Crime Reduction's EMMIE framework; Johnson, Tilley & Bowers 2015). "
    "It grades how much is known, not how large the effect is."
)


@dataclass
class Section:
    """One page of the brief: title, text lines, tables and figures."""

    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}f}"
    if pd.isna(value):
        return "–"
    return str(value)


def _interval(row: pd.Series, col: str, digits: int = 2, *, mid_col: str | None = None) -> str:
    mid, low, high = row.get(mid_col or col), row.get(f"{col}_low"), row.get(f"{col}_high")
    if mid is None or pd.isna(mid):
        return "–"
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return _fmt(mid, digits)
    return f"{_fmt(mid, digits)} ({_fmt(low, digits)}–{_fmt(high, digits)})"


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _recs_for(plan: Plan, hotspot_id: str, n: int = 5) -> pd.DataFrame:
    recs = plan.recommendations
    if recs is None or not len(recs) or "hotspot_id" not in recs.columns:
        return pd.DataFrame()
    sub = recs[recs["hotspot_id"] == hotspot_id]
    if "rank" in sub.columns:
        sub = sub.sort_values("rank")
    return pd.DataFrame(sub.head(n)).drop(columns="geometry", errors="ignore")


def top_hotspot_ids(plan: Plan, n: int) -> list[str]:
    """Ids of the ``n`` hotspots with the most incidents (ids are ordered that way already)."""
    hs = plan.hotspots
    if not len(hs):
        return []
    order = hs.sort_values(["n_incidents", "hotspot_id"], ascending=[False, True], na_position="last")
    return [str(h) for h in order["hotspot_id"].head(n)]


def summary_section(plan: Plan, report: PrivacyReport, ids: list[str]) -> Section:
    """Headline numbers and the table of top hotspots."""
    ingest = plan.ingest_report
    params = plan.params
    n_incidents = params.get("n_incidents", len(plan.incidents))
    period = f"{ingest.get('date_min', '?')} to {ingest.get('date_max', '?')}"
    lines = [
        f"Incidents analysed: {_fmt(n_incidents) if report.level == 'internal' else _fmt(_round(n_incidents, report))}"
        f" ({period}).",
        f"Grid: {_fmt(params.get('cell_size_m'), 0)} m {params.get('grid_kind', 'square')} cells; "
        f"{len(plan.hotspots)} published hotspot(s)"
        + (
            f", {len(report.hotspots_suppressed)} suppressed (< {report.k} incidents)."
            if report.hotspots_suppressed
            else "."
        ),
        f"Privacy level: {report.level}. {report.note}",
    ]
    rows = []
    for hid in ids:
        h = plan.hotspots[plan.hotspots["hotspot_id"] == hid].iloc[0]
        recs = _recs_for(plan, hid, 1)
        rows.append(
            {
                "Hotspot": hid,
                "Incidents": _fmt(h.get("n_incidents")),
                "Per year": _fmt(h.get("incidents_per_year"), 1),
                "Area (ha)": _fmt(float(h.get("area_m2", np.nan)) / 1e4, 1),
                "Main crime": _fmt(h.get("top_category")),
                "Top measure": _top_measure(recs),
            }
        )
    table = pd.DataFrame(rows)
    return Section(title="Crime prevention plan — summary", lines=lines, tables=[("Top hotspots", table)])


def _top_measure(recs: pd.DataFrame) -> str:
    """The first-ranked measure's name, or that nothing situational there pays back (its note says
    which are cheapest).
    """
    if not len(recs):
        return "–"
    return "none pays back" if _hotspot_note(recs) else _fmt(recs.iloc[0].get("name"))


def _hotspot_note(recs: pd.DataFrame) -> str:
    """The hotspot's own note (the ranking writes one where no situational measure pays back)."""
    note = recs.iloc[0].get("hotspot_note") if len(recs) else None
    return note.strip() if isinstance(note, str) else ""


def _round(n: Any, report: PrivacyReport) -> Any:
    if report.round_to <= 1 or n is None:
        return n
    return int(math.floor(float(n) / report.round_to + 0.5) * report.round_to)


def hotspot_section(plan: Plan, hid: str, report: PrivacyReport) -> Section:
    """One hotspot: facts, environment vs the study area, ranked measures, notes."""
    h = plan.hotspots[plan.hotspots["hotspot_id"] == hid].iloc[0]
    # public plans carry no Gi* z (it would give suppressed counts back): say only what is there
    gi = f"; mean Gi* z: {_fmt(h.get('mean_gi_z'))}" if "mean_gi_z" in h.index else ""
    lines = [
        f"Incidents: {_fmt(h.get('n_incidents'))}; per year: {_fmt(h.get('incidents_per_year'), 1)}; "
        f"area: {_fmt(float(h.get('area_m2', np.nan)) / 1e4, 1)} ha; cells: {_fmt(h.get('n_cells'))}{gi}.",
        f"Main crime type: {_fmt(h.get('top_category'))}; share at night (19:00–07:00): "
        f"{_fmt(h.get('night_share'))}.",
    ]
    mix = _json(h.get("category_mix"))
    if isinstance(mix, dict):
        shown = ", ".join(f"{k}: {'<' + str(report.k) if v is None else v}" for k, v in mix.items())
        lines.append(f"Crime mix: {shown}.")
    deficits = environment_differences(plan, h)
    recs = _recs_for(plan, hid)
    measures = pd.DataFrame(
        [
            {
                "#": _fmt(r.get("rank")),
                "Measure": textwrap.shorten(_fmt(r.get("name")), 34, placeholder="…"),
                "Effect (interval)": _interval(r, "effect"),
                "Prevented/yr (interval)": _interval(r, "prevented", 1, mid_col="prevented_per_year"),
                "Benefit-cost (interval)": _interval(r, "bcr", 1),
                "Evidence (EMMIE 0-4)": _fmt(r.get("evidence_grade")) if r.get("evidence_grade") else "–",
            }
            for _, r in recs.iterrows()
        ]
    )
    notes = [f"Privacy: {report.note}"]
    for col, label in (("privacy_note", "Privacy impact"), ("access_note", "Access")):
        if col in recs.columns:
            for text in dict.fromkeys(str(t) for t in recs[col].dropna() if str(t).strip()):
                notes.append(f"{label}: {text}")
    if len(recs) and "source" in recs.columns:
        notes.append(f"Evidence for '{_fmt(recs.iloc[0].get('name'))}': {_fmt(recs.iloc[0].get('source'))}")
    note = _hotspot_note(recs)
    if note:  # nothing situational pays back here: say so before any reasons
        lines.append(note)
    if len(recs) and "reasons" in recs.columns and pd.notna(recs.iloc[0].get("reasons")):
        lines.append(_why_here(str(recs.iloc[0].get("reasons"))))
    tables = []
    if len(deficits):
        tables.append(("Environment compared with the study area (largest differences)", deficits))
    tables.append(
        ("Ranked measures", measures if len(measures) else pd.DataFrame({"Measure": ["none ranked"]}))
    )
    return Section(title=f"Hotspot {hid}", lines=lines, tables=tables, notes=notes)


#: Exposure measures that do not grow with area, so a hotspot compares with single cells.
_INTENSIVE = ("per_km2", "_share", "nearest_m", "mean_lux", "min_lux", "per_km_street")


def _why_here(reasons: str) -> str:
    """The first reasons of a measure (why here, what it reaches, the baseline) under one "Why here:"
    label; the evidence, persistence and money sentences that follow are left to the recommendations
    table (a page per hotspot holds its map, profile and ranked measures).
    """
    text = reasons.strip()
    head, sep, _rest = text.partition(" Evidence: ")
    if sep:
        text = f"{head} Evidence, persistence and costs: see the reasons in recommendations.csv."
    return text if text.lower().startswith("why here") else f"Why here: {text}"


def environment_differences(plan: Plan, hotspot: pd.Series, n: int = 6) -> pd.DataFrame:
    """The hotspot's environment measures that differ most from the study area's cells.

    Only area-independent measures (densities, shares, distances, lux) are compared; the difference
    is in standard deviations of the cells' values.
    """
    cols = [
        c for c in plan.hotspots.columns if "__" in c and c.endswith(_INTENSIVE) and c in plan.cells.columns
    ]
    rows = []
    for col in cols:
        values = pd.to_numeric(plan.cells[col], errors="coerce")
        value = pd.to_numeric(pd.Series([hotspot.get(col)]), errors="coerce").iloc[0]
        sd = float(values.std())
        if pd.isna(value) or not math.isfinite(sd) or sd == 0:
            continue
        z = (float(value) - float(values.mean())) / sd
        rows.append(
            {
                "Measure of the environment": col.replace("__", ": ").replace("_", " "),
                "Hotspot": _fmt(float(value)),
                "Study-area mean": _fmt(float(values.mean())),
                "Difference (SD)": f"{z:+.1f}",
                "score": abs(z),
            }
        )
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).sort_values("score", ascending=False).head(n).drop(columns="score")


def microsynth_section(plan: Plan, report: PrivacyReport) -> Section | None:
    """Micro-synthetic control evaluation (``plan.evaluation["microsynth"]``), when one is present.

    Per area (treatment, buffer) and outcome: Trt, Con, % change with its interval and p-value,
    the omnibus test and the fit notes. On public briefs counts below ``k`` are shown as ``< k``.
    """
    result = plan.evaluation.get("microsynth")
    if not result:
        return None
    from planner.evaluate.microsynth import effects_summary

    table = effects_summary(result)
    if report.level != "internal":
        small = table["Trt"] < report.k
        table["Trt"] = table["Trt"].map(lambda v: _round(v, report)).astype(object)
        table.loc[small, "Trt"] = f"< {report.k}"
    lines = [
        f"Design {result.get('design')!r}: measure started {result.get('start')}; before "
        f"{' to '.join(result.get('before', []))}, after {' to '.join(result.get('after', []))} (half-open).",
        "Trt is the count recorded in the area after the start; Con is the synthetic control — a weighted "
        "set of small places elsewhere whose counts matched the area's before the start, per crime type "
        "and time bin. Intervals come from placebo areas (perm), a jackknife (jack) or linearization.",
        str(result.get("interpretation", "")),
    ]
    notes = []
    for name, area in result.get("areas", {}).items():
        omni = area.get("omnibus", {})
        if omni.get("p_perm") is not None:
            lines.append(
                f"Omnibus test ({name}; {', '.join(omni.get('outcomes', []))}): permutation p = {omni['p_perm']:.3f}."
            )
        fit = area.get("fit", {})
        notes.append(
            f"{name}: {fit.get('n_treated_units')} units, {fit.get('n_donor_units')} donor units, "
            f"{fit.get('n_constraints')} constraints, balance {'exact' if fit.get('exact') else 'closest achievable'}, "
            f"{fit.get('n_placebos_used')} placebo areas, {fit.get('n_jackknife_groups')} jackknife groups."
        )
        notes += [f"{name}: {n}" for n in fit.get("notes", [])]
    return Section(
        title="Evaluation — micro-synthetic control",
        lines=lines,
        tables=[("Treated vs synthetic control after the start", table)],
        notes=notes,
    )


def methods_section(plan: Plan, report: PrivacyReport) -> Section:
    """Parameters (automatic ones included), data fitness and caveats of police-recorded data."""
    config = {**plan.manifest(privacy=report.level)["config"], "privacy": report.level, "k_min": report.k}
    params = {k: v for k, v in plan.parameters.items() if k not in {"timings_s"} and not isinstance(v, dict)}
    param_rows = [
        {"Parameter": k, "Value": textwrap.shorten(str(v), 60)}
        for k, v in config.items()
        if v not in (None, {}, [])
    ]
    param_rows += [
        {"Parameter": k, "Value": textwrap.shorten(_fmt(v, 3), 60)}
        for k, v in params.items()
        if k not in config
    ]
    ingest = plan.ingest_report
    lines = [
        f"Rows read {_fmt(ingest.get('rows_read'))}, accepted {_fmt(ingest.get('rows_accepted'))}, "
        f"set aside {_fmt(ingest.get('rows_quarantined'))}; time resolution {ingest.get('time_resolution', '?')}; "
        f"duplicate locations {_fmt(ingest.get('duplicate_location_share'))}.",
    ]
    for name, verdict in (ingest.get("fitness") or {}).get("analyses", {}).items():
        ok = "fit" if verdict.get("ok") else "NOT fit"
        lines.append(f"{name.replace('_', ' ')}: {ok} — {verdict.get('reason', '')}")
    for item in plan.inputs:
        digest = str(item.get("sha256") or "not hashed")[:16]
        lines.append(
            f"Input {Path(str(item.get('path'))).name}: sha256 {digest}…, {_fmt(item.get('bytes'))} bytes"
        )
    notes = [f"Privacy ({report.level}): " + " ".join(report.rules)]
    notes += [f"Caveat of police-recorded data: {c}" for c in CAVEATS]
    notes.append(EMMIE_NOTE)
    return Section(
        title="Methods appendix",
        lines=["Data fitness:", *lines],
        tables=[("Parameters (automatic choices included)", pd.DataFrame(param_rows))],
        notes=notes,
    )


# ------------------------------------------------------------------ figures
# Polygons are drawn as matplotlib collections: GeoSeries.plot redraws the figure on every call,
# which made the brief ten times slower.
def _fill(ax: Any, geoms: Any, colour: str, *, alpha: float = 1.0) -> None:
    import shapely
    from matplotlib.collections import PolyCollection

    parts = shapely.get_parts(np.asarray(list(geoms), dtype=object))
    verts = [
        np.asarray(p.exterior.coords)[:, :2] for p in parts if p is not None and p.geom_type == "Polygon"
    ]
    if verts:
        ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none", alpha=alpha))


def _outline(ax: Any, geoms: Any, colour: str, *, width: float = 1.0, style: str = "-") -> None:
    import shapely
    from matplotlib.collections import LineCollection

    rings = shapely.get_parts(shapely.boundary(np.asarray(list(geoms), dtype=object)))
    lines = [np.asarray(r.coords)[:, :2] for r in rings if r is not None and not r.is_empty]
    if lines:
        ax.add_collection(LineCollection(lines, colors=colour, linewidths=width, linestyles=style))


def _fill_bins(ax: Any, cells: Any, *, alpha: float = 1.0) -> None:
    from planner.maps import GI_BIN_COLOURS

    if "gi_bin" not in cells.columns:
        return
    bins = pd.to_numeric(cells["gi_bin"], errors="coerce")
    for b, colour in GI_BIN_COLOURS.items():
        _fill(ax, cells.geometry[bins == b], colour, alpha=alpha)


def _draw_overview(ax: Any, plan: Plan, ids: list[str]) -> None:
    from planner.maps import HOTSPOT_COLOUR

    _outline(ax, plan.study_area.geometry, "#333333", width=0.8)
    _fill_bins(ax, plan.cells)
    if len(plan.hotspots):
        _outline(ax, plan.hotspots.geometry, HOTSPOT_COLOUR, width=1.2)
        for _, h in plan.hotspots[plan.hotspots["hotspot_id"].isin(ids)].iterrows():
            p = h.geometry.representative_point()
            ax.annotate(str(h["hotspot_id"]), (p.x, p.y), fontsize=7, color="#000000", weight="bold")
    minx, miny, maxx, maxy = plan.study_area.total_bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_axis_off()
    ax.set_aspect("equal")


def _draw_hotspot_map(ax: Any, plan: Plan, hid: str, *, internal: bool) -> None:
    from planner.maps import HOTSPOT_COLOUR

    hs = plan.hotspots[plan.hotspots["hotspot_id"] == hid]
    minx, miny, maxx, maxy = hs.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.4 + float(plan.params.get("cell_size_m") or 100)
    window = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    cells = plan.cells.cx[window[0] : window[2], window[1] : window[3]]
    _outline(ax, cells.geometry, "#cccccc", width=0.3)
    _fill_bins(ax, cells, alpha=0.7)
    others = plan.hotspots.cx[window[0] : window[2], window[1] : window[3]]
    _outline(ax, others.geometry, HOTSPOT_COLOUR, width=0.8, style="--")
    _outline(ax, hs.geometry, "#000000", width=2)
    _outline(ax, plan.study_area.geometry, "#333333", width=0.8)
    if internal and len(plan.incidents):
        pts = plan.incidents.cx[window[0] : window[2], window[1] : window[3]]
        if len(pts):
            ax.scatter(pts.geometry.x, pts.geometry.y, s=2, color="#444444", linewidths=0)
    ax.set_xlim(window[0], window[2])
    ax.set_ylim(window[1], window[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{hid}: {(window[2] - window[0]) / 1000:.2f} km across", fontsize=8)


def _draw_profile(ax: Any, plan: Plan, hid: str, report: PrivacyReport) -> None:
    h = plan.hotspots[plan.hotspots["hotspot_id"] == hid].iloc[0]
    hours = _json(h.get("hour_profile"))
    if isinstance(hours, list) and len(hours) == 24:
        values = [np.nan if v is None else float(v) for v in hours]
        ax.bar(range(24), np.nan_to_num(values), color="#0072B2")
        hidden = [i for i, v in enumerate(values) if np.isnan(v)]
        if hidden:
            ax.scatter(hidden, [0] * len(hidden), marker="x", color="#999999", s=10, label=f"< {report.k}")
            ax.legend(fontsize=6, loc="upper left")
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel("Hour of day", fontsize=7)
        ax.set_title("Crime profile: incidents by hour", fontsize=8)
    else:
        mix = _json(h.get("category_mix"))
        if isinstance(mix, dict) and mix:
            names = list(mix)
            vals = [0.0 if mix[n] is None else float(mix[n]) for n in names]
            ax.barh(names, vals, color="#0072B2")
            ax.set_title("Crime profile: incidents by type", fontsize=8)
        else:
            ax.text(0.5, 0.5, "No crime profile recorded", ha="center", va="center", fontsize=8)
            ax.set_axis_off()
    ax.tick_params(labelsize=6)


# ------------------------------------------------------------------ PDF
def _banner(fig: Any, report: PrivacyReport) -> None:
    internal = report.level == "internal"
    text = report.note if internal else f"Privacy: {report.note}"
    fig.text(
        0.5,
        0.975,
        textwrap.fill(text, 120),
        ha="center",
        va="top",
        fontsize=7,
        color="#ffffff" if internal else "#333333",
        weight="bold" if internal else "normal",
        bbox={"facecolor": "#b2182b" if internal else "#eeeeee", "edgecolor": "none", "pad": 3},
    )


def _text_block(fig: Any, lines: list[str], *, top: float, size: float = 8, width: int = 110) -> float:
    """Write wrapped ``lines`` from ``top`` down (figure fraction); return the y below them."""
    y = top
    step = size / 72 / A4[1] * 1.35
    for line in lines:
        for part in textwrap.wrap(line, width) or [""]:
            fig.text(0.06, y, part, fontsize=size, va="top")
            y -= step
    return y


def _table(fig: Any, title: str, frame: pd.DataFrame, *, top: float, size: float = 7) -> float:
    """Draw ``frame`` as a table below ``title`` from ``top``; return the y below it."""
    fig.text(0.06, top, title, fontsize=9, weight="bold", va="top")
    if frame.empty or not len(frame.columns):
        fig.text(0.06, top - 0.02, "(none)", fontsize=size, va="top")
        return top - 0.04
    row_h = size / 72 / A4[1] * 1.9
    height = row_h * (len(frame) + 1)
    ax = fig.add_axes((0.06, top - 0.02 - height, 0.88, height))
    ax.set_axis_off()
    cells = [[textwrap.shorten(str(v), 48) for v in row] for row in frame.astype(str).to_numpy()]
    tbl = ax.table(cellText=cells, colLabels=list(frame.columns), loc="upper left", cellLoc="left")
    tbl.auto_set_font_size(False)
    tbl.set_fontsize(size)
    lengths = np.array(
        [max([len(str(c)), *(len(r[i]) for r in cells)]) for i, c in enumerate(frame.columns)], dtype=float
    )
    lengths = np.maximum(lengths, 4)
    widths = lengths / lengths.sum()
    for (_row, col), cell in tbl.get_celld().items():
        cell.set_width(widths[col])
    return top - 0.03 - height


PAGE_BOTTOM = 0.04  # figure fraction below which nothing is drawn
NOTE_SIZE, NOTE_WIDTH = 6.5, 150


def _lines_height(lines: list[str], *, size: float, width: int) -> float:
    """Height (figure fraction) of ``lines`` written by :func:`_text_block`."""
    n = sum(len(textwrap.wrap(line, width) or [""]) for line in lines)
    return n * size / 72 / A4[1] * 1.35


def _pdf_page(pdf: Any, section: Section, report: PrivacyReport, draw: Any = None) -> None:
    """One section on one page, or on several when its tables and notes do not fit: a long table
    continues on the next page with its title marked "(continued)", and notes that do not fit below
    the last table go on a page of their own. Nothing is drawn off the page.
    """
    import matplotlib.pyplot as plt

    def new_page(title: str) -> tuple[Any, float]:
        fig = plt.figure(figsize=A4)
        _banner(fig, report)
        fig.text(0.06, 0.94, title, fontsize=15, weight="bold", va="top")
        return fig, 0.905

    def turn_page(fig: Any) -> tuple[Any, float]:
        pdf.savefig(fig)
        plt.close(fig)
        return new_page(f"{section.title} (continued)")

    fig, y = new_page(section.title)
    y = _text_block(fig, section.lines, top=y)
    if draw is not None:
        y = draw(fig, y)
    row_h = 7 / 72 / A4[1] * 1.9  # _table's row height at its default size
    for table_title, frame in section.tables:
        title, rest = table_title, frame
        while True:
            fits = int((y - 0.01 - 0.03 - PAGE_BOTTOM) / row_h) - 1  # rows below the title and header
            if fits < min(3, len(rest)) and y < 0.85:
                fig, y = turn_page(fig)
                continue
            part, rest = rest.iloc[: max(fits, 1)], rest.iloc[max(fits, 1) :]
            y = _table(fig, title, part, top=y - 0.01)
            if rest.empty:
                break
            fig, y = turn_page(fig)
            title = f"{title} (continued)"
    height = _lines_height(section.notes, size=NOTE_SIZE, width=NOTE_WIDTH)
    if y - 0.01 - height < PAGE_BOTTOM:
        fig, y = turn_page(fig)
    _text_block(
        fig,
        section.notes,
        top=min(y - 0.01, max(0.2, PAGE_BOTTOM + height)),
        size=NOTE_SIZE,
        width=NOTE_WIDTH,
    )
    pdf.savefig(fig)
    plt.close(fig)


def write_brief(
    plan: Plan, out_dir: Path, *, report: PrivacyReport, top_hotspots: int = 5, stamp: datetime | None = None
) -> list[Path]:
    """Write ``brief.pdf`` and ``brief.html`` (summary, n hotspot pages, methods appendix; a section
    too long for one page continues on the next).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    ids = top_hotspot_ids(plan, top_hotspots)
    internal = report.level == "internal"
    summary = summary_section(plan, report, ids)
    hotspot_pages = [hotspot_section(plan, hid, report) for hid in ids]
    methods = methods_section(plan, report)
    extra = [sec for sec in (microsynth_section(plan, report),) if sec is not None]

    def overview(fig: Any, y: float) -> float:
        ax = fig.add_axes((0.1, y - 0.36, 0.8, 0.34))
        _draw_overview(ax, plan, ids)
        return y - 0.38

    def hotspot_figs(hid: str) -> Any:
        def draw(fig: Any, y: float) -> float:
            _draw_hotspot_map(fig.add_axes((0.06, y - 0.3, 0.42, 0.28)), plan, hid, internal=internal)
            _draw_profile(fig.add_axes((0.58, y - 0.26, 0.36, 0.22)), plan, hid, report)
            return y - 0.32

        return draw

    out_dir = Path(out_dir)
    pdf_path = out_dir / "brief.pdf"
    metadata = {
        "Title": "Situational crime prevention plan — brief",
        "Subject": report.note,
        "Keywords": f"privacy={report.level}",
        "Creator": "planner",
        "CreationDate": stamp,
    }
    with PdfPages(pdf_path, metadata=metadata) as pdf:
        _pdf_page(pdf, summary, report, overview)
        for hid, section in zip(ids, hotspot_pages, strict=True):
            _pdf_page(pdf, section, report, hotspot_figs(hid))
        for section in extra:
            _pdf_page(pdf, section, report)
        _pdf_page(pdf, methods, report)

    # HTML: the same sections, figures as inline PNGs.
    def png(draw: Any, size: tuple[float, float]) -> str:
        fig = plt.figure(figsize=size)
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
        plt.close(fig)
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

    figures = [png(lambda f: _draw_overview(f.add_axes((0.02, 0.02, 0.96, 0.96)), plan, ids), (7, 5))]
    for hid in ids:

        def hotspot_png(fig: Any, hid: str = hid) -> None:
            _draw_hotspot_map(fig.add_axes((0.03, 0.05, 0.45, 0.85)), plan, hid, internal=internal)
            _draw_profile(fig.add_axes((0.58, 0.15, 0.38, 0.7)), plan, hid, report)

        figures.append(png(hotspot_png, (8, 3.6)))
    figures += [""] * (len(extra) + 1)
    html_path = out_dir / "brief.html"
    html_path.write_text(_html([summary, *hotspot_pages, *extra, methods], figures, report), encoding="utf-8")
    return [pdf_path, html_path]


def _html(sections: list[Section], figures: list[str], report: PrivacyReport) -> str:
    internal = report.level == "internal"
    colour = "#b2182b" if internal else "#eeeeee"
    text_colour = "#ffffff" if internal else "#333333"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta name='planner-privacy' content='{html.escape(report.note)}'>",
        "<title>Situational crime prevention plan — brief</title><style>",
        "body{font:14px/1.45 sans-serif;max-width:60em;margin:auto;color:#222}"
        "section{page-break-after:always;border-bottom:1px solid #ccc;padding-bottom:1em}"
        f".privacy{{background:{colour};color:{text_colour};padding:4px 8px;font-size:12px;font-weight:bold}}"
        "table{border-collapse:collapse;font-size:12px;margin:.4em 0}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left}"
        ".notes{font-size:12px;color:#444}img{max-width:100%}",
        "</style></head><body>",
    ]
    for section, figure in zip(sections, figures, strict=True):
        parts.append("<section>")
        parts.append(f"<div class='privacy'>{html.escape(report.note)}</div>")
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{html.escape(line)}</p>" for line in section.lines]
        if figure:
            parts.append(f"<img alt='map and profile for {html.escape(section.title)}' src='{figure}'>")
        for title, frame in section.tables:
            parts.append(f"<h3>{html.escape(title)}</h3>")
            parts.append(frame.to_html(index=False, escape=True, border=0) if len(frame) else "<p>(none)</p>")
        if section.notes:
            parts.append(
                "<div class='notes'>" + "".join(f"<p>{html.escape(n)}</p>" for n in section.notes) + "</div>"
            )
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
