"""Small sklearn-style parameter checks with messages that name the function and the fix."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from planner.errors import ConfigError


def check_choice(value: Any, choices: Collection[Any], *, name: str, where: str) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise :class:`ConfigError`.

    >>> check_choice("queen", {"queen", "rook"}, name="neighbourhood", where="hotspots.gistar")
    'queen'
    """
    if value not in choices:
        options = ", ".join(repr(c) for c in sorted(choices, key=str))
        raise ConfigError(f"The {name!r} parameter of {where} must be one of {{{options}}}. Got {value!r}.")
    return value


def check_positive(value: Any, *, name: str, where: str, allow_zero: bool = False) -> float:
    """Return ``float(value)`` if it is a finite number > 0 (or ≥ 0), else raise ConfigError."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"The {name!r} parameter of {where} must be a number. Got {value!r}.") from None
    ok = out >= 0 if allow_zero else out > 0
    if not ok or not math.isfinite(out):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ConfigError(
            f"The {name!r} parameter of {where} must be a finite number {bound}. Got {value!r}."
        )
    return out


def check_fraction(value: Any, *, name: str, where: str) -> float:
    """Return ``float(value)`` if it lies in (0, 1], else raise :class:`ConfigError`."""
    out = check_positive(value, name=name, where=where)
    if out > 1:
        raise ConfigError(f"The {name!r} parameter of {where} must lie in (0, 1]. Got {value!r}.")
    return out
