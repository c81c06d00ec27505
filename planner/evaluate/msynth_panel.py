"""Micro-synthetic control from an area × period table, as R ``microsynth`` takes it.

Analysts who already have counts per small area and period (census blocks × quarters, say) call
:func:`microsynth_panel` with the table and the names of its columns, as in R::

    microsynth_panel(df, id="ID", time="time", intervention="Intervention", end_pre=12,
                     outcomes=["i_felony", "any_crime"], covariates=["TotalPop"])

An area is treated when ``intervention`` is non-zero in any period. Periods up to ``end_pre`` are
before the start, later ones (up to ``end_post``) after. Covariates are constant per area (the
first period's value is used, as R does). The table becomes a :class:`~planner.evaluate._panel.Panel`
and is fitted by :func:`planner.evaluate.microsynth.estimate_area` — the function the incident-based
designs of ``planner evaluate run --method microsynth`` and the dashboard also call, so both
interfaces share one engine and one set of defaults.

``compat="r"`` pins R microsynth's settings (those of the vignette's ``sea2`` run): every
before period of every outcome matched on its own plus the covariates, weights closest to
uniform with ``w ≥ 0``, one-sided ``lower`` test, 90 % intervals, one jackknife group per treated
area, placebo areas drawn at random, R's design-based linearised variance. The defaults are the
same settings (see :class:`~planner.evaluate.microsynth.MicrosynthOptions` for why; its one
departure, contiguous placebo areas, needs geometry that a table does not have) with a two-sided
test; both are reported in ``settings``. One difference from R remains in both: placebo
areas are drawn from the untreated areas only (R may draw a real treated area into a placebo).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner._params import check_choice
from planner.errors import ConfigError, ValidationError
from planner.evaluate._panel import panel_from_arrays
from planner.evaluate.microsynth import TESTS, AreaResult, MicrosynthOptions, estimate_area

logger = logging.getLogger(__name__)

__all__ = ["PanelResult", "microsynth_panel", "r_compat_options"]

COMPAT = ("r",)
RESULT_COLUMNS = (
    "outcome",
    "trt",
    "con",
    "pct_change",
    "linear_low",
    "linear_high",
    "linear_p",
    "jack_low",
    "jack_high",
    "jack_p",
    "perm_low",
    "perm_high",
    "perm_p",
)


SETTINGS = ("calfun", "rtm_correction", "placebo", "variance", "min_bin_count", "test", "n_placebos", "seed")


def _options(
    options: MicrosynthOptions | None,
    *,
    compat: str | None,
    test: str | None,
    alpha: float,
    seed: int,
    outcomes: Sequence[str],
    covariates: Sequence[str],
) -> MicrosynthOptions:
    # the table's areas have no geometry, so placebo areas are random sets of areas (R's) either way
    default = MicrosynthOptions(evaluate_buffer=False, placebo="random")
    base = options or (r_compat_options() if compat == "r" else default)
    return dataclasses.replace(
        base,
        test=test or ("lower" if compat == "r" else "twosided"),
        alpha=alpha,
        seed=seed,
        outcomes=tuple(outcomes),
        covariates=tuple(covariates),
    )


def r_compat_options(**overrides: Any) -> MicrosynthOptions:
    """R microsynth's settings (``sea2``) as :class:`MicrosynthOptions`; ``overrides`` replace fields."""
    base = MicrosynthOptions(
        min_bin_count=1,
        rtm_correction="none",
        placebo="random",
        calfun="linear",
        variance="design",
        n_jackknife=None,
        test="lower",
        alpha=0.1,
        evaluate_buffer=False,
    )
    return dataclasses.replace(base, **overrides)


@dataclass(frozen=True)
class PanelResult:
    """Micro-synthetic control of an area × period table: effects, balance, omnibus, settings."""

    result: AreaResult
    settings: dict[str, Any]
    periods: dict[str, Any]

    @property
    def effects(self) -> pd.DataFrame:
        """Per outcome: ``trt``, ``con``, ``pct_change`` and the intervals and p-values.

        Linearised, jackknife and permutation columns; absent when not computed.
        """
        frame = self.result.effects
        return frame[[c for c in RESULT_COLUMNS if c in frame]].reset_index(drop=True)

    @property
    def balance(self) -> pd.DataFrame:
        """Per constraint: treated total, synthetic total, all areas scaled to the treated count."""
        return self.result.balance[["constraint", "kind", "treated", "synthetic", "all_scaled", "rel_diff"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers as ``None``)."""
        return {
            "method": "microsynth_panel",
            "settings": self.settings,
            "periods": self.periods,
            "effects": _records(self.effects),
            "omnibus": self.result.omnibus,
            "balance": _records(self.balance),
            "fit": self.result.fit,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in rec.items()}
        for rec in frame.to_dict(orient="records")
    ]


def _check_columns(df: pd.DataFrame, needed: dict[str, Sequence[str]]) -> None:
    missing = {role: [c for c in cols if c not in df.columns] for role, cols in needed.items()}
    missing = {role: cols for role, cols in missing.items() if cols}
    if missing:
        listed = "; ".join(f"{role}: {', '.join(cols)}" for role, cols in missing.items())
        raise ValidationError(
            f"microsynth_panel: columns not in the table ({listed}). It has: {', '.join(map(str, df.columns))}."
        )


def _arrays(
    df: pd.DataFrame, id_col: str, time_col: str, outcomes: Sequence[str], times: np.ndarray
) -> np.ndarray:
    """Counts as (areas, outcomes, periods), areas sorted by id; every area needs every period."""
    sub = df[df[time_col].isin(times)]
    if sub.duplicated([id_col, time_col]).any():
        raise ValidationError(
            f"microsynth_panel: some ({id_col}, {time_col}) pairs appear more than once; give one row "
            "per area and period."
        )
    wide = sub.pivot(index=id_col, columns=time_col, values=list(outcomes))
    if wide.isna().any().any():
        raise ValidationError(
            f"microsynth_panel: some areas lack some periods between {times[0]} and {times[-1]} (or have "
            "missing outcome values); R microsynth needs a complete table too. Fill absent counts with 0."
        )
    values = wide.to_numpy(dtype=float).reshape(len(wide), len(outcomes), len(times))
    return values


def _constraint_names(result: AreaResult, times: np.ndarray, starts: pd.DatetimeIndex) -> AreaResult:
    """Rename ``outcome YYYY-MM-DD..YYYY-MM-DD`` constraints R's way (``outcome.3`` or ``outcome.3.4``)."""
    label_of = {f"{d:%Y-%m-%d}": t for d, t in zip(starts, times, strict=True)}
    ends = {f"{d + pd.Timedelta(days=1):%Y-%m-%d}": t for d, t in zip(starts, times, strict=True)}

    def rename(name: str) -> str:
        m = re.fullmatch(r"(.*) (\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", name)
        if not m:
            return name
        first, last = label_of.get(m.group(2)), ends.get(m.group(3))
        return f"{m.group(1)}.{first}" if first == last else f"{m.group(1)}.{first}.{last}"

    balance = result.balance.copy()
    balance["constraint"] = balance["constraint"].map(rename)
    return dataclasses.replace(result, balance=balance)


def microsynth_panel(  # noqa: PLR0913 - R microsynth's interface: one keyword per R argument
    df: pd.DataFrame,
    *,
    id: str,
    time: str,
    intervention: str,
    end_pre: Any,
    outcomes: Sequence[str],
    covariates: Sequence[str] = (),
    end_post: Any = None,
    n_placebos: int = 250,
    n_jackknife: int | None = None,
    test: str | None = None,
    alpha: float = 0.1,
    compat: str | None = None,
    seed: int = 20261128,
    options: MicrosynthOptions | None = None,
) -> PanelResult:
    """Micro-synthetic control of the areas of an area × period table (R ``microsynth``'s interface).

    Parameters
    ----------
    df : DataFrame
        One row per area and period (long format, as R's ``seattledmi``).
    id, time, intervention : str
        Columns of the area id, the period (sortable) and the intervention flag (non-zero = treated).
    end_pre : scalar
        Last period before the start (a value of ``time``).
    outcomes : sequence of str
        Count columns to evaluate; each before period of each is matched exactly.
    covariates : sequence of str, optional
        Columns constant per area matched as totals (first period's value).
    end_post : scalar, optional
        Last period evaluated (default: the last in the table).
    n_placebos : int
        Placebo areas for the permutation test (R: 250).
    n_jackknife : int, optional
        Jackknife groups (default: one per treated area; 0 switches the jackknife off).
    test : {"twosided", "lower", "upper"}, optional
        Direction (default ``"twosided"``, or ``"lower"`` with ``compat="r"``).
    alpha : float
        Two-sided level of the intervals (0.1: 90 %, R's ``confidence = 0.9``).
    compat : {"r"}, optional
        Pin R microsynth's settings (see the module docstring).
    seed : int
        Seed of placebos and jackknife groups.
    options : MicrosynthOptions, optional
        Full control of the engine (its ``n_placebos``, ``test``, ``alpha``, ``seed`` are replaced by
        the arguments above).

    Returns
    -------
    PanelResult
    """
    where = "microsynth_panel"
    if compat is not None:
        check_choice(compat, COMPAT, name="compat", where=where)
    if test is not None:
        check_choice(test, TESTS, name="test", where=where)
    if not outcomes:
        raise ConfigError(f"{where}: give at least one outcome column.")
    _check_columns(
        df, {"id/time/intervention": [id, time, intervention], "outcomes": outcomes, "covariates": covariates}
    )
    opts = _options(
        options, compat=compat, test=test, alpha=alpha, seed=seed, outcomes=outcomes, covariates=covariates
    )
    opts = dataclasses.replace(opts, n_placebos=int(n_placebos), n_jackknife=n_jackknife)
    times = np.sort(df[time].unique())
    last = times[-1] if end_post is None else end_post
    times = times[times <= last]
    n_pre = int((times <= end_pre).sum())
    if n_pre < 1 or n_pre >= len(times):
        raise ConfigError(
            f"{where}: end_pre={end_pre!r} must leave at least one period before and one after "
            f"(periods run {times[0]!r}..{times[-1]!r})."
        )
    counts = _arrays(df, id, time, outcomes, times)
    per_area = df.sort_values(time).groupby(id, sort=True)
    treated = per_area[intervention].apply(lambda s: bool((s.fillna(0) != 0).any())).to_numpy()
    cov = {c: per_area[c].first().to_numpy(dtype=float) for c in covariates}
    starts = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.arange(len(times)), unit="D")
    panel = panel_from_arrays(
        counts,
        np.where(treated, "treatment", "donor"),
        outcomes=tuple(outcomes),
        n_pre=n_pre,
        covariates=cov,
        bins=(pd.DatetimeIndex(starts), pd.DatetimeIndex(starts + pd.Timedelta(days=1))),
    )
    logger.info(
        "microsynth_panel: %d areas (%d treated), %d before and %d after periods",
        len(treated),
        int(treated.sum()),
        n_pre,
        len(times) - n_pre,
    )
    result = estimate_area(panel, "treatment", options=opts, alpha=alpha)
    result = _constraint_names(result, times, pd.DatetimeIndex(starts))
    settings = {
        "compat": compat,
        **{k: getattr(opts, k) for k in SETTINGS},
        "n_jackknife_groups": result.fit["n_jackknife_groups"],
        "confidence": 1 - alpha,
    }
    periods = {"before": [_plain(t) for t in times[:n_pre]], "after": [_plain(t) for t in times[n_pre:]]}
    return PanelResult(result=result, settings=settings, periods=periods)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
