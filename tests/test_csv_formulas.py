"""Issue #24, item 5: no CSV the planner writes (internal run files, public and internal exports,
recommendations, quarantined rows) holds a cell a spreadsheet would run as a formula; negative
numbers stay numbers."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pandas as pd
import pytest

from planner.export import export_plan, write_run_outputs
from planner.export.csv_safe import FORMULA_TRIGGERS, csv_text, neutralise_formulas, write_csv

EVIL = ['=HYPERLINK("http://x")', "+1+cmd", "-2+3", "@SUM(A1)", "\tfoo", "\r=1"]
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _runnable_cells(path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            cell
            for row in csv.reader(fh)
            for cell in row
            if cell.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(cell)
        ]


def test_text_cells_and_names_are_neutralised_numbers_are_not():
    frame = pd.DataFrame(
        {
            "ward_id": [*EVIL, "-2.5", "W1", None],
            "=cmd|' /C calc'!A0": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "change": [-2.5, -1.0, 0.0, 1.5, -3e5, 2.0, 0.1, -0.2, 1.0],
            "kind": pd.Categorical(["@x", "a", "b", "a", "a", "a", "a", "a", "a"]),
        }
    )
    before = frame.copy()
    safe = neutralise_formulas(frame)
    pd.testing.assert_frame_equal(frame, before)  # input unchanged
    assert safe["ward_id"].tolist()[:6] == ["'" + v.replace("\r", "\n") for v in EVIL]
    assert safe["ward_id"].tolist()[6:8] == ["-2.5", "W1"] and pd.isna(safe["ward_id"].iloc[8])
    assert list(safe.columns)[1] == "'=cmd|' /C calc'!A0"
    assert safe["change"].tolist() == frame["change"].tolist()
    assert safe["kind"].iloc[0] == "'@x"
    plain = pd.DataFrame({"a": ["x", "-1"], "b": [1, -2]})
    assert neutralise_formulas(plain) is plain
    text = csv_text(frame)
    assert "-2.5" in text and "-300000.0" in text and '"=HYPERLINK' not in text
    # a bare carriage return inside a cell would end the row in many readers: it becomes a quoted \n
    rows = list(csv.reader(io.StringIO(csv_text(pd.DataFrame({"a": ["x\r=1+2", "\r=1"], "b": [1, 2]})))))
    assert rows == [["a", "b"], ["x\n=1+2", "1"], ["'\n=1", "2"]]


@pytest.fixture(scope="module")
def poisoned_plan(sample_plan):
    plan = sample_plan
    n = len(plan.incidents)
    evil = (EVIL * (n // len(EVIL) + 1))[:n]
    incidents = plan.incidents.assign(category=evil, source_note=evil, change=-2.5)
    hotspots = plan.hotspots.assign(ward_id=(EVIL * len(plan.hotspots))[: len(plan.hotspots)])
    recs = plan.recommendations.assign(
        ward_id=(EVIL * len(plan.recommendations))[: len(plan.recommendations)]
    )
    quarantine = pd.DataFrame({"x": EVIL, "category": EVIL, "reason": EVIL, "value": -2.5})
    return dataclasses.replace(
        plan, incidents=incidents, hotspots=hotspots, recommendations=recs, quarantine=quarantine
    )


def test_no_csv_the_planner_writes_runs_a_formula(poisoned_plan, tmp_path):
    write_run_outputs(poisoned_plan, tmp_path / "run")
    export_plan(poisoned_plan, tmp_path / "public", formats="csv", privacy="public")
    export_plan(poisoned_plan, tmp_path / "internal", formats="csv", privacy="internal")
    write_csv(poisoned_plan.quarantine, tmp_path / "quarantine.csv")
    written = sorted(tmp_path.rglob("*.csv"))
    names = {p.name for p in written}
    assert {"quarantine.csv", "hotspots.csv", "recommendations.csv", "incidents.csv"} <= names, names
    for path in written:
        assert _runnable_cells(path) == [], path
    text = "\n".join(p.read_text(encoding="utf-8") for p in written)
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text and "'-2+3" in text
    assert re.search(r"(^|,)-2\.5(,|$)", text, flags=re.M)  # a negative number stays a number
    public = (tmp_path / "public").rglob("hotspots.csv")
    assert any("'=HYPERLINK" in p.read_text(encoding="utf-8") for p in public)
