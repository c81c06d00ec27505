"""Micro-synthetic control recovers a known effect on synthetic blocks shaped like R's Seattle example.

This is a recovery test, not a comparison with R (that is ``tests/test_microsynth_seattle.py``, on
the real ``seattledmi`` data). The panel has the structure of ``seattledmi`` — 9,642 blocks, 39
treated, 12 + 4 quarters, four outcomes and nine covariates — with the treated blocks' quarterly
counts and covariate totals at R's published targets and donor blocks drawn so that the *true*
counterfactual of the treated blocks (what a donor pool of their level gives) is a known number
(R's published Con, used only as a convenient value). The default settings must recover it within
sampling error and their interval must cover the true change.
"""

from __future__ import annotations

import numpy as np
import pytest

from planner.evaluate._panel import panel_from_arrays
from planner.evaluate.microsynth import MicrosynthOptions, estimate_area

OUTCOMES = ("i_felony", "i_misdemea", "i_drugs", "any_crime")
COVARIATES = {  # treated target, All.scaled (population scaled to 39 blocks)
    "TotalPop": (2994, 2384.7476665),
    "BLACK": (173, 190.5224020),
    "HISPANIC": (149, 159.2682016),
    "Males_1521": (49, 97.3746111),
    "HOUSEHOLDS": (1968, 1113.5588052),
    "FAMILYHOUS": (519, 475.1876167),
    "FEMALE_HOU": (101, 81.1549471),
    "RENTER_HOU": (1868, 581.9340386),
    "VACANT_HOU": (160, 98.4222153),
}
# quarters 1..12 (the vignette lists 12 down to 1)
TARGETS = {
    "i_felony": [12, 13, 7, 10, 20, 13, 8, 20, 5, 9, 11, 14],
    "i_misdemea": [16, 14, 21, 21, 24, 16, 20, 12, 14, 12, 12, 15],
    "i_drugs": [8, 12, 5, 1, 2, 4, 10, 4, 4, 3, 8, 13],
    "any_crime": [242, 250, 236, 250, 270, 200, 246, 228, 176, 183, 227, 272],
}
ALL_SCALED = {
    "i_felony": [3.4380834, 3.2803360, 3.3693217, 4.0245800, 3.1549471, 3.0012446,
                 3.7616677, 4.4331052, 3.2641568, 3.0740510, 4.6313006, 4.9023024],
    "i_misdemea": [4.1540137, 3.5351587, 4.3845675, 4.3360299, 3.5634723, 3.5594275,
                   4.2551338, 3.9679527, 3.7414437, 4.0771624, 4.6070317, 4.2470442],
    "i_drugs": [1.3590541, 1.1365899, 1.3550093, 1.1244555, 1.2296204, 1.2377100,
                1.0516490, 1.1123211, 0.9788426, 1.3226509, 1.5127567, 1.6543248],
    "any_crime": [55.1144991, 51.5429371, 58.8680772, 57.2946484, 50.6530803, 52.8291848,
                  55.8061605, 55.8142502, 53.2377100, 55.6929060, 64.2395769, 65.3397635],
}  # fmt: skip
TRT = {"i_felony": 46, "i_misdemea": 45, "i_drugs": 20, "any_crime": 788}
CON = {"i_felony": 68.22, "i_misdemea": 71.80, "i_drugs": 23.76, "any_crime": 986.44}
PCT = {"i_felony": -0.326, "i_misdemea": -0.373, "i_drugs": -0.158, "any_crime": -0.201}
N_BLOCKS, N_TREATED = 9642, 39


def seattle_like(seed: int = 99199):
    """Synthetic panel with the published seattledmi structure and targets (see module docstring).

    A tenth of the donor blocks are "downtown-like": their covariates and crime levels resemble the
    treated blocks' (as real city-centre blocks do); the rest make the population averages come out
    at the published ``All.scaled``.
    """
    rng = np.random.default_rng(seed)
    n_d = N_BLOCKS - N_TREATED
    downtown = rng.random(n_d) < 0.1
    counts = np.zeros((N_BLOCKS, len(OUTCOMES), 16), dtype=np.int64)
    share = rng.dirichlet(np.full(N_TREATED, 2.0))
    for o, name in enumerate(OUTCOMES):
        mean_q = np.asarray(ALL_SCALED[name]) / N_TREATED
        level = sum(TARGETS[name]) / N_TREATED / mean_q.sum()  # a treated block, in average blocks
        rest = (1 - 0.1 * level) / 0.9
        theta = np.where(downtown, level, rest) * rng.gamma(2.0, 0.5, n_d)
        counts[N_TREATED:, o, :12] = rng.poisson(theta[:, None] * mean_q[None, :])
        # after-period level: a pool of blocks at the treated level gives the published Con
        counts[N_TREATED:, o, 12:] = rng.poisson(theta[:, None] * CON[name] / 4 / N_TREATED / level)
        for q, total in enumerate(TARGETS[name]):
            counts[:N_TREATED, o, q] = rng.multinomial(total, share)
        for q, total in enumerate(rng.multinomial(TRT[name], np.full(4, 0.25))):
            counts[:N_TREATED, o, 12 + q] = rng.multinomial(total, share)
    covariates = {}
    for name, (target, scaled) in COVARIATES.items():
        per_treated = target / N_TREATED
        rest = (scaled / N_TREATED - 0.1 * per_treated) / 0.9
        donor = np.where(downtown, per_treated, rest) * rng.lognormal(-0.125, 0.5, n_d)
        treated = rng.multinomial(target, np.full(N_TREATED, 1 / N_TREATED)).astype(float)
        covariates[name] = np.concatenate([treated, donor])
    role = np.array(["treatment"] * N_TREATED + ["donor"] * n_d, dtype=object)
    return panel_from_arrays(counts, role, outcomes=OUTCOMES, n_pre=12, covariates=covariates)


@pytest.fixture(scope="module")
def panel():
    return seattle_like()


@pytest.fixture(scope="module")
def default_fit(panel):
    # the defaults (R's settings), no placebos or jackknife (not what is compared), one-sided
    opts = MicrosynthOptions(n_placebos=0, n_jackknife=0, test="lower")
    return estimate_area(panel, "treatment", options=opts, alpha=0.1)


@pytest.fixture(scope="module")
def crossfit_fit(panel):
    opts = MicrosynthOptions(n_placebos=0, n_jackknife=0, test="lower", rtm_correction="crossfit")
    return estimate_area(panel, "treatment", options=opts, alpha=0.1)


def test_defaults_recover_the_known_counterfactual_of_the_dense_outcome(default_fit):
    eff = default_fit.effects.set_index("outcome")
    for name in OUTCOMES:
        assert eff.loc[name, "trt"] == TRT[name]  # counts stay counts
    # all crime (≥ 176 treated crimes a quarter): Con within its sampling error, interval covers
    assert eff.loc["any_crime", "con"] == pytest.approx(CON["any_crime"], rel=3.0 / np.sqrt(CON["any_crime"]))
    assert eff.loc["any_crime", "linear_low"] <= PCT["any_crime"] <= eff.loc["any_crime", "linear_high"]
    assert eff.loc["any_crime", "pct_change"] == pytest.approx(PCT["any_crime"], abs=0.03)


def test_crossfit_option_is_less_biased_on_sparse_synthetic_quarters(default_fit, crossfit_fit):
    """The evidence for keeping the cross-fit as an option: R's exact match on every quarter
    chases the treated blocks' chance highs and lows in quarters with 1–5 drug crimes, which do
    not carry over (here Con 11.7 for drugs against a true 23.76; the cross-fit gives 17.9). On
    R's real Seattle data the cross-fit instead turns R's felony reduction into a small,
    non-significant one, so it is not the default (``docs/MICROSYNTH.md``)."""
    raw = default_fit.effects.set_index("outcome")["con"]
    fixed = crossfit_fit.effects.set_index("outcome")["con"]
    err_raw = abs(np.log(raw["i_drugs"] / CON["i_drugs"]))
    err_fixed = abs(np.log(fixed["i_drugs"] / CON["i_drugs"]))
    assert err_fixed < err_raw
