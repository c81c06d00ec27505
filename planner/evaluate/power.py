"""Power before the measure starts: the smallest effect the chosen areas and periods could detect.

The comparison is the local weighted displacement difference (Wheeler & Ratcliffe 2018) of the
treated area against its control, with counts scaled to the length of the after period:
``WDD = (T1 − r·T0) − (C1 − r·C0)``, ``r = after_days / before_days``. Under a relative reduction
``δ`` in the treated area the expected counts are ``E[T1] = r·T0·(1 − δ)`` and ``E[C1] = r·C0``
(pre-period counts stand in for the rates), so ``E[WDD] = −δ·r·T0`` and, with Poisson variance
times an optional ``dispersion`` factor,

``Var(δ) = φ·[r·T0·(1 − δ) + r²·T0 + r·C0 + r²·C0]``.

The minimum detectable effect (MDE) solves the usual two-sided normal power equation
``δ·r·T0 = z(1 − α/2)·√Var(0) + z(power)·√Var(δ)``. Without a control the control terms drop out
(a plain before/after comparison of Poisson rates).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import optimize, stats

from planner._params import check_fraction, check_positive
from planner.errors import ConfigError

logger = logging.getLogger(__name__)

__all__ = ["PowerResult", "minimum_detectable_effect", "wdd_power"]


@dataclass(frozen=True)
class PowerResult:
    """The smallest relative reduction in the treated area the design could detect.

    ``mde`` is a share in (0, 1] (0.25 = a 25 % reduction), or ``None`` when not even a 100 %
    reduction would be detected with the requested power.
    """

    mde: float | None
    crimes_prevented_at_mde: float | None
    expected_after_without_effect: float
    treated_before: float
    control_before: float | None
    before_days: float
    after_days: float
    alpha: float
    power: float
    dispersion: float
    interpretation: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return asdict(self)


def _variance(delta: float, t0: float, c0: float | None, r: float, phi: float) -> float:
    var = r * t0 * (1 - delta) + r * r * t0
    if c0 is not None:
        var += r * c0 + r * r * c0
    return phi * var


def _check_inputs(  # noqa: PLR0917 - private helper shared by the two public functions
    treated_before: float,
    control_before: float | None,
    before_days: float,
    after_days: float,
    alpha: float,
    dispersion: float,
    where: str,
) -> tuple[float, float | None, float, float, float]:
    t0 = check_positive(treated_before, name="treated_before", where=where, allow_zero=True)
    c0 = (
        None
        if control_before is None
        else check_positive(control_before, name="control_before", where=where, allow_zero=True)
    )
    b = check_positive(before_days, name="before_days", where=where)
    a = check_positive(after_days, name="after_days", where=where)
    alpha = check_fraction(alpha, name="alpha", where=where)
    if alpha >= 1:
        raise ConfigError(f"The 'alpha' parameter of {where} must lie in (0, 1). Got {alpha!r}.")
    phi = check_positive(dispersion, name="dispersion", where=where)
    if phi < 1:
        raise ConfigError(
            f"The 'dispersion' parameter of {where} is the variance-to-mean ratio of the counts "
            f"and must be ≥ 1 (1 = Poisson). Got {dispersion!r}."
        )
    return t0, c0, a / b, alpha, phi


def wdd_power(
    effect: float,
    treated_before: float,
    control_before: float | None = None,
    *,
    before_days: float,
    after_days: float,
    alpha: float = 0.05,
    dispersion: float = 1.0,
) -> float:
    """Probability that the two-sided WDD test detects a relative reduction ``effect``.

    Parameters
    ----------
    effect : float
        Relative reduction in the treated area, in [0, 1] (0.2 = 20 % fewer crimes).
    treated_before, control_before : float
        Crime counts in the before period (``control_before=None``: no control area).
    before_days, after_days : float
        Lengths of the before and after periods, in days.
    alpha : float
        Two-sided significance level.
    dispersion : float
        Variance-to-mean ratio of the counts (1 = Poisson).

    Returns
    -------
    float
        The power, in [0, 1].
    """
    where = "evaluate.wdd_power"
    t0, c0, r, alpha, phi = _check_inputs(
        treated_before, control_before, before_days, after_days, alpha, dispersion, where
    )
    if not 0 <= effect <= 1:
        raise ConfigError(f"The 'effect' parameter of {where} must lie in [0, 1]. Got {effect!r}.")
    if t0 == 0:
        return alpha
    z = float(stats.norm.ppf(1 - alpha / 2))
    sd0 = math.sqrt(_variance(0.0, t0, c0, r, phi))
    sd1 = math.sqrt(_variance(effect, t0, c0, r, phi))
    shift = effect * r * t0
    # Both tails: rejection for a reduction (usual) plus the negligible wrong-sign tail.
    return float(stats.norm.cdf((shift - z * sd0) / sd1) + stats.norm.sf((shift + z * sd0) / sd1))


def minimum_detectable_effect(
    treated_before: float,
    control_before: float | None = None,
    *,
    before_days: float,
    after_days: float,
    alpha: float = 0.05,
    power: float = 0.8,
    dispersion: float = 1.0,
) -> PowerResult:
    """The smallest relative reduction the WDD comparison could detect (run before the measure).

    Parameters
    ----------
    treated_before : float
        Crimes in the treated area during the before period.
    control_before : float, optional
        Crimes in the control area during the before period; ``None`` for no control.
    before_days, after_days : float
        Lengths of the before and after periods, in days; the after period may be planned.
    alpha : float
        Two-sided significance level (default 0.05).
    power : float
        Required probability of detection (default 0.8).
    dispersion : float
        Variance-to-mean ratio of the counts (1 = Poisson; crime counts are often 1.5–3).

    Returns
    -------
    PowerResult

    Examples
    --------
    >>> r = minimum_detectable_effect(200, 200, before_days=365, after_days=365)
    >>> round(r.mde, 3)
    0.39
    """
    where = "evaluate.minimum_detectable_effect"
    t0, c0, r, alpha, phi = _check_inputs(
        treated_before, control_before, before_days, after_days, alpha, dispersion, where
    )
    power = check_fraction(power, name="power", where=where)
    z_a = float(stats.norm.ppf(1 - alpha / 2))
    z_b = float(stats.norm.ppf(power))
    expected = r * t0

    def gap(delta: float) -> float:
        sd0 = math.sqrt(_variance(0.0, t0, c0, r, phi))
        sd1 = math.sqrt(_variance(delta, t0, c0, r, phi))
        return delta * r * t0 - z_a * sd0 - z_b * sd1

    detectable = t0 > 0 and gap(1.0) >= 0
    mde = float(optimize.brentq(gap, 0.0, 1.0, xtol=1e-12)) if detectable else None
    level = round(100 * (1 - alpha))
    who = "compared with the control" if c0 is not None else "before and after (no control)"
    if mde is None:
        text = (
            f"With {t0:g} crimes in the treated area before, {before_days:g} days before and "
            f"{after_days:g} days after, not even a 100% reduction would be detected {who} with "
            f"{power:.0%} power at the {level}% level. Use longer periods, more crime types or a "
            "larger area, or plan a descriptive evaluation only."
        )
    else:
        text = (
            f"The design can detect a reduction of {mde:.0%} or more in the treated area ({who}; "
            f"about {mde * expected:,.1f} of {expected:,.1f} expected crimes in the after period) "
            f"with {power:.0%} power at the two-sided {level}% level. Smaller effects may go "
            "unnoticed."
        )
    logger.info("minimum detectable effect: %s", mde)
    return PowerResult(
        mde=mde,
        crimes_prevented_at_mde=None if mde is None else mde * expected,
        expected_after_without_effect=expected,
        treated_before=t0,
        control_before=c0,
        before_days=float(before_days),
        after_days=float(after_days),
        alpha=alpha,
        power=power,
        dispersion=phi,
        interpretation=text,
    )
