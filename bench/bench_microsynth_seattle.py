r"""R microsynth's Seattle example (``seattledmi``, ``PEER_TESTS.md`` §7): the acceptance numbers of #29.

Runs :func:`planner.evaluate.msynth_panel.microsynth_panel` on the real data with ``compat="r"``
and with the defaults (one-sided), 250 random placebos and one jackknife group per treated block,
and prints a Markdown table against R's published ``sea2`` results. Needs
``../shared/peer/microsynth_seattle/seattledmi.csv.gz``.

Usage: ``.venv/bin/python -m bench.bench_microsynth_seattle`` (about 30 s on 2 cores). The same
numbers from the command line::

    planner evaluate microsynth-panel ../shared/peer/microsynth_seattle/seattledmi.csv.gz \\
        --id ID --time time --intervention Intervention --end-pre 12 \\
        --outcome i_felony --outcome i_misdemea --outcome i_drugs --outcome any_crime \\
        --covariate TotalPop --covariate BLACK --covariate HISPANIC --covariate Males_1521 \\
        --covariate HOUSEHOLDS --covariate FAMILYHOUS --covariate FEMALE_HOU \\
        --covariate RENTER_HOU --covariate VACANT_HOU --placebos 250 --compat r
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from planner.evaluate.msynth_panel import microsynth_panel

DATA = Path(__file__).resolve().parents[2] / "shared" / "peer" / "microsynth_seattle" / "seattledmi.csv.gz"
OUTCOMES = ["i_felony", "i_misdemea", "i_drugs", "any_crime"]
COVARIATES = [
    "TotalPop", "BLACK", "HISPANIC", "Males_1521", "HOUSEHOLDS",
    "FAMILYHOUS", "FEMALE_HOU", "RENTER_HOU", "VACANT_HOU",
]  # fmt: skip
R = {  # published: Con, % change, linearised 90 % interval
    "i_felony": (68.22, -0.326, (-0.503, -0.084)),
    "i_misdemea": (71.80, -0.373, (-0.528, -0.167)),
    "i_drugs": (23.76, -0.158, (-0.464, 0.321)),
    "any_crime": (986.44, -0.201, (-0.329, -0.049)),
}


def main() -> None:
    """Print the comparison with R for ``compat="r"`` and for the defaults."""
    frame = pd.read_csv(DATA)
    for label, kwargs in (("compat r", {"compat": "r"}), ("defaults, one-sided", {"test": "lower"})):
        t0 = time.perf_counter()
        fit = microsynth_panel(
            frame,
            id="ID",
            time="time",
            intervention="Intervention",
            end_pre=12,
            outcomes=OUTCOMES,
            covariates=COVARIATES,
            n_placebos=250,
            **kwargs,
        )
        seconds = time.perf_counter() - t0
        print(f"\n### {label} ({seconds:.1f} s; balance exact: {fit.result.fit['exact']})\n")
        print(
            "| outcome | Trt | Con ours / R | % ours / R | linearised 90 % ours / R | p linear / jack / perm |"
        )
        print("|---|---|---|---|---|---|")
        for _, row in fit.effects.iterrows():
            con, pct, (lo, hi) = R[row["outcome"]]
            print(
                f"| {row['outcome']} | {row['trt']:.0f} | {row['con']:.2f} / {con:.2f} | "
                f"{row['pct_change']:+.1%} / {pct:+.1%} | [{row['linear_low']:+.1%}, {row['linear_high']:+.1%}] / "
                f"[{lo:+.1%}, {hi:+.1%}] | {row['linear_p']:.3f} / {row['jack_p']:.3f} / {row['perm_p']:.3f} |"
            )


if __name__ == "__main__":
    main()
