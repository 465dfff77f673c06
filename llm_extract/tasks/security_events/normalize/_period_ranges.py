"""The building blocks of the period rules: parts of months and years, points, explicit ranges, "since",
trailing windows, calendar units and fiscal labels, each turned into a :class:`DateRange`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from ._calendar import DateRange, Precision, _add_months, _add_years, _monday, _month_end
from ._fiscal_years import (
    _FISCAL_APPROXIMATE,
    _FISCAL_NAMED_BY_START,
    FISCAL_YEAR_START,
    _fiscal_rule,
    _fiscal_start,
    _fiscal_year,
    _nowruz,
)
from ._period_words import _COUNT_WORDS, _MONTH_RE, _MONTHS, _YEAR_RE

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
