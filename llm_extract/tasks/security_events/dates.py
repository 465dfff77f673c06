"""A record's date: an ISO date at its precision, and always a start–end range.

Single dates ("on Sunday", "10 September 2024", "in 2016") resolve with the weekday rule
(`normalize.resolve_date`: the latest such day on or before the dateline, the dateline
itself when it is that weekday); periods ("so far this year", "in the first half of 2023",
"between March and May", "in fiscal year 2022-23" with the country's fiscal year,
"overnight", "earlier this week") resolve to a range (`normalize.periods`). A missing date
is never filled with the publication date.

`date_is_publication_date` catches the model's favourite slip: the event dated on the
publication day while its own evidence says "on Tuesday".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .normalize import PartialDate, resolve_date

__all__ = ["DateValue", "publication_date_flags", "resolve"]


@dataclass(frozen=True)
class DateValue:
    iso: str | None = None
    precision: str | None = None
    start: date | None = None
    end: date | None = None
    approximate: bool = False
    #: resolved as a period (a range that is not one calendar day, week, month or year)
    is_period: bool = False
    flags: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        return {
            "date_iso": self.iso,
            "date_precision": self.precision,
            "date_start": self.start.isoformat() if self.start else None,
            "date_end": self.end.isoformat() if self.end else None,
            "date_approximate": self.approximate,
        }


def _calendar_iso(start: date, end: date) -> tuple[str, str] | None:
    """'2021-03' / '2021' when the range is exactly one calendar month or year."""
    if start.day == 1 and start.month == 1 and end == date(start.year, 12, 31):
        return str(start.year), "year"
    nxt = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    if start.day == 1 and (nxt.toordinal() - 1) == end.toordinal():
        return f"{start.year}-{start.month:02d}", "month"
    return None


_AROUND = re.compile(
    r"\([^)]*\)|\b(?:at|around|about|before|after) (?:dawn|dusk|noon|midnight|night)\b|\b(?:in the|early in the|late in the) "
    r"(?:morning|afternoon|evening|night)\b|\b(?:at )?\d{1,2}[:.]\d{2}(?: ?[ap]\.?m\.?)?|\b(?:also|again|then|only)\b|"
    r"\bthe month of\b",
    re.IGNORECASE,
)


def _variants(written: str) -> list[str]:
    """The date as written, then without what news wraps around a day ("on Monday (November 13)",
    "at dawn on Wednesday", "today at 07:00", "Also on Tuesday")."""
    cleaned = re.sub(r"\s{2,}", " ", _AROUND.sub(" ", written)).strip(" ,;")
    return [written] if not cleaned or cleaned == written else [written, cleaned]


def resolve(written: str | None, anchor: PartialDate | None, anchor_source: str | None, *, country: str | None) -> DateValue:
    """The date of a record as written, against the article's anchor."""
    if not written:
        return DateValue()
    from .normalize.periods import resolve_period

    variants = _variants(written)
    single = next((d for v in variants if (d := resolve_date(v, anchor)) is not None), None)
    period = next(
        (r for v in variants if (r := resolve_period(v, anchor.last_date() if anchor else None, country=country))),
        None,
    )
    flags: tuple[str, ...] = ()
    if anchor_source == "model" and resolve_date(written, None) is None:
        flags = ("date_relative_to_model_published",)
    if single is not None and (period is None or (period.start, period.end) == (single.as_date(), single.last_date())):
        return DateValue(single.iso(), single.precision, single.as_date(), single.last_date(), flags=flags)
    if period is not None:
        calendar = _calendar_iso(period.start, period.end)
        return DateValue(
            iso=calendar[0] if calendar else None,
            precision=calendar[1] if calendar else period.precision,
            start=period.start,
            end=period.end,
            approximate=period.approximate,
            is_period=calendar is None and period.start != period.end,
            flags=flags,
        )
    if single is not None:
        return DateValue(single.iso(), single.precision, single.as_date(), single.last_date(), flags=flags)
    return DateValue(flags=("date_unresolved",))


_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE_EXPRESSIONS = re.compile(
    rf"\b(?:(?:on|last|this|early|late) )?{_WEEKDAYS}\b|\byesterday\b|\b(?:on )?{_MONTHS} \d{{1,2}}\b|"
    rf"\b(?:on )?\d{{1,2}} {_MONTHS}\b|\blast (?:week|month)\b|\bearlier this (?:week|month)\b",
    re.IGNORECASE,
)


_COARSE_EXPRESSIONS = re.compile(
    rf"\b(?:in|since|during|of|from) (?:19|20)\d\d\b|\bin {_MONTHS}(?: (?:19|20)\d\d)?\b|\blast year\b|"
    rf"\bearlier this year\b",
    re.IGNORECASE,
)


def publication_date_flags(when: DateValue, anchor: PartialDate | None, evidence: str, *, written_near: bool = True) -> list[str]:
    """`date_is_publication_date` when the record is dated on the publication day while its
    evidence dates it otherwise: a day ("on Tuesday"), or, when the date the model gave is not
    written near the evidence (it took the dateline's), a year or a month ("in 2016")."""
    if anchor is None or anchor.precision != "day" or when.iso != anchor.iso():
        return []
    patterns = [_DATE_EXPRESSIONS] if written_near else [_DATE_EXPRESSIONS, _COARSE_EXPRESSIONS]
    for pattern in patterns:
        for m in pattern.finditer(evidence):
            other = resolve_date(m.group(0), anchor)
            if other is not None and other.iso() != anchor.iso():
                return [f'date_is_publication_date:{when.iso}, but the evidence says "{m.group(0)}" ({other.iso()})']
    return []
