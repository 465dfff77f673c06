"""The phrase rules for calendar periods: this/last unit, to date, trailing windows, halves and quarters,
months, explicit ranges, weekday pairs and seasons (see :mod:`._period_rules` for the rules)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Final

from ._calendar import DateRange, Precision, _add_months, _monday, _month_end
from ._period_ranges import (
    _count,
    _Ctx,
    _fiscal_around,
    _fiscal_label,
    _latest,
    _make,
    _month_part,
    _part_name,
    _point,
    _resolve_range,
    _trailing,
    _two_digit_year,
    _unit_range,
    _year_of,
    _year_part,
)
from ._period_words import (
    _COUNT_RE,
    _FISCAL_WORDS,
    _FY_LABEL,
    _MONTH_RE,
    _MONTHS,
    _ORDINALS,
    _PART_RE,
    _REL_YEAR_RE,
    _WEEKDAYS,
    _YEAR_RE,
)


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
