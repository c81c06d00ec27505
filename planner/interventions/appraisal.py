"""One appraisal model: how an effect, its persistence, its combination with other measures and a
published return turn into crimes prevented and money (equations in ``docs/APPRAISAL.md``).

* **Centred effects.** A measure's effect is a relative reduction ``e``; its uncertainty is a
  log-normal on the rate ratio ``RR = 1 − e`` whose median is the cited point
  (``ln RR ~ N(ln(1 − point), σ²)``) and whose σ is fitted to the cited interval, read as a 90%
  interval: ``σ = (ln((1 − low)/(1 − point)) + ln((1 − point)/(1 − high))) / (2 · 1.645)``
  (the least-squares fit of both interval ends with the median held at the point). The median
  effect is the cited point, never the mean of a skewed triangular range.
* **Combine, never add.** Measures acting on the same crimes combine as ``1 − Π(1 − e_i)``
  (:func:`combined_effect`).
* **Persistence.** The effect holds in full for the evaluated follow-up (``full_effect_years``)
  and then halves every ``half_life_years``; benefits are discounted effect-years
  (:func:`effect_years`), costs the usual annuity.
* **Published returns.** A modelled benefit-cost ratio far from a measure's published return, or
  above :data:`BCR_CEILING` for any measure, is flagged (:func:`plausibility`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Standard normal quantile of the 95th percentile: cited intervals are read as 90% intervals.
Z90 = 1.6448536269514722
#: Flag a benefit-cost ratio more than this factor above or below the measure's published return.
PLAUSIBLE_FACTOR = 4.0
#: Flag any benefit-cost ratio above this, published return or not.
BCR_CEILING = 20.0
#: Persistence where the catalogue states none (assumption, EVIDENCE.md §4.10 "Persistence").
DEFAULT_FULL_EFFECT_YEARS = 2.0
DEFAULT_HALF_LIFE_YEARS = 5.0
DEFAULT_PERSISTENCE_SOURCE = (
    "assumption: most published evaluations follow a measure for one to two years, so the full effect "
    f"is assumed for {DEFAULT_FULL_EFFECT_YEARS:g} years and then halves every {DEFAULT_HALF_LIFE_YEARS:g} "
    "years (EVIDENCE.md §4.10: beyond the evidence, decay the effect and say so)"
)


@dataclass(frozen=True)
class PublishedReturn:
    """A published benefit-cost ratio of the measure (money saved per unit spent) and its source."""

    bcr: float
    source: str


@dataclass(frozen=True)
class AppraisalSpec:
    """The appraisal fields of a catalogue entry (``[intervention.appraisal]``, all optional).

    ``lifetime_years`` overrides the cost table's lifetime for the appraisal (both the cost annuity
    and the effect-years); ``components`` are the catalogue ids a bundle's published effect already
    contains (they are not added on top of it); ``full_effect_years``/``half_life_years`` the
    persistence with its ``persistence_source``; ``published_return`` the sanity check.
    """

    lifetime_years: int | None = None
    lifetime_source: str = ""
    components: tuple[str, ...] = ()
    full_effect_years: float = DEFAULT_FULL_EFFECT_YEARS
    half_life_years: float | None = DEFAULT_HALF_LIFE_YEARS
    persistence_source: str = DEFAULT_PERSISTENCE_SOURCE
    published_return: PublishedReturn | None = None


def parse_appraisal(raw: Any, where: str, problems: list[str]) -> AppraisalSpec:
    """The ``[intervention.appraisal]`` table, checked (problems appended, defaults where absent)."""
    if raw is None:
        return AppraisalSpec()
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: 'appraisal' must be a table")
        return AppraisalSpec()
    w = f"{where}: appraisal"
    life = raw.get("lifetime_years")
    if life is not None and (not isinstance(life, int) or isinstance(life, bool) or life < 1):
        problems.append(f"{w}.lifetime_years must be an integer ≥ 1")
        life = None
    components = raw.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        problems.append(f"{w}.components must be a list of catalogue ids")
        components = []
    full = raw.get("full_effect_years", DEFAULT_FULL_EFFECT_YEARS)
    half = raw.get("half_life_years", DEFAULT_HALF_LIFE_YEARS)
    if not isinstance(full, int | float) or full < 0:
        problems.append(f"{w}.full_effect_years must be a number ≥ 0")
        full = DEFAULT_FULL_EFFECT_YEARS
    if half is not None and (not isinstance(half, int | float) or half <= 0):
        problems.append(f"{w}.half_life_years must be a number > 0 (leave it out for no decay)")
        half = DEFAULT_HALF_LIFE_YEARS
    if raw.get("no_decay") is True:
        half = None
    published = None
    if "published_return" in raw:
        bcr, source = raw.get("published_return"), raw.get("published_return_source")
        if not isinstance(bcr, int | float) or bcr <= 0 or not isinstance(source, str) or not source:
            problems.append(f"{w}.published_return must be a number > 0 with a published_return_source")
        else:
            published = PublishedReturn(float(bcr), source)
    has_persistence = "full_effect_years" in raw or "half_life_years" in raw or "no_decay" in raw
    return AppraisalSpec(
        lifetime_years=life,
        lifetime_source=str(raw.get("lifetime_source", "")),
        components=tuple(components),
        full_effect_years=float(full),
        half_life_years=None if half is None else float(half),
        persistence_source=str(raw.get("persistence_source") or "")
        or ("" if has_persistence else DEFAULT_PERSISTENCE_SOURCE),
        published_return=published,
    )


# --------------------------------------------------------------------------- effects


def rate_ratio_sigma(point: float, low: float, high: float) -> float:
    """σ of the log-normal rate ratio fitted to a cited ``point`` and 90% interval ``[low, high]``."""
    centre = math.log1p(-point)
    below = math.log1p(-low) - centre  # a smaller reduction is a larger rate ratio
    above = centre - math.log1p(-high)
    return max(below + above, 0.0) / (2 * Z90)


def effect_draws(point: float, low: float, high: float, z: np.ndarray) -> np.ndarray:
    """Relative reductions from standard-normal draws ``z``: ``1 − exp(ln(1 − point) + σ z)``.

    The median is ``point`` exactly; every draw is below 1 (a rate ratio stays positive).
    """
    return -np.expm1(math.log1p(-point) + rate_ratio_sigma(point, low, high) * np.asarray(z, dtype=float))


def combined_effect(effects: Sequence[float] | np.ndarray, *, axis: int = 0) -> np.ndarray:
    """``1 − Π(1 − e_i)`` along ``axis``: the joint reduction of measures acting on the same crimes."""
    arr = np.asarray(effects, dtype=float)
    if arr.size == 0:
        return np.zeros(arr.shape[1:] if arr.ndim > 1 else ())
    return 1.0 - np.prod(1.0 - arr, axis=axis)


# --------------------------------------------------------------------------- time


def annuity(years: int, rate: float) -> float:
    """Present value of 1 a year at the end of each of ``years`` years."""
    return float(years) if rate == 0 else (1 - (1 + rate) ** -years) / rate


def persistence(t: np.ndarray | float, full_effect_years: float, half_life_years: float | None) -> np.ndarray:
    """Share of the effect left in year ``t`` (1, 2, ...): 1 up to ``full_effect_years``, then halving."""
    t = np.asarray(t, dtype=float)
    if half_life_years is None:
        return np.ones_like(t)
    return np.where(t <= full_effect_years, 1.0, 0.5 ** ((t - full_effect_years) / half_life_years))


def effect_years(
    lifetime_years: int, discount_rate: float, full_effect_years: float, half_life_years: float | None
) -> float:
    """Discounted effect-years: ``Σ_{t=1..L} persistence(t) / (1 + r)^t``."""
    t = np.arange(1, int(lifetime_years) + 1, dtype=float)
    return float((persistence(t, full_effect_years, half_life_years) / (1 + discount_rate) ** t).sum())


# --------------------------------------------------------------------------- sanity check


def plausibility(bcr: float, published: PublishedReturn | None) -> tuple[str, str]:
    """``(flag, text)`` for a modelled benefit-cost ratio; ``("", "")`` when nothing stands out.

    Flags: ``above published return`` / ``below published return`` (more than
    :data:`PLAUSIBLE_FACTOR` times away from the measure's published return), ``above ceiling``
    (above :data:`BCR_CEILING` where no published return applies).
    """
    if not math.isfinite(bcr):
        return "", ""
    if published is not None:
        ratio = bcr / published.bcr
        if ratio > PLAUSIBLE_FACTOR or ratio < 1 / PLAUSIBLE_FACTOR:
            side = "above" if ratio > 1 else "below"
            return f"{side} published return", (
                f"Plausibility: the modelled benefit-cost ratio {bcr:.1f} is {max(ratio, 1 / ratio):.1f}× "
                f"{side} the published return of {published.bcr:g} per 1 spent ({published.source}); check the "
                "reached crimes, the quantity and local costs before relying on it."
            )
        return "", ""
    if bcr > BCR_CEILING:
        return "above ceiling", (
            f"Plausibility: the modelled benefit-cost ratio {bcr:.1f} is above {BCR_CEILING:g}, higher than the "
            "returns published for situational measures (e.g. alley gates 1.86 per 1 spent, Bowers et al. "
            "2004); check the reached crimes, the quantity and local costs before relying on it."
        )
    return "", ""


__all__ = [
    "BCR_CEILING",
    "DEFAULT_FULL_EFFECT_YEARS",
    "DEFAULT_HALF_LIFE_YEARS",
    "PLAUSIBLE_FACTOR",
    "Z90",
    "AppraisalSpec",
    "PublishedReturn",
    "annuity",
    "combined_effect",
    "effect_draws",
    "effect_years",
    "parse_appraisal",
    "persistence",
    "plausibility",
    "rate_ratio_sigma",
]
