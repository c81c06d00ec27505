"""Issue #15: real publishers' layouts are read with the right roles, and `planner run` works on each.

The corpus (``tests/_corpus.py``) writes each layout as a small synthetic file with the publisher's
exact headers and value formats. For every layout: ingest detects the roles listed, accepts exactly
the rows that are usable, reports the true date range and time resolution, and maps every offence
name to the expected category; then ``planner run`` exits 0 and its manifest has the same range.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from _corpus import LAYOUTS, write_layout

from planner.cli import main
from planner.io import read_incidents

IDS = [layout.name for layout in LAYOUTS]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return {layout.name: write_layout(layout, folder) for layout in LAYOUTS}


def test_corpus_covers_at_least_25_publishers():
    assert len(LAYOUTS) >= 25
    assert len(set(IDS)) == len(IDS)
    assert len({layout.publisher for layout in LAYOUTS}) >= 25


@pytest.mark.parametrize("name", IDS)
def test_layout_is_read_with_the_right_roles(written, name):
    w = written[name]
    layout = w.layout
    result = read_incidents(w.path, crs=layout.crs, default_category=layout.category, now="2024-06-01")
    rep = result.report
    used = {k: v for k, v in rep.columns_used.items() if k != "date_format"}
    assert {k: used.get(k) for k in layout.roles} == layout.roles, used
    assert not set(layout.absent) & set(used), used
    assert rep.rows_read == len(pd.read_csv(w.path)) if w.path.suffix == ".csv" else True
    assert rep.rows_accepted == w.n_good, rep.quarantine_reasons
    assert rep.time_resolution == layout.resolution
    if w.date_min is None:
        assert rep.date_min is None and result.incidents["occurred_at"].isna().all()
    else:
        assert pd.Timestamp(rep.date_min) == w.date_min
        assert pd.Timestamp(rep.date_max) == w.date_max
    inc = result.incidents
    got = dict(zip(inc["source_category"].fillna(""), inc["category"], strict=True))
    for source, category in w.categories.items():
        if source in got or source == "":
            assert got.get(source, got.get(layout.category or "")) == category, (source, got)


@pytest.mark.parametrize("name", IDS)
def test_planner_run_end_to_end(written, name, tmp_path, capsys):
    w = written[name]
    layout = w.layout
    args = ["run", "--incidents", str(w.path), "--out", str(tmp_path / "out")]
    if layout.crs:
        args += ["--crs", layout.crs]
    if layout.category:
        args += ["--category", layout.category]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err and "parameter of" not in captured.err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    ingest = manifest["ingest"]
    assert ingest["rows_accepted"] == w.n_good
    if w.date_min is None:
        assert ingest["date_min"] is None
        assert "no usable date" in captured.err
        skipped = manifest["parameters"]["skipped_analyses"]
        assert {"rates_per_year", "space_time", "near_repeat"} <= set(skipped)
    else:
        assert pd.Timestamp(ingest["date_min"]) == w.date_min
        assert pd.Timestamp(ingest["date_max"]) == w.date_max
