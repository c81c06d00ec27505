"""Victim attributes of the sample city's incidents (sex, age), with a known pattern.

Drawn from their own random stream (``numpy.random.default_rng([seed, VICTIM_STREAM])``) after
the incidents are simulated, so the incidents' places, times and categories are exactly those of
the city without victim columns. Written as ``vict_sex`` (F, M, X, D for a business or
organisation, empty when not recorded) and ``vict_age`` (years; 0 when not recorded), as several
US publishers write them; ingest maps them to ``victim_sex`` and ``victim_age_band``.

The known pattern (``truth.json["victims"]``): women and girls are a larger share of robbery
victims at night in the dark zones than elsewhere, young adults (18–24) are a larger share of
assault victims at night near licensed premises, and older people (65+) a larger share of
burglary victims.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner._hours import NIGHT_HOURS

VICTIM_STREAM = 23
NOT_RECORDED = 0.08  # share of incidents without the victim's sex or age
AGE_BANDS = ((0, 17), (18, 24), (25, 44), (45, 64), (65, 90))
SEX = {  # category → P(female), P(organisation)
    "robbery": (0.30, 0.0),
    "assault": (0.30, 0.0),
    "burglary": (0.50, 0.0),
    "theft_from_vehicle": (0.40, 0.10),
    "criminal_damage": (0.40, 0.25),
}
FEMALE_ROBBERY_NIGHT_DARK = 0.55
AGE = {  # category → probabilities of the five bands
    "robbery": (0.10, 0.30, 0.35, 0.18, 0.07),
    "assault": (0.08, 0.25, 0.40, 0.20, 0.07),
    "burglary": (0.0, 0.08, 0.37, 0.30, 0.25),
    "theft_from_vehicle": (0.0, 0.12, 0.45, 0.30, 0.13),
    "criminal_damage": (0.02, 0.12, 0.42, 0.29, 0.15),
}
YOUNG_ASSAULT_NIGHT_NEAR_BARS = (0.05, 0.50, 0.35, 0.08, 0.02)
NEAR_BAR_M = 150.0


def _conditions(
    incidents: pd.DataFrame, layers: dict[str, Any], dark_radius_m: np.ndarray
) -> dict[str, np.ndarray]:
    xy = incidents[["x", "y"]].to_numpy(float)
    night = pd.to_datetime(incidents["occurred_at"]).dt.hour.isin(NIGHT_HOURS).to_numpy()
    centres = np.asarray(layers["_dark_centres"], float)
    d = np.hypot(xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1])
    dark = (d < dark_radius_m[None, :]).any(axis=1)
    bars = layers["licensed_premises"]
    bar_xy = np.c_[bars.geometry.x.to_numpy(), bars.geometry.y.to_numpy()]
    near_bar = cKDTree(bar_xy).query(xy, k=1)[0] <= NEAR_BAR_M if len(bar_xy) else np.zeros(len(xy), bool)
    return {"night_dark": night & dark, "night_near_bar": night & near_bar}


def victim_columns(
    incidents: pd.DataFrame, layers: dict[str, Any], dark_radius_m: np.ndarray, *, seed: int
) -> pd.DataFrame:
    """``vict_sex`` and ``vict_age`` for every incident (the pattern in the module docstring)."""
    rng = np.random.default_rng([seed, VICTIM_STREAM])
    cond = _conditions(incidents, layers, dark_radius_m)
    cat = incidents["category"].to_numpy()
    n = len(incidents)
    p_female = np.array([SEX.get(c, (0.4, 0.0))[0] for c in cat])
    p_female[(cat == "robbery") & cond["night_dark"]] = FEMALE_ROBBERY_NIGHT_DARK
    p_org = np.array([SEX.get(c, (0.4, 0.0))[1] for c in cat])
    u = rng.random(n)
    sex = np.where(u < p_org, "D", np.where(u < p_org + (1 - p_org) * p_female, "F", "M")).astype(object)
    sex[rng.random(n) < 0.01] = "X"
    sex[rng.random(n) < NOT_RECORDED] = ""
    probs = np.array([AGE.get(c, AGE["assault"]) for c in cat])
    probs[(cat == "assault") & cond["night_near_bar"]] = YOUNG_ASSAULT_NIGHT_NEAR_BARS
    band = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, len(AGE_BANDS) - 1)
    lo = np.array([AGE_BANDS[b][0] for b in band])
    hi = np.array([AGE_BANDS[b][1] for b in band])
    age = (lo + np.floor(rng.random(n) * (hi - lo + 1))).astype(int)
    age[(sex == "D") | (rng.random(n) < NOT_RECORDED)] = 0  # organisations have no age
    return pd.DataFrame({"vict_sex": sex, "vict_age": age}, index=incidents.index)


def truth() -> dict[str, Any]:
    """The victim model, for ``truth.json``."""
    return {
        "columns": {
            "vict_sex": "F, M, X, D (business/organisation), empty = not recorded",
            "vict_age": "years, 0 = not recorded",
        },
        "not_recorded_share": NOT_RECORDED,
        "p_female_organisation": {k: list(v) for k, v in SEX.items()},
        "p_female_robbery_night_in_dark_zones": FEMALE_ROBBERY_NIGHT_DARK,
        "age_bands": [list(b) for b in AGE_BANDS],
        "age_band_probabilities": {k: list(v) for k, v in AGE.items()},
        "age_band_probabilities_assault_night_near_licensed_premises": list(YOUNG_ASSAULT_NIGHT_NEAR_BARS),
        "near_licensed_premises_m": NEAR_BAR_M,
        "stream": VICTIM_STREAM,
    }
