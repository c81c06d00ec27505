"""Perception results of the public view: nothing about recorded crime that is not already published.

The internal fear-vs-crime layer (:func:`planner.perception.fear_crime_disagreement`) ranks every
cell's recorded crime, small counts included, and carries the counts; the night layer uses night
crimes per cell, which are never published. The public view therefore re-derives the layer from the
published cell counts only (a count below ``k`` is null there and counts as 0 in the ranking), drops
the crime columns and the ranks, and leaves out the night layer. Every class of the public layer is
a function of published figures (the cell counts and the audits' perceived safety), so it can give
no suppressed count back.

Audits are not incident data, but their rows may carry free text: the public result keeps the
per-cell surfaces, the coverage table and the counts of the import, not the audit points, the set-aside
rows, their reasons or the file's path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

PUBLIC_COLUMNS = ["cell_id", "perceived_safety", "class", "geometry"]
PUBLIC_CRIME_NOTE = (
    "Public view: recorded crime is ranked by the published cell counts (counts below k are "
    "withheld and rank as 0); night crimes per cell are not published, so there is no night layer."
)


def published_crimes(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Recorded crimes per cell as published (withheld counts as 0), in the order of ``cells``."""
    if "n_incidents" not in cells.columns:
        return np.zeros(len(cells))
    return pd.to_numeric(cells["n_incidents"], errors="coerce").fillna(0).to_numpy(dtype=float)


def public_layer(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A fear-vs-crime layer with only its public columns (class and perceived safety)."""
    out = gpd.GeoDataFrame(layer[PUBLIC_COLUMNS].copy(), geometry="geometry", crs=layer.crs)
    out.attrs = {k: v for k, v in layer.attrs.items() if k in {"rule", "group", "period"}}
    out.attrs["note"] = PUBLIC_CRIME_NOTE
    return out


def public_perception(result: Any, public_cells: gpd.GeoDataFrame) -> Any:
    """The public :class:`planner.perception.PerceptionResult` for ``result`` (``None`` stays ``None``).

    Parameters
    ----------
    result : PerceptionResult or None
        The internal result of the run's perception stage.
    public_cells : GeoDataFrame
        The public view's cells (``cell_id``, ``n_incidents`` with withheld counts null).

    Returns
    -------
    PerceptionResult or None
        Same surfaces and coverage; the fear-vs-crime layer from published counts with columns
        :data:`PUBLIC_COLUMNS` (empty when the public grid is not the audits' grid); no night layer,
        audit points, set-aside rows or source path.
    """
    if result is None:
        return None
    from planner.perception import PerceptionResult, coverage_warnings, fear_crime_disagreement

    warnings = coverage_warnings(
        result.coverage, min_group_audits=int(result.params.get("min_group_audits", 30))
    )
    same_grid = set(public_cells["cell_id"]) == set(result.surface["cell_id"])
    if same_grid:
        layer = public_layer(
            fear_crime_disagreement(result.surface, public_cells, published_crimes(public_cells))
        )
    else:
        layer = gpd.GeoDataFrame(columns=PUBLIC_COLUMNS, geometry="geometry", crs=public_cells.crs)
        layer.attrs = {"rule": result.disagreement.attrs.get("rule"), "note": PUBLIC_CRIME_NOTE}
        warnings.append("The fear-vs-crime layer is not published: the public grid is not the audits' grid.")
    report = {
        key: result.report[key]
        for key in ("rows_read", "rows_accepted", "rows_quarantined", "groups", "periods")
        if key in result.report
    }
    report["source"] = Path(str(result.report.get("source", "audits"))).name
    return PerceptionResult(
        audits=result.audits.iloc[0:0][["audit_id", "period", "group", "perceived_safety", "geometry"]],
        quarantine=pd.DataFrame(),
        report=report,
        surface=result.surface,
        coverage=result.coverage,
        disagreement=layer,
        night_disagreement=None,
        warnings=warnings,
        params={**result.params, "crimes": "published cell counts (withheld as 0)"},
    )
