"""The intervention catalogue: a TOML data file shipped with the package, validated on load.

Each entry is a situational measure (or the hot-spot patrol comparator) with its mechanism, the
crime types and settings it is evidenced for, its effect as a relative reduction with an
interval, the evidence and sources, the exposure condition that makes it applicable, how its
quantity scales, unit costs (labelled assumptions with a currency and price year), its privacy
impact and whether it restricts public access. Users add or override entries with their own
TOML file in the same format (``load_catalogue(extra=[path])``).
"""

from __future__ import annotations

import logging
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import ValidationError
from planner.interventions.appraisal import AppraisalSpec, parse_appraisal
from planner.interventions.evidence import AppliesShare, EmmieGrade, parse_applies_share, parse_emmie

logger = logging.getLogger(__name__)

PRIVACY_LEVELS = ("none", "low", "medium", "high")
KINDS = ("situational", "comparator")
OPERATORS = ("<", "<=", ">", ">=", "==", "!=")
CURRENCIES = ("GBP", "USD")
#: How a measure reaches crimes (see catalogue.toml and planner/interventions/reach.py).
REACHES = ("all", "car_park", "night_unlit", "residential_burglary", "new_dwellings", "near_layer")
#: How a unit cost was checked.
VERIFICATIONS = ("primary table", "secondary summary", "unverified")


@dataclass(frozen=True)
class TypeEffect:
    """A separate effect for some crime types (e.g. a smaller effect of lighting on violence)."""

    crime_types: tuple[str, ...]
    point: float
    low: float
    high: float
    verified: bool
    basis: str


@dataclass(frozen=True)
class Effect:
    """Relative reduction in the evidenced crimes: ``point`` within ``[low, high]``.

    ``night_*`` (optional) is the effect on night-time crime; the recommender mixes it with the
    all-hours effect by the hotspot's night share.
    """

    point: float
    low: float
    high: float
    verified: bool
    basis: str
    night_point: float | None = None
    night_low: float | None = None
    night_high: float | None = None
    night_basis: str = ""
    interval_assumption: bool = False
    by_type: tuple[TypeEffect, ...] = ()
    unmeasured: bool = False

    def for_category(self, category: str) -> tuple[float, float, float]:
        """(point, low, high) for one crime category (a separate effect when one is given)."""
        for sub in self.by_type:
            if category in sub.crime_types:
                return sub.point, sub.low, sub.high
        return self.point, self.low, self.high


@dataclass(frozen=True)
class Condition:
    """One applicability test: ``column op value`` or ``location_mix[location] >= min_share``."""

    column: str | None = None
    op: str | None = None
    value: float | None = None
    location: str | None = None
    min_share: float | None = None

    def describe(self) -> str:
        """Plain-language form, e.g. ``street_lights__lit_share < 0.8``."""
        if self.location is not None:
            return f"share of incidents at {self.location} ≥ {self.min_share:g}"
        return f"{self.column} {self.op} {self.value:g}"


@dataclass(frozen=True)
class QuantityRule:
    """How many units a hotspot needs; the first rule whose inputs exist is used."""

    column: str | None = None
    per: float | None = None
    times: float | None = None
    baseline_times: float | None = None
    fixed: float | None = None
    plus_column: str | None = None
    dwellings_times: float | None = None
    sites_m: float | None = None

    def describe(self) -> str:
        """Plain-language form of the rule."""
        if self.fixed is not None:
            return f"fixed {self.fixed:g}"
        if self.baseline_times is not None:
            return f"{self.baseline_times:g} × reached crimes per year"
        if self.dwellings_times is not None:
            return f"{self.dwellings_times:g} × dwellings"
        if self.sites_m is not None:
            return f"one per {self.sites_m:g} m square holding a reached crime"
        if self.per is not None:
            extra = f" + {self.plus_column}" if self.plus_column else ""
            return f"ceil({self.column} / {self.per:g}){extra}"
        return f"ceil({self.column} × {self.times:g})"


@dataclass(frozen=True)
class UnitCost:
    """Unit costs in ``currency`` at ``price_year`` prices; ``assumption`` labels them."""

    currency: str
    price_year: int
    capital_per_unit: float
    yearly_per_unit: float
    lifetime_years: int
    uncertainty: float
    assumption: bool
    source: str
    note: str = ""
    verification: str = "unverified"
    lifetime_basis: str = ""


@dataclass(frozen=True)
class Scope:
    """The share of a hotspot's evidenced crimes a measure can reach, read from an exposure column.

    A measure that fills a deficit (lamps on the unlit streets, cameras on the unwatched ones) acts
    on the part of the place that has the deficit: the share is the column's value (a share in
    [0, 1]) or, with ``complement``, one minus it. Without the column the whole hotspot counts.
    """

    column: str
    complement: bool = False
    note: str = ""

    def share(self, row: Mapping[str, Any]) -> float | None:
        value = row.get(self.column)
        try:
            v = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        if not math.isfinite(v):
            return None
        v = min(max(v, 0.0), 1.0)
        return 1.0 - v if self.complement else v


@dataclass(frozen=True)
class Intervention:
    """One catalogue entry (see ``catalogue.toml`` for the meaning of every field)."""

    id: str
    name: str
    kind: str
    technique: str
    cpted: str
    mechanism: str
    crime_types: tuple[str, ...]
    settings: tuple[str, ...]
    setting_filter: bool
    variant_group: str
    surveillance: bool
    never_recommend: bool
    evidence_strength: str
    sources: tuple[str, ...]
    effect: Effect
    any_of: tuple[Condition, ...]
    unless: tuple[Condition, ...]
    unit: str
    quantity: tuple[QuantityRule, ...]
    quantity_note: str
    cost: UnitCost
    privacy_impact: str
    privacy_note: str
    restricts_public_access: bool
    access_note: str
    never_reason: str = ""
    scope: Scope | None = None
    reach: str = "all"
    reach_layer: str = ""
    reach_distance_m: float = 0.0
    reach_layer_kinds: tuple[str, ...] = ()
    reach_note: str = ""
    privacy_note_key: str = ""
    access_note_key: str = ""
    emmie: EmmieGrade | None = None
    applies_share: AppliesShare | None = None
    origin: str = field(default="", compare=False)
    appraisal: AppraisalSpec = field(default_factory=AppraisalSpec)

    def applied_effect(self, category: str | None = None) -> tuple[float, float, float]:
        """(point, low, high) effect on all the reached crimes of ``category`` (the measure's overall
        effect when None): the published effect times ``applies_share`` when the effect was measured
        on part of them (locks: burglary with entry).
        """
        effect = (
            self.effect.for_category(category)
            if category is not None
            else (self.effect.point, self.effect.low, self.effect.high)
        )
        return self.applies_share.scale(effect) if self.applies_share is not None else effect

    @property
    def lifetime_years(self) -> int:
        """The lifetime used in the appraisal (the appraisal table's, else the cost table's)."""
        return self.appraisal.lifetime_years or self.cost.lifetime_years


Catalogue = dict[str, Intervention]


def default_catalogue_path() -> Path:
    """Path of the catalogue TOML shipped with the package."""
    return Path(str(resources.files("planner.interventions").joinpath("catalogue.toml")))


def load_catalogue(path: str | Path | None = None, *, extra: Iterable[str | Path] = ()) -> Catalogue:
    """Load and validate the intervention catalogue.

    Parameters
    ----------
    path
        Catalogue TOML; default: the one shipped with the package.
    extra
        User TOML files in the same format; an entry with an existing ``id`` replaces it,
        a new ``id`` is added.

    Returns
    -------
    dict
        ``id`` → :class:`Intervention`, in file order.

    Raises
    ------
    ValidationError
        Listing every problem found in every file (file, entry, field, what is wrong).
    """
    files = [Path(path) if path is not None else default_catalogue_path(), *map(Path, extra)]
    catalogue: Catalogue = {}
    problems: list[str] = []
    for file in files:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(f"{file}: file not found; give the path of an intervention TOML file")
            continue
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{file}: not valid TOML ({exc}); fix the syntax")
            continue
        entries = data.get("intervention")
        if not isinstance(entries, list) or not entries:
            problems.append(f"{file}: no [[intervention]] entries; add at least one")
            continue
        seen: set[str] = set()
        for i, raw in enumerate(entries):
            where = f"{file}: entry {i + 1} ({raw.get('id', '?')!r})"
            item = _parse_entry(raw, where, problems)
            if item is None:
                continue
            if item.id in seen:
                problems.append(f"{where}: duplicate id {item.id!r} in the same file; rename one")
                continue
            seen.add(item.id)
            if item.id in catalogue:
                logger.info("catalogue entry %r replaced by %s", item.id, file)
            catalogue[item.id] = item
    for item in catalogue.values():
        unknown = [c for c in item.appraisal.components if c not in catalogue]
        if unknown:
            problems.append(f"{item.origin}: {item.id!r}: appraisal.components names unknown ids {unknown}")
    if problems:
        raise ValidationError("The intervention catalogue is invalid.", problems=problems)
    return catalogue


def catalogue_to_frame(catalogue: Mapping[str, Intervention]) -> pd.DataFrame:
    """One row per intervention with its main fields (for display and export)."""
    rows = []
    for item in catalogue.values():
        rows.append(
            {
                "intervention_id": item.id,
                "name": item.name,
                "kind": item.kind,
                "technique": item.technique,
                "cpted": item.cpted,
                "crime_types": ", ".join(item.crime_types),
                "settings": ", ".join(item.settings),
                "effect_point": item.effect.point,
                "effect_low": item.effect.low,
                "effect_high": item.effect.high,
                "effect_verified": item.effect.verified,
                "effect_interval_assumption": item.effect.interval_assumption,
                "reach": item.reach,
                "effect_basis": item.effect.basis,
                "evidence_strength": item.evidence_strength,
                "source": "; ".join(item.sources),
                "unit": item.unit,
                "capital_per_unit": item.cost.capital_per_unit,
                "yearly_per_unit": item.cost.yearly_per_unit,
                "lifetime_years": item.cost.lifetime_years,
                "cost_currency": item.cost.currency,
                "cost_price_year": item.cost.price_year,
                "cost_is_assumption": item.cost.assumption,
                "cost_verification": item.cost.verification,
                "cost_source": item.cost.source,
                "privacy_impact": item.privacy_impact,
                "restricts_public_access": item.restricts_public_access,
                "never_recommend": item.never_recommend,
                "lifetime_basis": item.cost.lifetime_basis,
                "applies_share": item.applies_share.point if item.applies_share else None,
                "evidence_grade": item.emmie.code() if item.emmie else "",
                "evidence_grade_text": item.emmie.text() if item.emmie else "",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- parsing


def _parse_entry(raw: Any, where: str, problems: list[str]) -> Intervention | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    n_before = len(problems)

    def need(key: str, kind: type | tuple[type, ...], table: Mapping[str, Any] = raw) -> Any:
        value = table.get(key)
        if value is None:
            problems.append(f"{where}: missing field {key!r}")
        elif not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            problems.append(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
            return None
        return value

    ident = need("id", str)
    strings = {
        k: need(k, str)
        for k in ("name", "technique", "cpted", "mechanism", "variant_group", "evidence_strength", "unit")
    }
    kind = need("kind", str)
    if kind is not None and kind not in KINDS:
        problems.append(f"{where}: 'kind' must be one of {KINDS}, got {kind!r}")
    crime_types = _str_list(raw, "crime_types", where, problems)
    settings = _str_list(raw, "settings", where, problems)
    sources = _str_list(raw, "sources", where, problems)
    flags = {k: need(k, bool) for k in ("setting_filter", "surveillance", "never_recommend")}
    if flags["never_recommend"] and not raw.get("never_reason"):
        problems.append(f"{where}: 'never_recommend' needs a 'never_reason'")

    effect = _parse_effect(raw.get("effect"), where, problems)
    any_of, unless = _parse_applicability(raw.get("applicability"), where, problems)
    quantity = _parse_quantity(raw.get("quantity"), where, problems)
    cost = _parse_cost(raw.get("cost"), where, problems)
    scope = _parse_scope(raw.get("scope"), where, problems)
    reach = _parse_reach(raw, where, problems)
    privacy, access = _parse_notes(raw, where, problems, surveillance=bool(flags["surveillance"]))
    emmie = parse_emmie(raw.get("emmie"), where, problems)
    applies_share = parse_applies_share(raw.get("applies_share"), where, problems)
    appraisal = parse_appraisal(raw.get("appraisal"), where, problems)
    if len(problems) > n_before:
        return None
    assert effect is not None and cost is not None  # for the type checker
    return Intervention(
        id=ident,
        name=strings["name"],
        kind=kind,
        technique=strings["technique"],
        cpted=strings["cpted"],
        mechanism=strings["mechanism"],
        crime_types=tuple(crime_types),
        settings=tuple(settings),
        setting_filter=flags["setting_filter"],
        variant_group=strings["variant_group"],
        surveillance=flags["surveillance"],
        never_recommend=flags["never_recommend"],
        never_reason=str(raw.get("never_reason", "")),
        evidence_strength=strings["evidence_strength"],
        sources=tuple(sources),
        effect=effect,
        any_of=any_of,
        unless=unless,
        unit=strings["unit"],
        quantity=quantity,
        quantity_note=str(raw.get("quantity_note", "")),
        cost=cost,
        privacy_impact=str(privacy.get("impact")),
        privacy_note=str(privacy.get("note", "")),
        restricts_public_access=bool(access["restricts"]),
        access_note=str(access.get("note", "")),
        scope=scope,
        reach=reach[0],
        reach_layer=reach[1],
        reach_distance_m=reach[2],
        reach_layer_kinds=tuple(str(k) for k in raw.get("reach_layer_kinds", []) or []),
        reach_note=str(raw.get("reach_note", "")),
        privacy_note_key=str(privacy.get("note_key", "")),
        access_note_key=str(access.get("note_key", "")),
        emmie=emmie,
        applies_share=applies_share,
        origin=where.split(": entry", maxsplit=1)[0],
        appraisal=appraisal,
    )


def _parse_reach(raw: Mapping[str, Any], where: str, problems: list[str]) -> tuple[str, str, float]:
    """The entry's ``reach`` kind, and for ``near_layer`` its layer and distance (metres)."""
    reach = raw.get("reach", "all")
    if reach not in REACHES:
        problems.append(f"{where}: 'reach' must be one of {REACHES}, got {reach!r}")
    if reach == "near_layer" and not (
        isinstance(raw.get("reach_layer"), str) and raw.get("reach_distance_m")
    ):
        problems.append(
            f"{where}: reach 'near_layer' needs 'reach_layer' (a layer kind) and 'reach_distance_m'"
        )
    return str(reach), str(raw.get("reach_layer", "")), float(raw.get("reach_distance_m", 0.0) or 0.0)


def _parse_notes(
    raw: Mapping[str, Any], where: str, problems: list[str], *, surveillance: bool
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The [privacy] and [access] tables, checked (impact level, notes a measure must carry)."""
    privacy = raw.get("privacy") or {}
    impact = privacy.get("impact")
    if impact not in PRIVACY_LEVELS:
        problems.append(f"{where}: privacy.impact must be one of {PRIVACY_LEVELS}, got {impact!r}")
    access = raw.get("access") or {}
    if not isinstance(access.get("restricts"), bool):
        problems.append(f"{where}: access.restricts must be true or false")
    if access.get("restricts") and not access.get("note"):
        problems.append(f"{where}: a measure that restricts access needs an access.note (consultation)")
    if surveillance and not (privacy.get("note") or privacy.get("note_key")):
        problems.append(f"{where}: a surveillance measure needs a privacy.note")
    return privacy, access


def _parse_scope(raw: Any, where: str, problems: list[str]) -> Scope | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("column"), str) or not raw["column"]:
        problems.append(f"{where}: 'scope' must be a table with a 'column' (an exposure share column)")
        return None
    complement = raw.get("complement", False)
    if not isinstance(complement, bool):
        problems.append(f"{where}: scope.complement must be true or false")
        return None
    return Scope(column=raw["column"], complement=complement, note=str(raw.get("note", "")))


def _str_list(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> list[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: {key!r} must be a non-empty list of strings")
        return []
    return value


def _num(table: Mapping[str, Any], key: str, where: str, problems: list[str]) -> float | None:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{where}: {key!r} must be a finite number, got {value!r}")
        return None
    return float(value)


def _parse_effect(raw: Any, where: str, problems: list[str]) -> Effect | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: missing [effect] table with point, low, high")
        return None
    w = f"{where} effect"
    point, low, high = (_num(raw, k, w, problems) for k in ("point", "low", "high"))
    if None in (point, low, high):
        return None
    assert point is not None and low is not None and high is not None
    if not -1 < low <= point <= high < 1:
        problems.append(
            f"{w}: need -1 < low ≤ point ≤ high < 1 (relative reductions), got {low}, {point}, {high}"
        )
    if not isinstance(raw.get("verified"), bool):
        problems.append(f"{w}: 'verified' must be true or false")
    for flag in ("interval_assumption", "unmeasured"):
        if not isinstance(raw.get(flag, False), bool):
            problems.append(f"{w}: {flag!r} must be true or false")
    if raw.get("unmeasured") and raw.get("verified"):
        problems.append(f"{w}: an 'unmeasured' effect cannot be 'verified'")
    if not raw.get("basis"):
        problems.append(f"{w}: 'basis' (how the number was derived, with its source) is required")
    night = [raw.get(k) for k in ("night_point", "night_low", "night_high")]
    if any(v is not None for v in night):
        if any(v is None for v in night):
            problems.append(f"{w}: give all of night_point, night_low, night_high or none")
        elif not -1 < float(night[1]) <= float(night[0]) <= float(night[2]) < 1:  # type: ignore[arg-type]
            problems.append(f"{w}: need -1 < night_low ≤ night_point ≤ night_high < 1")
    return Effect(
        point=point,
        low=low,
        high=high,
        verified=bool(raw.get("verified")),
        basis=str(raw.get("basis", "")),
        night_point=None if night[0] is None else float(night[0]),
        night_low=None if night[1] is None else float(night[1]),
        night_high=None if night[2] is None else float(night[2]),
        night_basis=str(raw.get("night_basis", "")),
        interval_assumption=bool(raw.get("interval_assumption", False)),
        unmeasured=bool(raw.get("unmeasured", False)),
        by_type=_parse_type_effects(raw.get("by_type"), w, problems),
    )


def _parse_type_effects(raw: Any, where: str, problems: list[str]) -> tuple[TypeEffect, ...]:
    out = []
    for j, sub in enumerate(raw or []):
        w = f"{where} by_type {j + 1}"
        if not isinstance(sub, dict):
            problems.append(f"{w}: must be a table with crime_types, point, low, high, verified, basis")
            continue
        types = _str_list(sub, "crime_types", w, problems)
        point, low, high = (_num(sub, k, w, problems) for k in ("point", "low", "high"))
        if None in (point, low, high):
            continue
        assert point is not None and low is not None and high is not None
        if not -1 < low <= point <= high < 1:
            problems.append(f"{w}: need -1 < low ≤ point ≤ high < 1, got {low}, {point}, {high}")
        if not isinstance(sub.get("verified"), bool) or not sub.get("basis"):
            problems.append(f"{w}: 'verified' (true/false) and 'basis' are required")
            continue
        out.append(TypeEffect(tuple(types), point, low, high, bool(sub["verified"]), str(sub["basis"])))
    return tuple(out)


def _parse_conditions(raw: Any, where: str, problems: list[str]) -> tuple[Condition, ...]:
    out = []
    for j, c in enumerate(raw or []):
        w = f"{where} condition {j + 1}"
        if not isinstance(c, dict):
            problems.append(f"{w}: must be a table")
        elif "location" in c:
            share = _num(c, "min_share", w, problems)
            if share is not None:
                out.append(Condition(location=str(c["location"]), min_share=share))
        else:
            if not isinstance(c.get("column"), str):
                problems.append(f"{w}: needs 'column' (an exposure column) or 'location'")
                continue
            if c.get("op") not in OPERATORS:
                problems.append(f"{w}: 'op' must be one of {OPERATORS}, got {c.get('op')!r}")
                continue
            value = _num(c, "value", w, problems)
            if value is not None:
                out.append(Condition(column=c["column"], op=c["op"], value=value))
    return tuple(out)


def _parse_applicability(
    raw: Any, where: str, problems: list[str]
) -> tuple[tuple[Condition, ...], tuple[Condition, ...]]:
    if not isinstance(raw, dict) or not raw.get("any_of"):
        problems.append(f"{where}: [applicability] needs a non-empty 'any_of' list of conditions")
        return (), ()
    return (
        _parse_conditions(raw.get("any_of"), f"{where} applicability.any_of", problems),
        _parse_conditions(raw.get("unless"), f"{where} applicability.unless", problems),
    )


def _parse_quantity(raw: Any, where: str, problems: list[str]) -> tuple[QuantityRule, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: 'quantity' must be a non-empty list of rules")
        return ()
    out = []
    for j, r in enumerate(raw):
        w = f"{where} quantity rule {j + 1}"
        if not isinstance(r, dict):
            problems.append(f"{w}: must be a table")
            continue
        keys = {
            k for k in ("per", "times", "baseline_times", "dwellings_times", "sites_m", "fixed") if k in r
        }
        if len(keys) != 1:
            problems.append(
                f"{w}: give exactly one of per, times, baseline_times, dwellings_times, sites_m, fixed"
            )
            continue
        key = keys.pop()
        value = _num(r, key, w, problems)
        if value is None:
            continue
        if value <= 0 and key in ("per", "sites_m"):
            problems.append(f"{w}: {key!r} must be > 0")
            continue
        if key in ("per", "times") and not isinstance(r.get("column"), str):
            problems.append(f"{w}: {key!r} needs a 'column'")
            continue
        out.append(QuantityRule(column=r.get("column"), plus_column=r.get("plus_column"), **{key: value}))
    return tuple(out)


def _parse_cost(raw: Any, where: str, problems: list[str]) -> UnitCost | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: missing [cost] table")
        return None
    w = f"{where} cost"
    n_before = len(problems)
    currency = raw.get("currency")
    if currency not in CURRENCIES:
        problems.append(f"{w}: 'currency' must be one of {CURRENCIES}, got {currency!r}")
    year = raw.get("price_year")
    if not isinstance(year, int) or isinstance(year, bool):
        problems.append(f"{w}: 'price_year' must be a year such as 2016")
    capital = _num(raw, "capital_per_unit", w, problems)
    yearly = _num(raw, "yearly_per_unit", w, problems)
    life = raw.get("lifetime_years")
    if not isinstance(life, int) or isinstance(life, bool) or life < 1:
        problems.append(f"{w}: 'lifetime_years' must be an integer ≥ 1")
    unc = _num(raw, "uncertainty", w, problems)
    if unc is not None and not 0 <= unc < 1:
        problems.append(f"{w}: 'uncertainty' must lie in [0, 1)")
    for name, v in (("capital_per_unit", capital), ("yearly_per_unit", yearly)):
        if v is not None and v < 0:
            problems.append(f"{w}: {name!r} must be ≥ 0")
    if capital == 0 and yearly == 0:
        problems.append(f"{w}: a measure with no cost at all is not credible; set capital or yearly")
    if not isinstance(raw.get("assumption"), bool):
        problems.append(f"{w}: 'assumption' must be true or false (label assumed costs)")
    if not raw.get("source"):
        problems.append(f"{w}: 'source' is required (a citation, or 'assumption: ...')")
    verification = raw.get("verification", "unverified")
    if not isinstance(raw.get("lifetime_basis", ""), str):
        problems.append(f"{w}: 'lifetime_basis' must be text (why the lifetime, with its source)")
    if verification not in VERIFICATIONS:
        problems.append(f"{w}: 'verification' must be one of {VERIFICATIONS}, got {verification!r}")
    if len(problems) > n_before:
        return None
    return UnitCost(
        currency=str(currency),
        price_year=int(year),  # type: ignore[arg-type]
        capital_per_unit=capital or 0.0,
        yearly_per_unit=yearly or 0.0,
        lifetime_years=int(life),  # type: ignore[arg-type]
        uncertainty=unc or 0.0,
        assumption=raw["assumption"],
        source=str(raw["source"]),
        note=str(raw.get("note", "")),
        verification=str(verification),
        lifetime_basis=str(raw.get("lifetime_basis", "")),
    )


__all__ = [
    "Catalogue",
    "Condition",
    "Effect",
    "Intervention",
    "QuantityRule",
    "UnitCost",
    "catalogue_to_frame",
    "default_catalogue_path",
    "load_catalogue",
]
