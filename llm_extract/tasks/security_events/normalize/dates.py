"""Dates as written → partial dates against the dateline (weekday rule); publication dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:  # pragma: no cover
    pass

from ._text import _APOSTROPHES, _LazyRegex

Precision = Literal["year", "month", "week", "day"]


# ---------------------------------------------------------------------------
# 4. dates
# ---------------------------------------------------------------------------

_PRECISION_RANK: dict[str, int] = {"year": 0, "month": 1, "week": 2, "day": 3}


class PartialDate(BaseModel):
    """A date known to a precision: a year, a month, an ISO week or a day.

    ``week`` dates are stored as their Monday; :meth:`iso` writes ISO 8601
    (``YYYY``, ``YYYY-MM``, ``YYYY-Www`` or ``YYYY-MM-DD``) and :meth:`from_iso`
    reads it back; :meth:`as_date` is the first day covered.

    >>> PartialDate(year=2011, month=6, precision="month").iso()
    '2011-06'
    >>> PartialDate.from_iso("2025-01-12").as_date()
    datetime.date(2025, 1, 12)
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    year: int
    month: int | None = None
    day: int | None = None
    precision: Precision

    @model_validator(mode="after")
    def _consistent(self) -> PartialDate:
        needs_month = self.precision != "year"
        needs_day = self.precision in ("day", "week")
        if not 1 <= self.year <= 9999:
            raise ValueError("year out of range")
        if (self.month is not None) != needs_month or (self.day is not None) != needs_day:
            raise ValueError(f"month/day do not fit precision {self.precision!r}")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError("month out of range")
        if self.day is not None:
            day = date(self.year, self.month or 1, self.day)  # raises on 2023-02-30
            if self.precision == "week" and day.weekday() != 0:
                raise ValueError("a week is stored as its Monday")
        return self

    @classmethod
    def of(cls, day: date, precision: Precision = "day") -> PartialDate:
        """The period of ``precision`` that contains ``day``.

        >>> PartialDate.of(date(2025, 1, 12), "week").iso()
        '2025-W02'
        """
        if precision == "year":
            return cls(year=day.year, precision="year")
        if precision == "month":
            return cls(year=day.year, month=day.month, precision="month")
        if precision == "week":
            day = day - timedelta(days=day.weekday())
        return cls(year=day.year, month=day.month, day=day.day, precision=precision)

    @classmethod
    def from_iso(cls, text: str) -> PartialDate:
        """Parse what :meth:`iso` writes; ``ValueError`` otherwise.

        >>> PartialDate.from_iso("2012").precision
        'year'
        """
        if m := re.fullmatch(r"(\d{4})", text):
            return cls(year=int(m[1]), precision="year")
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            return cls(year=int(m[1]), month=int(m[2]), precision="month")
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", text):
            return cls.of(date.fromisocalendar(int(m[1]), int(m[2]), 1), "week")
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            return cls(year=int(m[1]), month=int(m[2]), day=int(m[3]), precision="day")
        raise ValueError(f"not an ISO partial date: {text!r}")

    def iso(self) -> str:
        """ISO 8601 text at this precision: ``2012``, ``2011-06``, ``2025-W02``, ``2025-01-12``."""
        if self.precision == "year":
            return f"{self.year:04d}"
        if self.precision == "month":
            return f"{self.year:04d}-{self.month:02d}"
        if self.precision == "week":
            iso_year, iso_week, _ = self.as_date().isocalendar()
            return f"{iso_year:04d}-W{iso_week:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def as_date(self) -> date:
        """The first day covered (1 January for a year, the Monday for a week)."""
        return date(self.year, self.month or 1, self.day or 1)

    def last_date(self) -> date:
        """The last day covered (31 December for a year, the Sunday for a week)."""
        if self.precision == "year":
            return date(self.year, 12, 31)
        if self.precision == "month":
            assert self.month is not None
            nxt = date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return nxt - timedelta(days=1)
        if self.precision == "week":
            return self.as_date() + timedelta(days=6)
        return self.as_date()


_MONTHS: dict[str, int] = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
    "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_MON = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WD = r"(?P<wd>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_OPT_WD = r"(?:(?:" + "|".join(_WEEKDAYS) + r")\.?,?\s+)?"  # "Tuesday, Sept 10, 2024"

_UNIT_PRECISION: dict[str, Precision] = {"year": "year", "month": "month", "week": "week", "day": "day"}
_YEAR_RANGE = range(1900, 2101)  # a bare four-digit number outside it is not a year

_ABSOLUTE: list[tuple[_LazyRegex, Precision]] = [
    (_LazyRegex(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"), "day"),
    (_LazyRegex(r"(?P<year>\d{4})-(?P<month>\d{2})"), "month"),
    (_LazyRegex(_OPT_WD + _MON + r"\s*" + _DAY + r",?\s+" + _YEAR), "day"),
    (_LazyRegex(_OPT_WD + r"(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MON + r",?\s+" + _YEAR), "day"),
    (_LazyRegex(_MON + r",?\s+(?:of\s+)?" + _YEAR), "month"),
    (_LazyRegex(r"(?:the\s+)?(?:year\s+)?" + _YEAR), "year"),
]
_MONTH_DAY = [
    _LazyRegex(_OPT_WD + _MON + r"\s*" + _DAY),
    _LazyRegex(_OPT_WD + r"(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MON),
]
_MONTH_ONLY = _LazyRegex(_MON)
_WEEKDAY = _LazyRegex(r"(?:(?P<rel>last|this past|past|previous|this|next)\s+)?" + _WD)
_AGO = _LazyRegex(r"(?P<n>\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\s+(?P<unit>day|week|month|year)s?\s+ago")
_PERIOD = _LazyRegex(r"(?P<rel>this|current|last|previous|next)\s+(?P<unit>week|month|year)")

# Leading words that frame an expression without moving it ("on", "early", "the end of").
_LEAD = _LazyRegex(r"^(?:(?:on|in|during|at|of|the|early|earlier|mid|middle|late|later|end|beginning|start)\b[\s-]*)+")
_TRAIL = _LazyRegex(r"(?:\s+(?:morning|afternoon|evening|night|noon|midday|overnight))+$")


def _clean_expression(expression: str) -> str:
    text = unicodedata.normalize("NFKC", expression).casefold().translate(_APOSTROPHES)
    text = re.sub(r"\s+", " ", text).strip(" \t\n.,;:!?\"'()")
    return text


def _anchor(published: date | PartialDate | None) -> tuple[date | None, int]:
    """The publication date and how much of it is known (precision rank, -1 = none)."""
    if published is None:
        return None, -1
    if isinstance(published, PartialDate):
        if published.precision == "week":  # a week does not fix its month or year
            return None, -1
        return published.as_date(), _PRECISION_RANK[published.precision]
    if isinstance(published, date):
        return date(published.year, published.month, published.day), _PRECISION_RANK["day"]
    return None, -1


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _latest_on_or_before(anchor: date, month: int, day: int) -> date | None:
    """The month-day in the anchor's year, or in the year before if that is later.

    Only those two years are tried: "February 29" in a 2023 article is an error,
    not a date four years back.
    """
    for year in (anchor.year, anchor.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= anchor:
            return candidate
    return None


def _resolve_relative(text: str, anchor: date | None, rank: int) -> PartialDate | bool | None:
    """Relative expressions; ``False`` when ``text`` is not one (so absolute parsing goes on)."""

    def need(precision: Precision) -> bool:
        return anchor is not None and rank >= _PRECISION_RANK[precision]

    if text in ("today", "tonight", "this morning", "this afternoon", "this evening"):
        return PartialDate.of(anchor) if need("day") and anchor else None
    if text in ("yesterday", "last night", "yesterday morning", "yesterday afternoon",
                "yesterday evening", "day before yesterday", "the day before yesterday"):  # fmt: skip
        if not (need("day") and anchor):
            return None
        return PartialDate.of(anchor - timedelta(days=2 if "before" in text else 1))

    stripped = _TRAIL.sub("", _LEAD.sub("", text)).strip()
    if m := _WEEKDAY.fullmatch(stripped):
        if not (need("day") and anchor):
            return None
        target = _WEEKDAYS[m["wd"]]
        if m["rel"] == "next":
            return PartialDate.of(anchor + timedelta(days=(target - anchor.weekday() - 1) % 7 + 1))
        # "Monday", "on Monday", "last Monday": the latest such day on or before
        # the dateline, the dateline itself when it is that weekday.
        return PartialDate.of(anchor - timedelta(days=(anchor.weekday() - target) % 7))
    if m := _PERIOD.fullmatch(stripped):
        unit = _UNIT_PRECISION[m["unit"]]
        if not (need(unit) and anchor):
            return None
        step = {"this": 0, "current": 0, "last": -1, "previous": -1, "next": 1}[m["rel"]]
        if unit == "week":
            return PartialDate.of(anchor + timedelta(weeks=step), "week")
        if unit == "month":
            return PartialDate.of(_shift_months(anchor, step), "month")
        return PartialDate(year=anchor.year + step, precision="year")
    if m := _AGO.fullmatch(stripped):
        count = int(m["n"]) if m["n"].isdigit() else _NUMBER_WORDS[m["n"]]
        unit = _UNIT_PRECISION[m["unit"]]
        if not (need(unit) and anchor):
            return None
        if unit == "day":
            return PartialDate.of(anchor - timedelta(days=count))
        if unit == "week":
            return PartialDate.of(anchor - timedelta(weeks=count), "week")
        if unit == "month":
            return PartialDate.of(_shift_months(anchor, -count), "month")
        return PartialDate(year=anchor.year - count, precision="year")
    return False


def _resolve_absolute(text: str, anchor: date | None, rank: int) -> PartialDate | bool | None:
    stripped = _TRAIL.sub("", _LEAD.sub("", text)).strip()
    for pattern, precision in _ABSOLUTE:
        if m := pattern.fullmatch(stripped):
            groups = m.groupdict()
            year = int(groups["year"])
            if year not in _YEAR_RANGE:
                return None
            month = int(groups["month"]) if groups.get("month") else _MONTHS.get(groups.get("mon") or "")
            day = int(groups["day"]) if groups.get("day") else None
            try:
                return PartialDate(year=year, month=month, day=day, precision=precision)
            except ValueError:
                return None
    for pattern in _MONTH_DAY:
        if m := pattern.fullmatch(stripped):
            if anchor is None or rank < _PRECISION_RANK["day"]:
                return None
            resolved = _latest_on_or_before(anchor, _MONTHS[m["mon"]], int(m["day"]))
            return PartialDate.of(resolved) if resolved else None
    if m := _MONTH_ONLY.fullmatch(stripped):
        if anchor is None or rank < _PRECISION_RANK["month"]:
            return None
        month = _MONTHS[m["mon"]]
        year = anchor.year if month <= anchor.month else anchor.year - 1
        return PartialDate(year=year, month=month, precision="month")
    return False


def _resolve_with_dateparser(text: str) -> PartialDate | None:
    """Absolute dates in other forms ("10-Sep-2024"); relative results are refused."""
    if not re.search(r"\b(?:19|20)\d{2}\b", text) or not re.search(r"\b(?:" + "|".join(_MONTHS) + r")\b", text):
        return None  # needs a month name and a year, or it would lean on the clock
    first = _dateparser_parse(text, datetime(2001, 3, 7))
    second = _dateparser_parse(text, datetime(2013, 11, 23))
    if first is None or first != second:  # differs with the base: relative, refuse
        return None
    found, period = first
    if found.year not in _YEAR_RANGE:
        return None
    precision: Precision = "year" if period == "year" else "month" if period == "month" else "day"
    return PartialDate.of(found, precision)


def _dateparser_parse(text: str, base: datetime) -> tuple[date, str] | None:
    from dateparser.date import DateDataParser  # type: ignore[import-untyped]

    parser = DateDataParser(
        languages=["en"],
        settings={"RELATIVE_BASE": base, "PREFER_DAY_OF_MONTH": "first"},
    )
    data = parser.get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    return data.date_obj.date(), str(data.period or "day")


def resolve_date(expression: str, published: date | PartialDate | None) -> PartialDate | None:
    """Resolve a date expression as written, against the article's publication date.

    Absolute expressions ("In June 2011", "Sept. 10, 2024", "in 2016",
    "2023-06-30") keep the precision they are written with. Relative ones need
    ``published``: a weekday ("on Monday", "Monday", "last Monday") is the latest
    such day on or before it (the publication day itself when it is that
    weekday); "yesterday"; "this/last week|month|year"; "three days ago"; a
    month-day without a year takes the publication year, or the year before if
    that would fall after publication. Without ``published`` (or with one too
    coarse: a year-precision dateline cannot place "Monday") a relative
    expression gives ``None``, never a guess; so does garbage. ``published`` may
    be a :class:`PartialDate` (e.g. from :func:`published_date`).

    >>> resolve_date("on Sunday", date(2025, 1, 12)).iso()
    '2025-01-12'
    >>> resolve_date("on Tuesday", date(2017, 12, 20)).iso()
    '2017-12-19'
    >>> resolve_date("In June 2011", None).iso()
    '2011-06'
    >>> resolve_date("on Monday", None) is None
    True
    """
    if not isinstance(expression, str):
        return None
    text = _clean_expression(expression)
    if not text or len(text) > 80:
        return None
    anchor, rank = _anchor(published)
    for resolver in (_resolve_relative, _resolve_absolute):
        result = resolver(text, anchor, rank)
        if result is not False:
            return result if isinstance(result, PartialDate) else None
    return _resolve_with_dateparser(text)


# ---------------------------------------------------------------------------
# 5. publication date
# ---------------------------------------------------------------------------

_HEADER_CHARS = 600
_FOOTER_CHARS = 400
_MON_I = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
# each pattern opens with a lookahead for its first character, which changes no match: it lets
# the engine skip the positions where none can start (twice as fast on a header)
_MON_FIRST = "(?=[" + "".join(sorted({m[0] for m in _MONTHS})) + "])"
_FULL_DATES = [
    _LazyRegex(r"(?=\d)(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?!\d)"),
    _LazyRegex(_MON_FIRST + r"\b" + _MON_I + r"\s*(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})(?!\d)", re.I),
    _LazyRegex(r"(?=\d)\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MON_I + r",?\s+(?P<year>\d{4})(?!\d)", re.I),
    # "19.06.2019": day.month.year, as Turkish, German and Russian pages date themselves (never month first)
    _LazyRegex(r"(?=\d)(?<![\d.])(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>(?:19|20)\d{2})(?![\d.])"),
]
# "TEHRAN, Dec. 20 (MNA)", "Tehran, Sept 13, IRNA": a dateline without its year.
_DATELINE = _LazyRegex(r"^[ \t]*[A-Za-z][A-Za-z .'\-]{1,40},\s*" + _MON_I + r"\s*(?P<day>\d{1,2})\b", re.I | re.M)
_HEADER_YEAR = _LazyRegex(r"(?<![\d:/.,])(?:19|20)\d{2}(?![\d:])")
_COPYRIGHT = _LazyRegex(
    r"(?:copyright|\u00a9|\(c\))[^\n\d]{0,40}?(?P<year>(?:19|20)\d{2})"
    r"(?:\s*[-\u2013]\s*(?P<end>(?:19|20)\d{2}))?",
    re.I,
)


def _month_number(token: str) -> int:
    return _MONTHS[token.casefold().rstrip(".")]


def published_date(text: str) -> PartialDate | None:
    """The article's own date, from its header or dateline, else its copyright year.

    Looks at the first 600 characters for the earliest full date
    (" date 2023-06-30 TEHRAN –", "Sep 13, 2019, 9:57 AM"), then for a dateline
    without a year ("TEHRAN, Dec. 20 (MNA)") completed with a year found
    elsewhere in the header; as a last resort, a copyright line in the last 400
    characters ("Copyright © ANTARA 2012") gives the year alone.

    >>> published_date(" date 2023-06-30 TEHRAN – The Iranian police chief").iso()
    '2023-06-30'
    >>> published_date("Moscow (ANTARA) - ...\\nCopyright © ANTARA 2012").iso()
    '2012'
    """
    if not isinstance(text, str):
        return None
    header = text[:_HEADER_CHARS]
    matches = sorted((m for pattern in _FULL_DATES for m in pattern.finditer(header)), key=lambda m: m.start())
    for m in matches:
        groups = m.groupdict()
        month = int(groups["month"]) if groups.get("month") else _month_number(groups["mon"])
        try:
            return PartialDate(year=int(groups["year"]), month=month, day=int(groups["day"]), precision="day")
        except ValueError:
            continue
    dateline = _DATELINE.search(header)
    if dateline is not None:
        year = _HEADER_YEAR.search(header)
        if year is not None:
            try:
                return PartialDate(
                    year=int(year[0]),
                    month=_month_number(dateline["mon"]),
                    day=int(dateline["day"]),
                    precision="day",
                )
            except ValueError:
                pass
    footer = text[-_FOOTER_CHARS:]
    copyrights = list(_COPYRIGHT.finditer(footer))
    if copyrights:
        last = copyrights[-1]
        return PartialDate(year=int(last["end"] or last["year"]), precision="year")
    return None
