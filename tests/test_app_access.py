"""Hosting the dashboard (issue #17): roles from identity claims, a viewer served only the public
view (server side), uploads kept once per session in a private folder and removed with it, an
audit log of exports, no error details in the browser."""

from __future__ import annotations

import gc
import json
import stat
import tomllib

import pytest
from _paths import ROOT

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from planner.dashboard import access, uploads

pytestmark = pytest.mark.slow  # AppTest runs the dashboard

APP = str(ROOT / "app.py")


def test_roles_come_from_the_configured_claim():
    claims = {
        "email": "a@x",
        "roles": ["crime-analyst", "staff"],
        "realm_access": {"roles": "planner analyst"},
    }
    assert access.role_from_claims(claims, roles_claim="roles", analyst_roles=["crime-analyst"]) == "analyst"
    assert access.role_from_claims(claims, roles_claim="roles", analyst_roles=["admin"]) == "viewer"
    assert (
        access.role_from_claims(claims, roles_claim="realm_access.roles", analyst_roles=["analyst"])
        == "analyst"
    )
    assert access.role_from_claims(claims, roles_claim="groups", analyst_roles=["analyst"]) == "viewer"
    assert access.claim_values({"g": "a, b c"}, "g") == ["a", "b", "c"]


def test_error_details_are_off_in_the_browser():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["enableXsrfProtection"] is True
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.example.toml").read_text())
    assert set(example["auth"]) >= {"redirect_uri", "cookie_secret", "client_id", "server_metadata_url"}
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text()


class _Upload:
    def __init__(self, name: str, data: bytes):
        self.name, self._data, self.reads = name, data, 0

    def getbuffer(self):
        self.reads += 1
        return memoryview(self._data)


def test_uploads_are_kept_once_per_session_in_a_private_folder(monkeypatch):
    writes = []
    original = uploads.Path.write_bytes

    def counting(self, data):
        writes.append(self.name)
        return original(self, data)

    monkeypatch.setattr(uploads.Path, "write_bytes", counting)
    session: dict = {}
    first = uploads.save_upload(_Upload("../../etc/x.CSV", b"x,y\n1,2\n"), session)
    again = uploads.save_upload(_Upload("renamed.csv", b"x,y\n1,2\n"), session)
    assert first == again and len(writes) == 1  # a rerun (or the same file again) writes nothing
    assert first.parent.name.startswith("planner-session-") and first.name.endswith(".csv")
    assert ".." not in first.name and first.name.split(".")[0].isalnum()
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    other: dict = {}
    elsewhere = uploads.save_upload(_Upload("x.csv", b"x,y\n1,2\n"), other)
    assert elsewhere.parent != first.parent  # sessions never share a folder
    folder = first.parent
    del session
    gc.collect()
    assert not folder.exists()  # the session ended: its uploads are gone
    assert elsewhere.exists()


def test_export_audit_log_lines(tmp_path, monkeypatch):
    log = tmp_path / "audit" / "exports.jsonl"
    monkeypatch.setenv("PLANNER_AUDIT_LOG", str(log))
    user = access.User(name="ana@council.example", role="viewer", signed_in=True, address="192.0.2.7")
    config = json.dumps({"incidents": "postgresql://u:s3cret@h/db", "k_min": 5})
    access.audit_export(user, privacy="public", k=5, round_to=1, formats=["csv"], config=config)
    access.audit_export(user, privacy="public", k=7, round_to=1, formats=["gpkg"], config=config)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["k"] for line in lines] == [5, 7]
    assert lines[0]["user"] == "ana@council.example" and lines[0]["privacy"] == "public" and lines[0]["time"]
    assert lines[0]["address"] == "192.0.2.7"  # issue #24: who, and from where
    assert "s3cret" not in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def viewer_app(dashboard_default_is_shared_plan):
    at = AppTest.from_file(APP, default_timeout=240)
    at.secrets["planner"] = {"anonymous_role": "viewer"}
    at.run()
    return at


def test_a_viewer_is_served_the_public_view_only(viewer_app):
    at = viewer_app
    assert not at.exception, at.exception
    script = str(at.get("component_instance")[0].proto.json_args)
    assert "H01" in script  # the map is there, with its hotspots
    assert "incident_id" not in script and "occurred_at" not in script and "gi_z" not in script
    assert not [w for w in at.radio if w.key == "source"]  # no uploads
    assert not [w for w in at.multiselect if w.key == "cats"]  # no filters (differencing)
    assert list(at.radio(key="click_mode").options) == ["Show a hotspot's profile"]
    assert at.selectbox(key="export_privacy").options == ["public"]
    assert at.number_input(key="export_k").min == 5
    text = " ".join(m.value for m in at.markdown) + " ".join(i.value for i in at.info)
    assert "open to analysts" in text
    table = next(d.value for d in at.dataframe if "Hotspot" in d.value.columns)
    assert "Mean Gi* z" not in table.columns


def test_a_viewer_export_is_public_and_audited(viewer_app, tmp_path, monkeypatch):
    import io
    import zipfile

    log = tmp_path / "exports.jsonl"
    monkeypatch.setenv("PLANNER_AUDIT_LOG", str(log))
    at = viewer_app
    at.multiselect(key="export_formats").set_value(["csv"]).run()
    at.button(key="export_go").click().run()
    assert not at.exception
    with zipfile.ZipFile(io.BytesIO(at.session_state["export_zip"])) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert "csv/incidents.csv" not in names and manifest["privacy"] == "public"
    record = json.loads(log.read_text().splitlines()[-1])
    assert record["role"] == "viewer" and record["privacy"] == "public" and record["formats"] == ["csv"]


def test_a_viewer_gets_the_fear_layer_without_crime_counts_and_no_group_view(viewer_app):
    at = viewer_app
    script = str(at.get("component_instance")[0].proto.json_args)
    assert "Fear vs recorded crime" in script and "fear, little crime" in script
    assert "Recorded crimes" not in script and "crimes_per_km2" not in script and "crime_rank" not in script
    assert not [w for w in at.radio if w.key == "victims"]  # no per-group view (differencing)
    assert not [w for w in at.selectbox if str(w.key).startswith("victim_group")]
    assert "per-group" in " ".join(c.value for c in at.caption)
    coverage = next(d.value for d in at.dataframe if "Auditors" in d.value.columns)
    assert len(coverage) == 15
    counts = next(d.value for d in at.dataframe if "Class" in d.value.columns)
    assert set(counts.columns) == {"Class", "Cells", "Share of audited cells"}
    assert not [w for w in at.radio if w.key == "eval_method"]  # evaluations are for analysts


def test_public_view_perception_is_derived_from_published_counts_only():
    """The public plan's fear-vs-crime layer holds class and perceived safety only, and its classes
    are those of the rule applied to the published cell counts (withheld counts as 0): changing a
    withheld count cannot change the public layer."""
    import dataclasses

    import numpy as np

    from planner.config import RunConfig
    from planner.dashboard import state
    from planner.export.privacy import apply_privacy
    from planner.perception import fear_crime_disagreement

    plan = state.cached_plan(RunConfig().model_dump_json())
    public, _ = apply_privacy(plan, privacy="public", k=5)
    result = public.perception
    assert list(result.disagreement.columns) == ["cell_id", "perceived_safety", "class", "geometry"]
    assert result.night_disagreement is None and len(result.audits) == 0 and result.quarantine.empty
    assert "/" not in result.report["source"] and "reasons" not in result.report
    published = public.cells["n_incidents"].astype("Float64").fillna(0).to_numpy(dtype=float)
    expected = fear_crime_disagreement(plan.perception.surface, plan.cells, published)
    assert (result.disagreement["class"].to_numpy() == expected["class"].to_numpy()).all()
    # the internal layer ranks the small counts too, so some classes differ from the public ones
    assert (plan.perception.disagreement["class"].to_numpy() != expected["class"].to_numpy()).any()
    # a withheld (below k) count changed: the public layer is the same
    cells = plan.cells.copy()
    small = np.flatnonzero((cells["n_incidents"] > 0) & (cells["n_incidents"] < 5))[:20]
    cells.loc[cells.index[small], "n_incidents"] = 4 - cells["n_incidents"].iloc[small]
    moved = dataclasses.replace(plan, cells=cells)
    again, _ = apply_privacy(moved, privacy="public", k=5)
    assert again.perception.disagreement["class"].equals(result.disagreement["class"])
