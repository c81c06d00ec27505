"""Privacy levels of an export.

``public`` (the default) is the disclosure-controlled view of :mod:`planner.export.disclosure`: no
incident points, no count below ``k`` and nothing from which one can be worked back (totals, Gi*
z-scores, kernel densities of points, free text, vertices drawn around incidents). ``internal``
publishes everything, incidents included, and says so in every file; the database password is
never written at either level.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from planner._params import check_choice
from planner.errors import ConfigError
from planner.plan import Plan

Privacy = Literal["public", "internal"]
PRIVACY_LEVELS = ("public", "internal")

INTERNAL_NOTE = (
    "INTERNAL - contains incident-level data (incident points and unsuppressed counts). "
    "Not for publication; share only with people entitled to see police-recorded incident data."
)


def public_note(k: int, round_to: int) -> str:
    """One-line statement of the public rules, carried in every public file."""
    rounding = f"; counts rounded to multiples of {round_to}" if round_to > 1 else ""
    return (
        f"PUBLIC - no incident points; counts below {k} suppressed and not derivable from any other "
        f"figure{rounding}; Gi* as confidence bins only; geometry from the grid or the given boundary."
    )


@dataclass
class PrivacyReport:
    """What a privacy level did to a plan; stored in the export manifest."""

    level: str
    k: int
    round_to: int
    note: str
    rules: list[str] = field(default_factory=list)
    hotspots_suppressed: list[str] = field(default_factory=list)
    cells_suppressed: int = 0
    measures_suppressed: int = 0
    profile_entries_suppressed: int = 0
    profiles_withheld: int = 0
    bins_withheld: int = 0
    hotspot_cells_withdrawn: int = 0
    totals_withheld: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dataclasses.asdict(self)


def check_privacy(privacy: str, k: int, round_to: int) -> None:
    """Validate the privacy options (ConfigError with the fix)."""
    check_choice(privacy, set(PRIVACY_LEVELS), name="privacy", where="export")
    if not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a whole number of incidents ≥ 1 (got {k!r}); the default is 5.")
    if not isinstance(round_to, int | np.integer) or round_to < 1:
        raise ConfigError(f"round_to must be a whole number ≥ 1 (got {round_to!r}); 1 means no rounding.")


def apply_privacy(
    plan: Plan, *, privacy: str = "public", k: int = 5, round_to: int = 1
) -> tuple[Plan, PrivacyReport]:
    """The plan as it may be published at ``privacy``, and a report of what was changed.

    ``plan`` is not modified. ``public`` is :func:`planner.export.disclosure.public_view`.
    """
    check_privacy(privacy, k, round_to)
    if privacy == "internal":
        from planner.export.public_context import redacted_plan

        report = PrivacyReport(
            level="internal",
            k=k,
            round_to=1,
            note=INTERNAL_NOTE,
            rules=[
                "Incident points and all counts are included unchanged; database passwords are never written."
            ],
        )
        return redacted_plan(plan), report
    from planner.export.disclosure import public_view

    return public_view(plan, k=int(k), round_to=int(round_to))
