"""Intervention catalogue: loads and validates, user files extend or override it, errors name the file."""

from __future__ import annotations

import pytest

from planner.errors import ValidationError
from planner.interventions.catalog import catalogue_to_frame, default_catalogue_path, load_catalogue

REQUIRED = {
    "lighting",
    "cctv_carpark",
    "cctv_residential",
    "cctv_centre",
    "alley_gates",
    "locks_wd",
    "locks_wd_e",
    "alarm_only",
    "sbd",
    "rv_cocoon",
    "vegetation_cutback",
    "carpark_access_control",
    "hotspot_patrol",
}


def test_shipped_catalogue_has_every_measure_with_sources():
    cat = load_catalogue()
    assert set(cat) >= REQUIRED
    assert cat["alarm_only"].never_recommend and cat["alley_gates"].restricts_public_access
    assert cat["cctv_carpark"].surveillance and cat["cctv_carpark"].privacy_note
    frame = catalogue_to_frame(cat)
    assert len(frame) == len(cat)


def test_user_file_overrides_an_entry(tmp_path):
    text = default_catalogue_path().read_text(encoding="utf-8")
    start = text.index('[[intervention]]\nid = "lighting"')
    end = text.index("[[intervention]]", start + 10)
    entry = text[start:end].replace(
        'name = "Improved street lighting"', 'name = "LED relighting (council scheme)"'
    )
    user = tmp_path / "mine.toml"
    user.write_text(entry, encoding="utf-8")
    cat = load_catalogue(extra=[user])
    assert cat["lighting"].name == "LED relighting (council scheme)"
    assert len(cat) == len(load_catalogue())


def test_bad_file_lists_problems_and_names_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[intervention]]\nid = "x"\nname = "X"\n', encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalogue(extra=[bad])
    assert "bad.toml" in str(info.value)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[intervention]\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid TOML"):
        load_catalogue(extra=[broken])
