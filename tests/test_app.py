"""Dashboard smoke tests with Streamlit's AppTest (no browser): every tab and control path."""

from __future__ import annotations

import pytest
from _paths import ROOT

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow  # AppTest runs the dashboard on the sample city

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def app(dashboard_default_is_shared_plan):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    return at


def test_app_runs_on_sample_city(app):
    assert not app.exception, app.exception
    assert len(app.get("component_instance")) >= 1  # the folium map
    labels = [t.label for t in app.tabs]
    assert labels[0] == "Map & hotspots"


def test_map_script_holds_hotspots(app):
    comp = app.get("component_instance")[0]
    script = str(comp.proto.json_args)
    assert "hotspot_id" in script and "H01" in script
    assert "occurred_at" in script and "Incidents (random sample" in script  # an analyst sees incidents


def test_category_filter_reruns(app):
    app.multiselect(key="cats").set_value(["burglary"]).run()
    assert not app.exception
    app.multiselect(key="cats").set_value(
        ["burglary", "robbery", "assault", "theft_from_vehicle", "criminal_damage"]
    ).run()
    assert not app.exception


def test_cell_size_control(app):
    app.select_slider(key="cell").set_value(150).run()
    assert not app.exception


def test_hotspot_picker(app):
    box = app.selectbox(key="hotspot_pick")
    box.set_value(box.options[-1]).run()
    assert not app.exception
    last = box.options[-1]
    assert any(s.value == f"Profile of hotspot {last}" for s in app.subheader)
    assert any(s.value == f"Ranked measures for hotspot {last}" for s in app.subheader)


def test_click_modes(app):
    for mode in ("lamp", "camera", "close_access", "select"):
        app.radio(key="click_mode").set_value(mode).run()
        assert not app.exception


def test_bad_upload_message_is_clear(tmp_path):
    class Fake:
        name = "x.csv"

        def getbuffer(self):
            return memoryview(b"a,b\n1,2\n")

    from planner.dashboard import uploads

    session: dict = {}  # the upload lives as long as its session
    path = uploads.save_upload(Fake(), session)
    from planner.config import RunConfig
    from planner.errors import PlannerError
    from planner.pipeline import run

    with pytest.raises(PlannerError, match="coordinate"):
        run(RunConfig(incidents=str(path)))


def test_environment_and_interventions_tabs(app):
    labels = [t.label for t in app.tabs]
    assert labels == [
        "Map & hotspots",
        "Overview",
        "Environment",
        "Perceived safety",
        "Interventions",
        "Evaluation",
        "Export",
        "Data",
    ]
    text = " ".join(m.value for m in app.markdown)
    assert "Why here" in text  # reasons of the ranked measures
    assert any("Risk terrain" in s.value for s in app.subheader)


def test_budget_changes_portfolio(app):
    def chosen():
        return next(m.value for m in app.metric if m.label == "Chosen measures")

    app.number_input(key="budget").set_value(20000.0).run()
    assert not app.exception
    small = chosen()
    app.number_input(key="budget").set_value(5_000_000.0).run()
    assert not app.exception
    assert int(chosen()) > int(small)


def test_guideline_toggles(app):
    app.toggle(key="allow_access").set_value(True).run()
    assert not app.exception
    app.toggle(key="allow_access").set_value(False).run()


def test_evaluation_and_export_buttons(app):
    app.button(key="eval_go").click().run()
    assert not app.exception
    assert "evaluation" in app.session_state
    app.button(key="export_go").click().run()
    assert not app.exception
    assert len(app.session_state["export_zip"]) > 10_000


def _plan():
    from planner.config import RunConfig
    from planner.dashboard import state

    return state.cached_plan(RunConfig().model_dump_json())


def _unlit(plan, hotspot_id):
    from planner.exposure.streets import unlit_streets

    row = plan.hotspots.loc[plan.hotspots["hotspot_id"] == hotspot_id]
    return unlit_streets(row.geometry.iloc[0], plan.layers, crs=plan.crs)


def test_whatif_lamp_on_unlit_street_reranks(app):
    """A lamp on an unlit stretch of the selected hotspot changes its lighting measure."""
    from planner.dashboard import state
    from planner.exposure.whatif import crs_to_latlng

    plan = _plan()
    found = [(h, u) for h in plan.hotspots["hotspot_id"] if (u := _unlit(plan, h)) is not None and len(u)]
    assert found, "no sample-city hotspot has an unlit street"
    hid, unlit = found[0]
    if app.session_state["selected_hotspot"] != hid:
        app.selectbox(key="hotspot_pick").select(hid).run()
    assert app.session_state["selected_hotspot"] == hid
    longest = unlit.geometry.iloc[unlit.length.argmax()]
    lat, lng = crs_to_latlng(longest.interpolate(0.5, normalized=True), plan.crs)
    edit = state.map_click_edit(plan, "lamp", lat, lng)
    assert edit["kind"] == "lamp"
    app.session_state["whatif_edits"] = [edit]
    app.run()
    assert not app.exception
    text = " ".join(m.value for m in app.markdown)
    assert f"What-if changes for {hid}" in text and "→" in text
    tables = [d.value for d in app.dataframe if "Changed" in d.value.columns]
    assert tables and bool(tables[0]["Changed"].any())
    app.button(key="whatif_clear").click().run()
    assert not app.exception
    assert not any("What-if changes" in m.value for m in app.markdown)


def test_map_click_edits_and_messages():
    from planner.dashboard import state
    from planner.errors import PlannerError
    from planner.exposure.whatif import crs_to_latlng

    plan = _plan()
    b = plan.study_area.to_crs("EPSG:4326").total_bounds
    with pytest.raises(PlannerError, match="No street within"):
        state.map_click_edit(plan, "lamp", b[1] - 0.05, b[0] - 0.05)  # far outside the town
    access = plan.layers["access_points"]
    lat, lng = crs_to_latlng(access.geometry.iloc[0], plan.crs)
    edit = state.map_click_edit(plan, "close_access", lat + 0.0001, lng)  # ~11 m off: snaps to it
    assert edit["access_id"] == str(access["access_id"].iloc[0])
    cam = state.map_click_edit(plan, "camera", lat, lng, direction_deg=370)
    assert cam["direction_deg"] == pytest.approx(10.0)
    with pytest.raises(PlannerError, match="Unknown map click mode"):
        state.map_click_edit(plan, "teleport", lat, lng)


def test_map_click_signature():
    from planner.dashboard import map_component as mapc

    sig, where = mapc.map_click({"last_clicked": None, "last_object_clicked_count": 0}, None)
    assert where is None
    state = {"last_clicked": {"lat": 1.0, "lng": 2.0}, "last_object_clicked_count": 0}
    sig, where = mapc.map_click(state, sig)
    assert where == {"lat": 1.0, "lng": 2.0}
    assert mapc.map_click(state, sig) == (sig, None)  # a redraw is not a new click
    # a feature click that did not move the plain map click is still a new click, at the feature
    state2 = {**state, "last_object_clicked": {"lat": 3.0, "lng": 4.0}, "last_object_clicked_count": 1}
    sig2, where2 = mapc.map_click(state2, sig)
    assert sig2 != sig and where2 == {"lat": 3.0, "lng": 4.0}


def test_hotspot_at_and_overlay():
    from planner.dashboard import tables
    from planner.exposure.whatif import crs_to_latlng
    from planner.maps import overlay_script

    plan = _plan()
    h = plan.hotspots.iloc[0]
    lat, lng = crs_to_latlng(h.geometry.representative_point(), plan.crs)
    assert tables.hotspot_at(plan, lat, lng) == h["hotspot_id"]
    js = overlay_script(
        selected=plan.hotspots.iloc[:1],
        unlit=_unlit(plan, h["hotspot_id"]),
        edits=[{"kind": "lamp", "lat": lat, "lng": lng}],
        click_mode="lamp",
    )
    assert "map_div.addLayer(fg)" in js and "planner-whatif" in js and '"lamp"' in js
    assert "window.plannerUnlit = {" in js


def test_exposure_summary_is_plain():
    from planner.dashboard import tables

    plan = _plan()
    table = tables.exposure_summary(plan, plan.hotspots["hotspot_id"].iloc[0])
    assert {"Street length lit", "Unlit street length"} <= set(table["Measure"])
    assert not table["Measure"].str.contains("__|_m$|per_km2").any()
