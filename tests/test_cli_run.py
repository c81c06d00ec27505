"""`planner run` on a real burglaries-only file: `--category` names the crime type so measures are ranked."""

from __future__ import annotations

import pandas as pd
from _paths import shared_path

from planner.cli import main


def test_run_with_category_ranks_measures_for_a_burglary_file(tmp_path):
    csv = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    frame = pd.read_csv(csv)
    date_col = next(c for c in frame.columns if "date" in c.lower())
    recent = frame[pd.to_datetime(frame[date_col], errors="coerce") >= "2017-07-01"]
    small = tmp_path / "burglaries.csv"
    recent.to_csv(small, index=False)
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                "--incidents",
                str(small),
                "--crs",
                "EPSG:26971",
                "--category",
                "burglary",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    recs = pd.read_csv(out / "recommendations.csv")
    assert len(recs), "a burglary file with --category burglary gets ranked measures"
    assert set(recs["intervention_id"]) & {"locks_wd", "locks_wd_e", "sbd", "rv_cocoon", "hotspot_patrol"}
    assert "alarm_only" not in set(recs["intervention_id"])
