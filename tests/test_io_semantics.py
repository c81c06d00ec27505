"""Data semantics found on real files (issue 22, item 6), each on a tiny fixture shaped like the file
that showed it, with the expected answer written down.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.errors import CRSError
from planner.io import read_incidents

NOW = "2026-01-01"


def _chicago_like(n: int = 200) -> pd.DataFrame:
    """Rows shaped like ``chicago_burglary_2014_2017.csv``: ``x, y, date_single`` (dd/mm/YYYY),
    EPSG:26971 metres. The x values run 341000..342990 in 10 m steps except row 0 (x = 340350.1,
    the minimum) and row 1 (x = 367222.3, the maximum); y likewise with 552880.9 and 594820.5.
    """
    i = np.arange(n)
    x = 341000.0 + 10.0 * i
    y = 560000.0 + 10.0 * i
    x[0], x[1] = 340350.1, 367222.3
    y[0], y[1] = 552880.9, 594820.5
    dates = pd.Timestamp("2016-01-01") + pd.to_timedelta(i % 300, unit="D")
    return pd.DataFrame({"x": x, "y": y, "date_single": dates.strftime("%d/%m/%Y")})


def test_crs_error_gives_the_true_coordinate_range(tmp_path):
    """Bare projected numbers without --crs: the message gives the file's minimum and maximum
    (it gave the 1st and 99th percentiles, which no row of the file need hold).
    """
    path = tmp_path / "chicago_burglary.csv"
    _chicago_like().to_csv(path, index=False)
    with pytest.raises(CRSError) as info:
        read_incidents(path, now=NOW)
    text = str(info.value)
    assert "x from 340350.1 to 367222.3" in text
    assert "y from 552880.9 to 594820.5" in text


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([512345.67, 498765.12, 503000.5, 5701234.25], 2),  # projected metres to the centimetre
        ([512345.0, 498765.0, 5701234.0], 0),  # whole metres
        ([512345.6, 498765.1, 5701234.3], 1),
        ([-1.2449, 52.8936, -1.0949, 53.0162], 4),  # police.uk degrees rounded to 4 decimals
        ([-90.125, 34.996, -89.733, 35.258], 3),  # Memphis degrees rounded to 3 decimals
        ([512345.123456789, 5701234.987654321], None),  # not rounded
    ],
)
def test_coordinate_decimals(values, expected):
    """Projected metres like 512345.67 have 2 decimals (a relative tolerance called them 0)."""
    from planner.io.fitness import coordinate_decimals

    assert coordinate_decimals(np.array(values)) == expected


def test_ingest_reports_decimals_of_the_coordinates_as_written(tmp_path):
    """x/y in EPSG:26971 written to the centimetre report 2 decimals; police.uk-style lon/lat
    rounded to 4 decimals report 4 (not the decimals of their UTM transform, which are none).
    """
    frame = _chicago_like(60).iloc[2:]
    frame = frame.assign(x=frame["x"] + 0.25, y=frame["y"] + 0.07)
    path = tmp_path / "xy.csv"
    frame.to_csv(path, index=False)
    rep = read_incidents(path, crs="EPSG:26971", now=NOW).report
    assert rep.fitness["coordinate_decimals"] == 2
    rng = np.random.default_rng(1)
    uk = pd.DataFrame(
        {
            "month": [f"2022-{m:02d}" for m in rng.integers(1, 13, 80)],
            "longitude": np.round(-1.2 + rng.uniform(0, 0.1, 80), 4),
            "latitude": np.round(52.9 + rng.uniform(0, 0.1, 80), 4),
            "location": "Parking Area",
        }
    )
    path = tmp_path / "uk.csv"
    uk.to_csv(path, index=False)
    assert read_incidents(path, now=NOW).report.fitness["coordinate_decimals"] == 4
