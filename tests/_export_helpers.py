"""Shared checks for the export tests: read files back and compare them with the source tables."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

EXTERNAL_ASSET = re.compile(r"<(?:script|link)[^>]+(?:src|href)=[\"']https?://", re.I)
CSS_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?https?://", re.I)


def assert_columns_equal(
    read: pd.DataFrame, source: pd.DataFrame, columns: dict[str, str] | None = None
) -> None:
    """Every source column equals the read-back column (``columns`` maps source → read name)."""
    assert len(read) == len(source)
    for col in source.columns:
        if col == getattr(source, "_geometry_column_name", None):
            continue
        name = (columns or {}).get(col, col)
        assert name in read.columns, f"{col} (as {name}) missing; have {list(read.columns)}"
        a, b = read[name].reset_index(drop=True), source[col].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(b):
            assert (a.astype(int) == b.astype(int)).all(), col
        elif pd.api.types.is_numeric_dtype(b):
            np.testing.assert_allclose(
                pd.to_numeric(a, errors="coerce").astype(float),
                pd.to_numeric(b, errors="coerce").astype(float),
                rtol=1e-9,
                equal_nan=True,
                err_msg=col,
            )
        elif pd.api.types.is_datetime64_any_dtype(b):
            assert (pd.to_datetime(a) == b).all(), col
        else:
            left = [_canonical(v) for v in a]
            right = [_canonical(v) for v in b]
            assert left == right, col


def _canonical(value: object) -> object:
    """JSON text as its value (GeoJSON readers return JSON objects as dicts); other text as str."""
    if isinstance(value, dict | list):
        return value
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<NA>"
    text = str(value)
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def assert_geometries_equal(read: gpd.GeoDataFrame, source: gpd.GeoDataFrame, *, tolerance_m: float) -> None:
    """Same geometries (within ``tolerance_m`` metres, compared in the source CRS)."""
    back = read.to_crs(source.crs) if read.crs != source.crs else read
    assert len(back) == len(source)
    dist = shapely.hausdorff_distance(back.geometry.to_numpy(), source.geometry.to_numpy())
    assert float(np.max(dist)) <= tolerance_m, float(np.max(dist))


def published_counts(frame: pd.DataFrame) -> list[float]:
    """Every incident count a table publishes: ``n_incidents`` and the JSON count profiles."""
    values: list[float] = []
    if "n_incidents" in frame.columns:
        values += [float(v) for v in pd.to_numeric(frame["n_incidents"], errors="coerce").dropna()]
    for col in ("category_mix", "hour_profile", "weekday_profile", "location_mix"):
        if col not in frame.columns:
            continue
        for text in frame[col].dropna():
            parsed = json.loads(text) if isinstance(text, str) else text
            items = parsed.values() if isinstance(parsed, dict) else parsed
            values += [float(v) for v in items if v is not None]
    return values
