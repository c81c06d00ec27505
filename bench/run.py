"""Run every benchmark in ``bench/`` and write ``bench/RESULTS.md``.

Each ``bench/bench_<topic>.py`` measures this project and the peer tool doing the same job in the
same run and prints a Markdown section (times, peak memory, ratios). This runner executes them one
after another in fresh interpreters (so peak-memory figures do not leak between them), and collects
their output with the machine facts and the command that reproduces each section.

Usage: ``make bench`` or ``.venv/bin/python -m bench.run [--quick] [topic ...]`` (``--quick``: small
sizes only, a smoke run in a few minutes; ``make bench-quick``).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def topics() -> list[str]:
    """The benchmark topics ``make bench`` runs, in order."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


QUICK = {"hotspots", "exposure", "pipeline", "dask"}  # topics with a --quick mode


def main(argv: list[str]) -> int:
    """Run the chosen benchmarks and update ``bench/RESULTS.md``."""
    quick = "--quick" in argv
    chosen = [a for a in argv if a != "--quick"] or topics()
    sections = [
        "# Benchmark results",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench` on {platform.node()}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}; "
        f"load average at start {os.getloadavg()[0]:.1f} (the machine is shared: times are wall clock "
        "and include contention; each section says when it ran).",
        "Each section compares this project with the peer tool on the same data in the same run; "
        "ratios > 1 mean the planner is faster (time) or leaner (memory).",
        "",
    ]
    header = list(sections)
    status = 0
    for topic in chosen:
        module = f"bench.bench_{topic}"
        extra = ["--quick"] if quick and topic in QUICK else []
        cmd = [sys.executable, "-m", module, *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
        shown = " ".join([module, *extra])
        sections += [
            f"## {topic}",
            "",
            f"Command: `.venv/bin/python -m {shown}` ({elapsed:.0f} s wall, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
            "",
        ]
        if proc.returncode != 0:
            status = 1
            sections += ["**Failed:**", "", "```", proc.stderr[-4000:], "```", ""]
        sections += [proc.stdout.strip(), ""]
        print(f"{topic}: {'ok' if proc.returncode == 0 else 'FAILED'} in {elapsed:.0f} s", file=sys.stderr)
    target = HERE / ("RESULTS-quick.md" if quick else "RESULTS.md")
    if argv and target.exists():  # a subset of topics: keep the other topics' sections as they were
        kept = _sections(target.read_text(encoding="utf-8"))
        done = _sections("\n".join(sections))
        body = [done.get(t) or kept.get(t, "") for t in topics() if t in done or t in kept]
        sections = [*header, *body]
    target.write_text("\n".join(sections) + "\n", encoding="utf-8")
    return status


def _sections(text: str) -> dict[str, str]:
    """Topic → its section text (from '## topic' to the next topic heading)."""
    names = set(topics())
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("## ") and line[3:].strip() in names:
            current = line[3:].strip()
            out[current] = []
        if current is not None:
            out[current].append(line)
    return {k: "\n".join(v).rstrip() + "\n" for k, v in out.items()}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
