"""Errors and warnings a user can cause, each with a message that says what to do.

Hierarchy::

    PlannerError
    ├── CRSError(PlannerError, ValueError)
    ├── ValidationError(PlannerError, ValueError)
    ├── LayerDefinitionError(PlannerError, ValueError)
    ├── ConfigError(PlannerError, ValueError)
    ├── InsufficientDataError(PlannerError, ValueError)
    └── DataLoadError(PlannerError, OSError)

    PlannerWarning(UserWarning)
    ├── GeographicCRSWarning
    ├── DroppedGeometryWarning
    └── DataFitnessWarning

The CLI and the dashboard catch :class:`PlannerError` and show its message; anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable


class PlannerError(Exception):
    """Root of every error a user can cause (bad file, bad option, too little data)."""

    def __init__(self, message: str, *, problems: Iterable[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message.rstrip() + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class CRSError(PlannerError, ValueError):
    """A missing, geographic (for a distance step) or mismatched coordinate reference system."""


class ValidationError(PlannerError, ValueError):
    """Input data failed validation; ``problems`` lists every problem found, not only the first."""


class LayerDefinitionError(PlannerError, ValueError):
    """A layer spec (``layers/*.toml``, or a user's own) is malformed, or its folder is missing."""


class ConfigError(PlannerError, ValueError):
    """A parameter or configuration value is invalid."""


class InsufficientDataError(PlannerError, ValueError):
    """Too few incidents (or time periods) for the requested analysis."""


class DataLoadError(PlannerError, OSError):
    """A file or database could not be read."""


class PlannerWarning(UserWarning):
    """Root of the planner's warnings."""


class GeographicCRSWarning(PlannerWarning):
    """Data arrived in a geographic CRS and was transformed to the analysis CRS."""


class DroppedGeometryWarning(PlannerWarning):
    """Geometries were repaired or set aside; the count is in the message."""


class DataFitnessWarning(PlannerWarning):
    """The data cannot fully support an analysis (e.g. monthly timestamps for near-repeat)."""


__all__ = [
    "CRSError",
    "ConfigError",
    "DataFitnessWarning",
    "DataLoadError",
    "DroppedGeometryWarning",
    "GeographicCRSWarning",
    "InsufficientDataError",
    "LayerDefinitionError",
    "PlannerError",
    "PlannerWarning",
    "ValidationError",
]
