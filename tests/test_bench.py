"""Smoke test of the benchmark code (tiny sizes, two cheap peers) so it cannot rot. No timings asserted."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests._paths import ROOT, SAMPLE


@pytest.mark.slow
@pytest.mark.skipif(not (SAMPLE / "incidents.csv").exists(), reason="sample city not generated")
def test_pipeline_bench_quick_runs() -> None:
    cmd = [
        sys.executable,
        "-m",
        "bench.bench_pipeline",
        "--sizes",
        "1500",
        "--lamps",
        "3000",
        "--no-real",
        "--peers",
        "floor,esda",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "synthetic 1.5k" in out and "1,500 incidents" in out
    for stage in ("ingest", "grid", "density", "Gi*", "hotspots", "exposure", "GeoPackage export"):
        assert re.search(rf"^\| {re.escape(stage)} \| \d", out, flags=re.M), stage
    gi = re.search(r"^\| Gi\* \|.*esda G_Local.*\| ([\d.,]+)× \|", out, flags=re.M)
    assert gi is not None and float(gi.group(1).replace(",", "")) > 0
    assert "read x,y + bin once" in out
    assert re.search(r"\*\*total.*\*\*[\d.,]+\*\*", out)
