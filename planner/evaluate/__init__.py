"""Evaluation of hotspot methods and of implemented schemes.

Submodules (import them directly; this package imports none of them):

- :mod:`planner.evaluate.accuracy` — hit rate, PAI, PEI, open_cp's ``top_slice`` and backtests of
  hotspot methods trained on one period and scored on the next.
- :mod:`planner.evaluate.displacement` — WDD, WDQ, TNE, Poisson E-test, power.
- :mod:`planner.evaluate.design`, :mod:`planner.evaluate.power` — evaluation designs (treatment,
  buffer and control areas) and statistical power.
"""
