"""Place types: publishers' location types mapped onto the mechanism keys of reach and applicability.

The vocabulary is data: ``location_types.toml`` shipped in this package (documented at its top).
:func:`place_vocabulary` reads it once; :meth:`PlaceVocabulary.match` maps one value,
:meth:`PlaceVocabulary.map_values` a column (each distinct value matched once) and
:meth:`PlaceVocabulary.coverage` says how much of a column it recognises (used to detect the
``location_type`` role from values, :mod:`planner.io.detect`).

Keys: ``dwelling``, ``street``, ``alley``, ``car_park``, ``licensed_premises``, ``commercial``,
``transit``, ``school``, ``park`` and ``other`` (a value no pattern matches is ``other`` too).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import ValidationError
from planner.io.categories import offence_text

OTHER = "other"
KEYS = (
    "dwelling",
    "street",
    "alley",
    "car_park",
    "licensed_premises",
    "commercial",
    "transit",
    "school",
    "park",
    OTHER,
)


def default_vocabulary_path() -> Path:
    """The place-type vocabulary shipped with the package."""
    return Path(str(resources.files("planner.io").joinpath("location_types.toml")))


@dataclass(frozen=True)
class PlaceVocabulary:
    """Patterns (runs of whole words) → keys, longest first; a strict pattern counts only in a value
    made of vocabulary words; after a ``whole_value_after`` prefix only a whole pattern counts.
    """

    patterns: tuple[tuple[str, str, bool], ...]  # (" word word ", key, strict), longest first
    whole_value_after: tuple[str, ...]
    whole: dict[str, str]  # "word word" → key, for the text after a whole_value_after prefix
    words: frozenset[str]  # every word of every pattern, and the filler words

    def match(self, value: Any) -> str | None:
        """The key of one value, or None when no pattern matches (missing values too)."""
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            return None
        text = offence_text(value)
        if not text:
            return None
        for prefix in self.whole_value_after:
            if text == prefix or text.startswith(prefix + " "):
                return self.whole.get(text[len(prefix) :].strip())
        padded = f" {text} "
        known = set(text.split()) <= self.words  # only vocabulary words: no street name around them
        return next(
            (key for pattern, key, strict in self.patterns if pattern in padded and (known or not strict)),
            None,
        )

    def map_values(self, series: pd.Series) -> tuple[pd.Series, dict[str, int]]:
        """(key of each value, counts of the values no pattern matched). Unmatched values become
        ``other``; missing and blank values stay missing (the place is unknown, not "other").
        """
        text = series.astype("string").str.strip()
        text = text.mask(text == "")
        distinct = text.dropna().unique()
        matched = {v: self.match(v) for v in distinct}  # each distinct value once, not every row
        keys = text.map({v: m if m is not None else OTHER for v, m in matched.items()})
        counts = text.value_counts()
        unmapped = {str(v): int(counts[v]) for v, m in matched.items() if m is None}
        return keys.astype("string"), dict(sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0])))

    def coverage(self, series: pd.Series) -> tuple[float, int]:
        """Share of the non-empty values mapped to a key other than ``other``, and how many keys."""
        text = series.astype("string").str.strip()
        counts = text[text.notna() & (text != "")].value_counts()
        if not len(counts):
            return 0.0, 0
        hits, found = 0, set()
        for value, n in counts.items():
            key = self.match(value)
            if key not in (None, OTHER):
                hits += int(n)
                found.add(key)
        return hits / int(counts.sum()), len(found)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read the place-type vocabulary ({exc}).") from exc


def load_place_vocabulary(path: str | Path | None = None) -> PlaceVocabulary:
    """The place-type vocabulary in ``path`` (default: the shipped one).

    Raises
    ------
    ValidationError
        When the file is not valid TOML, an entry names an unknown key or has no patterns.
    """
    path = Path(path) if path is not None else default_vocabulary_path()
    data = _read(path)
    problems: list[str] = []
    found: dict[str, str] = {}
    strict: set[str] = set()
    for i, entry in enumerate(data.get("place") or []):
        key, patterns = entry.get("key"), entry.get("patterns")
        if key not in KEYS:
            problems.append(f"{path}: place {i + 1}: key {key!r} is not one of {list(KEYS)}")
            continue
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p.strip() for p in patterns):
            problems.append(f"{path}: place {i + 1} ({key}): 'patterns' must be a list of texts")
            continue
        for pattern in [key.replace("_", " "), *patterns]:
            text = offence_text(pattern)
            if text not in found:  # the first entry naming a pattern wins
                found[text] = key
                if entry.get("strict", False):
                    strict.add(text)
    if problems:
        raise ValidationError("The place-type vocabulary is invalid.", problems=problems)
    ordered = sorted(found.items(), key=lambda kv: (-len(kv[0].split()), -len(kv[0])))
    prefixes = tuple(offence_text(p) for p in data.get("whole_value_after") or [])
    words = {w for p in found for w in p.split()} | {offence_text(w) for w in data.get("filler_words") or []}
    return PlaceVocabulary(
        tuple((f" {p} ", k, p in strict) for p, k in ordered), prefixes, dict(found), frozenset(words)
    )


@functools.lru_cache(maxsize=1)
def place_vocabulary() -> PlaceVocabulary:
    """The shipped vocabulary, read once."""
    return load_place_vocabulary()


def location_keys(values: pd.Series) -> pd.Series:
    """Mechanism keys of a column of place types (keys map onto themselves; missing stays missing)."""
    return place_vocabulary().map_values(values)[0]


__all__ = [
    "KEYS",
    "OTHER",
    "PlaceVocabulary",
    "default_vocabulary_path",
    "load_place_vocabulary",
    "location_keys",
    "place_vocabulary",
]
