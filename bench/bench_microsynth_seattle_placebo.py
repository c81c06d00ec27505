"""Are random placebo units calibrated on real data? Seattle blocks where nothing happened (#29).

R microsynth's ``seattledmi`` blocks (``../shared/peer/microsynth_seattle/``), the 39 treated blocks
left out, quarters 1–12 only (before the real intervention). Pseudo-schemes: 39 consecutive blocks
in census GEOID order (state-county-tract-block: blocks of one block group, then the next, so a
compact area like a real scheme), busy ones only (≥ 50 crimes a quarter, as a hotspot scheme would
be), "starting" after quarter 8. Nothing happened there, so a calibrated test rejects at 5 % about
5 % of the time and the 90 % interval covers "no change" about 90 % of the time.

Compared, with R's other settings (weights closest to uniform, every quarter matched, the nine
covariates, design-based variance, 250 placebos, two-sided): placebo units drawn at random (R) and
contiguous placebo areas (39 consecutive blocks in GEOID order — the data have no geometry, so GEOID
order stands in for adjacency).

Usage: ``.venv/bin/python -m bench.bench_microsynth_seattle_placebo`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.bench_microsynth_seattle import COVARIATES, DATA
from planner.evaluate._panel import panel_from_arrays
from planner.evaluate.microsynth import MicrosynthOptions, estimate_area

OUTCOMES = ("i_felony", "any_crime")
N_AREAS = 40
SIZE = 39
END_PRE = 8


def _panel_arrays() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    frame = pd.read_csv(DATA).sort_values(["ID", "time"])
    treated = frame.groupby("ID")["Intervention"].transform("max") > 0
    frame = frame[~treated & (frame["time"] <= 12)]
    n = frame["ID"].nunique()
    counts = frame[list(OUTCOMES)].to_numpy().reshape(n, 12, len(OUTCOMES)).transpose(0, 2, 1)
    first = frame.groupby("ID", sort=True).first()
    return counts, {c: first[c].to_numpy(dtype=float) for c in COVARIATES}


def _areas(counts: np.ndarray, rng: np.random.Generator) -> list[int]:
    busy = counts[:, OUTCOMES.index("any_crime"), :END_PRE].sum(axis=1)
    window = np.convolve(busy, np.ones(SIZE), mode="valid")  # crimes of blocks i..i+38
    starts = np.flatnonzero(window >= 50 * END_PRE)
    return sorted(rng.choice(starts, size=min(N_AREAS, len(starts)), replace=False).tolist())


def main() -> None:
    """Print the calibration table (Markdown)."""
    import geopandas as gpd
    import shapely

    counts, cov = _panel_arrays()
    rng = np.random.default_rng(29)
    geometry = gpd.GeoSeries(shapely.points(np.arange(len(counts)) * 100.0, 0.0), crs="EPSG:3857")
    rows = []
    for start in _areas(counts, rng):
        role = np.full(len(counts), "donor", dtype=object)
        role[start : start + SIZE] = "treatment"
        panel = panel_from_arrays(
            counts, role, outcomes=OUTCOMES, n_pre=END_PRE, covariates=cov, geometry=geometry
        )
        for placebo in ("random", "contiguous"):
            opts = MicrosynthOptions(placebo=placebo, n_jackknife=0, evaluate_buffer=False)
            eff = estimate_area(panel, "treatment", options=opts, alpha=0.1).effects.set_index("outcome")
            for outcome in OUTCOMES:
                row = eff.loc[outcome]
                rows.append(
                    {
                        "placebo": placebo,
                        "outcome": outcome,
                        "start": start,
                        "pct": row["pct_change"],
                        "p_perm": row["perm_p"],
                        "covers_0": row["perm_low"] <= 0 <= row["perm_high"],
                        "p_linear": row["linear_p"],
                    }
                )
    table = pd.DataFrame(rows)
    summary = table.groupby(["placebo", "outcome"]).agg(
        runs=("pct", "size"),
        reject_perm_5pct=("p_perm", lambda p: float((p < 0.05).mean())),
        interval_covers_0=("covers_0", "mean"),
        reject_linear_5pct=("p_linear", lambda p: float((p < 0.05).mean())),
        mean_abs_pct=("pct", lambda x: float(np.abs(x).mean())),
    )
    print("## Placebo calibration on real Seattle blocks (no scheme; quarters 1–12)\n")
    print(summary.round(3).to_markdown())
    print()
    print(table.round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
