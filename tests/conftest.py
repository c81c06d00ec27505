"""Shared fixtures and the suite's order. Tiny synthetic fixtures state their answers in their docstrings.

``make test`` runs ``pytest -n 2 --dist loadfile --no-loadscope-reorder``: each test file runs whole
on one worker (its module fixtures are built once), and files are handed to the workers in
collection order (xdist would otherwise reorder them by their number of tests). The hook
below puts the files with the longest tests first (longest-processing-time first, so the two workers
finish together); within a file the order is unchanged. A test's expected cost comes from its marks:
``browser`` (a real browser against a dashboard), ``slow`` (an end-to-end run or a sample-city plan,
about 5 s or more); every other test is cheap.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import shared_across_workers

# Expected seconds of a test by its marks (only the order depends on them; measured durations are
# printed by ``--durations=20``).
COST_S = {"browser": 30.0, "slow": 8.0}
CHEAP_S = 0.3


def _cost(item: pytest.Item) -> float:
    return max([COST_S[m.name] for m in item.iter_markers() if m.name in COST_S], default=CHEAP_S)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the files by their expected total time, longest first; keep each file's own order."""
    totals: dict[str, float] = {}
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        totals[item.nodeid.split("::")[0]] = totals.get(item.nodeid.split("::")[0], 0.0) + _cost(item)
        first.setdefault(item.nodeid.split("::")[0], i)
    items.sort(key=lambda it: (-totals[it.nodeid.split("::")[0]], first[it.nodeid.split("::")[0]]))


@pytest.fixture(params=["EPSG:32630", "EPSG:27700"], ids=["utm30n", "osgb"])
def crs(request: pytest.FixtureRequest) -> str:
    """Two projected metric CRSs; metric tests run on both (never EPSG:3857)."""
    return str(request.param)


@pytest.fixture(scope="session")
def sample_plan(tmp_path_factory: pytest.TempPathFactory):
    """The default sample-city plan (``RunConfig()``, every stage), computed once per test run.

    The first worker to ask runs the pipeline and leaves the plan in the run's shared temporary
    folder; the others wait on a file lock and read it back. Plans are frozen (each stage returns a
    new one), so sharing one is safe; a test that needs a variant runs its own.
    """
    from planner import pipeline
    from planner.config import RunConfig

    if not (pipeline.SAMPLE_DIR / "city.gpkg").exists():
        pytest.skip("sample city not generated (make sample)")
    return shared_across_workers(tmp_path_factory, "sample_plan", lambda: pipeline.run(RunConfig()))


@pytest.fixture(scope="module")
def dashboard_default_is_shared_plan(sample_plan):
    """While a module's AppTests run (in this process), the dashboard's analysis of its default
    configuration is the session's shared plan instead of a fresh run of the same pipeline. Any
    other configuration (a filter, another cell size, an upload) still runs the pipeline; the
    browser tests, whose dashboard runs in a server process of its own, are not affected.
    """
    from planner import pipeline
    from planner.config import RunConfig

    real_run = pipeline.run
    default = RunConfig().model_dump_json()

    def run(config=None, **kwargs):
        if config is not None and not kwargs and config.model_dump_json() == default:
            return sample_plan
        return real_run(config, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "run", run)
        yield
