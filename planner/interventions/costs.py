"""Unit costs of crime per jurisdiction, with their sources, how each was verified, and price years.

Tables (EVIDENCE.md §4.7): Home Office Research Report 99 (Heeks et al. 2018), 2015/16 £, for the
UK; McCollister, French & Fang (2010), 2008 US$, for the US, and converted to Canadian dollars (a
labelled conversion) for Canada. Each figure carries ``verification``: ``primary table`` (read in the
source's own table), ``secondary summary`` (read in a summary that quotes it) or ``unverified`` (not
found in any text the check could read; docs/EVIDENCE_CHECKS.md). Every figure carries an interval
(``low``–``high`` in the table's money) with its basis: a range between two published estimates, or
the point alone where the checked source gives no interval (said so). Categories whose cost depends
on what the data do not record are not costed: an ``assault`` without an injury flag is not costed as
violence with injury. Every category of the shipped category map is either costed or listed in the
table's ``not_costed`` with the reason (``tests/test_costs_coverage.py`` enforces it); a measure's
benefit is then computed on its costed crimes only, and the uncosted ones are reported with their
share, never valued at zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.interventions.jurisdictions import Jurisdiction, exchange_rate, price_index_for

HO_SOURCE = (
    "Heeks, M., Reed, S., Tafsiri, M. & Prince, S. (2018). The economic and social costs of crime, 2nd ed. "
    "Home Office Research Report 99, Table 1 / Table E1 (2015/16 prices)."
)
US_SOURCE = (
    "McCollister, K. E., French, M. T. & Fang, H. (2010). The cost of crime to society. Drug and Alcohol "
    "Dependence 108:98-109, doi:10.1016/j.drugalcdep.2009.12.002, Table 5 (2008 US$)."
)
HO_SECONDARY = "South Wales Echo, 2 Aug 2019, 'Revealed: the cost of crime' (quotes Research Report 99)"
US_SECONDARY = "a public research note transcribing Table 5 of the PMC copy (PMC2835847)"
VERIFICATIONS = ("primary table", "secondary summary", "unverified")


#: Share of an RR99 unit cost spent *in anticipation* of crime (defensive expenditure, insurance
#: administration): preventing one more crime does not save it, so a benefit counts only the costs as
#: a consequence and in response. RR99's own split was not re-read; the share is taken from the
#: earlier Home Office series' split of a dwelling burglary (HORS 217: security expenditure about
#: 300 and insurance administration about 100 of about 2,300 per burglary, 2000 prices) and applied
#: to the property crimes (assumption); violent, sexual and robbery costs are kept whole.
RR99_ANTICIPATION_SHARE = 0.17
RR99_ANTICIPATION_SOURCE = (
    "assumption: anticipation costs (defensive expenditure, insurance administration) taken as 17% of the "
    "RR99 unit cost of property crimes, from the Home Office's earlier split of a dwelling burglary (Brand & "
    "Price 2000, HORS 217: about 300 security and 100 insurance administration of about 2,300); removed "
    "because preventing one crime does not save them"
)
_RR99_PROPERTY = (
    "burglary",
    "theft_from_vehicle",
    "theft_of_vehicle",
    "vehicle_crime",
    "criminal_damage",
    "theft",
    "arson",
)

#: Interval basis of a figure whose checked source gives no interval.
POINT_ONLY = "point only: no interval was read in the checked source"


@dataclass(frozen=True)
class CostRow:
    """One row of a cost-of-crime table in its own currency and price year.

    ``low``/``high`` bound the figure (default: the point itself, ``interval_basis`` saying why).
    """

    offence: str
    amount: float
    verification: str
    checked_in: str = ""
    low: float | None = None
    high: float | None = None
    interval_basis: str = POINT_ONLY

    @property
    def interval(self) -> tuple[float, float]:
        """``(low, high)`` in the table's currency and price year (the point when none is given)."""
        low = self.amount if self.low is None else self.low
        high = self.amount if self.high is None else self.high
        return low, high


@dataclass(frozen=True)
class CostTable:
    """A cost-of-crime table: category → row, in ``currency`` at ``price_year`` prices."""

    name: str
    source: str
    currency: str
    price_year: int
    rows: dict[str, CostRow]
    not_costed: dict[str, str]
    anticipation: dict[str, float] | None = None
    anticipation_source: str = ""


@dataclass(frozen=True)
class CrimeCost:
    """Cost per offence in ``currency`` at ``price_year`` prices, with its provenance."""

    category: str
    offence: str
    amount: float
    currency: str
    price_year: int
    source: str
    verification: str
    conversion: str = ""
    low: float = float("nan")
    high: float = float("nan")
    interval_basis: str = POINT_ONLY
    anticipation_share: float = 0.0

    @property
    def avoidable(self) -> float:
        """The part of ``amount`` one prevented crime saves: costs as a consequence and in response,
        without the costs in anticipation (defensive expenditure, insurance administration).
        """
        return self.amount * (1.0 - self.anticipation_share)

    @property
    def verified(self) -> bool:
        """True when the figure was read in the source's table or a summary quoting it."""
        return self.verification != "unverified"


def _ho(offence: str, amount: float, verification: str = "secondary summary") -> CostRow:
    return CostRow(offence, amount, verification, HO_SECONDARY if verification != "unverified" else "")


def _us(offence: str, amount: float) -> CostRow:
    return CostRow(offence, amount, "secondary summary", US_SECONDARY)


#: Share of violent incidents with an injury (CSEW year ending March 2017: 53% without injury).
INJURED_SHARE = 0.47
INJURED_SHARE_SOURCE = (
    "ONS, The nature of violent crime in England and Wales: year ending March 2017 ('violence without injury "
    "accounted for around half (53%) of all CSEW violent incidents')"
)
#: DeLisi et al. (2010), willingness-to-pay estimate of one aggravated assault (EVIDENCE.md §4.7).
DELISI_AGG_ASSAULT = 145379.0
DELISI_SOURCE = (
    "DeLisi, M., Kosloski, A., Sween, M., Hachmeister, E., Moore, M. & Drury, A. (2010). Murder by numbers: "
    "monetary costs imposed by a sample of homicide offenders. Journal of Forensic Psychiatry & Psychology "
    "21(4):501-513 (victim, justice-system and productivity costs plus willingness to pay; the $145,379 read in "
    "a press summary, price year not checked)"
)
_AGG_US = CostRow(
    "Aggravated assault (shootings with a victim included: no separate firearm-injury cost is cited)",
    107020.0,
    "secondary summary",
    US_SECONDARY,
    low=107020.0,
    high=DELISI_AGG_ASSAULT,
    interval_basis=(
        "between two published estimates, not a confidence interval: McCollister et al. 2010 "
        f"($107,020, tangible and intangible costs) and {DELISI_SOURCE} ($145,379)"
    ),
)
_AGG_UK = CostRow(
    "Aggravated assault approximated by RR99 'violence with injury' (RR99 has no separate row for "
    "assault with a weapon or serious wounding; its with-injury average likely understates a serious "
    "wounding or a shooting and overstates a weapon assault without injury)",
    14050.0,
    "secondary summary",
    HO_SECONDARY,
    interval_basis=POINT_ONLY + "; the figure is an approximation (see the offence text)",
)
_NOT_A_VICTIM_CRIME = (
    "not costed: no victim-based cost-of-crime row applies to {what}, and no cited cost exists for it"
)
#: Categories of the category map that neither table costs, with why (both tables).
_NOT_COSTED_COMMON = {
    "anti_social_behaviour": _NOT_A_VICTIM_CRIME.format(
        what="anti-social behaviour (nuisance, disorder and environmental problems, not a crime type)"
    ),
    "recovered_vehicle": "not costed: where a stolen vehicle was found, not a crime; the theft is costed where it happened",
    "traffic": _NOT_A_VICTIM_CRIME.format(what="road traffic events"),
    "shooting": (
        "not costed: shots fired and acoustic gunshot detections need not have hit or targeted anyone, "
        "and no cost of a shots-fired incident is cited; shootings with a victim are costed as "
        "aggravated assault"
    ),
    "drugs": _NOT_A_VICTIM_CRIME.format(what="drug offences (recorded where police find them)"),
    "weapons": _NOT_A_VICTIM_CRIME.format(what="weapon possession offences"),
    "public_order": _NOT_A_VICTIM_CRIME.format(what="public order offences"),
    "trespass": _NOT_A_VICTIM_CRIME.format(what="trespass"),
    "other": "not costed: a catch-all category without a single crime type, so no unit cost applies",
}
_INJURY_UNKNOWN_US = (
    "not costed: the data do not say whether the assault was aggravated, and McCollister et al. cost only "
    "aggravated assault; costing every assault as aggravated would overstate it"
)

TABLES: dict[str, CostTable] = {
    "home_office_rr99": CostTable(
        name="Home Office RR99",
        source=HO_SOURCE,
        currency="GBP",
        price_year=2015,
        rows={
            "burglary": _ho("Domestic burglary", 5930.0, "unverified"),
            "robbery": _ho("Robbery", 11320.0),
            "theft_from_vehicle": _ho("Theft from vehicle", 870.0),
            "theft_of_vehicle": _ho("Theft of vehicle", 10290.0),
            "vehicle_crime": _ho("Theft from vehicle (most vehicle crime)", 870.0),
            "violence_with_injury": _ho("Violence with injury", 14050.0),
            "assault": CostRow(
                "Assault, injury not recorded: lower bound = 47% injured × violence with injury; the "
                "uninjured 53% valued at zero (no checked violence-without-injury cost: the £5,930 once "
                "listed is the domestic-burglary figure copied)",
                14050.0 * INJURED_SHARE,
                "secondary summary",
                f"{HO_SECONDARY}; {INJURED_SHARE_SOURCE}",
            ),
            "violence": CostRow(
                "Violence, injury not recorded: lower bound as for assault",
                14050.0 * INJURED_SHARE,
                "secondary summary",
                f"{HO_SECONDARY}; {INJURED_SHARE_SOURCE}",
            ),
            "criminal_damage": _ho("Criminal damage (other than arson)", 1350.0),
            "theft": _ho("Theft from the person (closest row for other theft)", 1380.0, "unverified"),
            "arson": _ho("Arson", 8420.0),
            "rape": _ho("Rape", 39360.0),
            "sexual_offence": _ho("Other sexual offences", 6520.0),
            "homicide": _ho("Homicide", 3217740.0),
            "aggravated_assault": _AGG_UK,
        },
        anticipation=dict.fromkeys(_RR99_PROPERTY, RR99_ANTICIPATION_SHARE),
        anticipation_source=RR99_ANTICIPATION_SOURCE,
        not_costed={
            **_NOT_COSTED_COMMON,
            "fraud": (
                "not costed: no RR99 fraud figure was checked (EVIDENCE.md §4.7), and fraud rarely happens "
                "at the place recorded"
            ),
            "handling_stolen_goods": (
                "not costed: RR99 has no row for handling stolen goods (recorded where the goods are found; "
                "the theft is costed where it happened)"
            ),
        },
    ),
    "mccollister_2010": CostTable(
        name="McCollister et al. 2010",
        source=US_SOURCE,
        currency="USD",
        price_year=2008,
        rows={
            "burglary": _us("Household burglary", 6462.0),
            "robbery": _us("Robbery", 42310.0),
            "theft_from_vehicle": _us("Larceny/theft", 3532.0),
            "theft_of_vehicle": _us("Motor vehicle theft", 10772.0),
            "vehicle_crime": _us("Larceny/theft (most vehicle crime)", 3532.0),
            "aggravated_assault": _AGG_US,
            "criminal_damage": _us("Vandalism", 4860.0),
            "theft": _us("Larceny/theft", 3532.0),
            "arson": _us("Arson", 21103.0),
            "rape": _us("Rape/sexual assault", 240776.0),
            "sexual_offence": _us("Rape/sexual assault", 240776.0),
            "homicide": _us("Murder", 8982907.0),
            "fraud": _us("Fraud (forgery 5,265 and embezzlement 5,480 are close)", 5032.0),
            "handling_stolen_goods": _us("Stolen property", 7974.0),
        },
        not_costed={**_NOT_COSTED_COMMON, "assault": _INJURY_UNKNOWN_US, "violence": _INJURY_UNKNOWN_US},
    ),
}


def crime_cost(
    category: str, jurisdiction: Jurisdiction, *, currency: str | None = None, price_year: int | None = None
) -> CrimeCost | None:
    """Unit cost of one ``category`` offence for ``jurisdiction`` (``None``: not costed).

    Parameters
    ----------
    category : str
        Canonical crime category (``burglary``, ``robbery``, ...).
    jurisdiction : Jurisdiction
        Gives the table, the currency and the price year.
    currency, price_year : optional
        Display currency and price year; default the jurisdiction's. Another currency is reached
        through the labelled exchange rates of ``jurisdictions.toml``.
    """
    table = TABLES[jurisdiction.crime_costs]
    row = table.rows.get(category)
    if row is None:
        return None
    year = price_year or jurisdiction.price_year
    factor = jurisdiction.price_index.factor(table.price_year, year)
    notes = []
    if jurisdiction.conversion is not None:
        factor *= jurisdiction.conversion.rate
        notes.append(jurisdiction.conversion.note)
    target = currency or jurisdiction.currency
    if target != jurisdiction.currency:
        rate = exchange_rate(jurisdiction.currency, target)
        factor *= rate.rate
        notes.append(
            f"shown in {target} at {rate.rate:.3f} per {jurisdiction.currency} ({rate.source}; {rate.verification})"
        )
    low, high = row.interval
    return CrimeCost(
        category,
        row.offence,
        row.amount * factor,
        target,
        year,
        table.source,
        row.verification,
        "; ".join(notes),
        low * factor,
        high * factor,
        row.interval_basis,
        (table.anticipation or {}).get(category, 0.0),
    )


@dataclass(frozen=True)
class MixValue:
    """What the crimes a measure reaches are worth: ``value`` is the mean unit cost of the costed ones,
    ``costed_share`` their share of the reached crimes; ``uncosted`` lists the others as
    ``(category, share of the reached crimes, reason)``; ``unverified`` the costed categories whose
    figure was not re-verified.
    """

    value: float
    costed_share: float
    uncosted: tuple[tuple[str, float, str], ...]
    unverified: tuple[str, ...]
    values: tuple[tuple[str, float], ...] = ()
    anticipation_removed: bool = False

    def value_of(self, category: str) -> float:
        """The avoidable unit cost of one ``category`` crime (NaN when not costed)."""
        return dict(self.values).get(category, float("nan"))


def value_of_mix(
    mix: Any, jurisdiction: Jurisdiction, *, currency: str | None = None, price_year: int | None = None
) -> MixValue:
    """Value the reached crimes (``mix``: category → count) on the costed ones only.

    Parameters
    ----------
    mix : pandas.Series
        Reached crimes by category.
    jurisdiction : Jurisdiction
        Gives the cost table, currency and price year.
    currency, price_year : optional
        As for :func:`crime_cost`.

    Returns
    -------
    MixValue
        A crime without a unit cost is never valued at zero: it is left out of ``value`` and reported
        in ``uncosted`` with its share, and a benefit is ``prevented × costed_share × value``.
    """
    total_count = max(int(sum(int(c) for c in mix.values)), 1)
    total, costed = 0.0, 0
    uncosted, unverified, values = [], [], []
    removed = False
    for category, count in mix.items():
        cost = crime_cost(str(category), jurisdiction, currency=currency, price_year=price_year)
        if cost is None:
            reason = not_costed_reason(str(category), jurisdiction)
            uncosted.append((str(category), int(count) / total_count, reason))
            continue
        total += cost.avoidable * int(count)
        costed += int(count)
        values.append((str(category), cost.avoidable))
        removed |= cost.anticipation_share > 0
        if not cost.verified:
            unverified.append(f"{category} ({cost.offence}: {cost.verification})")
    value = total / costed if costed else float("nan")
    return MixValue(value, costed / total_count, tuple(uncosted), tuple(unverified), tuple(values), removed)


def uncosted_share(categories: Any, jurisdiction: Jurisdiction) -> float:
    """Share of ``categories`` (one per incident) that the jurisdiction's table does not cost."""
    values = [str(c) for c in categories]
    if not values:
        return float("nan")
    rows = TABLES[jurisdiction.crime_costs].rows
    return sum(c not in rows for c in values) / len(values)


def not_costed_reason(category: str, jurisdiction: Jurisdiction) -> str:
    """Why ``category`` has no unit cost in the jurisdiction's table."""
    table = TABLES[jurisdiction.crime_costs]
    return table.not_costed.get(category, f"no {table.name} row for '{category}'")


def money(
    amount: float, *, currency: str, price_year: int, to_currency: str, to_year: int
) -> tuple[float, str]:
    """Move a measure cost between price years (own CPI) and currencies (labelled rate); the note says how."""
    value = (
        amount * price_index_for(currency).factor(price_year, to_year) if price_year != to_year else amount
    )
    if currency == to_currency:
        return value, ""
    rate = exchange_rate(currency, to_currency)
    return value * rate.rate, (
        f"converted to {to_currency} from the catalogue's cost assumption at {rate.rate:.3f} per unit of its "
        f"currency ({rate.verification} {rate.year} exchange rate)"
    )


def price_note(jurisdiction: Jurisdiction | None, currency: str | None, price_year: int | None) -> str:
    """One sentence naming the table, the price index and any conversion behind the money figures."""
    if jurisdiction is None:
        return "No costs: no jurisdiction applies, so no cost table or currency is used."
    table = TABLES[jurisdiction.crime_costs]
    idx = jurisdiction.price_index
    text = (
        f"Costs of crime: {table.name} ({table.currency} {table.price_year}) inflated to {price_year} with "
        f"{idx.series} ({idx.verification}: {idx.check})"
    )
    if jurisdiction.conversion is not None:
        text += f"; {jurisdiction.conversion.note}"
    if currency and currency != jurisdiction.currency:
        rate = exchange_rate(jurisdiction.currency, currency)
        text += f"; shown in {currency} at {rate.rate:.3f} per {jurisdiction.currency} ({rate.verification})"
    return text + "."


__all__ = [
    "POINT_ONLY",
    "RR99_ANTICIPATION_SHARE",
    "TABLES",
    "VERIFICATIONS",
    "CostRow",
    "CostTable",
    "CrimeCost",
    "MixValue",
    "crime_cost",
    "money",
    "not_costed_reason",
    "price_note",
    "uncosted_share",
    "value_of_mix",
]
