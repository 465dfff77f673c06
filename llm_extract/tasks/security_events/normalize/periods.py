"""Dates and periods as news writes them, resolved to inclusive date ranges.

:func:`resolve_period` turns a period phrase ("so far this year", "in the first half of 2023", "FY2022-23",
"between 10 and 12 September 2024", "mid-March", "over the last six months") into a :class:`DateRange`, using the
article's dateline (``published``) for relative phrases. It never invents an anchor: a relative phrase with
``published=None`` gives None, and so do vague phrases ("recently", "in recent days", "the past few weeks") and
single days ("on Tuesday", "10 September 2024", "Sept. 10", "yesterday": another function resolves those with the
weekday rule). Only the standard library is used (plus ``pycountry``, if installed, to accept ISO alpha-2 codes).

The parts: :mod:`._period_rules` (the phrase rules, with the rules written out), :mod:`._period_ranges`
(their building blocks), :mod:`._period_words` (month, weekday and language tables), :mod:`._fiscal_years`
(the fiscal-year table with its citations) and :mod:`._calendar` (:class:`DateRange` and calendar arithmetic).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from ._calendar import DateRange, Precision
from ._fiscal_years import FISCAL_YEAR_START, _country_iso3
from ._period_ranges import _Ctx
from ._period_rules import _RULES
from ._period_words import _VAGUE, _normalise

__all__ = ["FISCAL_YEAR_START", "DateRange", "Precision", "resolve_period"]


def resolve_period(expression: str, published: date | None, *, country: str | None = None) -> DateRange | None:
    """The date range a period phrase denotes, or None (single days, vague phrases, no anchor for a relative one).

    ``published`` is the article's dateline; ``country`` (ISO 3166-1 alpha-3 or alpha-2) picks the fiscal year.
    See :mod:`._period_rules` for the rules.

    >>> resolve_period("so far this year", date(2024, 6, 30)).iso()
    '2024-01-01/2024-06-30'
    >>> resolve_period("FY2022-23", None, country="IND").iso()
    '2022-04-01/2023-03-31'
    >>> resolve_period("last week", None) is None
    True
    """
    try:
        return _resolve_period(expression, published, country)
    except TypeError:  # an unhashable argument: not remembered
        return _resolve_period.__wrapped__(expression, published, country)


@lru_cache(maxsize=1024)  # a pure function of its arguments (DateRange is frozen): the same phrases come again
def _resolve_period(expression: str, published: date | None, country: str | None) -> DateRange | None:
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
