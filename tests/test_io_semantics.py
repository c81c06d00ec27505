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
