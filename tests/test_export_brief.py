"""The printable brief: rendered to images with poppler and checked for content."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
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
    assert len(pages) == 2 + len(ids)
    assert "summary" in pages[0] and all(h in pages[0] for h in ids)
    for hid, page in zip(ids, pages[1:-1], strict=True):
        assert f"Hotspot {hid}" in page
        assert "Ranked measures" in page and "Environment compared" in page
        assert "Crime profile" in page
        assert "(" in page and "–" in page  # intervals
    assert "Methods appendix" in pages[-1]
    assert "bandwidth_m" in pages[-1] and "Data fitness" in pages[-1]
    assert "police-recorded" in pages[-1].lower()
    assert all("PUBLIC" in page for page in pages)


def test_pdf_pages_render_with_content(sample_brief, tmp_path):
    _, out = sample_brief
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out / "brief.pdf"), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == 7
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
