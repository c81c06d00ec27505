"""Unit costs of crime for benefit estimates, with their sources and price-year adjustment.

Tables (EVIDENCE.md §4.7): Home Office Research Report 99 (Heeks et al. 2018), 2015/16 £, and
McCollister, French & Fang (2010), 2008 US$. Figures marked ``verified=False`` were not re-read
in the source (EVIDENCE.md "[mem]"); the price indices are labelled assumptions to replace with
official series.
"""

from __future__ import annotations

from dataclasses import dataclass

HO_SOURCE = (
    "Heeks, M., Reed, S., Tafsiri, M. & Prince, S. (2018). The economic and social costs of crime, 2nd ed. "
    "Home Office Research Report 99, Table E1 (2015/16 prices)."
)
US_SOURCE = (
    "McCollister, K. E., French, M. T. & Fang, H. (2010). The cost of crime to society. Drug and Alcohol "
    "Dependence 108:98-109, doi:10.1016/j.drugalcdep.2009.12.002, Table 5 (2008 US$)."
)


@dataclass(frozen=True)
class CrimeCost:
    """Cost per offence in ``currency`` at ``price_year`` prices."""

    category: str
    offence: str
    amount: float
    currency: str
    price_year: int
    source: str
    verified: bool


# canonical category → (Home Office offence, £, verified), (US offence, $, verified)
# The Home Office domestic burglary (£5,930) and theft from the person (£1,380) figures are EVIDENCE.md
# "[mem – verify]" values; a search of the stored source text did not reach Table E1 of Research Report 99,
# so they stay unverified (docs/EVIDENCE_CHECKS.md) and recommendations say so.
_TABLE: dict[str, tuple[tuple[str, float, bool], tuple[str, float, bool]]] = {
    "burglary": (("Domestic burglary", 5930.0, False), ("Household burglary", 6462.0, True)),
    "robbery": (("Robbery", 11320.0, True), ("Robbery", 42310.0, True)),
    "theft_from_vehicle": (("Theft from vehicle", 870.0, True), ("Larceny/theft", 3532.0, True)),
    "theft_of_vehicle": (("Theft of vehicle", 10290.0, True), ("Motor vehicle theft", 10772.0, True)),
    "vehicle_crime": (("Theft from vehicle", 870.0, True), ("Larceny/theft", 3532.0, True)),
    "assault": (("Violence with injury", 14050.0, True), ("Aggravated assault", 107020.0, True)),
    "violence": (("Violence with injury", 14050.0, True), ("Aggravated assault", 107020.0, True)),
    "criminal_damage": (("Criminal damage (other than arson)", 1350.0, True), ("Vandalism", 4860.0, True)),
    "theft": (("Theft from person", 1380.0, False), ("Larceny/theft", 3532.0, True)),
    "arson": (("Arson", 8420.0, True), ("Arson", 21103.0, True)),
}

# Labelled assumptions: consumer price index ratios to the planning year and an exchange rate.
PRICE_INDEX = {
    ("GBP", 2015): 1.00,
    ("GBP", 2016): 1.01,
    ("GBP", 2020): 1.09,
    ("GBP", 2024): 1.33,
    ("GBP", 2025): 1.37,
    ("USD", 2008): 1.00,
    ("USD", 2015): 1.10,
    ("USD", 2020): 1.18,
    ("USD", 2024): 1.46,
    ("USD", 2025): 1.50,
}
PRICE_INDEX_NOTE = (
    "Assumption: CPI ratios (UK CPI 2015=1.00 → 2025≈1.37; US CPI-U 2008=1.00 → 2025≈1.50) and 1.27 USD per GBP; "
    "replace with official series for a funding bid."
)
USD_PER_GBP = 1.27


def price_factor(currency: str, from_year: int, to_year: int) -> float:
    """Multiplier taking ``currency`` amounts from ``from_year`` to ``to_year`` prices (nearest known years)."""
    years = sorted(y for c, y in PRICE_INDEX if c == currency)

    def index(year: int) -> float:
        nearest = min(years, key=lambda y: abs(y - year))
        return PRICE_INDEX[(currency, nearest)]

    return index(to_year) / index(from_year)


def convert(amount: float, *, currency: str, price_year: int, to_currency: str, to_year: int) -> float:
    """Convert an amount between currencies (labelled exchange-rate assumption) and price years."""
    value = amount * price_factor(currency, price_year, to_year)
    if currency == to_currency:
        return value
    return value * USD_PER_GBP if to_currency == "USD" else value / USD_PER_GBP


def crime_cost(category: str, *, currency: str = "GBP", price_year: int = 2025) -> CrimeCost | None:
    """Unit cost of one ``category`` offence in ``currency`` at ``price_year`` prices (None if unknown)."""
    row = _TABLE.get(category)
    if row is None:
        return None
    (offence, amount, verified), base_year, source = (
        (row[0], 2015, HO_SOURCE) if currency == "GBP" else (row[1], 2008, US_SOURCE)
    )
    value = amount * price_factor(currency, base_year, price_year)
    return CrimeCost(category, offence, value, currency, price_year, source, verified)
