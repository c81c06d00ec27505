"""Re-appraising a plan under new appraisal settings (guidelines, jurisdiction, ranking, budget) gives
the plan a full run of the same configuration gives, without running the earlier stages again; the
dashboard uses it for its guideline toggles and jurisdiction choice.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_export_atomic import _small_city_csv

from planner import pipeline
from planner.config import RunConfig

pytestmark = pytest.mark.slow


def _same_plan(a, b) -> None:
    """Two plans agree in everything the appraisal writes (made in one process on one machine)."""
    assert a.config == b.config
    if a.recommendations is None:
        assert b.recommendations is None
    else:
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.recommendations).reset_index(drop=True),
            pd.DataFrame(b.recommendations).reset_index(drop=True),
        )
    if a.portfolio is None:
        assert b.portfolio is None
    else:
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.portfolio).reset_index(drop=True), pd.DataFrame(b.portfolio).reset_index(drop=True)
        )
    pd.testing.assert_frame_equal(pd.DataFrame(a.hotspots), pd.DataFrame(b.hotspots))
    assert sorted(a.warnings) == sorted(b.warnings)
    assert {k: v for k, v in a.params.items() if k != "timings_s"} == {
        k: v for k, v in b.params.items() if k != "timings_s"
    }


def test_small_city_reappraised_equals_a_full_run(tmp_path):
    csv = _small_city_csv(tmp_path / "in.csv")
    base = RunConfig(incidents=str(csv), crs="EPSG:32630", cell_size_m=100, default_category="burglary")
    changed = base.model_copy(
        update={
            "jurisdiction": "US",
            "rank_by": "prevented",
            "allow_access_restriction": True,
            "budget": 5000.0,
        }
    )
    full = pipeline.run(changed)
    again = pipeline.recommend_again(pipeline.run(base), changed)
    assert full.recommendations is not None and len(full.recommendations)
    assert set(full.recommendations["currency"]) == {"USD"}
    _same_plan(again, full)


def test_sample_city_round_trip_gives_the_plan_back(sample_plan):
    """Re-appraised under other settings and back: the original plan, warnings and parameters too."""
    other = RunConfig(jurisdiction="CA", allow_access_restriction=True, rank_by="bcr")
    changed = pipeline.recommend_again(sample_plan, other)
    assert set(changed.recommendations["currency"]) == {"CAD"}
    assert set(changed.recommendations["rank_by"]) == {"bcr"}
    assert "alley_gates" in set(changed.recommendations["intervention_id"]) - set(
        sample_plan.recommendations["intervention_id"]
    )
    back = pipeline.recommend_again(changed, RunConfig())
    _same_plan(back, sample_plan)
    assert "_measure_notes" not in back.manifest()["parameters"]


def test_other_settings_need_a_full_run(sample_plan):
    with pytest.raises(ValueError, match="beyond the appraisal settings"):
        pipeline.recommend_again(sample_plan, RunConfig(cell_size_m=150.0))
