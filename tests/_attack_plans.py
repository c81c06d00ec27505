"""The plans the attack suite attacks (shared by ``test_export_attacks*.py``): the sample city and
two real data sets, as module fixtures that the test modules import, plus the attacker's knowledge
from one public export."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from _attacks import add_gistar_bins, grid_weights, knowledge_from_export, published_counts_array
from _paths import shared_path
from scipy import sparse

from planner import pipeline
from planner.config import RunConfig
from planner.export.publish import normalised_plan

K = 5


def _run(config: RunConfig, stages=("space-time", "exposure", "recommend")):
    """The pipeline without the slow risk terrain (it publishes nothing count-derived per cell)."""
    chosen = [(name, fn) for name, fn in pipeline._later_stages() if name in stages]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "_later_stages", lambda: chosen)
        return normalised_plan(pipeline.run(config))


@pytest.fixture(scope="module")
def sample(sample_plan):
    """The session's shared sample-city plan, as an export sees it."""
    return normalised_plan(sample_plan)


@pytest.fixture(scope="module")
def chicago(tmp_path_factory):
    """Chicago residential burglary, Oct–Dec 2017 (computed once per test run, for both halves)."""
    from _shared import shared_across_workers

    csv = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    config = RunConfig(
        incidents=str(csv),
        crs="EPSG:26971",
        default_category="burglary",
        date_from="2017-10-01",
        date_to="2018-01-01",
    )
    return shared_across_workers(tmp_path_factory, "attack_chicago_plan", lambda: _run(config))


@pytest.fixture(scope="module")
def nottingham(tmp_path_factory):
    """Nottingham burglary 2022 with police.uk's ``location`` strings ("Hathersage Close") copied
    into ``location_type``, as a publisher's file might carry them."""
    src = shared_path("data", "uk_nottingham_2022", "nottingham_burglary_2022.csv")
    frame = pd.read_csv(src)
    frame["location_type"] = frame["location"]
    path = tmp_path_factory.mktemp("notts") / "nottingham.csv"
    frame.to_csv(path, index=False)
    plan = _run(RunConfig(incidents=str(path), default_category="burglary"), stages=("recommend",))
    return plan, sorted({s for s in frame["location"].dropna().unique() if len(s) >= 8})


PLANS = ["sample", "chicago"]


def _plan(request, name):
    value = request.getfixturevalue(name)
    return value[0] if isinstance(value, tuple) else value


def _truth(plan):
    return pd.to_numeric(plan.cells["n_incidents"]).to_numpy(float)


def _knowledge(plan, public, *, k, round_to):
    truth = _truth(plan)
    know = knowledge_from_export(
        published_counts_array(public.cells),
        k=k,
        round_to=round_to,
        total=public.params["n_incidents"],
        n=len(truth),
    )
    add_gistar_bins(
        know,
        grid_weights(plan.cells["row"], plan.cells["col"]),
        plan.cells["gi_z"].to_numpy(float),
        plan.cells["gi_bin"].to_numpy(int),
        truth,
        shown=public.cells["gi_bin"].notna().to_numpy(),
        members=public.cells["hotspot_id"].notna().to_numpy(),
        min_bin=int(plan.params["min_bin"]),
    )
    return know


def _kernel_operator(plan, cells) -> sparse.csr_matrix:
    from planner.hotspots.kde import kernel_values

    xy = shapely.get_coordinates(shapely.point_on_surface(cells.geometry.to_numpy()))
    h = float(plan.params["bandwidth_m"])
    from scipy.spatial import cKDTree

    pairs = cKDTree(xy).sparse_distance_matrix(cKDTree(xy), h, output_type="coo_matrix")
    return sparse.csr_matrix(
        (kernel_values(plan.params["kernel"], pairs.data, h), (pairs.row, pairs.col)),
        shape=(len(xy), len(xy)),
    )
