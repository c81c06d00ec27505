"""Unit costs of crime per jurisdiction, with their sources, how each was verified, and price years.

Tables (EVIDENCE.md §4.7): Home Office Research Report 99 (Heeks et al. 2018), 2015/16 £, for the
UK; McCollister, French & Fang (2010), 2008 US$, for the US, and converted to Canadian dollars (a
labelled conversion) for Canada. Each figure carries ``verification``: ``primary table`` (read in the
source's own table), ``secondary summary`` (read in a summary that quotes it) or ``unverified`` (not
found in any text the check could read; docs/EVIDENCE_CHECKS.md). Categories whose cost depends on
what the data do not record are not costed: an ``assault`` without an injury flag is not costed as
violence with injury.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class CostRow:
    """One row of a cost-of-crime table in its own currency and price year."""

    offence: str
    amount: float
    verification: str
    checked_in: str = ""


@dataclass(frozen=True)
class CostTable:
    """A cost-of-crime table: category → row, in ``currency`` at ``price_year`` prices."""

    name: str
    source: str
    currency: str
    price_year: int
    rows: dict[str, CostRow]
    not_costed: dict[str, str]


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
        },
        not_costed={},
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
            "aggravated_assault": _us("Aggravated assault", 107020.0),
            "criminal_damage": _us("Vandalism", 4860.0),
            "theft": _us("Larceny/theft", 3532.0),
            "arson": _us("Arson", 21103.0),
            "rape": _us("Rape/sexual assault", 240776.0),
            "sexual_offence": _us("Rape/sexual assault", 240776.0),
            "homicide": _us("Murder", 8982907.0),
        },
        not_costed={"assault": _INJURY_UNKNOWN_US, "violence": _INJURY_UNKNOWN_US},
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
    value = row.amount * jurisdiction.price_index.factor(table.price_year, year)
    notes = []
    if jurisdiction.conversion is not None:
        value *= jurisdiction.conversion.rate
        notes.append(jurisdiction.conversion.note)
    target = currency or jurisdiction.currency
    if target != jurisdiction.currency:
        rate = exchange_rate(jurisdiction.currency, target)
        value *= rate.rate
        notes.append(
            f"shown in {target} at {rate.rate:.3f} per {jurisdiction.currency} ({rate.source}; {rate.verification})"
        )
    return CrimeCost(
        category, row.offence, value, target, year, table.source, row.verification, "; ".join(notes)
    )


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
    "TABLES",
    "VERIFICATIONS",
    "CostRow",
    "CostTable",
    "CrimeCost",
    "crime_cost",
    "money",
    "not_costed_reason",
    "price_note",
]
