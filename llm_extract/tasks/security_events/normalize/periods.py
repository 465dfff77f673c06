"""Dates and periods as news writes them, resolved to inclusive date ranges.

:func:`resolve_period` turns a period phrase ("so far this year", "in the first half of 2023", "FY2022-23",
"between 10 and 12 September 2024", "mid-March", "over the last six months") into a :class:`DateRange`, using the
article's dateline (``published``) for relative phrases. It never invents an anchor: a relative phrase with
``published=None`` gives None, and so do vague phrases ("recently", "in recent days", "the past few weeks") and
single days ("on Tuesday", "10 September 2024", "Sept. 10", "yesterday": another function resolves those with the
weekday rule). Only the standard library is used (plus ``pycountry``, if installed, to accept ISO alpha-2 codes).

Rules
-----
* Weeks are ISO weeks (Monday–Sunday). "last week" is the previous Monday–Sunday; "this week", "during the week"
  and "earlier this week" run from this week's Monday to ``published``. "last weekend" is the latest Saturday–Sunday
  that ended before ``published``; "the weekend" is the current one when ``published`` is a Saturday or Sunday.
* "last month/year/quarter", "the previous week" are calendar units; "the past week", "the last week",
  "the past/last N days/weeks/months/years", "the past 24 hours", "in less than 48 hours" are trailing windows
  ending on ``published`` (N hours → ``published`` minus ceil(N/24) days; N months → the same day N months
  earlier, clamped). "overnight" is ``published`` − 1 → ``published``.
* A calendar unit or relative period that contains ``published`` is cut at it ("this year", "this month",
  "in 2024" in a 2024 article, "since March", "so far this year"): an article reports what has happened.
  An explicit range is kept as written ("from January 3 to January 31, 2025" in a 17 January article).
  A month, half, quarter, part, season or range written without a year is its latest occurrence that starts on or
  before ``published`` ("in March" in a June 2024 article is March 2024, in a February 2024 article March 2023).
* "since X", "from X to date/until now": X's first day → ``published`` (None if X is after ``published``); X may be
  any period this function reads ("since the middle of last year", "since 2008/09"). "since Monday" is the latest
  Monday on or before ``published``; "since last Monday" the latest one before it.
* "the year to March 2025", "year ending March 2024", "the 12 months to March last year": the twelve months ending
  with that month. Weekday pairs ("between Thursday and Friday", "overnight from Saturday to Sunday"): the latest
  such days up to ``published``. Lists and pairs of days or months ("June, July and August", "November 7 and 8")
  run from the first to the last.
* Parts are approximate: early = days 1–10 / January–April, mid = 11–20 / May–August, late = 21–end /
  September–December; "the start/beginning of", "the middle of", "the end of" read as early, mid, late; for a week,
  early = Monday–Wednesday, mid = Wednesday–Thursday, late = Thursday–Sunday. Seasons are meteorological (summer =
  June–August, winter = December–February), flipped for southern-hemisphere countries, and approximate.
* Bracketed explicit days win over the phrase around them ("in the past week (May 17-23)"); a phrase with a spaced
  dash or colon is read from its most specific part ("in 10 months — from July last year to April this year").
* Spanish, Portuguese, French, Italian, German and Indonesian period words are rewritten to English first
  ("en las últimas dos semanas", "el pasado fin de semana", "depuis le début de l'année", "im Jahr 2018",
  "durante el primer trimestre de este año", "entre el 5 y 13 de junio").
* ``precision`` is the calendar unit when the range is one such unit (possibly cut at ``published``): "day",
  "week", "month", "quarter", "half", "year" (fiscal and statistical years too); anything else (explicit ranges,
  trailing windows, "since", parts of a month or year, seasons, "overnight") is "range".
* Fiscal years use :data:`FISCAL_YEAR_START` for ``country`` (ISO 3166-1 alpha-3, or alpha-2). A two-year label
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

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final, Literal

__all__ = ["FISCAL_YEAR_START", "DateRange", "Precision", "resolve_period"]

Precision = Literal["day", "week", "month", "quarter", "half", "year", "range"]


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of days."""

    start: date
    end: date
    precision: Precision
    approximate: bool

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"DateRange start {self.start} is after its end {self.end}")

    def iso(self) -> str:
        """ISO 8601: "2023-01-01/2023-06-30" for a range, "2023-06-30" for a single day."""
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


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


# --------------------------------------------------------------------------------------------------------------
# Calendar helpers
# --------------------------------------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _month_end(year, month).day))


def _add_years(day: date, years: int) -> date:
    return _add_months(day, 12 * years)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}
_COUNT_WORDS: Final[dict[str, int]] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20,
    "twenty-four": 24, "thirty": 30, "thirty-six": 36, "forty-eight": 48, "sixty": 60, "seventy-two": 72,
    "ninety": 90, "couple of": 2, "a couple of": 2, "dos": 2, "dois": 2, "duas": 2, "deux": 2, "tres": 3, "três": 3,
    "trois": 3, "cuatro": 4, "quatro": 4, "seis": 6, "doce": 12, "doze": 12, "24": 24,
}  # fmt: skip
_ORDINALS: Final[dict[str, int]] = {"first": 1, "second": 2, "third": 3, "fourth": 4, "final": 4, "last": 4}

_MONTH_RE = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar"
_MONTH_RE += r"|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
_YEAR_RE = r"(?:1[89]\d\d|20\d\d)"
_COUNT_RE = r"(?:\d{1,3}|" + "|".join(sorted((re.escape(w) for w in _COUNT_WORDS), key=len, reverse=True)) + ")"
_PART_RE = r"(?:early|mid|late|the start of|the beginning of|the middle of|the end of|the close of)"
_REL_YEAR_RE = r"(?:this year|last year|the year|the current year|the previous year|the past year|" + _YEAR_RE + ")"

_Part = Literal["early", "mid", "late"]


def _part_name(text: str | None) -> _Part | None:
    if not text:
        return None
    if text.startswith("early") or "start" in text or "beginning" in text:
        return "early"
    if text.startswith("mid") or "middle" in text:
        return "mid"
    return "late"


def _month_part(year: int, month: int, part: _Part | None) -> tuple[date, date]:
    end = _month_end(year, month)
    if part is None:
        return date(year, month, 1), end
    if part == "early":
        return date(year, month, 1), date(year, month, 10)
    if part == "mid":
        return date(year, month, 11), date(year, month, 20)
    return date(year, month, 21), end


def _year_part(year: int, part: _Part | None) -> tuple[date, date]:
    if part is None:
        return date(year, 1, 1), date(year, 12, 31)
    if part == "early":
        return date(year, 1, 1), date(year, 4, 30)
    if part == "mid":
        return date(year, 5, 1), date(year, 8, 31)
    return date(year, 9, 1), date(year, 12, 31)


# --------------------------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    published: date | None
    iso3: str | None
    country_known: bool
    preposition: bool = False  # the phrase began with "in", "during", …


def _make(
    start: date, end: date, precision: Precision, approximate: bool, published: date | None, *, cut: bool = True
) -> DateRange | None:
    if cut and published is not None and start <= published < end:
        end = published
    if start > end:
        return None
    return DateRange(start, end, precision, approximate)


def _latest(build: Callable[[int], tuple[date, date]], published: date | None) -> tuple[date, date] | None:
    """The latest occurrence (by year) of a year-less period that starts on or before ``published``."""
    if published is None:
        return None
    for year in (published.year + 1, published.year, published.year - 1, published.year - 2):
        try:
            start, end = build(year)
        except ValueError:  # 29 February in a common year
            continue
        if start <= published:
            return start, end
    return None


def _year_of(text: str | None, published: date | None) -> int | None | Literal[False]:
    """Year named by ``text`` (None if ``text`` is None, False if it needs ``published`` and there is none)."""
    if text is None:
        return None
    if re.fullmatch(_YEAR_RE, text):
        return int(text)
    if published is None:
        return False
    if text in ("this year", "the year", "the current year"):
        return published.year
    if text in ("last year", "the previous year", "the past year"):
        return published.year - 1
    return False


def _two_digit_year(text: str) -> int:
    value = int(text)
    return value if value >= 100 else 2000 + value


@dataclass
class _Point:
    year: int | None = None
    month: int | None = None
    day: int | None = None


_POINT_PATTERNS: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(rf"(?P<year>{_YEAR_RE})"),
    re.compile(rf"(?P<month>{_MONTH_RE})(?: (?P<year>{_YEAR_RE}))?"),
    re.compile(rf"(?P<day>[0-3]?\d) (?P<month>{_MONTH_RE})(?: (?P<year>{_YEAR_RE}))?"),
    re.compile(rf"(?P<month>{_MONTH_RE}) (?P<day>[0-3]?\d)(?: (?P<year>{_YEAR_RE}))?"),
    re.compile(r"(?P<day>[0-3]?\d)"),
    re.compile(rf"(?P<year>{_YEAR_RE})-(?P<month>[01]\d)-(?P<day>[0-3]\d)"),
)


def _point(text: str) -> _Point | None:
    text = text.strip()
    for pattern in _POINT_PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        groups = m.groupdict()
        month_text = groups.get("month")
        month = None
        if month_text:
            month = int(month_text) if month_text.isdigit() else _MONTHS[month_text]
        day = int(groups["day"]) if groups.get("day") else None
        year = int(groups["year"]) if groups.get("year") else None
        if day is not None and not 1 <= day <= 31:
            return None
        return _Point(year, month, day)
    return None


def _point_span(p: _Point) -> tuple[date, date]:
    """First and last day a complete point covers (raises ValueError for impossible dates)."""
    assert p.year is not None
    if p.month is None:
        return date(p.year, 1, 1), date(p.year, 12, 31)
    if p.day is None:
        return date(p.year, p.month, 1), _month_end(p.year, p.month)
    day = date(p.year, p.month, p.day)
    return day, day


def _resolve_range(left: str, right: str, ctx: _Ctx) -> DateRange | None:
    a, b = _point(left), _point(right)
    if a is None or b is None:
        return None
    # A bare day takes the other side's month: "10 and 12 September", "March 10-15".
    if a.month is None and a.day is not None:
        if b.month is None:
            return None
        a.month = b.month
        if a.year is None:
            a.year = b.year
    if b.month is None and b.day is not None:
        if a.month is None:
            return None
        b.month = a.month
        if b.year is None:
            b.year = a.year
    if (a.month is None) != (b.month is None) and (a.year is None or b.year is None):
        return None  # "from 2019 to March" with a year missing: not a clear range
    inherited = False
    if a.year is None and b.year is not None:
        a.year, inherited = b.year, True
    elif b.year is None and a.year is not None:
        b.year = a.year
        if (b.month or 1, b.day or 1) < (a.month or 1, a.day or 1):
            b.year += 1
    both_missing = a.year is None
    published = ctx.published

    def build(year: int) -> tuple[date, date]:
        pa = _Point(year, a.month, a.day)
        pb = _Point(year, b.month, b.day)
        if (a.month or 1, a.day or 1) > (b.month or 1, b.day or 1):
            pa.year = year - 1
        return _point_span(pa)[0], _point_span(pb)[1]

    try:
        if both_missing:
            span = _latest(build, published)
            if span is None:
                return None
            start, end = span
        else:
            assert a.year is not None and b.year is not None
            if inherited and (a.month or 1, a.day or 1) > (b.month or 1, b.day or 1):
                a.year -= 1
            start, end = _point_span(a)[0], _point_span(b)[1]
    except ValueError:
        return None
    if start > end:
        return None
    return DateRange(start, end, "range", False)  # an explicit range is kept as written, even past the dateline


def _since(anchor: str, ctx: _Ctx, *, approximate: bool = False) -> DateRange | None:
    """ "since X": the first day of X → published."""
    published = ctx.published
    if published is None:
        return None
    start: date | None = None
    anchor = re.sub(r"^(?:the )?(?:start|beginning) of ", "", anchor)
    if anchor in ("the year", "this year", "the current year"):
        start = date(published.year, 1, 1)
    elif anchor in ("last year", "the previous year"):
        start = date(published.year - 1, 1, 1)
    elif anchor in ("the month", "this month"):
        start = published.replace(day=1)
    elif anchor in ("last month", "the previous month"):
        start = _add_months(published.replace(day=1), -1)
    elif anchor in ("the week", "this week"):
        start = _monday(published)
    elif anchor in ("last week", "the previous week"):
        start = _monday(published) - timedelta(days=7)
    elif (m := re.fullmatch(r"(last )?(\w+)", anchor)) and m.group(2) in _WEEKDAYS:
        back = (published.weekday() - _WEEKDAYS[m.group(2)]) % 7
        if m.group(1) and back == 0:
            back = 7
        start = published - timedelta(days=back)
    elif (m := re.fullmatch(rf"(?:last )?({_MONTH_RE})(?: (this year|last year))?", anchor)) and (
        anchor.startswith("last ") or m.group(2)
    ):
        month = _MONTHS[m.group(1)]
        if m.group(2):
            year = published.year - (1 if m.group(2) == "last year" else 0)
        else:
            year = published.year if month < published.month else published.year - 1
        start = date(year, month, 1)
    else:
        p = _point(anchor)
        if p is None or (p.month is None and p.year is None):
            # "since the middle of last year", "since the first week of September", "since mid-2019"
            period = next((r for rule in _RULES if (r := rule(anchor, ctx)) is not None), None)
            if period is None or period.start > published:
                return None
            return DateRange(period.start, published, "range", approximate or period.approximate)
        if p.year is None:
            q = p

            def build(year: int) -> tuple[date, date]:
                return _point_span(_Point(year, q.month, q.day))

            span = _latest(build, published)
            if span is None:
                return None
            start = span[0]
        else:
            try:
                start = _point_span(p)[0]
            except ValueError:
                return None
    if start > published:
        return None
    return DateRange(start, published, "range", approximate)


def _count(text: str) -> int | None:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return _COUNT_WORDS.get(text)


def _trailing(count_text: str | None, unit: str, ctx: _Ctx) -> DateRange | None:
    published = ctx.published
    if published is None:
        return None
    approximate = bool(count_text and "couple" in count_text)
    n = 1 if count_text is None else _count(count_text)
    if n is None or n <= 0:
        return None
    unit = unit.rstrip("s")
    if unit == "hour":
        start = published - timedelta(days=max(1, math.ceil(n / 24)))
    elif unit == "day" or unit == "night":
        start = published - timedelta(days=n)
    elif unit == "week":
        start = published - timedelta(days=7 * n)
    elif unit == "fortnight":
        start = published - timedelta(days=14 * n)
    elif unit == "month":
        start = _add_months(published, -n)
    elif unit == "year":
        start = _add_years(published, -n)
    elif unit == "decade":
        start = _add_years(published, -10 * n)
    else:
        return None
    return DateRange(start, published, "range", approximate)


_UNITS: Final[dict[str, tuple[Precision, int]]] = {
    "week": ("week", 0),
    "month": ("month", 1),
    "quarter": ("quarter", 3),
    "half": ("half", 6),
    "year": ("year", 12),
}


def _unit_range(unit: str, offset: int, published: date) -> tuple[date, date, Precision]:
    """The calendar week/month/quarter/half/year containing ``published``, shifted by ``offset`` units."""
    precision, months = _UNITS[unit]
    if unit == "week":
        start = _monday(published) + timedelta(days=7 * offset)
        return start, start + timedelta(days=6), precision
    first = published.replace(day=1)
    first = _add_months(first, -((first.month - 1) % months))
    start = _add_months(first, offset * months)
    end = _add_months(start, months) - timedelta(days=1)
    return start, end, precision


def _fiscal_label(first: str, second: str | None, ctx: _Ctx, *, two_digit_ok: bool) -> DateRange | None:
    """A fiscal year from its label: ("2022", "23"), ("2023", None), ("23", None) …"""
    if len(first) == 2 and not two_digit_ok:
        return None
    y1 = _two_digit_year(first)
    iso3, known = ctx.iso3, ctx.country_known
    if second is not None:
        y2 = int(second)
        if (y2 - y1) % (100 if len(second) == 2 else 10**6) != 1:
            return None
    # Other calendars written as fiscal-year labels.
    if iso3 == "NPL" and 2050 <= y1 <= 2099:  # Bikram Sambat: Shrawan 1 of BS year Y is mid-July of AD Y - 57
        start = date(y1 - 57, 7, 16)
        return DateRange(start, _add_years(start, 1) - timedelta(days=1), "year", True)
    if iso3 in ("IRN", "AFG") and 1300 <= y1 <= 1499:  # solar hijri year S starts on Nowruz of AD S + 621
        g = y1 + 621
        if iso3 == "AFG" and 2012 < g < 2022:  # 1392-1400: Jadi 1 of the preceding year
            start, end = date(g - 1, 12, 21), date(g, 12, 20)
        else:
            start, end = _nowruz(g), _nowruz(g + 1) - timedelta(days=1)
        return DateRange(start, end, "year", True)
    if not 1900 <= y1 <= 2100:
        return None
    if iso3 is None or not known:
        if second is None:
            return DateRange(date(y1, 1, 1), date(y1, 12, 31), "year", True)
        return DateRange(date(y1, 1, 1), date(y1 + 1, 12, 31), "range", True)
    month, _day = _fiscal_rule(iso3, y1)
    if (month, _day) == (1, 1) and iso3 not in FISCAL_YEAR_START:
        if second is not None:  # a split label for a calendar-year country: cover both years
            return DateRange(date(y1, 1, 1), date(y1 + 1, 12, 31), "range", True)
        return DateRange(date(y1, 1, 1), date(y1, 12, 31), "year", False)
    if second is not None or iso3 in _FISCAL_NAMED_BY_START or (iso3 == "AFG" and _fiscal_rule(iso3, y1)[0] == 3):
        start_year = y1
    else:
        start_year = y1 - 1
    start, end = _fiscal_year(iso3, start_year)
    return DateRange(start, end, "year", iso3 in _FISCAL_APPROXIMATE)


def _fiscal_around(offset: int, ctx: _Ctx) -> DateRange | None:
    """The whole fiscal year containing ``published``, shifted by ``offset`` years (calendar year if unknown)."""
    published = ctx.published
    if published is None:
        return None
    iso3 = ctx.iso3 if ctx.country_known else None
    if iso3 is None:
        return DateRange(date(published.year + offset, 1, 1), date(published.year + offset, 12, 31), "year", True)
    start_year = published.year if _fiscal_start(iso3, published.year) <= published else published.year - 1
    start, end = _fiscal_year(iso3, start_year + offset)
    return DateRange(start, end, "year", iso3 in _FISCAL_APPROXIMATE)


def _fiscal_relative(offset: int, ctx: _Ctx) -> DateRange | None:
    fy = _fiscal_around(offset, ctx)
    return None if fy is None else _make(fy.start, fy.end, "year", fy.approximate, ctx.published)


# --------------------------------------------------------------------------------------------------------------
# Phrase rules
# --------------------------------------------------------------------------------------------------------------

_VAGUE = re.compile(
    r"(?:recently|lately|of late|in recent (?:days|weeks|months|years|times)|recent (?:days|weeks|months|years|times)"
    r"|(?:the )?(?:past|last|previous|coming|next) (?:few|several|many|some) \w+|(?:some|a) time ago|soon|later"
    r"|earlier|previously|before|in the past|the past|today|tonight|yesterday|tomorrow|this morning"
    r"|this afternoon|this evening|last night|the same period(?: last year)?|the same time last year|next \w+)"
)
_FILLER = re.compile(r"(?:in|during|throughout|within|for|over|across|at|of|on|from the period of)\s+")
_FISCAL_WORDS = r"(?:fiscal|financial|budget)(?: year)?"
_FY_LABEL = r"(\d{4}|\d{2})(?:[-/](\d{4}|\d{2}))?"


_FOREIGN_MONTHS: Final[dict[str, str]] = {
    name: english
    for english, names in {
        "january": "enero janeiro janvier gennaio januar januari",
        "february": "febrero fevereiro février febbraio februar februari",
        "march": "marzo março mars märz maret",
        "april": "abril avril aprile",
        "may": "mayo maio mai maggio mei",
        "june": "junio junho juin giugno juni",
        "july": "julio julho juillet luglio juli",
        "august": "agosto août agustus",
        "september": "septiembre setiembre setembro septembre settembre",
        "october": "octubre outubro octobre ottobre oktober",
        "november": "noviembre novembro novembre",
        "december": "diciembre dezembro décembre dicembre dezember desember",
    }.items()
    for name in names.split()
}
# Spanish, Portuguese, French, Italian, German, Indonesian period words, rewritten to English (applied in order).
_FOREIGN_UNITS: Final[dict[str, str]] = {
    word: english
    for english, words in {
        "hours": "horas heures ore stunden",
        "days": "días dias jours giorni tage",
        "weeks": "semanas semaines settimane wochen",
        "months": "meses mois mesi monate",
        "years": "años anos années anni jahre",
    }.items()
    for word in words.split()
}


def _foreign_window(m: re.Match[str]) -> str:
    """ "las últimas dos semanas" → "the past dos weeks"; "las últimas horas" → "the past 24 hours"."""
    count, unit = m.group(1), _FOREIGN_UNITS[m.group(2)]
    if count is None:
        return "the past 24 hours" if unit == "hours" else f"the past few {unit}"
    return f"the past {count} {unit}"


_FOREIGN_PHRASES: Final[tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...]] = (
    (r"\b(\d{1,2}) (?:de )?(?=" + _MONTH_RE + r"\b)", r"\1 "),
    (r"\b(" + _MONTH_RE + r") de (\d{4})\b", r"\1 \2"),
    (r"\b(?:el |o |la )?mes de (?=" + _MONTH_RE + r"\b)", ""),
    (
        (
            r"\b(?:desde|depuis|seit|dall'|dal|dalla|sejak)\b ?(?:el |o |le |l'|il )?(?:inicio|comienzo|principio|início"
            r"|début|inizio|beginn|anfang|awal) (?:del |de |do |de l'|dell'|des )?(?:año|ano|année|anno|jahres|tahun)"
            r"(?: en cours| corriente| en curso| em curso| in corso)?\b"
        ),
        "since the start of the year",
    ),
    (r"\b(\d{1,2} " + _MONTH_RE + r") (?:pasado|passado|dernier|scorso)\b", r"\1 last year"),
    (r"\b(?:el |o |le |l'|il )?(?:pasado|passado|dernier|scorso) (" + _MONTH_RE + r")\b", r"last \1"),
    (r"\b(" + _MONTH_RE + r") (?:pasado|passado|dernier|scorso)\b", r"last \1"),
    (
        (
            r"\b(?:(?:en |no |dans |nel )?(?:el |o |l'|il )?(?:presente|corriente|actual|atual|corrente) (?:año|ano|anno)"
            r"|l'année en cours|(?:este|esse|cette|quest'|questo|dieses|diesem) (?:año|ano|année|anno|jahr)|tahun ini)\b"
        ),
        "this year",
    ),
    (
        (
            r"\b(?:(?:el |o )?(?:año|ano) (?:pasado|passado)|l'année dernière|l'an dernier|l'anno scorso"
            r"|(?:im )?(?:vorigen|letzten|vergangenen) jahr|tahun lalu)\b"
        ),
        "last year",
    ),
    (
        (
            r"\b(?:(?:el |o |le )?(?:pasado|último|passado|dernier) (?:fin de semana|fim de semana|week-end)"
            r"|(?:el |o |le )?(?:fin de semana|fim de semana|week-end) (?:pasado|passado|dernier)"
            r"|(?:vom |am )?(?:vergangenen|letzten) wochenende)\b"
        ),
        "last weekend",
    ),
    (r"\b(?:esta semana|cette semaine|diese woche|questa settimana|minggu ini)\b", "this week"),
    (
        r"\b(?:la )?(?:semana pasada|semana passada|semaine dernière|letzte woche|vergangene woche|minggu lalu)\b",
        "last week",
    ),
    (r"\b(?:este mes|este mês|ce mois-ci|ce mois|diesen monat|bulan ini)\b", "this month"),
    (r"\b(?:el |o |le )?(?:mes pasado|mês passado|mois dernier|letzten monat|bulan lalu)\b", "last month"),
    (r"\b(?:desde|depuis|seit|dall'|dal|sejak)\b", "since"),
    (
        (
            r"\b(?:las |os |les |gli |die )?(?:últimas|ultimas|últimos|ultimos|derniers|dernières|ultime|ultimi|letzten)"
            r" (?:(\S+) )?(horas|heures|ore|stunden|días|dias|jours|giorni|tage|semanas|semaines|settimane|wochen|meses|mois"
            r"|mesi|monate|años|anos|années|anni|jahre)\b"
        ),
        _foreign_window,
    ),
    (r"\b(?:en |em )?menos de (\d+) (horas|días|dias)\b", _foreign_window),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:primer|primeiro|premier|primo|ersten|erste) (?:trimestre|quartal)\b",
        "the first quarter",
    ),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:segundo|deuxième|secondo|zweiten) (?:trimestre|quartal)\b",
        "the second quarter",
    ),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:tercer|terceiro|troisième|terzo|dritten) (?:trimestre|quartal)\b",
        "the third quarter",
    ),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:cuarto|quarto|quatrième|vierten) (?:trimestre|quartal)\b",
        "the fourth quarter",
    ),
    (r"\b(?:el |o |le |il )?(?:primer|primeiro|premier|primo) semestre\b", "the first half"),
    (r"\b(?:el |o |le |il )?(?:segundo|second|secondo) semestre\b", "the second half"),
    (r"\b(?:principios de|inicios de|comienzos de|início de|début|inizio|anfang|awal)\b ?", "early "),
    (r"\b(?:mediados de|meados de|mi-|metà|mitte|pertengahan)\b ?", "mid-"),
    (r"\b(?:finales de|fines de|final de|fin|fine|ende|akhir)\b ?(?=" + _MONTH_RE + r"\b|\d{4})", "late "),
    (r"\b(?:verano|verão|été|estate|sommer)\b", "summer"),
    (r"\b(?:invierno|inverno|hiver|inverno)\b", "winter"),
    (r"\b(?:im jahr|en el año|no ano|en l'an|nell'anno|pada tahun)\b ?", ""),
    (r"\b(?:este|esse|cette|questo|dieses|diesem) (?=\d{4}\b)", ""),
    (r"\b(?:en|em|dans|durante|nel|nello|nella|im|pada|di|au cours de|à|a)\b ", "in "),
    (r"\bentre\b", "between"),
    (r"\b(?:y|e|et|und|dan)\b", "and"),
    (r"\b(?:hasta|até|jusqu'au|jusqu'à|bis|fino a|al|au|sampai)\b", "to"),
    (r"^(?:de|del|du|dal|von|dari) ", "from "),
    (r"\b(?:de|del|do|da|des|du|della|dello|von|vom)\b", "of"),
    (r"\b(?:el|la|los|las|le|les|il|lo|der|die|das|dem|den|o|os|as) ", ""),
)
_FOREIGN_TRIGGER = re.compile(
    r"\b(?:"
    + "|".join(sorted((re.escape(n) for n in _FOREIGN_MONTHS), key=len, reverse=True))
    + r"|en|em|dans|durante|desde|depuis|seit|entre|este|esta|pasado|passado|dernier|dernière|últimas|últimos|ultimas"
    r"|trimestre|semestre|año|ano|année|anno|jahr|jahres|semana|semaine|woche|wochenende|tahun|pada|bulan|minggu"
    r"|principios|mediados|finales|anfang|mitte|ende|verano|verão|été|im|nel|dall|sejak)\b"
)


def _translate(e: str) -> str:
    """Rewrite Spanish, Portuguese, French, Italian, German and Indonesian period words into English."""
    if not _FOREIGN_TRIGGER.search(e):
        return e
    e = re.sub(
        r"\b(" + "|".join(sorted((re.escape(n) for n in _FOREIGN_MONTHS), key=len, reverse=True)) + r")\b",
        lambda m: _FOREIGN_MONTHS[m.group(1)],
        e,
    )
    for pattern, replacement in _FOREIGN_PHRASES:
        e = re.sub(pattern, replacement, e)
    return re.sub(r"\s+", " ", e).strip()


def _normalise(expression: str) -> tuple[str, bool]:
    e = unicodedata.normalize("NFKC", expression).lower()
    e = e.replace("\u2019", "'").replace("\u2018", "'")
    e = _translate(e)
    e = re.sub(r"\bsemester\b", "half", e)
    e = re.sub(r"[\u2010-\u2015\u2212]", "-", e)
    e = re.sub(r"\s*-\s*", "-", e)
    e = re.sub(r"[\"()\[\]]", " ", e)
    e = re.sub(rf"\b({_MONTH_RE})\.", r"\1", e)
    e = re.sub(r"\b1st (?=half|quarter|week)", "first ", e)
    e = re.sub(r"\b2nd (?=half|quarter|week)", "second ", e)
    e = re.sub(r"\b3rd (?=quarter|week)", "third ", e)
    e = re.sub(r"\b4th (?=quarter|week)", "fourth ", e)
    e = re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)\b", r"\1", e)
    e = re.sub(rf"\b(?:the )?(\d{{1,2}}) of (?={_MONTH_RE}\b)", r"\1 ", e)
    e = re.sub(r"(?<=[a-z]), (?=[a-z])", " , ", e)  # keep list commas between words: "june, july and august"
    e = e.replace(" , ", " ;; ").replace(",", " ").replace(" ;; ", ", ")
    e = re.sub(r"\s+", " ", e).strip(" .;:!?'")
    e = re.sub(r"\bmid (?=\w)", "mid-", e)
    e = re.sub(r"'s(?: [a-z]+)?$", "", e)  # "last year's figures", "last week's activity"
    e = re.sub(r" (?:alone|so far|thus far)$", "", e)
    preposition = False
    while (m := _FILLER.match(e)) is not None:
        e = e[m.end() :]
        preposition = True
    e = re.sub(
        r"^(?:the whole of |the entirety of |the entire |the full year of |the course of |the year (?=\d{4})"
        r"|(?:the )?(?:intervening )?night of |earlier in |later in |so far (?:in|for) |the period (?:of )?)",
        "",
        e,
    )
    while (m := _FILLER.match(e)) is not None:
        e = e[m.end() :]
        preposition = True
    e = re.sub(r"^this past (?=week|month|year|weekend)", "the past ", e)
    return e, preposition


def _rule_year_to_date(e: str, ctx: _Ctx) -> DateRange | None:
    published = ctx.published
    m = re.fullmatch(
        r"(?:so far |thus far |up to now |to date |until now )?(?:this|the current) year(?: so far| to date| thus far)?"
        r"|(?:the )?year[- ]to[- ]date|ytd|so far (?:this|the) year|so far in the year|earlier this year"
        r"|(?:since|from) the (?:start|beginning) of (?:the|this) year(?: to date| until now| so far)?",
        e,
    )
    if m is not None:
        if published is None:
            return None
        return DateRange(date(published.year, 1, 1), published, "year", False)
    m = re.fullmatch(rf"so far in ({_YEAR_RE})", e)
    if m is not None:
        year = int(m.group(1))
        if published is None or year > published.year:
            return None
        return _make(date(year, 1, 1), date(year, 12, 31), "year", False, published)
    return None


def _rule_this_last_unit(e: str, ctx: _Ctx) -> DateRange | None:
    published = ctx.published
    m = re.fullmatch(
        r"(?:(?:so far |earlier |up to now )?(?:this|the current|the) (week|month|quarter)(?: so far| to date)?"
        r"|(?:(?:the )?(?:week|month|quarter)[- ]to[- ]date))",
        e,
    )
    if m is not None:
        if published is None:
            return None
        unit = m.group(1) or re.match(r"(?:the )?(\w+)", e).group(1)  # type: ignore[union-attr]
        start, end, precision = _unit_range(unit, 0, published)
        return _make(start, end, precision, False, published)
    m = re.fullmatch(r"(last|the previous|the preceding|the prior|previous) (week|month|quarter|year)", e)
    if m is not None:
        if published is None:
            return None
        start, end, precision = _unit_range(m.group(2), -1, published)
        return DateRange(start, end, precision, False)
    m = re.fullmatch(
        r"(early|mid|late|earlier|later|the start of|the beginning of|the middle of|the end of)[- ]"
        r"(last|this|the previous|the current|the) (week|month|year)",
        e,
    )
    if m is not None:
        if published is None:
            return None
        part_text, which, unit = m.groups()
        offset = 0 if which in ("this", "the current", "the") else -1
        start, end, _precision = _unit_range(unit, offset, published)
        if part_text == "earlier":
            return _make(start, end, _precision, False, published) if offset == 0 else None
        if part_text == "later":
            return None  # the future, or a part we cannot place
        part = _part_name(part_text)
        if unit == "year":
            start, end = _year_part(start.year, part)
        elif unit == "month":
            start, end = _month_part(start.year, start.month, part)
        else:  # early week = Mon-Wed, mid = Wed-Thu, late = Thu-Sun
            bounds = {"early": (0, 2), "mid": (2, 3), "late": (3, 6)}[part or "early"]
            start, end = start + timedelta(days=bounds[0]), start + timedelta(days=bounds[1])
        if start > published:
            return None
        return _make(start, end, "range", True, published)
    return None


def _rule_trailing(e: str, ctx: _Ctx) -> DateRange | None:
    e = re.sub(r" (?:till|until|up to|as of|ending|ended|to) .*$", "", e)  # "the last 24 hours till 6:00am on Sunday"
    m = re.fullmatch(
        rf"(?:the )?(?:(?:past|last|previous|preceding|recent) )?(?:less than |under |fewer than )?({_COUNT_RE}) "
        r"(hours?|days?|nights?|weeks?|fortnights?|months?|years?|decades?)",
        e,
    )
    if m is not None and not re.match(r"(?:the )?(?:past|last|previous|preceding|recent|less|under|fewer) ", e):
        m = None  # a bare "three months" is a duration, not a window
    if m is not None:
        return _trailing(m.group(1), m.group(2), ctx)
    m = re.fullmatch(r"(?:the (?:past|last|previous|preceding)|past) (hour|day|week|fortnight|month|year|decade)", e)
    if m is not None:
        return _trailing(None, m.group(1), ctx)
    m = re.fullmatch(r"(?:last|a|one) fortnight|the fortnight", e)
    if m is not None:
        return _trailing(None, "fortnight", ctx)
    return None


def _rule_overnight_weekend(e: str, ctx: _Ctx) -> DateRange | None:
    published = ctx.published
    if e in ("overnight", "overnight operation", "an overnight operation", "an overnight raid", "overnight raids"):
        if published is None:
            return None
        return DateRange(published - timedelta(days=1), published, "range", False)
    m = re.fullmatch(r"(the|last|this|this past|the past) weekend", e)
    if m is not None:
        if published is None:
            return None
        if m.group(1) != "last" and published.weekday() >= 5:  # published on the weekend itself
            return DateRange(_monday(published) + timedelta(days=5), published, "range", False)
        sunday = published - timedelta(days=(published.weekday() - 6) % 7 or 7)  # latest Sunday before published
        return DateRange(sunday - timedelta(days=1), sunday, "range", False)
    return None


def _rule_since(e: str, ctx: _Ctx) -> DateRange | None:
    m = re.fullmatch(r"(?:ever )?since (?:early |the start of |the beginning of )?(.+)", e)
    if m is not None and not e.startswith(("since the start of the year", "since the beginning of the year")):
        approximate = bool(re.match(r"(?:ever )?since early ", e))
        return _since(m.group(1), ctx, approximate=approximate)
    m = re.fullmatch(r"(?:from|between|starting) (.+?) (?:to|until|till|up to|and) (?:now|date|the present|today)", e)
    if m is not None:
        return _since(m.group(1), ctx)
    m = re.fullmatch(r"(.+?) to date", e)
    if m is not None and _point(m.group(1)) is not None:
        return _since(m.group(1), ctx)
    return None


def _since_fiscal(e: str, ctx: _Ctx) -> DateRange | None:
    """ "since 2008/09", "since fy2019-20": from the start of that fiscal year to the dateline."""
    m = re.fullmatch(r"since (?:fy ?|the )?(\d{4})(?:-|/)(\d{2})", e)
    if m is None or ctx.published is None:
        return None
    fy = _fiscal_label(m.group(1), m.group(2), ctx, two_digit_ok=False)
    if fy is None or fy.start > ctx.published:
        return None
    return DateRange(fy.start, ctx.published, "range", fy.approximate)


def _rule_half_quarter(e: str, ctx: _Ctx) -> DateRange | None:
    published = ctx.published
    year_text: str | None
    m = re.fullmatch(rf"(?:the )?(first|second) half(?: of (?:the year|({_REL_YEAR_RE})))?", e)
    m2 = re.fullmatch(r"(?:h([12])|([12])h)(?:[ -]?(?:fy)?'?(\d{4}|\d{2}))?", e)
    m3 = re.fullmatch(rf"(?:the )?(first|last|final) six months of ({_REL_YEAR_RE}|the year)", e)
    half: int | None = None
    if m is not None:
        half, year_text = (1 if m.group(1) == "first" else 2), m.group(2)
    elif m2 is not None:
        half = int(m2.group(1) or m2.group(2))
        year_text = str(_two_digit_year(m2.group(3))) if m2.group(3) else None
    elif m3 is not None:
        half, year_text = (1 if m3.group(1) == "first" else 2), m3.group(2)
        if year_text == "the year":
            year_text = None
    if half is not None:
        h = half

        def build_half(year: int) -> tuple[date, date]:
            start = date(year, 1 if h == 1 else 7, 1)
            return start, _add_months(start, 6) - timedelta(days=1)

        return _with_year(build_half, year_text, "half", ctx)

    # Fiscal quarters: "Q1 FY24", "the first quarter of fiscal 2024", "the first quarter of the fiscal year".
    mf = re.fullmatch(
        rf"(?:q([1-4])|(?:the )?(first|second|third|fourth|final|last) quarter of (?:the )?)[ ]?"
        rf"(?:(?:fy|{_FISCAL_WORDS}) ?{_FY_LABEL}|(?:current |this )?{_FISCAL_WORDS})",
        e,
    )
    if mf is not None:
        q = int(mf.group(1)) if mf.group(1) else _ORDINALS[mf.group(2)]
        if mf.group(3):
            fy = _fiscal_label(mf.group(3), mf.group(4), ctx, two_digit_ok=True)
        else:
            fy = _fiscal_around(0, ctx)
        if fy is None:
            return None
        start = _add_months(fy.start, 3 * (q - 1))
        end = _add_months(fy.start, 3 * q) - timedelta(days=1)
        if start > fy.end:
            return None
        return _make(start, min(end, fy.end), "quarter", fy.approximate, published)

    m = re.fullmatch(rf"(?:the )?(first|second|third|fourth|final|last) quarter(?: of (?:the year|({_REL_YEAR_RE})))?", e)
    m2 = re.fullmatch(r"(?:q([1-4])|([1-4])q)(?:[ -]?'?(\d{4}|\d{2}))?", e)
    m3 = re.fullmatch(rf"(?:the )?(first|last|final) three months of ({_REL_YEAR_RE}|the year)", e)
    quarter: int | None = None
    if m is not None:
        if m.group(1) == "last" and m.group(2) is None and "of" not in e:
            if published is None:
                return None
            start, end, _p = _unit_range("quarter", -1, published)
            return DateRange(start, end, "quarter", False)
        quarter, year_text = _ORDINALS[m.group(1)], m.group(2)
    elif m2 is not None:
        quarter = int(m2.group(1) or m2.group(2))
        year_text = str(_two_digit_year(m2.group(3))) if m2.group(3) else None
    elif m3 is not None:
        quarter, year_text = (1 if m3.group(1) == "first" else 4), m3.group(2)
        if year_text == "the year":
            year_text = None
    if quarter is not None:
        qq = quarter

        def build_quarter(year: int) -> tuple[date, date]:
            start = date(year, 3 * qq - 2, 1)
            return start, _add_months(start, 3) - timedelta(days=1)

        return _with_year(build_quarter, year_text, "quarter", ctx)

    m = re.fullmatch(rf"(?:the )?(first|last) ({_COUNT_RE}) months of ({_REL_YEAR_RE}|the year)", e)
    if m is not None:
        n = _count(m.group(2))
        if n is None or not 1 <= n <= 12:
            return None
        first = m.group(1) == "first"
        precision: Precision = {3: "quarter", 6: "half", 12: "year"}.get(n, "range")  # type: ignore[assignment]
        yt = None if m.group(3) == "the year" else m.group(3)

        def build_months(year: int) -> tuple[date, date]:
            if first:
                return date(year, 1, 1), _month_end(year, n)
            return date(year, 13 - n, 1), date(year, 12, 31)

        return _with_year(build_months, yt, precision, ctx)
    return None


def _with_year(
    build: Callable[[int], tuple[date, date]],
    year_text: str | None,
    precision: Precision,
    ctx: _Ctx,
    *,
    approximate: bool = False,
) -> DateRange | None:
    published = ctx.published
    year = _year_of(year_text, published)
    if year is False:
        return None
    if year is None:
        span = _latest(build, published)
        if span is None:
            return None
        start, end = span
    else:
        start, end = build(year)
    return _make(start, end, precision, approximate, published)


def _rule_month_year(e: str, ctx: _Ctx) -> DateRange | None:
    published = ctx.published
    m = re.fullmatch(rf"(?:({_PART_RE})[- ])?({_MONTH_RE})(?: ({_YEAR_RE}|this year|last year))?", e)
    if m is not None:
        part = _part_name(m.group(1))
        month = _MONTHS[m.group(2)]
        if m.group(2) == "may" and m.group(1) is None and m.group(3) is None and not ctx.preposition:
            return None  # "may" alone is usually the verb; "in May" is the month
        precision: Precision = "month" if part is None else "range"

        def build(year: int) -> tuple[date, date]:
            return _month_part(year, month, part)

        return _with_year(build, m.group(3), precision, ctx, approximate=part is not None)
    m = re.fullmatch(rf"(last|this) ({_MONTH_RE})", e)
    if m is not None:
        if published is None:
            return None
        month = _MONTHS[m.group(2)]
        if m.group(1) == "this":
            year = published.year
        else:
            year = published.year if month < published.month else published.year - 1
        start, end = _month_part(year, month, None)
        if start > published:
            return None
        return _make(start, end, "month", False, published)
    m = re.fullmatch(rf"(?:({_PART_RE})[- ])?({_YEAR_RE})", e)
    if m is not None:
        part = _part_name(m.group(1))
        start, end = _year_part(int(m.group(2)), part)
        return _make(start, end, "year" if part is None else "range", part is not None, published)
    m = re.fullmatch(r"(?:the )?((?:19|20)\d)0'?s", e)
    if m is not None:
        decade = int(m.group(1)) * 10
        return _make(date(decade, 1, 1), date(decade + 9, 12, 31), "range", False, published)
    m = re.fullmatch(rf"(?:the )?((?:first|second|third|fourth|last|final)) week of ({_MONTH_RE})(?: ({_YEAR_RE}))?", e)
    if m is not None:
        month = _MONTHS[m.group(2)]
        which = m.group(1)

        def build_week(year: int) -> tuple[date, date]:
            if which in ("last", "final"):
                end = _month_end(year, month)
                return end - timedelta(days=6), end
            k = _ORDINALS[which]
            return date(year, month, 7 * k - 6), date(year, month, 7 * k)

        return _with_year(build_week, m.group(3), "range", ctx, approximate=True)
    return None


def _fiscal_country(ctx: _Ctx) -> bool:
    return ctx.country_known and ctx.iso3 in FISCAL_YEAR_START


def _rule_fiscal(e: str, ctx: _Ctx) -> DateRange | None:
    bs = re.fullmatch(r"(.+?) (?:bs|b\.s|vs|v\.s)", e)  # Bikram Sambat label
    if bs is not None:
        e = bs.group(1)
        ctx = _Ctx(ctx.published, "NPL", True, ctx.preposition)
    # "2021-22", "2015/16" in a country whose fiscal year is not the calendar year: the fiscal year
    m = re.fullmatch(r"(?:the )?(\d{4})(?:-|/)(\d{2})(?: (?:year|period|season))?", e)
    if m is not None and (_fiscal_country(ctx) or bs is not None or "/" in e):
        found = _fiscal_label(m.group(1), m.group(2), ctx, two_digit_ok=False)
        if found is not None:
            return found
    m = re.fullmatch(rf"(?:the )?(\d{{4}}) to (\d{{4}}) {_FISCAL_WORDS}", e)
    if m is not None:
        return _fiscal_label(m.group(1), m.group(2), ctx, two_digit_ok=False)
    m = re.fullmatch(rf"(?:the )?(?:fy|{_FISCAL_WORDS}) ?'?{_FY_LABEL}", e) or re.fullmatch(
        rf"(?:the )?{_FY_LABEL} {_FISCAL_WORDS}", e
    )
    if m is not None:
        two_digit_ok = e.startswith(("fy", "the fy")) or bool(m.group(2))
        return _fiscal_label(m.group(1), m.group(2), ctx, two_digit_ok=two_digit_ok)
    if re.fullmatch(rf"(?:so far )?(?:this|the current|the present|current) (?:{_FISCAL_WORDS}|fy)(?: so far| to date)?", e):
        return _fiscal_relative(0, ctx)
    if re.fullmatch(rf"(?:last|the last|the previous|previous|the past|the preceding) (?:{_FISCAL_WORDS}|fy)", e):
        return _fiscal_relative(-1, ctx)
    return None


_RANGE_RE = re.compile(r"(?:between|from|starting) (.+?) (?:and|to|until|till|through|thru|up to) (.+)")
_DASH_RANGE_RE = re.compile(rf"({_MONTH_RE}(?: {_YEAR_RE})?|[0-3]?\d|{_MONTH_RE} [0-3]?\d|{_YEAR_RE})-(.+)")
_PLAIN_RANGE_RE = re.compile(r"(.+?) (?:to|until|till|through|thru) (.+)")


def _absolute_years(text: str, published: date | None) -> str:
    """Replace "this year"/"last year" after a point by the year: "july last year" → "july 2022"."""
    if published is None:
        return text
    text = re.sub(r"\b(this|the current) year\b", str(published.year), text)
    return re.sub(r"\b(last|the previous) year\b", str(published.year - 1), text)


def _rule_range(e: str, ctx: _Ctx) -> DateRange | None:
    m = _RANGE_RE.fullmatch(e) or _PLAIN_RANGE_RE.fullmatch(e)
    if m is not None:
        left, right = (_absolute_years(g, ctx.published) for g in (m.group(1), m.group(2)))
        found = _resolve_range(left, right, ctx)
        if found is not None:
            return found
    m = re.fullmatch(r"(?:between|from) (.+)", e)
    if m is not None and "-" in m.group(1):  # "between 1-31 january", "from july 13-17", "from 2020-24"
        return _rule_range(m.group(1), ctx)
    parts = re.split(r", | and ", e)
    if len(parts) >= 2 and not e.startswith(("between", "from")):  # "june, july and august", "november 7 and 8"
        points = [_point(_absolute_years(part, ctx.published)) for part in parts]
        first = points[0]
        if first is not None and (first.month is not None or first.year is not None) and all(points):
            return _resolve_range(parts[0], _absolute_years(parts[-1], ctx.published), ctx)
    m = re.fullmatch(rf"({_YEAR_RE})-(\d{{2}})", e)  # 2019-21
    if m is not None:
        y1 = int(m.group(1))
        y2 = y1 - y1 % 100 + int(m.group(2))
        if y2 <= y1:
            return None
        return _make(date(y1, 1, 1), date(y2, 12, 31), "range", False, ctx.published)
    m = _DASH_RANGE_RE.fullmatch(e)
    if m is not None:
        left, right = m.group(1), m.group(2)
        # "march 10-15 2024": the year after the second day belongs to both
        return _resolve_range(left, right, ctx)
    return None


def _rule_year_to_month(e: str, ctx: _Ctx) -> DateRange | None:
    """ "the year to March 2025", "year ending March 2024", "the 12 months to March last year": 12 months to that end."""
    m = re.fullmatch(
        rf"(?:the )?(?:year|12 months|twelve months|financial year|fiscal year) (?:to|ending|ended|up to|through)"
        rf" (?:the end of )?({_MONTH_RE})(?: ({_YEAR_RE}|this year|last year))?",
        e,
    )
    if m is None:
        return None
    month = _MONTHS[m.group(1)]

    def build(year: int) -> tuple[date, date]:
        end = _month_end(year, month)
        return _add_months(end + timedelta(days=1), -12), end

    year = _year_of(m.group(2), ctx.published)
    if year is False:
        return None
    if year is None:
        if ctx.published is None:
            return None
        published = ctx.published
        span = next((build(y) for y in (published.year, published.year - 1) if _month_end(y, month) <= published), None)
        if span is None:
            return None
        start, end = span
    else:
        start, end = build(year)
    return DateRange(start, end, "year", False)


def _rule_weekday_pair(e: str, ctx: _Ctx) -> DateRange | None:
    """ "between Thursday and Friday", "overnight from Saturday to Sunday": the latest such days up to the dateline."""
    names = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
    m = re.fullmatch(rf"(?:overnight |the night )?(?:between |from |of )?({names}) (?:and|to|-|through|into) ({names})", e)
    if m is None or ctx.published is None:
        return None
    published = ctx.published
    end = published - timedelta(days=(published.weekday() - _WEEKDAYS[m.group(2)]) % 7)
    start = end - timedelta(days=(_WEEKDAYS[m.group(2)] - _WEEKDAYS[m.group(1)]) % 7)
    return DateRange(start, end, "range", False)


# Meteorological seasons, by hemisphere: (first month, last month) in the northern hemisphere.
_SEASONS: Final[dict[str, int]] = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_SOUTHERN: Final[frozenset[str]] = frozenset(
    {"AUS", "NZL", "ZAF", "ARG", "CHL", "URY", "PRY", "BRA", "LSO", "SWZ", "NAM", "BWA", "MDG", "MOZ", "ZWE", "FJI"}
)


def _rule_season(e: str, ctx: _Ctx) -> DateRange | None:
    """ "last summer", "this summer", "the summer of 2021", "since this summer": three months, approximate."""
    m = re.fullmatch(
        rf"(since )?(?:(last|this|the past|this past) )?(?:the )?(spring|summer|autumn|fall|winter)(?: of)?(?: ({_YEAR_RE}))?",
        e,
    )
    if m is None or (m.group(2) is None and m.group(4) is None and m.group(1) is None):
        return None
    first = _SEASONS[m.group(3)]
    if ctx.iso3 in _SOUTHERN:
        first = (first + 6 - 1) % 12 + 1

    def build(year: int) -> tuple[date, date]:
        start = date(year, first, 1) if first != 12 else date(year - 1, 12, 1)  # winter 2021 = Dec 2020 - Feb 2021
        return start, _add_months(start, 3) - timedelta(days=1)

    published = ctx.published
    if m.group(4):
        start, end = build(int(m.group(4)))
    else:
        if published is None:
            return None
        candidates = [build(y) for y in (published.year + 1, published.year, published.year - 1, published.year - 2)]
        if m.group(2) == "last" or m.group(2) in ("the past", "this past"):
            span = next((c for c in candidates if c[1] < published), None)
        else:
            span = next((c for c in candidates if c[0] <= published), None)
        if span is None:
            return None
        start, end = span
    if m.group(1):
        return _since_day(start, ctx, approximate=True)
    return _make(start, end, "range", True, published)


def _since_day(start: date, ctx: _Ctx, *, approximate: bool = False) -> DateRange | None:
    if ctx.published is None or start > ctx.published:
        return None
    return DateRange(start, ctx.published, "range", approximate)


def _rule_iranian_year(e: str, ctx: _Ctx) -> DateRange | None:
    """ "the current Iranian year", "since the start of the Iranian calendar year 1383", "Iranian year 1402"."""
    m = re.fullmatch(
        r"(since (?:the )?(?:start|beginning) of )?(?:the )?(current |this |last |the previous |previous )?"
        r"iranian (?:calendar |solar |fiscal )?year(?: (\d{4}))?.*",
        e,
    )
    if m is None:
        return None
    iran = _Ctx(ctx.published, "IRN", True, ctx.preposition)
    which = (m.group(2) or "").strip()
    if m.group(3):
        year = int(m.group(3))
        fy = _fiscal_label(str(year), None, iran, two_digit_ok=False) if 1300 <= year <= 1499 else None
        if fy is None and 1900 <= year <= 2100:
            fy = DateRange(*_fiscal_year("IRN", year), "year", True)
    elif which:
        fy = _fiscal_around(-1 if which in ("last", "the previous", "previous") else 0, iran)
    else:
        return None
    if fy is None:
        return None
    if m.group(1):
        return _since_day(fy.start, ctx, approximate=True)
    return _make(fy.start, fy.end, "year", True, ctx.published)


_RULES: Final[tuple[Callable[[str, _Ctx], DateRange | None], ...]] = (
    _rule_iranian_year,
    _rule_year_to_month,
    _since_fiscal,
    _rule_weekday_pair,
    _rule_season,
    _rule_year_to_date,
    _rule_this_last_unit,
    _rule_trailing,
    _rule_overnight_weekend,
    _rule_fiscal,
    _rule_half_quarter,
    _rule_since,
    _rule_month_year,
    _rule_range,
)


def resolve_period(expression: str, published: date | None, *, country: str | None = None) -> DateRange | None:
    """The date range a period phrase denotes, or None (single days, vague phrases, no anchor for a relative one).

    ``published`` is the article's dateline; ``country`` (ISO 3166-1 alpha-3 or alpha-2) picks the fiscal year.
    See the module docstring for the rules.

    >>> resolve_period("so far this year", date(2024, 6, 30)).iso()
    '2024-01-01/2024-06-30'
    >>> resolve_period("FY2022-23", None, country="IND").iso()
    '2022-04-01/2023-03-31'
    >>> resolve_period("last week", None) is None
    True
    """
    inner = re.search(r"\(([^()]*)\)", expression)
    if inner is not None:  # "in the past week (May 17-23)": explicit days in brackets win
        found = resolve_period(inner.group(1), published, country=country)
        if found is not None and found.start != found.end:
            return found
        expression = expression[: inner.start()] + " " + expression[inner.end() :]
    parts = re.split(r"\s[\u2013\u2014]\s|\s-\s|:\s", expression)
    if len(parts) > 1:  # "in 10 months — from July last year to April this year": the most specific part
        for part in reversed(parts):
            found = resolve_period(part, published, country=country)
            if found is not None:
                return found
        return None
    e, preposition = _normalise(expression)
    if not e or _VAGUE.fullmatch(e):
        return None
    iso3, known = _country_iso3(country)
    ctx = _Ctx(published, iso3, known, preposition)
    for rule in _RULES:
        found = rule(e, ctx)
        if found is not None:
            return found
    return None
