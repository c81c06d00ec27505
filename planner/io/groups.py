"""Victim groups (sex, age band) from publishers' victim columns, in controlled vocabularies.

The prevention guidelines ask plans to reflect the differing needs of women and men, young people
and vulnerable groups. Several publishers give the victim's sex and age per incident (LAPD
``Vict Sex``/``Vict Age``, NYPD ``VIC_SEX``/``VIC_AGE_GROUP``, many UCR/NIBRS extracts). Such a
column is used only when its header names the **victim** (``vic``, ``vict``, ``victim``) — never a
suspect's or an officer's attributes: the planner describes places and who is harmed there, not
people to watch — and when its values fit (sex codes; ages 0–120 or age bands).

Values are mapped to controlled vocabularies, so published group counts can be k-suppressed and
no free text passes through: sex ∈ :data:`SEX_VALUES`, age band ∈ :data:`AGE_BANDS`; anything
else is ``unknown`` (or ``organisation`` for a business or public body as the victim).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from planner.io.profile import ColumnProfile, as_numbers, sample_rows

GROUP_COLUMNS = {"victim_sex": "victim_sex", "victim_age": "victim_age_band"}
SEX_VALUES = ("female", "male", "other", "organisation", "unknown")
AGE_BANDS = ("0-17", "18-24", "25-44", "45-64", "65+", "unknown")
GROUP_LABELS = {
    "female": "women and girls",
    "male": "men and boys",
    "other": "another sex or gender",
    "organisation": "businesses and organisations",
    "0-17": "under 18",
    "18-24": "aged 18–24",
    "25-44": "aged 25–44",
    "45-64": "aged 45–64",
    "65+": "aged 65 and over",
}
_VICTIM = frozenset({"vic", "vict", "victim", "victims", "victime"})
_SEX = frozenset({"sex", "gender", "sexe", "genre"})
_AGE = frozenset({"age", "ages"})
_SEX_CODES = {
    "f": "female",
    "female": "female",
    "w": "female",
    "woman": "female",
    "women": "female",
    "girl": "female",
    "femme": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "men": "male",
    "boy": "male",
    "homme": "male",
    "x": "other",
    "nonbinary": "other",
    "non binary": "other",
    "other": "other",
    "d": "organisation",  # NYPD: business/organisation
    "e": "organisation",  # NYPD: people of the state of New York
    "business": "organisation",
    "organisation": "organisation",
    "organization": "organisation",
}
_BAND = re.compile(
    r"^\s*(?:(<|under|less than)\s*(\d+)|(\d+)\s*[-–to]+\s*(\d+)|(\d+)\s*(?:\+|plus|and over))\s*$", re.I
)
ROLES = {
    "victim_sex": "the victim's sex (F/M/X or words); only a column named for the victim",
    "victim_age": "the victim's age in years or age band; only a column named for the victim",
}


def victim_sex(values: pd.Series) -> pd.Series:
    """Sex codes and words → :data:`SEX_VALUES` (``unknown`` for the rest)."""
    text = values.astype("string").str.strip().str.lower().str.replace(r"[-_]", " ", regex=True)
    return text.map(_SEX_CODES).fillna("unknown").astype("string")


def _band_of_age(age: float) -> str:
    if not np.isfinite(age) or age <= 0 or age > 120:  # LAPD writes 0 (and negatives) for unknown
        return "unknown"
    for upper, band in ((18, "0-17"), (25, "18-24"), (45, "25-44"), (65, "45-64")):
        if age < upper:
            return band
    return "65+"


def _band_of_text(text: str) -> str:
    match = _BAND.match(text or "")
    if not match:
        return "unknown"
    under, low, high, plus = match.group(2), match.group(3), match.group(4), match.group(5)
    if under is not None:
        return _band_of_age(float(under) - 1)
    if plus is not None:
        return _band_of_age(float(plus))
    lo, hi = float(low), float(high)
    band = _band_of_age(lo)
    return band if band == _band_of_age(hi) else "unknown"  # a band straddling ours is not split


def victim_age_band(values: pd.Series) -> pd.Series:
    """Ages in years, or bands such as ``<18``, ``18-24``, ``65+`` → :data:`AGE_BANDS`."""
    numbers = as_numbers(values)
    out = pd.Series("unknown", index=values.index, dtype="string")
    numeric = numbers.notna()
    out[numeric] = [_band_of_age(float(a)) for a in numbers[numeric]]
    text = values[~numeric].astype("string").fillna("")
    out[~numeric] = [_band_of_text(t) for t in text]
    return out


def _known_share(values: pd.Series) -> float:
    present = values[values != "unknown"]
    return float(len(present)) / max(len(values), 1)


def victim_roles(profiles: list[ColumnProfile], df: pd.DataFrame) -> dict[str, str]:
    """``victim_sex`` / ``victim_age`` columns: named for the victim, values that fit the role."""
    sample = sample_rows(df)
    roles: dict[str, str] = {}
    for p in sorted(profiles, key=lambda q: q.position):
        words = set(p.tokens)
        if not words & _VICTIM or p.present < 0.2:
            continue
        if words & _SEX and "victim_sex" not in roles:
            known = victim_sex(sample[p.name].dropna())
            if _known_share(known) >= 0.5:
                roles["victim_sex"] = p.name
        elif words & _AGE and "victim_age" not in roles:
            bands = victim_age_band(sample[p.name].dropna())
            if _known_share(bands) >= 0.3:
                roles["victim_age"] = p.name
    return roles


def group_columns(df: pd.DataFrame, roles: dict[str, str]) -> dict[str, Any]:
    """Canonical ``victim_sex`` / ``victim_age_band`` columns of the roles found."""
    out: dict[str, Any] = {}
    if "victim_sex" in roles:
        out["victim_sex"] = victim_sex(df[roles["victim_sex"]])
    if "victim_age" in roles:
        out["victim_age_band"] = victim_age_band(df[roles["victim_age"]])
    return out


def group_label(value: str) -> str:
    """Plain words for a group value (``female`` → ``women and girls``)."""
    return GROUP_LABELS.get(value, value.replace("_", " "))
