"""Fiscal years by country: the table of fiscal-year starts, with its sources, and the fiscal year of a date.

Fiscal years use :data:`FISCAL_YEAR_START` for ``country`` (ISO 3166-1 alpha-3, or alpha-2). A two-year label
("2022-23", "2022/23", "FY22-23", "the 2022 to 2023 financial year") starts in its first year; in a country of
the table a bare split year ("in 2021-22", "in 2015/16") is read as its fiscal year, elsewhere "2021-22" is the
two calendar years. A one-year label ("FY23", "FY2023", "fiscal 2023") names the fiscal year by the year it ends
in (USA, IND, PAK, AUS, …), except Japan and the Nowruz years (Iran, Afghanistan since 2022), which name it by
the year it starts in. Iranian/Afghan solar-hijri labels (1300–1499, "the current Iranian year") and Nepali
Bikram Sambat labels (2050–2099 or with "BS", e.g. "2080/81") are converted; their first days move with another
calendar, so these ranges are flagged approximate. A valid country that is not in the table uses the calendar
year. For an unknown or absent country, a one-year label is that calendar year and a two-year label is 1 January
of the first year → 31 December of the second (the span that contains any fiscal year starting in the first
year); both are flagged approximate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final

from ._calendar import _add_years

# --------------------------------------------------------------------------------------------------------------
# Fiscal years
# --------------------------------------------------------------------------------------------------------------

# Month and day the government fiscal year starts, for countries where it is not 1 January. Unless noted, the source
# is the CIA World Factbook, field "Economy > Fiscal year" (edition of 17 May 2024, as mirrored in the
# factbook/factbook.json repository, commit c84be3ac); later editions dropped the field.
FISCAL_YEAR_START: Final[Mapping[str, tuple[int, int]]] = MappingProxyType(
    {
        # South Asia
        "IND": (4, 1),  # Factbook: 1 April - 31 March
        "PAK": (7, 1),  # Factbook: 1 July - 30 June
        "BGD": (7, 1),  # Factbook: 1 July - 30 June
        "BTN": (7, 1),  # Factbook: 1 July - 30 June
        "NPL": (7, 16),  # Factbook: 16 July - 15 July (Shrawan 1 of Bikram Sambat: 16 or 17 July; approximate)
        "AFG": (3, 21),  # Factbook: 21 March - 20 March; Hamal 1 (Nowruz, 20 or 21 March; approximate). Cabinet
        # decision of 10 January 2022 (Ariana News, 2022-01-12): from 1401 (21 March 2022) the fiscal year is the
        # solar year; before that, from 2012 (1392), it started on Jadi 1 (21/22 December). See _FISCAL_HISTORY.
        "IRN": (3, 21),  # Factbook: 21 March - 20 March (Farvardin 1, Nowruz: 20 or 21 March; approximate)
        # East and South-East Asia
        "JPN": (4, 1),  # Factbook: 1 April - 31 March
        "HKG": (4, 1),  # Factbook: 1 April - 31 March
        "SGP": (4, 1),  # Factbook: 1 April - 31 March
        "BRN": (4, 1),  # Factbook: 1 April - 31 March
        "MMR": (4, 1),  # Factbook: 1 April - 31 March; 1 October from 2018-19 to 2020-21, back to 1 April from
        # 2022-23 after a 6-month interim period (Global New Light of Myanmar; Irrawaddy 2017-10-31). See history.
        "THA": (10, 1),  # Factbook: 1 October - 30 September
        "LAO": (10, 1),  # Factbook: 1 October - 30 September
        # Middle East
        "KWT": (4, 1),  # Factbook: 1 April - 31 March (from 2001; MEES 2000-03-27)
        # Qatar: the Factbook lists 1 April - 31 March, but the state budget has followed the calendar year since
        # 2016 (Qatar Ministry of Finance budget statements); left out, i.e. calendar year.
        # Africa
        "EGY": (7, 1),  # Factbook: 1 July - 30 June
        "ETH": (7, 8),  # Factbook: 8 July - 7 July (Hamle 1 of the Ethiopian calendar, 7 or 8 July; approximate)
        "KEN": (7, 1),  # Factbook: 1 July - 30 June
        "UGA": (7, 1),  # Factbook: 1 July - 30 June
        "TZA": (7, 1),  # Factbook: 1 July - 30 June
        "CMR": (7, 1),  # Factbook: 1 July - 30 June
        "MUS": (7, 1),  # Factbook: 1 July - 30 June
        "ZAF": (4, 1),  # Factbook: 1 April - 31 March
        "BWA": (4, 1),  # Factbook: 1 April - 31 March
        "NAM": (4, 1),  # Factbook: 1 April - 31 March
        "LSO": (4, 1),  # Factbook: 1 April - 31 March
        "SWZ": (4, 1),  # Factbook: 1 April - 31 March
        "MWI": (4, 1),  # Factbook: 1 April - 31 March
        "SHN": (4, 1),  # Factbook: 1 April - 31 March
        # Europe
        "GBR": (4, 1),  # Government financial year 1 April - 31 March (HM Treasury); the Factbook gives the
        # personal tax year, 6 April - 5 April.
        "GIB": (7, 1),  # Factbook: 1 July - 30 June
        "IMN": (4, 1),  # Factbook: 1 April - 31 March
        "JEY": (4, 1),  # Factbook: 1 April - 31 March
        # Americas
        "USA": (10, 1),  # Factbook: 1 October - 30 September (federal government)
        "CAN": (4, 1),  # Factbook: 1 April - 31 March
        "HTI": (10, 1),  # Factbook: 1 October - 30 September
        "TTO": (10, 1),  # Factbook: 1 October - 30 September
        "JAM": (4, 1),  # Factbook: 1 April - 31 March
        "BHS": (7, 1),  # Factbook: 1 July - 30 June
        "BRB": (4, 1),  # Factbook: 1 April - 31 March
        "BLZ": (4, 1),  # Factbook: 1 April - 31 March
        "ATG": (4, 1),  # Factbook: 1 April - 31 March
        "LCA": (4, 1),  # Factbook: 1 April - 31 March
        "DMA": (7, 1),  # Factbook: 1 July - 30 June
        "PRI": (7, 1),  # Factbook: 1 July - 30 June
        "AIA": (4, 1),  # Factbook: 1 April - 31 March
        "BMU": (4, 1),  # Factbook: 1 April - 31 March
        "CYM": (4, 1),  # Factbook: 1 April - 31 March
        "VGB": (4, 1),  # Factbook: 1 April - 31 March
        "MSR": (4, 1),  # Factbook: 1 April - 31 March
        "VIR": (10, 1),  # Factbook: 1 October - 30 September
        "FLK": (4, 1),  # Factbook: 1 April - 31 March
        # Oceania
        "AUS": (7, 1),  # Factbook: 1 July - 30 June
        "NZL": (7, 1),  # Government financial year 1 July - 30 June (Public Finance Act 1989, s 2); the Factbook
        # gives the tax year, 1 April - 31 March.
        "TON": (7, 1),  # Factbook: 1 July - 30 June
        "NRU": (7, 1),  # Factbook: 1 July - 30 June
        "WSM": (6, 1),  # Factbook: June 1 - May 31
        "PLW": (10, 1),  # Factbook: 1 October - 30 September
        "MHL": (10, 1),  # Factbook: 1 October - 30 September
        "FSM": (10, 1),  # Factbook: 1 October - 30 September
        "ASM": (10, 1),  # Factbook: 1 October - 30 September
        "GUM": (10, 1),  # Factbook: 1 October - 30 September
        "MNP": (10, 1),  # Factbook: 1 October - 30 September
        "COK": (4, 1),  # Factbook: 1 April - 31 March
        "NIU": (4, 1),  # Factbook: 1 April - 31 March
        "TKL": (4, 1),  # Factbook: 1 April - 31 March
        "PCN": (4, 1),  # Factbook: 1 April - 31 March
        "NFK": (7, 1),  # Factbook: 1 July - 30 June
        "CXR": (7, 1),  # Factbook: 1 July - 30 June
        "CCK": (7, 1),  # Factbook: 1 July - 30 June
    }
)

# Earlier regimes: (first fiscal-year start under the rule, (month, day)), oldest first.
_FISCAL_HISTORY: Final[Mapping[str, tuple[tuple[date, tuple[int, int]], ...]]] = MappingProxyType(
    {
        "AFG": ((date(1900, 1, 1), (3, 21)), (date(2012, 12, 21), (12, 21)), (date(2022, 3, 21), (3, 21))),
        "MMR": ((date(1900, 1, 1), (4, 1)), (date(2018, 10, 1), (10, 1)), (date(2022, 4, 1), (4, 1))),
    }
)
# Fiscal years whose start day moves with another calendar: their ranges are flagged approximate.
_FISCAL_APPROXIMATE: Final[frozenset[str]] = frozenset({"NPL", "IRN", "AFG", "ETH"})
# Countries that name a fiscal year by the calendar year it starts in ("FY2023" = April 2023 - March 2024 in Japan).
_FISCAL_NAMED_BY_START: Final[frozenset[str]] = frozenset({"JPN", "IRN"})

_ISO2_TO_ISO3: dict[str, str] | None = None


def _country_iso3(country: str | None) -> tuple[str | None, bool]:
    """(ISO3 code, known) for an ISO 3166-1 alpha-3 or alpha-2 code; known is False for None or an unknown code."""
    if not country:
        return None, False
    code = country.strip().upper()
    if code in FISCAL_YEAR_START:
        return code, True
    try:
        import pycountry
    except ImportError:  # pragma: no cover - pycountry is a project dependency
        return (code, True) if len(code) == 3 else (None, False)
    found = pycountry.countries.get(alpha_3=code) if len(code) == 3 else pycountry.countries.get(alpha_2=code)
    if found is None:
        return None, False
    return str(found.alpha_3), True


def _fiscal_rule(iso3: str, year: int) -> tuple[int, int]:
    """(month, day) of the fiscal year of ``iso3`` that starts in calendar year ``year``."""
    history = _FISCAL_HISTORY.get(iso3)
    if history is None:
        return FISCAL_YEAR_START.get(iso3, (1, 1))
    for effective, (month, day) in reversed(history):
        if date(year, month, day) >= effective:
            return month, day
    return history[0][1]


def _nowruz(year: int) -> date:
    """1 Farvardin, the Iranian new year: 20 March in Gregorian leap years, else 21 March.

    The day is the one on which the March equinox falls before noon in Tehran; the leap-year rule matches it for
    1993-2028 and drifts outside (e.g. 1992 and 2029), so ranges built on it stay flagged approximate.
    """
    return date(year, 3, 20 if year % 4 == 0 else 21)


def _fiscal_start(iso3: str, year: int) -> date:
    month, day = _fiscal_rule(iso3, year)
    if (month, day) == (3, 21) and iso3 in ("IRN", "AFG"):
        return _nowruz(year)
    return date(year, month, day)


def _fiscal_year(iso3: str, start_year: int) -> tuple[date, date]:
    start = _fiscal_start(iso3, start_year)
    nxt = _fiscal_start(iso3, start_year + 1)
    if (nxt - start).days > 366:  # the year before a change of start (MMR 2017-18): at most twelve months
        nxt = _add_years(start, 1)
    end = nxt - timedelta(days=1)
    return start, end
