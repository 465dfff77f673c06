"""The phrase rules: each turns a normalised period phrase into a :class:`DateRange`, or None.

Rules
-----
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
* Fiscal years: see :mod:`._fiscal_years`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Final

from ._calendar import DateRange, _add_months, _monday
from ._calendar_rules import (
    _rule_half_quarter,
    _rule_month_year,
    _rule_overnight_weekend,
    _rule_range,
    _rule_season,
    _rule_this_last_unit,
    _rule_trailing,
    _rule_weekday_pair,
    _rule_year_to_date,
    _rule_year_to_month,
    _since_day,
)
from ._fiscal_years import FISCAL_YEAR_START, _fiscal_year
from ._period_ranges import _Ctx, _fiscal_around, _fiscal_label, _fiscal_relative, _latest, _make, _Point, _point, _point_span
from ._period_words import _FISCAL_WORDS, _FY_LABEL, _MONTH_RE, _MONTHS, _WEEKDAYS


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
