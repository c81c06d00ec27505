"""Issue #19 in the dashboard (AppTest, no browser): the per-group (victim) view is the pipeline run
on that group, the Perceived safety tab shows coverage, warnings and fear-vs-crime counts that agree
with the pipeline's layers, and the Evaluation tab runs a micro-synthetic control."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _paths import ROOT, SAMPLE

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from planner.config import RunConfig

pytestmark = pytest.mark.slow  # AppTest and two sample-city plans

APP = str(ROOT / "app.py")
FEMALE = {"victim_sex": ["female"]}


@pytest.fixture(scope="module")
def app(dashboard_default_is_shared_plan):
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def plans(dashboard_default_is_shared_plan):
    from planner.dashboard import state

    return (
        state.cached_plan(RunConfig().model_dump_json()),
        state.cached_plan(RunConfig(attribute_filters=FEMALE).model_dump_json()),
    )


def _hotspot_table(at):
    return next(
        d.value for d in at.dataframe if "Hotspot" in d.value.columns and "Per year" in d.value.columns
    )


def _table_with(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_group_view_is_the_pipeline_on_that_group(app, plans):
    full, female = plans
    assert _metric(app, "Incidents analysed") == f"{len(full.incidents):,}"
    app.radio(key="victims").set_value("by sex").run()
    box = app.selectbox(key="victim_group_victim_sex")
    assert box.options[0].startswith("women and girls (5,831 incidents)")
    box.set_value("female").run()
    assert not app.exception, app.exception
    # the same numbers as the pipeline run on women's and girls' incidents, not the full plan's
    assert _metric(app, "Incidents analysed") == f"{len(female.incidents):,}" == "5,831"
    assert _metric(app, "Hotspots") == str(len(female.hotspots))
    table = _hotspot_table(app)
    assert list(table["Hotspot"]) == list(female.hotspots["hotspot_id"])
    assert list(table["Incidents"]) == [int(n) for n in female.hotspots["n_incidents"]]
    assert int(table["Incidents"].sum()) != int(full.hotspots["n_incidents"].sum())
    # the hotspot profile shows its victims: only women and girls in this view
    mix = next(d.value for d in app.dataframe if "Victims" in d.value.columns)
    sex = mix[mix["Victims"] == "Sex"].set_index("Group")["Incidents"]
    first = json.loads(female.hotspots["victim_sex_mix"].iloc[0])
    assert sex.loc["women and girls"] == f"{first['female']:,}"
    assert set(sex[sex != "0"].index) == {"women and girls"}
    # the measures say whose crimes they reach
    ranked = next(d.value for d in app.dataframe if "Victims reached" in d.value.columns)
    assert ranked["Victims reached"].str.startswith("women and girls 100%").any()
    app.radio(key="victims").set_value("all").run()
    assert _metric(app, "Incidents analysed") == f"{len(full.incidents):,}"


def test_perception_tab_coverage_warnings_and_counts(app, plans):
    full, _ = plans
    result = full.perception
    coverage = next(d.value for d in app.dataframe if "Auditors" in d.value.columns)
    assert len(coverage) == len(result.coverage) == 15
    women_night = coverage[(coverage["Auditors"] == "women") & (coverage["When"] == "at night")]
    assert int(women_night["Audits"].iloc[0]) == 509
    shown = " ".join(w.value for w in app.warning)
    lines = result.warnings  # group names in plain words at the source (planner.perception)
    assert len(lines) == len(result.warnings) >= 3
    assert all(line in shown for line in lines) and "Audits by older people at night" in shown

    def counts():
        table = next(d.value for d in app.dataframe if "Class" in d.value.columns)
        return dict(zip(table["Class"], table["Cells"], strict=True))

    expected = result.disagreement["class"].value_counts()
    assert {c: n for c, n in counts().items() if n} == expected.to_dict()
    # night audits against night crimes: the pipeline's own night layer
    app.selectbox(key="perc_period").set_value("night").run()
    night = result.night_disagreement["class"].value_counts()
    assert {c: n for c, n in counts().items() if n} == night.to_dict()
    app.selectbox(key="perc_group").set_value("older_people").run()
    assert counts()["too few audits"] > 0.99 * len(full.cells)  # 30 night audits cover almost nothing
    app.selectbox(key="perc_group").set_value("all").run()
    app.selectbox(key="perc_period").set_value("all").run()
    assert not app.exception


def test_analyst_map_has_the_fear_layer_with_counts(app):
    script = str(app.get("component_instance")[0].proto.json_args)
    assert "Fear vs recorded crime" in script
    assert "Recorded crimes" in script and "crime, little fear" in script


def test_microsynth_in_the_evaluation_tab(app, plans):
    full, _ = plans
    truth = json.loads((SAMPLE / "truth.json").read_text())
    app.radio(key="eval_method").set_value("microsynth").run()
    area = next(o for o in app.selectbox(key="eval_area").options if o.startswith("Ward W2"))
    app.selectbox(key="eval_area").set_value(area).run()
    start = pd.Timestamp(truth["lighting_upgrade"]["date"])
    app.date_input(key="eval_start").set_value(start.date()).run()
    app.number_input(key="ms_placebos").set_value(20).run()
    app.button(key="ms_go").click().run()
    assert not app.exception, app.exception
    assert not [e.value for e in app.error]
    effects = _table_with(app, "Trt")
    assert {"Trt", "Con", "% change", "Interval", "p"} <= set(effects.columns)
    assert set(effects["Area"]) == {"treatment", "buffer"}
    row = effects[(effects["Area"] == "treatment") & (effects["Crime type"] == "all counted crimes")].iloc[0]
    # Trt is the count of night crimes recorded in W2 in the after period (a year after the start)
    wards = full.layers["wards"]
    inside = full.incidents.within(wards.loc[wards["ward_id"] == "W2"].geometry.union_all())
    when = full.incidents["occurred_at"]
    days = int(min((start - when.min()).days, (when.max() - start).days, 365))
    after = (
        (when >= start) & (when < start + pd.Timedelta(days=days)) & when.dt.hour.isin(truth["night_hours"])
    )
    assert int(row["Trt"]) == int((inside & after).sum())
    assert row["% change"].startswith("-")  # the lighting upgrade cut night crime in W2
    balance = _table_with(app, "Matched on")
    assert {"Matched on", "Treated area", "Synthetic, all counts"} <= set(balance.columns)
    matched = balance[balance["Kind"] == "outcome"]
    np.testing.assert_allclose(matched["Synthetic, all counts"], matched["Treated area"], rtol=0.35, atol=3)
    # on the counts the weights were fitted to, the balance is exact (to the table's rounding)
    np.testing.assert_allclose(matched["Synthetic, counts fitted"], matched["Treated area"], atol=0.051)
    assert len(app.get("arrow_vega_lite_chart")) >= 1 or len(app.get("vega_lite_chart")) >= 1
    assert "microsynth" in app.session_state
    # the tab says which settings were used (R's, with contiguous placebo areas)
    assert any("contiguous placebo areas" in c.value for c in app.caption)


def test_microsynth_error_is_a_message(app, plans):
    full, _ = plans
    app.radio(key="eval_method").set_value("microsynth").run()
    app.date_input(key="eval_start").set_value(full.incidents["occurred_at"].min().date()).run()
    app.button(key="ms_go").click().run()
    assert not app.exception, app.exception
    assert app.error and "Traceback" not in app.error[0].value
    assert "microsynth" not in app.session_state


def test_no_victim_columns_says_so():
    from planner.dashboard.groups import victim_group_options

    frame = pd.DataFrame({"category": ["burglary"], "victim_sex": ["unknown"]})
    assert victim_group_options(frame) == {}
    frame = pd.DataFrame({"victim_sex": ["f", "female", "male", "unknown"], "victim_age_band": ["65+"] * 4})
    assert victim_group_options(frame) == {"by sex": {"female": 1, "male": 1}, "by age band": {"65+": 4}}
