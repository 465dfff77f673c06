"""What the quantity scanner finds: the public :class:`QuantityMention` and its working records."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple


@dataclass(frozen=True)
class QuantityMention:
    """One quantity written in a text.

    ``text[start:end]`` is the number and its unit ("2,400 kilograms", "1.2 million methamphetamine tablets",
    "395kg"); approximation words ("about") and currency signs are outside the span. ``value`` includes any
    scale word ("20.4 million" → 20,400,000.0, ``scale`` 1e6). ``alt_value`` is the other reading of an
    ambiguous separator ("2.400 kg": 2400.0, alt 2.4), else None. ``currency`` is the sign or code written
    before the number ("$", "Rs") or the currency word after it ("rupees"); such mentions have ``unit=None``.
    """

    start: int
    end: int
    value: float
    unit: str | None
    unit_text: str | None
    approximate: bool
    scale: float = 1.0
    alt_value: float | None = None
    currency: str | None = None


class _Tok(NamedTuple):  # a tuple: an article has hundreds, made faster than frozen dataclasses
    kind: str
    text: str
    low: str
    start: int
    end: int


@dataclass(slots=True)
class _Num:
    """A recognised number: tokens [i, j), chars [start, end)."""

    value: Decimal
    alt: Decimal | None
    scale: int
    j: int
    start: int
    end: int
    words: bool
    plain_int: bool  # digits only, no separator, no scale
    approx: bool = False


@dataclass(slots=True)
class _Unit:
    unit: str
    text: str
    j: int
    end: int
    factor: int = 1  # "quintal": kg × 100
    foreign: bool = False  # a Spanish/Portuguese/French/German unit word


@dataclass(slots=True)
class _Found:
    mention: QuantityMention
    bare: bool  # no unit of its own and no currency: may borrow the unit of a following range end


Style = Literal["en", "eu"] | None
