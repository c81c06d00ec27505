"""Building blocks of the header corpus (:mod:`_corpus`). A corpus of real publishers' incident-file layouts, written as small synthetic files.

Each :class:`Layout` has a publisher's exact headers (in their order) and value formats — dates as
the portal writes them (``01/05/2023 10:00:00 PM``, ``2023/01/05 10:15:00+00``, ``2023-01``), time
columns (``13:45:00``, HHMM numbers), coordinates (lon/lat, state-plane feet, UTM metres, Web
Mercator), offence names — and the roles ingest should detect. Values are synthetic: points are
drawn around the city's centre (with three tight clusters so hotspots exist), dates over 2023.
Nothing is downloaded; the headers and formats come from the portals' data dictionaries.

``_corpus.write_layout(layout, folder)`` writes the file and returns it with the answers: the date range
ingest must report, the rows that must be accepted and the category each offence name maps to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

N_ROWS = 60
YEAR_START = pd.Timestamp("2023-01-01")


@dataclass(frozen=True)
class Row:
    """Everything a layout needs to write one row."""

    i: int
    when: pd.Timestamp
    lon: float
    lat: float
    x: float
    y: float
    offence: str
    rng: np.random.Generator

    def pick(self, *options: Any) -> Any:
        return options[int(self.rng.integers(len(options)))]


@dataclass(frozen=True)
class Layout:
    """One publisher's layout and what ingest must make of it."""

    name: str
    publisher: str
    columns: tuple[str, ...]
    row: Callable[[Row], dict[str, Any]]
    roles: dict[str, str]
    resolution: str
    offences: tuple[tuple[str, str], ...]
    city: tuple[float, float]
    projected: str | None = None  # CRS of projected x/y columns written in the file
    crs: str | None = None  # --crs the user must give (bare projected numbers only)
    category: str | None = None  # --category for a file without a category column
    bad: Callable[[Row], bool] | None = None  # rows written unusable on purpose (must be quarantined)
    suffix: str = ".csv"
    absent: tuple[str, ...] = ()  # roles that must NOT be detected (e.g. an id that repeats)


# ------------------------------------------------------------------------------------ date formats
def mdy(t: pd.Timestamp) -> str:
    return t.strftime("%m/%d/%Y")


def mdy_ampm(t: pd.Timestamp) -> str:
    return t.strftime("%m/%d/%Y %I:%M:%S %p")


def mdy_ampm_nopad(t: pd.Timestamp) -> str:
    return f"{t.month}/{t.day}/{t.year} {t.strftime('%I').lstrip('0')}:{t.strftime('%M:%S %p')}"


def iso(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def arcgis(t: pd.Timestamp) -> str:
    return t.strftime("%Y/%m/%d %H:%M:%S") + "+00"


def hhmm(t: pd.Timestamp, *, pad: bool = True) -> str:
    value = t.hour * 100 + t.minute
    return f"{value:04d}" if pad else str(value)


def expected_time(t: pd.Timestamp, resolution: str) -> pd.Timestamp:
    if resolution == "month":
        return t.normalize().replace(day=1)
    if resolution == "day":
        return t.normalize()
    if resolution == "hour":
        return t.floor("h")
    return t.floor("min")
