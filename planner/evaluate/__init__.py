"""Evaluation of hotspot methods and of implemented schemes.

Submodules (import them directly; this package imports none of them):

- :mod:`planner.evaluate.accuracy` — hit rate, PAI, PEI, open_cp's ``top_slice`` and backtests of
  hotspot methods trained on one period and scored on the next.
- :mod:`planner.evaluate.displacement` — WDD, WDQ, TNE, Poisson E-test, power.
- :mod:`planner.evaluate.design`, :mod:`planner.evaluate.power` — evaluation designs (treatment,
  buffer and control areas) and statistical power.

The displacement statistics are also importable from here (loaded on first use): ``from
planner.evaluate import wdd, wdq``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "wdd": "planner.evaluate.displacement",
    "wdq": "planner.evaluate.displacement",
    "e_test": "planner.evaluate.displacement",
}
__all__ = ["e_test", "wdd", "wdq"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'planner.evaluate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
