"""The printable brief: rendered to images with poppler and checked for content."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from _tiny_plan import tiny_plan
from PIL import Image

from planner.export import export_plan

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
        reason="poppler-utils not installed",
    ),
]


def _pages_text(pdf):
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True)
    return text.stdout.split("\f")[:-1]


@pytest.fixture(scope="module")
def sample_brief(sample_plan, tmp_path_factory):
    """Public brief of the sample-city plan (the session's shared plan; the top five get a page)."""
    out = tmp_path_factory.mktemp("brief")
    export_plan(sample_plan, out, formats="brief", privacy="public", top_hotspots=5)
    return sample_plan, out


def test_pdf_has_summary_hotspot_pages_and_appendix(sample_brief):
    plan, out = sample_brief
    pages = _pages_text(out / "brief.pdf")
    ids = plan.hotspots["hotspot_id"].head(5).tolist()
    assert "summary" in pages[0] and all(h in pages[0] for h in ids)
    for hid in ids:
        page = next(p for p in pages if f"Hotspot {hid}" in p)
        assert "Ranked measures" in page and "Environment compared" in page
        assert "Crime profile" in page
        assert "(" in page and "–" in page  # intervals
    appendix = [p for p in pages if "Methods appendix" in p]
    assert appendix and pages[-len(appendix) :] == appendix  # the appendix comes last, whole
    text = "\n".join(appendix)
    assert "bandwidth_m" in text and "Data fitness" in text
    assert "police-recorded" in text.lower()  # the notes below the long parameter table are on a page
    assert all("PUBLIC" in page for page in pages)


def test_a_long_section_continues_on_the_next_page(tmp_path):
    """A table longer than a page goes on over the following pages, every row printed, and the
    notes after it too (they were drawn off the page when the full plan's parameters grew)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages

    from planner.export.brief import Section, _pdf_page
    from planner.export.privacy import apply_privacy

    _, report = apply_privacy(tiny_plan(), privacy="public", k=5)
    rows = pd.DataFrame({"Parameter": [f"param_{i:03d}" for i in range(150)], "Value": range(150)})
    section = Section(
        title="Methods appendix",
        lines=["Data fitness:"],
        tables=[("Parameters", rows)],
        notes=["Caveat of police-recorded data: last note"],
    )
    with PdfPages(tmp_path / "long.pdf") as pdf:
        _pdf_page(pdf, section, report)
    pages = _pages_text(tmp_path / "long.pdf")
    assert len(pages) >= 2 and "(continued)" in pages[1]
    text = "\n".join(pages)
    assert all(f"param_{i:03d}" in text for i in range(150))
    assert "last note" in pages[-1]


def test_pdf_pages_render_with_content(sample_brief, tmp_path):
    _, out = sample_brief
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out / "brief.pdf"), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == len(_pages_text(out / "brief.pdf")) >= 7
    for path in images:
        arr = np.asarray(Image.open(path).convert("L"), dtype=float)
        ink = (arr < 200).mean()
        assert 0.01 < ink < 0.6, (path.name, ink)  # neither blank nor a solid block
    # hotspot pages carry a coloured map (the RdBu hot-cell fill), not only text
    rgb = np.asarray(Image.open(images[1]).convert("RGB"), dtype=int)
    reddish = (rgb[..., 0] > 150) & (rgb[..., 1] < 120) & (rgb[..., 2] < 120)
    assert reddish.sum() > 200


def test_html_brief_matches_pdf_sections(sample_brief):
    plan, out = sample_brief
    html = (out / "brief.html").read_text(encoding="utf-8")
    assert html.count("<section>") == 7
    assert html.count("class='privacy'") == 7
    assert html.count("data:image/png;base64,") == 6
    assert "http://" not in html and "https://" not in html
    for hid in plan.hotspots["hotspot_id"].head(5):
        assert f"Hotspot {hid}" in html


def test_brief_shows_each_measure_s_emmie_grade(sample_brief):
    """Issue #23: the ranked measures carry their evidence grade; the appendix explains the scale."""
    plan, out = sample_brief
    html = (out / "brief.html").read_text(encoding="utf-8")
    assert "Evidence (EMMIE 0-4)" in html
    top = plan.recommendations.sort_values(["hotspot_id", "rank"]).groupby("hotspot_id").head(1)
    assert top["evidence_grade"].str.fullmatch(r"E\d M\d Mo\d I\d Ec\d").all()
    assert any(grade in html for grade in top["evidence_grade"])
    assert "0 none, 1 limited, 2 moderate, 3 strong, 4 very strong" in html


def test_internal_brief_says_so_on_every_page(tmp_path):
    export_plan(tiny_plan(), tmp_path, formats="brief", privacy="internal", top_hotspots=3)
    pages = _pages_text(tmp_path / "brief.pdf")
    assert len(pages) == 2 + 1  # the tiny plan has one hotspot
    assert all("INTERNAL" in page for page in pages)
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "brief.pdf")], capture_output=True, text=True, check=True
    )
    assert "INTERNAL" in info.stdout
    html = (tmp_path / "brief.html").read_text(encoding="utf-8")
    assert html.count("INTERNAL - contains incident-level data") >= 3


def test_why_here_is_written_once():
    """The ranking writes its reasons as "Why here: …"; the brief shows that label once (it read
    "Why here: Why here: …").
    """
    import dataclasses

    import pandas as pd

    from planner.export.brief import hotspot_section
    from planner.export.privacy import apply_privacy

    recs = pd.DataFrame(
        {
            "hotspot_id": ["H01"],
            "rank": [1],
            "name": ["Street lighting"],
            "reasons": ["Why here: 2 of 2 lamps are broken. Reached: night crimes."],
        }
    )
    plan, report = apply_privacy(dataclasses.replace(tiny_plan(), recommendations=recs), privacy="internal")
    lines = hotspot_section(plan, "H01", report).lines
    why = [line for line in lines if "Why here" in line]
    assert why == ["Why here: 2 of 2 lamps are broken. Reached: night crimes."]


def test_a_hotspot_where_nothing_pays_back_says_so():
    """#23: the ranking's hotspot note (no situational measure pays back; the cheapest with their
    odds) is a line of the hotspot's page, and the summary's top measure reads "none pays back"."""
    import dataclasses

    from planner.export.brief import _top_measure, hotspot_section
    from planner.export.privacy import apply_privacy

    note = (
        "Nothing here is expected to pay back: no measure's expected benefit exceeds its cost. The measures "
        "not expected to pay back are listed cheapest first, with their odds: Locks (cost 5,000 GBP; pays "
        "back in 10% of simulations)."
    )
    recs = pd.DataFrame(
        {
            "hotspot_id": ["H01", "H01"],
            "rank": [1, 2],
            "name": ["Locks", "Lighting"],
            "hotspot_note": [note, note],
        }
    )
    plan, report = apply_privacy(dataclasses.replace(tiny_plan(), recommendations=recs), privacy="internal")
    assert note in hotspot_section(plan, "H01", report).lines
    assert _top_measure(recs) == "none pays back"
    assert _top_measure(recs.assign(hotspot_note="")) == "Locks"
    assert _top_measure(recs.assign(hotspot_note=np.nan)) == "Locks"  # as read back from a file
