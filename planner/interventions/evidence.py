"""Evidence attached to a catalogue measure: its EMMIE grade and the share of crimes its effect covers.

**EMMIE grade.** The What Works Centre for Crime Reduction's toolkit describes the evidence on a
measure along five dimensions (Johnson, Tilley & Bowers 2015): the Effect, the Mechanism by which
it works, the Moderators (where and for whom it works best), Implementation and Economics (costs).
The catalogue grades the *quality of the evidence* on each dimension on one scale,
:data:`EMMIE_SCALE`: 0 none, 1 limited, 2 moderate, 3 strong, 4 very strong. The grade says how much
is known, not how large the effect is (a well-evidenced measure may have a small or no effect). The
grades are the project's reading of the measure's sources, stated with a basis, unless the entry
says they were taken from the toolkit.

**Applies share.** Some published effects hold for part of the crimes a measure reaches: the
security protection factors of Tseloni et al. (2017) were measured on burglaries *with entry*, so a
locks programme's effect applies to the with-entry share of residential burglary, not to attempts.
:class:`AppliesShare` carries that share (point and interval, with its source); the recommender
multiplies the effect by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The five EMMIE dimensions, in order, with the short code used in the compact grade.
EMMIE_DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("effect", "E"),
    ("mechanism", "M"),
    ("moderators", "Mo"),
    ("implementation", "I"),
    ("economics", "Ec"),
)
#: Quality of evidence on one dimension (the catalogue's grading scale).
EMMIE_SCALE: dict[int, str] = {0: "none", 1: "limited", 2: "moderate", 3: "strong", 4: "very strong"}
EMMIE_SOURCE = (
    "Johnson, S. D., Tilley, N. & Bowers, K. J. (2015). Introducing EMMIE: an evidence rating scale to "
    "encourage mixed-method crime prevention synthesis reviews. Journal of Experimental Criminology "
    "11(3):459-473. doi:10.1007/s11292-015-9238-7"
)


@dataclass(frozen=True)
class EmmieGrade:
    """Quality of the evidence on a measure, 0-4 on each EMMIE dimension (:data:`EMMIE_SCALE`)."""

    effect: int
    mechanism: int
    moderators: int
    implementation: int
    economics: int
    basis: str
    source: str

    def code(self) -> str:
        """Compact form, e.g. ``E3 M2 Mo2 I1 Ec1``."""
        return " ".join(f"{short}{getattr(self, name)}" for name, short in EMMIE_DIMENSIONS)

    def text(self) -> str:
        """Readable form, e.g. ``effect strong (3/4); mechanism moderate (2/4); …``."""
        return "; ".join(
            f"{name} {EMMIE_SCALE[getattr(self, name)]} ({getattr(self, name)}/4)"
            for name, _ in EMMIE_DIMENSIONS
        )


@dataclass(frozen=True)
class AppliesShare:
    """The share of the reached crimes that a published effect was measured on (e.g. burglary with
    entry among all residential burglary): ``point`` within ``[low, high]``, all in (0, 1].
    """

    point: float
    low: float
    high: float
    of: str
    verified: bool
    basis: str

    def scale(self, effect: tuple[float, float, float]) -> tuple[float, float, float]:
        """(point, low, high) of an effect on all the reached crimes: the effect times the share."""
        point, low, high = effect
        return point * self.point, low * self.low, high * self.high

    def text(self) -> str:
        """``burglary with entry, 58% (50%-70%) of the reached crimes``."""
        return f"{self.of}, {self.point:.0%} ({self.low:.0%}–{self.high:.0%}) of the reached crimes"


def parse_emmie(raw: Any, where: str, problems: list[str]) -> EmmieGrade | None:
    """The ``[emmie]`` table of a catalogue entry, checked; a missing table is a problem."""
    w = f"{where} emmie"
    if not isinstance(raw, Mapping):
        problems.append(
            f"{where}: missing [emmie] table: grade the evidence on effect, mechanism, moderators, "
            f"implementation and economics, 0-4 each ({_scale_text()}), with a basis and source"
        )
        return None
    n_before = len(problems)
    grades: dict[str, int] = {}
    for name, _ in EMMIE_DIMENSIONS:
        value = raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value not in EMMIE_SCALE:
            problems.append(f"{w}: {name!r} must be an integer grade 0-4 ({_scale_text()}), got {value!r}")
        else:
            grades[name] = value
    for key in ("basis", "source"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{w}: {key!r} (why these grades / where they come from) is required")
    if len(problems) > n_before:
        return None
    return EmmieGrade(**grades, basis=str(raw["basis"]), source=str(raw["source"]))


def parse_applies_share(raw: Any, where: str, problems: list[str]) -> AppliesShare | None:
    """The optional ``[applies_share]`` table: point, low, high in (0, 1], ``of``, verified, basis."""
    if raw is None:
        return None
    w = f"{where} applies_share"
    if not isinstance(raw, Mapping):
        problems.append(f"{w}: must be a table with point, low, high, of, verified, basis")
        return None
    values = [raw.get(k) for k in ("point", "low", "high")]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        problems.append(f"{w}: point, low and high must be numbers, got {values}")
        return None
    point, low, high = (float(v) for v in values)  # type: ignore[arg-type]
    n_before = len(problems)
    if not 0 < low <= point <= high <= 1:
        problems.append(f"{w}: need 0 < low ≤ point ≤ high ≤ 1 (a share), got {low}, {point}, {high}")
    if not isinstance(raw.get("verified"), bool):
        problems.append(f"{w}: 'verified' must be true or false")
    for key in ("of", "basis"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{w}: {key!r} is required (which crimes the effect covers, and its source)")
    if len(problems) > n_before:
        return None
    return AppliesShare(point, low, high, str(raw["of"]), bool(raw["verified"]), str(raw["basis"]))


def _scale_text() -> str:
    return ", ".join(f"{k} {v}" for k, v in EMMIE_SCALE.items())


__all__ = [
    "EMMIE_DIMENSIONS",
    "EMMIE_SCALE",
    "EMMIE_SOURCE",
    "AppliesShare",
    "EmmieGrade",
    "parse_applies_share",
    "parse_emmie",
]
