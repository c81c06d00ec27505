"""Data semantics found on real files (issue 22, item 6), each on a tiny fixture shaped like the file
that showed it, with the expected answer written down.
"""

from __future__ import annotations

import json

import geopandas as gpd
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


def _police_uk_like(months: list[str], per_month: int = 10) -> pd.DataFrame:
    """Rows shaped like police.uk street-level data (``nottingham_burglary_2022.csv``): ``month``
    (``YYYY-MM``), ``longitude``, ``latitude`` rounded to 4 decimals, ``location``, ``lsoa_code``.
    """
    rng = np.random.default_rng(7)
    n = len(months) * per_month
    return pd.DataFrame(
        {
            "month": np.repeat(months, per_month),
            "longitude": np.round(-1.20 + rng.uniform(0, 0.05, n), 4),
            "latitude": np.round(52.93 + rng.uniform(0, 0.05, n), 4),
            "location": "Supermarket",
            "lsoa_code": "E01013810",
        }
    )


def test_month_resolution_period_is_the_months_covered(tmp_path):
    """January to November 2022 at month resolution is 11/12 of a year (the span between the
    first days, 304 days + 1, gave 0.835); the rates per year of hotspots use it.
    """
    from planner._period import period_years, year_index
    from planner.hotspots.polygons import period_years_of
    from planner.risk.fine import _period_years

    months = [f"2022-{m:02d}" for m in range(1, 12)]
    path = tmp_path / "nottingham_burglary.csv"
    _police_uk_like(months).to_csv(path, index=False)
    inc = read_incidents(path, now=NOW).incidents
    assert inc.attrs["time_resolution"] == "month"
    assert period_years_of(inc) == pytest.approx(11 / 12, abs=1e-12)
    assert _period_years(inc) == pytest.approx(11 / 12, abs=1e-12)
    # without the attribute, the dates (all on the 1st at 00:00) say month resolution themselves
    assert period_years(inc["occurred_at"]) == pytest.approx(11 / 12, abs=1e-12)
    # two full years of months: 24/12; months 0-11 are year 0, 12-23 year 1
    t = pd.Series(pd.date_range("2021-01-01", periods=24, freq="MS"))
    assert period_years(t, "month") == pytest.approx(2.0, abs=1e-12)
    assert year_index(t, "month").tolist() == [0] * 12 + [1] * 12
    # day resolution: first to last day, both included
    days = pd.Series(pd.to_datetime(["2022-01-01", "2022-12-31"]))
    assert period_years(days, "day") == pytest.approx(365 / 365.25, abs=1e-12)


def test_month_data_full_year_counts_as_a_year_for_measures(tmp_path):
    """A year of monthly records (Jan–Dec) is one full year of baseline counts for the measures
    (the span Jan 1 → Dec 1 was 334 days, so there were no full years).
    """
    from shapely.geometry import box

    from planner.interventions.reach import incident_flags

    path = tmp_path / "nottingham_robbery.csv"
    _police_uk_like([f"2022-{m:02d}" for m in range(1, 13)], per_month=3).to_csv(path, index=False)
    inc = read_incidents(path, now=NOW).incidents
    area = gpd.GeoDataFrame(
        {"hotspot_id": ["H01"]}, geometry=[box(*inc.total_bounds).buffer(10)], crs=inc.crs
    )
    flags = incident_flags(area, inc)
    assert flags.full_years == 1
    assert set(flags.frame["year"]) == {0}


def _overlay_like(n: int = 40) -> pd.DataFrame:
    """Rows shaped like ``chicago_2017_overlay/burglaries_2017.csv``: ``x, y`` (EPSG:26971 metres)
    and ``lon, lat`` (EPSG:4326) of the same points, plus a date. Rows 3, 4 and 5 (0-based) have
    lon/lat blank but x/y present; rows 8 and 9 have x/y blank but lon/lat present; row 6 has
    neither (truly missing).
    """
    from pyproj import Transformer

    i = np.arange(n)
    x = 350000.0 + 37.0 * i
    y = 570000.0 + 23.0 * i
    lon, lat = Transformer.from_crs("EPSG:26971", "EPSG:4326", always_xy=True).transform(x, y)
    frame = pd.DataFrame(
        {
            "x": x,
            "y": y,
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "date": (pd.Timestamp("2017-03-01") + pd.to_timedelta(i, unit="D")).strftime("%Y-%m-%d"),
        }
    )
    frame.loc[[3, 4, 5], ["lon", "lat"]] = np.nan
    frame.loc[[8, 9], ["x", "y"]] = np.nan
    frame.loc[6, ["lon", "lat", "x", "y"]] = np.nan
    return frame


def test_missing_coordinates_with_the_other_pair_and_a_known_crs(tmp_path):
    """With --crs EPSG:26971 x/y are read, and rows 8 and 9 (no x/y) are placed from their
    lon/lat (EPSG:4326, always known) at x = 350000 + 37 i, y = 570000 + 23 i within 5 cm (lon/lat
    are written to 7 decimals, about 1 cm);
    only row 6, with neither pair, is quarantined as missing coordinates.
    """
    path = tmp_path / "burglaries_2017.csv"
    _overlay_like().to_csv(path, index=False)
    r = read_incidents(path, crs="EPSG:26971", now=NOW)
    assert r.report.rows_read == 40
    assert (r.report.rows_accepted, r.report.rows_quarantined) == (39, 1)
    assert r.quarantine["source_row"].tolist() == [7]
    assert r.quarantine["reason"].tolist() == ["missing or unparseable coordinates"]
    pts = r.incidents.set_index("incident_id").geometry
    for i in (8, 9):
        assert pts[f"row{i + 1}"].x == pytest.approx(350000.0 + 37.0 * i, abs=0.05)
        assert pts[f"row{i + 1}"].y == pytest.approx(570000.0 + 23.0 * i, abs=0.05)
    assert any("2 row(s) have no x/y" in w and "'lon'/'lat'" in w for w in r.report.warnings)


def test_missing_lonlat_with_xy_in_an_unknown_crs_says_crs_recovers_them(tmp_path):
    """Without a CRS lon/lat are read; rows 3-5 (no lon/lat, x/y present) are set aside with a
    reason saying that a CRS recovers them, not as "missing coordinates"; rows 8 and 9 have lon/lat.
    """
    path = tmp_path / "burglaries_2017.csv"
    _overlay_like().to_csv(path, index=False)
    r = read_incidents(path, now=NOW)  # no CRS: lon/lat are used, x/y cannot be read
    assert r.report.rows_read == r.report.rows_accepted + r.report.rows_quarantined == 40
    assert r.report.rows_quarantined == 4
    reasons = dict(zip(r.quarantine["source_row"], r.quarantine["reason"], strict=True))
    assert reasons[7] == "missing or unparseable coordinates"
    for row in (4, 5, 6):
        assert "x/y in 'x'/'y' present but their CRS is unknown" in reasons[row]
        assert "crs=" in reasons[row]
    note = next(w for w in r.report.warnings if "no longitude/latitude" in w)
    assert "3 row(s)" in note and "crs=" in note


def test_missing_lonlat_hint_names_the_cli_flag(tmp_path):
    """On the command line the same rows point to --crs."""
    from planner._hints import cli_interface

    path = tmp_path / "burglaries_2017.csv"
    _overlay_like().to_csv(path, index=False)
    with cli_interface():
        r = read_incidents(path, now=NOW)
    assert any("--crs EPSG:" in w and "3 row(s)" in w for w in r.report.warnings)


def _several_rows_like() -> tuple[pd.DataFrame, int]:
    """Rows shaped like a police incident file written once per offence (Boston's crime incident
    reports): ``INCIDENT_NUMBER, OFFENSE_DESCRIPTION, OCCURRED_ON_DATE, Lat, Long``. 60 incidents
    spread over a 3 km square in Boston; incidents 0-19 have 2 rows and 20-29 have 3 rows (40 extra
    rows, 100 in all), each further row on the same date-time and 10-40 m from the first.
    Returns the frame and the number of incidents.
    """
    rng = np.random.default_rng(22)
    n = 60
    lat0, lon0 = 42.33, -71.08
    dy = rng.uniform(0, 3000, n)
    dx = rng.uniform(0, 3000, n)
    when = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min")
    rows = []
    for i in range(n):
        copies = 3 if 20 <= i < 30 else 2 if i < 20 else 1
        for k in range(copies):
            off = 0.0 if k == 0 else rng.uniform(10, 40)
            angle = rng.uniform(0, 2 * np.pi)
            rows.append(
                {
                    "INCIDENT_NUMBER": f"I23{i:06d}",
                    "OFFENSE_DESCRIPTION": ["ROBBERY", "ASSAULT - SIMPLE", "VANDALISM"][k],
                    "OCCURRED_ON_DATE": when[i].strftime("%Y-%m-%d %H:%M:%S"),
                    "Lat": round(lat0 + (dy[i] + off * np.sin(angle)) / 111_320.0, 6),
                    "Long": round(lon0 + (dx[i] + off * np.cos(angle)) / 82_000.0, 6),
                }
            )
    return pd.DataFrame(rows), n


def test_several_rows_per_incident_are_detected_and_named(tmp_path):
    """Without an id the 100 rows count as 100 incidents, and ingest says which column to name."""
    from planner._hints import cli_interface

    frame, _ = _several_rows_like()
    path = tmp_path / "crime_incident_reports.csv"
    frame.to_csv(path, index=False)
    rep = read_incidents(path, now=NOW).report
    assert (rep.rows_read, rep.rows_accepted, rep.rows_quarantined) == (100, 100, 0)
    warning = next(w for w in rep.warnings if "several rows per incident" in w)
    assert "'INCIDENT_NUMBER' repeats 30 value(s) over 40 extra row(s)" in warning
    assert "columns={'id': 'INCIDENT_NUMBER'}" in warning
    with cli_interface():
        rep = read_incidents(path, now=NOW).report
    assert any("--column id=INCIDENT_NUMBER" in w for w in rep.warnings)


def test_with_the_id_incidents_are_counted_once_and_rows_reconcile(tmp_path):
    """Named as the id: 60 incidents (the first row of each), 40 further rows set aside with their
    reason, 100 = 60 + 40; the report says so.
    """
    frame, n = _several_rows_like()
    path = tmp_path / "crime_incident_reports.csv"
    frame.to_csv(path, index=False)
    r = read_incidents(path, columns={"id": "INCIDENT_NUMBER"}, now=NOW)
    rep = r.report
    assert (rep.rows_read, rep.rows_accepted, rep.rows_quarantined) == (100, n, 40)
    assert rep.rows_read == rep.rows_accepted + rep.rows_quarantined
    assert r.incidents["incident_id"].is_unique
    assert set(r.incidents["source_category"]) == {"ROBBERY"}  # the first row of each incident
    assert rep.quarantine_reasons == {
        "further row of an incident already counted (same id in column 'INCIDENT_NUMBER')": 40
    }
    assert any("40 row(s) are further rows of incidents" in w for w in rep.warnings)
    assert not any("several rows per incident" in w for w in rep.warnings)


def test_knox_sees_one_row_per_incident(tmp_path):
    """The Knox table of the file read with its id equals that of the one-row-per-incident file;
    read row by row, the further rows add same-place same-day pairs (40 of them, at least).
    """
    from planner.hotspots.nearrepeat import knox_from_incidents

    frame, _ = _several_rows_like()
    path = tmp_path / "crime_incident_reports.csv"
    frame.to_csv(path, index=False)
    first = tmp_path / "first_rows.csv"
    frame.drop_duplicates("INCIDENT_NUMBER").to_csv(first, index=False)
    args = {"distance_breaks_m": [0, 100, 400], "time_breaks_days": [0, 1, 7], "permutations": 9, "rng": 0}
    by_id = read_incidents(path, columns={"id": "INCIDENT_NUMBER"}, now=NOW).incidents
    one_row = read_incidents(first, now=NOW).incidents
    by_row = read_incidents(path, now=NOW).incidents
    observed = knox_from_incidents(by_id, **args).observed
    np.testing.assert_array_equal(observed, knox_from_incidents(one_row, **args).observed)
    assert knox_from_incidents(by_row, **args).observed[0, 0] >= observed[0, 0] + 40
    # a frame that still holds several rows of an incident (e.g. concatenated by hand) is counted once
    doubled = pd.concat([by_id, by_id.iloc[:5]], ignore_index=True)
    doubled = gpd.GeoDataFrame(doubled, crs=by_id.crs)
    doubled.attrs = dict(by_id.attrs)
    np.testing.assert_array_equal(knox_from_incidents(doubled, **args).observed, observed)


def _midnight_spike_like() -> pd.DataFrame:
    """Rows shaped like a city open-data extract with a date-time column (``date_time`` as in
    ``san_francisco_robbery_2019.csv``): 480 robberies, 20 at each hour h at minute 17 (so none
    at a whole hour), plus 120 at exactly 00:00, the "time unknown" placeholder (20% of 600).
    All at one of ten places a few hundred metres apart.
    """
    hours = np.r_[np.repeat(np.arange(24), 20), np.zeros(120, dtype=int)]
    minutes = np.r_[np.full(480, 17), np.zeros(120, dtype=int)]
    i = np.arange(600)
    when = pd.Timestamp("2019-01-01") + pd.to_timedelta(i % 300, unit="D")
    when = when + pd.to_timedelta(hours, unit="h") + pd.to_timedelta(minutes, unit="min")
    return pd.DataFrame(
        {
            "uid": [f"SF{k:05d}" for k in i],
            "offense_type": "personal robbery",
            "date_time": when.strftime("%Y-%m-%d %H:%M"),
            "longitude": -122.42 + 0.003 * (i % 10),
            "latitude": 37.77 + 0.002 * (i % 10),
        }
    )


def test_midnight_spike_is_unknown_time_not_night(tmp_path):
    """The 120 records at 00:00 get ``time_unknown``; night shares, hour profiles and night counts
    use the 480 timed records: 12 night hours (19-06) × 20 = 240 at night, share 0.5 exactly
    (it read (240 + 120) / 600 = 0.6 with the placeholders as midnight).
    """
    from planner._hours import hour_known, night_flags, unknown_time_of
    from planner.hotspots.polygons import hotspot_statistics
    from planner.hotspots.timeprofile import time_profile

    path = tmp_path / "robbery.csv"
    _midnight_spike_like().to_csv(path, index=False)
    r = read_incidents(path, now=NOW)
    inc = r.incidents
    assert inc.attrs["time_resolution"] == "minute"
    assert int(inc["time_unknown"].sum()) == 120
    assert any("120 record(s) (20%) are at exactly 00:00" in w for w in r.report.warnings)
    assert int(hour_known(inc).sum()) == 480
    night = night_flags(inc["occurred_at"], "minute", unknown_time_of(inc))
    assert int(night.isna().sum()) == 120 and int(night.fillna(False).sum()) == 240
    stats = hotspot_statistics(np.zeros(len(inc), dtype=int), inc, n_groups=1)
    assert stats["night_share"].iloc[0] == pytest.approx(0.5, abs=1e-12)
    assert json.loads(stats["hour_profile"].iloc[0]) == [20] * 24
    assert time_profile(inc).sum() == pytest.approx(480.0, abs=1e-9)


def test_midnight_share_like_the_others_is_kept(tmp_path):
    """Without the 120 placeholders, 00:00 is an ordinary time: no column, no warning."""
    frame = _midnight_spike_like().iloc[:480]
    path = tmp_path / "robbery.csv"
    frame.to_csv(path, index=False)
    r = read_incidents(path, now=NOW)
    assert "time_unknown" not in r.incidents.columns
    assert not any("00:00" in w for w in r.report.warnings)
