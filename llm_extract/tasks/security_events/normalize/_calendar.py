"""The result type, :class:`DateRange`, and the calendar arithmetic the period rules use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

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
