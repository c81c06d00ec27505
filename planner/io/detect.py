"""Column roles (coordinates, date and time, category, id, place type) from values, names breaking ties.

Every column is profiled (:mod:`planner.io.profile`); a column can play a role only if its values
fit it: coordinates are numbers in a plausible range, dates parse on at least half the sampled
values, a time of day reads as ``13:45``/``1:45 PM``/HHMM, a category is low-cardinality text, an id
is (nearly) unique. Header words then rank the columns that fit: an occurrence date
(``OCCUR_DATE``, ``DATE OCC``, ``Offense Start DateTime``) beats a report date, which beats an
update or end date; a category column whose values map to the catalogue's crime types beats one
that does not; columns sharing words pair up (``CMPLNT_FR_DT`` with ``CMPLNT_FR_TM``, ``GEO_LON``
with ``GEO_LAT``). A place-type column (``location_type``) is low-cardinality text at least half of
whose values the place-type vocabulary (:mod:`planner.io.locations`) maps to a place type; names
(``location_type``, ``LOC_CAT``, ``PREM_TYP_DESC``) break ties. :func:`source_crs_of` then decides
the CRS the coordinates are written in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planner import _hints
from planner.errors import ValidationError
from planner.io.coords import SourceCRS, coordinates_of, is_projected_crs, source_crs_of
from planner.io.groups import ROLES as GROUP_ROLES
from planner.io.groups import victim_roles
from planner.io.profile import ColumnProfile, profile_columns, sample_rows

logger = logging.getLogger(__name__)

# role -> what it means (the roles --column / columns= accept)
ROLES: dict[str, str] = {
    "x": "projected x / easting in the CRS given for bare coordinates",
    "y": "projected y / northing",
    "lon": "longitude in degrees",
    "lat": "latitude in degrees",
    "wkt": "a point as WKT text, e.g. 'POINT (-1.15 52.95)'",
    "latlon": "a point as '(lat, lon)' text",
    "date": "when it happened: a date or date-time",
    "time": "time of day for the date, as 13:45, 1:45 PM or HHMM like 2230",
    "hour": "hour of day 0-23 for the date",
    "date_from": "start of the time window, a date or date-time",
    "date_to": "end of the time window",
    "time_to": "time of day for date_to",
    "year": "year, for separate year/month/day columns",
    "month": "month number or name, for separate columns",
    "day": "day of month, for separate columns",
    "minute": "minute, for separate columns",
    "category": "offence type",
    "id": "unique incident id",
    "location_type": "kind of place (residence, street, parking lot, bar ...), mapped onto place types",
    **GROUP_ROLES,
}
ROLE_NAMES = ROLES  # the name used before roles were detected from values


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LON = frozenset({"lon", "long", "lng", "longitude", "longitud"})
_LAT = frozenset({"lat", "latitude", "latitud"})
_X = frozenset({"x", "xcoord", "xblock", "easting", "xcoordinate", "coordx"})
_Y = frozenset({"y", "ycoord", "yblock", "northing", "ycoordinate", "coordy"})
OCCURRENCE = _words(
    "occ occur occurred occurrence occurence offense offence incident crime cmplnt fr from start "
    "first begin committed event single dispatch"
)
REPORT = frozenset({"rpt", "rptd", "report", "reported", "reporting", "received", "recorded", "ibr"})
ADMIN = _words(
    "updated update modified clearance cleared closed entered created end to last until "
    "disposition poss upload loaded extracted"
)
_WINDOW_END = frozenset({"to", "end", "last", "until"})
_UNIT_WORDS = _words(
    "date dt datetime time tm timestamp hour hr on at of the day month year minute min hhmm value"
)
_TIME_WORDS = frozenset({"time", "tm", "hhmm", "hora", "heure"})
_HOUR_WORDS = frozenset({"hour", "hr", "hours", "heure"})
_SPLIT_WORDS = {
    "year": frozenset({"year", "yr", "yyyy", "annee", "ano"}),
    "month": frozenset({"month", "mon", "mm", "mois", "mes"}),
    "day": frozenset({"day", "dd", "jour", "dia"}),
    "minute": frozenset({"minute", "min", "minutes"}),
}
_SPLIT_RANGE = {"year": (1900, 2100), "month": (1, 12), "day": (1, 31), "hour": (0, 23), "minute": (0, 59)}
_CATEGORY_STRONG = _words(
    "offense offence offenses offences offns crime crm mci nibrs ucr uc2 primary categorie "
    "infraction delito incident"
)
_CATEGORY_WEAK = _words(
    "type category cat class desc description group literal kind nature subcategory general object"
)
_NOT_CATEGORY = _words(
    "location loc premise premis prem weapon status district dist area beat sector sex gender "
    "race age descent ethnicity boro borough precinct pct neighbourhood neighborhood hood ward "
    "street address block outcome law juris jurisdiction dow week shift quart disposition dispo "
    "arrest domestic victim vict vic suspect susp perp city state zip tract census lsoa msoa "
    "falls force context legislation clearance against atpt attempt flag murder name nm division "
    "patrol station council community npu by post zone part resolution operation premises weapons "
    "removal intersection mocodes cross unit filed shooting"
)
_ID_WORDS = frozenset(
    {"id", "uid", "key", "num", "no", "number", "nbr", "objectid", "fid", "oid", "ccn", "guid"}
)
_ID_PREFERRED = _words(
    "crime incident offense offence case report event complaint cmplnt dr ccn uid persistent entry"
)
MAX_CATEGORY_VALUES = 400
_LOCATION_STRONG = _words("location loc premise premises premis prem place setting")
_LOCATION_WEAK = _words("type typ cat category desc description class kind")
_NOT_LOCATION = _words(
    "address addr block intersection street name nm cross zip city state beat district ward lsoa msoa "
    "tract census offense offence crime weapon victim vict suspect status outcome"
)
#: Share of a column's non-empty values the place-type vocabulary must map for the column to be
#: taken as the place type without being named.
MIN_LOCATION_COVERAGE = 0.5


@dataclass(frozen=True)
class Detection:
    """Role → source column, plus notes on what was decided and why (for the ingest report)."""

    roles: dict[str, str]
    notes: list[str] = field(default_factory=list)
    # the other coordinate pair when a file has both x/y and lon/lat (rows missing one use the other)
    other_pair: dict[str, str] = field(default_factory=dict)
    # id-like columns not used as the id because they repeat (several rows per incident?)
    repeating_ids: list[str] = field(default_factory=list)


def _stem(p: ColumnProfile, drop: frozenset[str] = frozenset()) -> frozenset[str]:
    return frozenset(p.tokens) - _UNIT_WORDS - drop


def _tier(p: ColumnProfile) -> int:
    """0 occurrence, 1 generic, 2 report, 3 admin (update, clearance, end of window)."""
    words = set(p.tokens)
    if words & ADMIN:
        return 3
    if words & REPORT and not words & OCCURRENCE:
        return 2
    return 0 if words & OCCURRENCE else 1


def check_overrides(df: pd.DataFrame, overrides: dict[str, str], source: str) -> None:
    """Unknown roles and columns that are not in the file are one clear error."""
    unknown = sorted(set(overrides) - set(ROLES))
    flag = _hints.hint("columns=", "--column")
    if unknown:
        raise ValidationError(
            f"{source}: {flag} names unknown role(s) {unknown}. Known roles: "
            + "; ".join(f"{r}: {m}" for r, m in ROLES.items())
            + "."
        )
    missing = [c for c in overrides.values() if c not in df.columns]
    if missing:
        raise ValidationError(
            f"{source}: {flag} names columns that are not in the file: {missing}. "
            f"Available: {list(map(str, df.columns))}."
        )


# ----------------------------------------------------------------------------------------- coordinates
def _best_pair(
    a: list[ColumnProfile], b: list[ColumnProfile], words: frozenset[str], ranges: tuple[float, float] | None
) -> tuple[str, str] | None:
    """The two columns (one from each list) sharing most other header words; in range first."""
    best: tuple[tuple[float, ...], tuple[str, str]] | None = None
    for pa in a:
        for pb in b:
            if pa.name == pb.name:
                continue
            fits = ranges is None or (pa.within(-ranges[0], ranges[0]) and pb.within(-ranges[1], ranges[1]))
            shared = len(_stem(pa, words) & _stem(pb, words))
            key = (float(fits), shared, min(pa.present, pb.present), -pa.position)
            if best is None or key > best[0]:
                best = (key, (pa.name, pb.name))
    return best[1] if best else None


def _coordinate_roles(
    profiles: list[ColumnProfile], *, prefer_xy: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """The coordinate roles, and the other pair when the file has both x/y and lon/lat."""
    numeric = [p for p in profiles if p.numeric >= 0.3 and p.present > 0]
    lon = [p for p in numeric if set(p.tokens) & _LON]
    lat = [p for p in numeric if set(p.tokens) & _LAT]
    xs = [p for p in numeric if set(p.tokens) & _X and not set(p.tokens) & (_LON | _LAT)]
    ys = [p for p in numeric if set(p.tokens) & _Y and not set(p.tokens) & (_LON | _LAT)]
    geo = _best_pair(lon, lat, _LON | _LAT, (180.0, 90.0))
    xy = _best_pair(xs, ys, _X | _Y, None)
    geo_roles = {"lon": geo[0], "lat": geo[1]} if geo else {}
    xy_roles = {"x": xy[0], "y": xy[1]} if xy else {}
    if xy and (prefer_xy or not geo):
        return xy_roles, geo_roles
    if geo:
        return geo_roles, xy_roles
    for p in sorted(profiles, key=lambda q: -q.point_text):
        if p.point_text >= 0.8:
            return {"wkt" if p.wkt >= 0.5 else "latlon": p.name}, {}
    return {}, {}


# --------------------------------------------------------------------------------------- dates, times
def _agree(df: pd.DataFrame, a: str, b: str) -> bool:
    """True when two date columns give the same calendar day on (nearly) every sampled row."""
    from planner.io.dates import parse_dates

    sample = sample_rows(df)
    da, db = parse_dates(sample[a])[0], parse_dates(sample[b])[0]
    both = da.notna() & db.notna()
    return bool(not both.any() or (da[both].dt.normalize() == db[both].dt.normalize()).mean() >= 0.95)


def _main_date(df: pd.DataFrame, dates: list[ColumnProfile], source: str) -> ColumnProfile | None:
    ranked = sorted(
        (p for p in dates if _tier(p) < 3),
        key=lambda p: (_tier(p), not p.date_has_time, -p.present, p.position),
    )
    if not ranked:
        return None
    top = ranked[0]
    rivals = [p for p in ranked[1:] if _tier(p) == _tier(top) and not _agree(df, top.name, p.name)]
    if rivals:
        names = [top.name, *(p.name for p in rivals)]
        raise ValidationError(
            f"{source}: more than one column could be the date: {names} (their dates differ).",
            problems=[f"settle it with {_hints.column_hint('date', n)}" for n in names],
        )
    return top


def _paired(main: ColumnProfile, options: list[ColumnProfile]) -> ColumnProfile | None:
    """The option sharing the most header words with ``main`` (a generic name pairs with anything;
    a report or window-end name pairs only with a column of its own kind).
    """
    stem = _stem(main)
    scored = []
    for p in options:
        shared = len(_stem(p) & stem)
        if _tier(p) not in (1, _tier(main)) and not shared:
            continue
        scored.append(((shared, -abs(p.position - main.position)), p))
    return max(scored, key=lambda s: s[0])[1] if scored else None


_WINDOW_WORDS = frozenset({"from", "fr", "start", "first", "begin", "to", "end", "last", "until"})


_WINDOW_START = frozenset({"from", "fr", "start", "first", "begin"})


def _window_end(starts: list[ColumnProfile], ends: list[ColumnProfile]) -> ColumnProfile | None:
    """The end-of-window date of the main date (``starts[0]``) or of a start column beside it: the
    same header apart from the from/to words (``DATE_FROM``/``DATE_TO``, ``START_DATE``/``END_DATE``,
    ``CMPLNT_FR_DT``/``CMPLNT_TO_DT``; ``date_single`` beside ``date_start``/``date_end``).
    """
    for start in starts:
        same = [p for p in ends if _stem(p, _WINDOW_WORDS) == _stem(start, _WINDOW_WORDS)]
        if same:
            return min(same, key=lambda p: abs(p.position - start.position))
    return None


def _clock_columns(profiles: list[ColumnProfile]) -> list[ColumnProfile]:
    """Time-of-day columns: clock text, or HHMM numbers under a time-like header."""
    out = []
    for p in profiles:
        hhmm = set(p.tokens) & _TIME_WORDS and p.numeric > 0.95 and p.integer > 0.99 and p.within(0, 2359)
        if p.date < 0.5 and (p.clock >= 0.8 or hhmm):
            out.append(p)
    return out


def _split_role(p: ColumnProfile, role: str) -> bool:
    lo, hi = _SPLIT_RANGE[role]
    words = _HOUR_WORDS if role == "hour" else _SPLIT_WORDS[role]
    if not set(p.tokens) & words or {"week", "dow", "doy", "weekday"} & set(p.tokens):
        return False
    numbers = p.numeric > 0.95 and p.integer > 0.99 and p.within(lo, hi)
    return bool(numbers or (role == "month" and p.month_name >= 0.8))


def _split_date(profiles: list[ColumnProfile]) -> dict[str, str]:
    """Separate year/month[/day/hour/minute] columns sharing header words (e.g. OCC_YEAR, OCC_MONTH)."""
    groups: dict[frozenset[str], dict[str, ColumnProfile]] = {}
    for p in profiles:
        for role in ("year", "month", "day", "hour", "minute"):
            if _split_role(p, role):
                groups.setdefault(_stem(p), {}).setdefault(role, p)
    complete = [g for g in groups.values() if {"year", "month"} <= set(g)]
    if not complete:
        return {}
    best = min(complete, key=lambda g: (max(_tier(p) for p in g.values()), -len(g), g["year"].position))
    return {role: p.name for role, p in best.items()}


def _time_roles(
    df: pd.DataFrame, profiles: list[ColumnProfile], overrides: dict[str, str], source: str
) -> dict[str, str]:
    free = [p for p in profiles if p.name not in overrides.values()]
    roles: dict[str, str] = {}
    dates = [p for p in free if p.date >= 0.5]
    main = next((p for p in profiles if p.name == overrides.get("date")), None)
    if main is None and not {"date", "date_from", "year"} & set(overrides):
        main = _main_date(df, dates, source)
        if main is None:
            return _split_date(free)
        roles["date"] = main.name
    if main is None:
        return roles
    starts = [main, *(p for p in dates if set(p.tokens) & _WINDOW_START)]
    end = _window_end(starts, [p for p in dates if set(p.tokens) & _WINDOW_END and p.name != main.name])
    if end is not None and "date_to" not in overrides:
        roles["date_to"] = end.name
    clocks = [p for p in _clock_columns(free) if p.name not in roles.values()]
    if not main.date_has_time and "time" not in overrides:
        clock = _paired(main, [p for p in clocks if not set(p.tokens) & _WINDOW_END])
        hours = [p for p in free if _split_role(p, "hour") and p.name not in roles.values()]
        hour = _paired(main, hours) if clock is None else None
        if clock is not None:
            roles["time"] = clock.name
        elif hour is not None:
            roles["hour"] = hour.name
    if end is not None and not end.date_has_time:
        clock_to = _paired(end, [p for p in clocks if set(p.tokens) & _WINDOW_END])
        if clock_to is not None:
            roles["time_to"] = clock_to.name
    return roles


# ------------------------------------------------------------------------------------- category, id
def _category_role(profiles: list[ColumnProfile], df: pd.DataFrame, category_map: Any) -> dict[str, str]:
    """The offence-type column: low-cardinality text, ranked by how much of it maps to crime types."""
    sample = sample_rows(df)
    scored = []
    for p in profiles:
        words = set(p.tokens)
        named = 2 if words & _CATEGORY_STRONG else 1 if words & _CATEGORY_WEAK else 0
        few = p.n_distinct <= MAX_CATEGORY_VALUES and (
            len(sample) < 50 or p.n_distinct <= 0.5 * len(sample) * p.present
        )
        if not p.is_text or words & _NOT_CATEGORY or not few or p.present < 0.3:
            continue
        mapped, types = category_map.coverage(sample[p.name]) if category_map is not None else (0.0, 0)
        if named == 0 and mapped < 0.5:
            continue  # an unnamed column counts only when its values are clearly offence names
        scored.append(((round(mapped, 1), named, types, -p.n_distinct, -p.position), p.name))
    return {"category": max(scored)[1]} if scored else {}


def _location_role(profiles: list[ColumnProfile], df: pd.DataFrame, notes: list[str]) -> dict[str, str]:
    """The place-type column: low-cardinality text of which at least :data:`MIN_LOCATION_COVERAGE`
    of the non-empty values map to a place type (police.uk's "On or near Hathersage Close" do not).
    A column named like one whose values are not place types is said so in ``notes``.
    """
    from planner.io.locations import place_vocabulary

    sample = sample_rows(df)
    vocabulary = place_vocabulary()
    scored: list[tuple[tuple[float, int, int, int, int], str]] = []
    named_only: list[tuple[str, float]] = []
    for p in profiles:
        words = set(p.tokens)
        if not p.is_text or words & _NOT_LOCATION or p.present < 0.3:
            continue
        named = 2 if words & _LOCATION_STRONG else 1 if words & _LOCATION_WEAK else 0
        few = p.n_distinct <= MAX_CATEGORY_VALUES and (
            len(sample) < 50 or p.n_distinct <= 0.5 * len(sample) * p.present
        )
        if not few and named < 2:
            continue  # addresses and free text: not worth matching
        mapped, keys = vocabulary.coverage(sample[p.name])
        if mapped >= MIN_LOCATION_COVERAGE and few:
            scored.append(((round(mapped, 1), named, keys, -p.n_distinct, -p.position), p.name))
        elif named == 2 and mapped < MIN_LOCATION_COVERAGE:
            named_only.append((p.name, mapped))
    if scored:
        return {"location_type": max(scored)[1]}
    for name, mapped in named_only:
        notes.append(
            f"column {name!r} is named like a place type, but only {mapped:.0%} of its values are place "
            "types the vocabulary knows (street names and addresses are not), so it is not used as one; "
            f"name it with {_hints.column_hint('location_type', name)} to use it anyway"
        )
    return {}


def id_repeats(values: pd.Series) -> int:
    """Present values that repeat an earlier one."""
    present = values.dropna()
    present = present[present.astype("string").str.strip() != ""]
    return int(present.duplicated().sum())


def _id_role(
    profiles: list[ColumnProfile], df: pd.DataFrame, notes: list[str], repeating: list[str]
) -> dict[str, str]:
    """A (nearly) unique id column: repeats up to 1 % (at least 1) are set aside as duplicates;
    id-like columns that repeat more are listed in ``repeating`` (checked at ingest for several
    rows per incident).
    """
    candidates = sorted(
        (
            p
            for p in profiles
            if set(p.tokens) & _ID_WORDS and p.date < 0.5 and p.clock < 0.5 and p.present > 0
        ),
        key=lambda p: (not set(p.tokens) & _ID_PREFERRED, p.position),
    )
    for p in candidates:
        if p.numeric > 0.95 and p.integer < 0.99:
            continue  # measurements, not identifiers
        repeats = id_repeats(df[p.name])
        if repeats <= max(1, 0.01 * len(df)):
            return {"id": p.name}
        notes.append(
            f"column {p.name!r} repeats {repeats} values (several records per incident?), so it is kept "
            "as an ordinary column and rows are numbered instead"
        )
        repeating.append(p.name)
    return {}


def detect_roles(
    df: pd.DataFrame,
    overrides: dict[str, str] | None = None,
    *,
    source: str = "the data",
    prefer_xy: bool = False,
    category_map: Any = None,
) -> Detection:
    """Role → source column from the values (``overrides`` win), with notes on what was decided.

    With both x/y and lon/lat columns, lon/lat is used unless ``prefer_xy`` (set when the user
    names a projected CRS for the bare coordinates). ``category_map`` (a
    :class:`planner.io.categories.CategoryMap`) ranks offence columns by how much of them it maps.
    """
    overrides = dict(overrides or {})
    check_overrides(df, overrides, source)
    profiles = list(profile_columns(df).values())
    notes: list[str] = []
    repeating: list[str] = []
    roles: dict[str, str] = {}
    is_geo = getattr(df, "_geometry_column_name", None) in df.columns
    coordinate_roles = {"x", "y", "lon", "lat", "wkt", "latlon"}
    other_pair: dict[str, str] = {}
    if not is_geo and not coordinate_roles & set(overrides):
        found_roles, other_pair = _coordinate_roles(profiles, prefer_xy=prefer_xy)
        roles.update(found_roles)
    taken = {*overrides.values(), *roles.values(), *other_pair.values()}
    rest = [p for p in profiles if p.name not in taken]
    roles.update(
        _time_roles(df, rest + [p for p in profiles if p.name == overrides.get("date")], overrides, source)
    )
    taken |= set(roles.values())
    rest = [p for p in profiles if p.name not in taken]
    if "category" not in overrides:
        roles.update(_category_role(rest, df, category_map))
    if "id" not in overrides:
        roles.update(_id_role([p for p in rest if p.name != roles.get("category")], df, notes, repeating))
    taken |= set(roles.values())
    found = victim_roles([p for p in profiles if p.name not in taken], df)
    roles.update({k: v for k, v in found.items() if k not in overrides})
    taken |= set(roles.values())
    if "location_type" not in overrides:
        roles.update(_location_role([p for p in profiles if p.name not in taken], df, notes))
    roles.update(overrides)
    logger.info("%s: columns detected %s", source, roles)
    return Detection(roles, notes, other_pair, repeating)


def detect_columns(
    df: pd.DataFrame,
    overrides: dict[str, str] | None = None,
    *,
    source: str = "the data",
    prefer_xy: bool = False,
    category_map: Any = None,
) -> dict[str, str]:
    """Role → source column (see :func:`detect_roles`, which also returns the notes)."""
    return detect_roles(df, overrides, source=source, prefer_xy=prefer_xy, category_map=category_map).roles


__all__ = [
    "ROLES",
    "ROLE_NAMES",
    "Detection",
    "SourceCRS",
    "check_overrides",
    "coordinates_of",
    "detect_columns",
    "detect_roles",
    "is_projected_crs",
    "source_crs_of",
]
