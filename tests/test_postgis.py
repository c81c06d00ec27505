"""PostGIS round trip against a real PostgreSQL + PostGIS server started on loopback."""

from __future__ import annotations

import pytest
from _paths import SAMPLE, require_service
from _postgis import postgis_available, postgis_server

from planner.errors import DataLoadError
from planner.io import engine_url, read_incidents

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def pg_url():
    require_service(postgis_available(), "PostgreSQL 15 + PostGIS (apt-get install postgresql-15-postgis-3)")
    with postgis_server() as url:
        yield url


def test_round_trip_table_and_query(pg_url):
    from sqlalchemy import create_engine

    source = read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630").incidents
    table = source[["incident_id", "occurred_at", "category", "location_type", "geometry"]].rename_geometry(
        "geom"
    )
    engine = create_engine(engine_url(pg_url))
    table.to_postgis("incidents", engine, if_exists="replace", index=False)

    back = read_incidents(pg_url, layer="incidents")
    assert back.report.rows_read == len(source) == back.report.rows_accepted
    assert back.incidents.crs.to_epsg() == 32630
    assert set(back.incidents["incident_id"]) == set(source["incident_id"])
    first = back.incidents.set_index("incident_id").loc[source["incident_id"].iloc[0]]
    assert first.geometry.distance(source.geometry.iloc[0]) < 1e-6
    assert first["occurred_at"] == source["occurred_at"].iloc[0]

    night = read_incidents(pg_url, query="SELECT * FROM incidents WHERE category = 'robbery'")
    assert night.report.rows_read == int((source["category"] == "robbery").sum())


def test_bad_table_is_clear(pg_url):
    with pytest.raises(DataLoadError, match="Could not read from PostGIS"):
        read_incidents(pg_url, layer="no_such_table")
    with pytest.raises(DataLoadError, match="needs a table"):
        read_incidents(pg_url)
