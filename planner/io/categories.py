"""Crime categories: publishers' offence names mapped onto the planner's categories.

The mapping is data: ``category_map.toml`` shipped in this package (documented at its top), which a
user extends or overrides with files in the same format (``--category-map FILE`` on the CLI,
``category_map=`` in Python; the user's entries are tried first). :func:`load_category_map` reads and
validates it; :meth:`CategoryMap.map_values` maps a column of offence names (each distinct name is
matched once). Names no pattern matches keep their own name in lower snake case.

Which categories get measures is not decided here: that is the intervention catalogue's list of
crime types, read at run time by :mod:`planner.category_report`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import ValidationError
from planner.io.profile import strip_accents

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
UNKNOWN = "unknown"


def default_category_map_path() -> Path:
    """The category map shipped with the package."""
    return Path(str(resources.files("planner.io").joinpath("category_map.toml")))


def offence_text(value: str) -> str:
    """The text patterns are matched against: lower case, no accents, words separated by one space."""
    return re.sub(r"[^a-z0-9]+", " ", strip_accents(str(value)).lower()).strip()


def normalise_category(series: pd.Series) -> pd.Series:
    """Lower snake case (``'THEFT FROM VEHICLE'`` → ``'theft_from_vehicle'``); missing → ``'unknown'``."""
    s = (
        series.astype("string")
        .str.strip()
        .str.lower()
        .str.replace(r"[^a-z0-9]+", "_", regex=True)
        .str.strip("_")
    )
    return s.fillna(UNKNOWN).replace("", UNKNOWN)


@dataclass(frozen=True)
class CategoryRule:
    """One ``[[category]]`` entry: the canonical name, its patterns and where it came from."""

    name: str
    patterns: tuple[str, ...]
    note: str
    origin: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class CategoryMap:
    """Ordered rules; the first whose pattern is found in an offence name gives its category."""

    rules: tuple[CategoryRule, ...]

    def match(self, value: Any) -> str | None:
        """The category of one offence name, or None when no rule matches."""
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        text = offence_text(value)
        return next((r.name for r in self.rules if r.regex.search(text)), None)

    def map_values(self, series: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(category of each value, whether a rule recognised it); unrecognised names keep their own
        snake-case name and missing values are ``'unknown'``.
        """
        text = series.astype("string").str.strip()
        distinct = pd.Series(text.dropna().unique(), dtype="string")
        matched = [self.match(v) for v in distinct]  # each distinct name once, not every row
        own = normalise_category(distinct)
        category = {v: m if m is not None else o for v, m, o in zip(distinct, matched, own, strict=True)}
        known = {v: m is not None for v, m in zip(distinct, matched, strict=True)}
        out = text.map(category).astype("object").fillna(UNKNOWN)
        recognised = text.map(known).astype("object").fillna(False)
        return out.astype(str), recognised.astype(bool)

    def coverage(self, series: pd.Series) -> tuple[float, int]:
        """Share of all values (blanks count as misses) a rule recognises, other than the catch-all
        ``other``, and how many different categories they map to.
        """
        if len(series) == 0:
            return 0.0, 0
        counts = series.astype("string").str.strip().value_counts()
        hits, found = 0, set()
        for value, n in counts.items():
            category = self.match(value) if value else None
            if category not in (None, "other"):
                hits += int(n)
                found.add(category)
        return hits / len(series), len(found)

    def mapped_share(self, series: pd.Series) -> float:
        """Share of all values a rule recognises (see :meth:`coverage`)."""
        return self.coverage(series)[0]

    def notes(self) -> dict[str, str]:
        """Category → the note that says why it has no measure (first rule with a note)."""
        out: dict[str, str] = {}
        for rule in self.rules:
            if rule.note and rule.name not in out:
                out[rule.name] = rule.note
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per rule: ``category``, ``patterns``, ``note``, ``origin`` (for ``planner categories``)."""
        return pd.DataFrame(
            [
                {"category": r.name, "patterns": " | ".join(r.patterns), "note": r.note, "origin": r.origin}
                for r in self.rules
            ]
        )


def _rules_from_file(path: Path, problems: list[str]) -> list[CategoryRule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: file not found; give the path of a category-map TOML file")
        return []
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not valid TOML ({exc}); fix the syntax")
        return []
    entries = data.get("category")
    if not isinstance(entries, list) or not entries:
        problems.append(f"{path}: no [[category]] entries; add at least one (see planner categories)")
        return []
    rules = []
    for i, raw in enumerate(entries):
        rule = _rule(raw, f"{path}: entry {i + 1}", str(path), problems)
        if rule is not None:
            rules.append(rule)
    return rules


def _rule(raw: Any, where: str, origin: str, problems: list[str]) -> CategoryRule | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table with name and patterns")
        return None
    name, patterns, note = raw.get("name"), raw.get("patterns"), raw.get("note", "")
    unknown = set(raw) - {"name", "patterns", "note"}
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)}; allowed: name, patterns, note")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{where}: 'name' must be a lower snake_case word, got {name!r}")
        return None
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        problems.append(f"{where} ({name}): 'patterns' must be a non-empty list of texts")
        return None
    try:
        regex = re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")
    except re.error as exc:
        problems.append(f"{where} ({name}): a pattern is not a valid regular expression ({exc})")
        return None
    return CategoryRule(name, tuple(patterns), str(note), origin, regex)


def load_category_map(extra: Iterable[str | Path] = (), *, builtin: bool = True) -> CategoryMap:
    """The category map: the user's files (in order, tried first), then the shipped one.

    Raises
    ------
    ValidationError
        Listing every problem in every file (file, entry, what is wrong).
    """
    problems: list[str] = []
    rules: list[CategoryRule] = []
    for path in extra:
        rules += _rules_from_file(Path(path), problems)
    if builtin:
        rules += _rules_from_file(default_category_map_path(), problems)
    if problems:
        raise ValidationError("The category map is invalid.", problems=problems)
    return CategoryMap(tuple(rules))
