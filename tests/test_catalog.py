"""Intervention catalogue: loads and validates, user files extend or override it, errors name the file."""

from __future__ import annotations

import pytest
from _paths import ROOT

from planner.errors import ValidationError
from planner.interventions.catalog import (
    VERIFICATIONS,
    catalogue_to_frame,
    default_catalogue_path,
    load_catalogue,
)
from planner.interventions.costs import TABLES, crime_cost
from planner.interventions.jurisdictions import get_jurisdiction

REQUIRED = {
    "lighting",
    "cctv_carpark",
    "cctv_residential",
    "cctv_centre",
    "alley_gates",
    "locks_wd",
    "locks_wd_e",
    "alarm_only",
    "sbd_new_build",
    "sbd_retrofit",
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


# Words that say why an effect is unverified: a labelled assumption, or a [mem] figure not found in
# the source text (docs/EVIDENCE_CHECKS.md).
_UNVERIFIED_REASONS = ("assumption", "[mem]", "not found", "not re-read", "unverified")


def _evidence_checks_text() -> str:
    return (ROOT / "docs" / "EVIDENCE_CHECKS.md").read_text(encoding="utf-8")


def test_every_unverified_effect_says_why():
    cat = load_catalogue()
    missing = [
        item_id
        for item_id, item in cat.items()
        if not item.effect.verified
        and not any(word in item.effect.basis.lower() for word in _UNVERIFIED_REASONS)
    ]
    assert not missing, f"unverified effects whose basis does not say why: {missing}"


def test_evidence_checks_lists_every_unverified_entry_and_cost():
    text = _evidence_checks_text()
    unverified = sorted(i for i, item in load_catalogue().items() if not item.effect.verified)
    assert unverified, "expected some unverified entries (the check would be vacuous otherwise)"
    absent = [i for i in unverified if f"`{i}`" not in text]
    assert not absent, f"docs/EVIDENCE_CHECKS.md does not list unverified catalogue entries {absent}"
    # the verified ones must not be listed as unverified
    section = text.split("## Catalogue entries whose effect is unverified", 1)[1].split("\n## ", 1)[0]
    listed = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert listed == set(unverified), f"listed {sorted(listed)} but unverified are {unverified}"
    costs = sorted(
        {
            name
            for table in TABLES.values()
            for name, row in table.rows.items()
            if row.verification == "unverified"
        }
    )
    absent_costs = [c for c in costs if f"**{c}**" not in section]
    assert not absent_costs, f"docs/EVIDENCE_CHECKS.md does not list unverified unit costs {absent_costs}"


def test_every_cost_says_how_it_was_verified():
    for item in load_catalogue().values():
        assert item.cost.verification in VERIFICATIONS, item.id
        if item.cost.assumption:
            assert item.cost.verification != "primary table", item.id
    for table in TABLES.values():
        for category, row in table.rows.items():
            assert row.verification in VERIFICATIONS, (table.name, category)
            if row.verification != "unverified":
                assert row.checked_in, (table.name, category)


def test_violence_without_injury_is_not_costed_as_violence_with_injury():
    uk = get_jurisdiction("UK")
    with_injury = crime_cost("violence_with_injury", uk)
    assault = crime_cost("assault", uk)
    assert with_injury is not None and assault is not None
    # lower bound: 47% injured (CSEW) × £14,050; never the full with-injury cost, never the £5,930 copy
    assert assault.amount == pytest.approx(0.47 * with_injury.amount)
    assert assault.amount / 1.339 != pytest.approx(5930.0)
    assert crime_cost("assault", get_jurisdiction("US")) is None  # McCollister costs only aggravated assault


def test_evidence_corrections_are_in_the_catalogue():
    cat = load_catalogue()
    lighting = cat["lighting"].effect
    assert lighting.point == pytest.approx(0.14) and lighting.interval_assumption
    violence = lighting.for_category("robbery")
    assert violence[0] < lighting.point and not lighting.by_type[0].verified
    assert cat["sbd_new_build"].effect.low == pytest.approx(0.53) and cat[
        "sbd_new_build"
    ].effect.point == pytest.approx(0.65)
    assert not cat["sbd_retrofit"].effect.verified and "unmeasured" in cat["sbd_retrofit"].effect.basis
    assert "SPF" in cat["locks_wd"].effect.basis and not cat["locks_wd"].effect.verified
    assert cat["alley_gates"].effect.interval_assumption
    # issue #23: the cocoon point is the review's one-sixth average, not the "up to one-fifth" subgroup
    assert cat["rv_cocoon"].effect.point == pytest.approx(1 / 6, abs=0.01)
    assert get_jurisdiction("US").unavailable.keys() >= {"sbd_new_build", "sbd_retrofit"}


def test_crime_costs_are_inflated_with_the_stated_index():
    uk, us, ca = (get_jurisdiction(c) for c in ("UK", "US", "CA"))
    assert crime_cost("robbery", uk).amount == pytest.approx(11320 * 133.9 / 100.0)
    assert crime_cost("robbery", us).amount == pytest.approx(42310 * 313.689 / 215.303)
    cad = crime_cost("robbery", ca)
    assert cad.currency == "CAD" and cad.amount == pytest.approx(42310 * 313.689 / 215.303 * 1.37)
    assert "conversion" in cad.conversion.lower() or "converted" in cad.conversion.lower()


# ----------------------------------------------------------------- issue #23: evidence corrections


def test_issue23_lifetimes_stop_at_the_evidence():
    cat = load_catalogue()
    assert cat["alley_gates"].cost.lifetime_years == 10  # Bowers et al. 2004: gate life about 10 years
    assert "Bowers" in cat["alley_gates"].cost.lifetime_basis
    for sbd in ("sbd_new_build", "sbd_retrofit"):  # SBD re-evaluated 10 years on (Armitage & Monchuk 2011)
        assert cat[sbd].cost.lifetime_years == 10, sbd
        assert "Armitage & Monchuk" in cat[sbd].cost.lifetime_basis, sbd


def test_issue23_cocoon_and_lighting_wording():
    cat = load_catalogue()
    cocoon = cat["rv_cocoon"].effect
    assert cocoon.verified and cocoon.interval_assumption
    assert cocoon.low < cocoon.point < 0.20 < cocoon.high
    assert "upper subgroup figure" in cocoon.basis and "one-sixth" in cocoon.basis
    lighting = cat["lighting"]
    assert "which is conservative" not in lighting.mechanism
    assert "not known to be conservative" in lighting.mechanism


def test_issue23_locks_effect_applies_to_the_with_entry_share():
    cat = load_catalogue()
    for item_id in ("locks_wd", "locks_wd_e"):
        share = cat[item_id].applies_share
        assert share is not None, item_id
        assert share.of == "burglary with entry"
        assert 0.5 <= share.low <= share.point <= share.high <= 0.7
        assert "British Crime Survey" in share.basis and "Tseloni" in share.basis
        point, low, high = share.scale((0.13, 0.05, 0.2))
        assert point == pytest.approx(0.13 * share.point) and low == pytest.approx(0.05 * share.low)
        assert high == pytest.approx(0.2 * share.high)
    assert all(cat[i].applies_share is None for i in ("lighting", "alley_gates", "rv_cocoon"))


def _entry(item_id: str) -> str:
    text = default_catalogue_path().read_text(encoding="utf-8")
    start = text.index(f'[[intervention]]\nid = "{item_id}"')
    end = text.find("[[intervention]]", start + 10)
    return text[start : end if end > 0 else None]


def test_every_measure_has_an_emmie_grade_shown_in_the_docs():
    text = _evidence_checks_text()
    section = text.split("## Evidence grades (EMMIE, issue #23)", 1)[1]
    for item_id, item in load_catalogue().items():
        assert item.emmie is not None, item_id
        assert item.emmie.basis and item.emmie.source, item_id
        assert f"| `{item_id}` | {item.emmie.code()} |" in section, item_id
    lighting = load_catalogue()["lighting"].emmie
    assert lighting is not None
    assert lighting.code() == "E3 M3 Mo2 I1 Ec2"
    assert lighting.text().startswith(
        "effect strong (3/4); mechanism strong (3/4); moderators moderate (2/4)"
    )


def test_a_measure_without_emmie_is_rejected_naming_it(tmp_path):
    entry = _entry("lighting").replace('id = "lighting"', 'id = "my_lamps"')
    no_emmie = entry[: entry.index("[intervention.emmie]")]
    user = tmp_path / "mine.toml"
    user.write_text(no_emmie, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalogue(extra=[user])
    assert "'my_lamps'" in str(info.value) and "missing [emmie] table" in str(info.value)


def test_emmie_grades_and_applies_share_are_validated(tmp_path):
    entry = _entry("locks_wd").replace('id = "locks_wd"', 'id = "my_locks"')
    bad = entry.replace("effect = 2\n", "effect = 5\n").replace("point = 0.58", "point = 1.4")
    bad = bad.replace('of = "burglary with entry"\n', "")
    user = tmp_path / "bad.toml"
    user.write_text(bad, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalogue(extra=[user])
    problems = str(info.value)
    assert "'effect' must be an integer grade 0-4" in problems
    assert "0 < low ≤ point ≤ high ≤ 1" in problems
    assert "'of' is required" in problems
    assert "'my_locks'" in problems
