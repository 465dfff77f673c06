"""Quantities as news writes them: find "2,400 kg", "1.5 lakh tablets", "half a tonne" in text, with exact spans.

The model reports a seizure as ``quantity=2400.0, unit="kilograms"`` with an evidence sentence. This module finds
where that quantity is written in the sentence (or the article), and with which unit, so that the caller can
ground the number and catch a model that changed the unit ("250 grams" in the article, 250 kg in the answer).

Public API: :class:`QuantityMention`, :func:`find_quantities`, :func:`find_value`, :func:`parse_number`.
Spans always index the original text: ``text[m.start:m.end]`` is the phrase.

The parts: :mod:`._quantity_scan` (the scanner, with what is recognised), :mod:`._number_reader` (numbers
at a token, and why no library reads the number words), :mod:`._number_digits` (digit strings, with the rule
for ambiguous dots and commas), :mod:`._quantity_tokens` (tokens, units, scales), :mod:`._number_words`
(the vocabulary) and :mod:`._quantity_types` (the records).
"""

from __future__ import annotations

import math
from functools import lru_cache

from ._number_words import _APPROX_BEFORE, _CURRENCY_BEFORE
from ._quantity_scan import _Scanner
from ._quantity_types import QuantityMention

__all__ = ["QuantityMention", "find_quantities", "find_value", "parse_number"]


def find_quantities(text: str) -> list[QuantityMention]:
    """Every quantity written in ``text``, in order of position; see :mod:`._quantity_scan` for the rules.

    >>> [(m.value, m.unit, m.unit_text) for m in find_quantities("seized 2,400 kg of methamphetamine")]
    [(2400.0, 'kg', 'kg')]
    >>> [(m.value, m.unit) for m in find_quantities("between 2 and 3 tonnes")]
    [(2.0, 'tonne'), (3.0, 'tonne')]
    """
    return list(_scan(text))


@lru_cache(maxsize=16)
def _scan(text: str) -> tuple[QuantityMention, ...]:
    """The scan of a text, remembered: a build looks for each item's quantity in the same article."""
    return tuple(_Scanner(text).scan())


def _close(a: float, b: float, rel_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)


def find_value(text: str, value: float, *, rel_tol: float = 0.005) -> list[QuantityMention]:
    """The quantities in ``text`` whose value is ``value`` (relative tolerance ``rel_tol``).

    A mention matches on its value, on the other reading of an ambiguous separator (``alt_value``), or on the
    number before its scale word: "20.4 million tablets" matches 20400000 and 20.4 (a model that wrote 20.4 with
    unit "million tablets"); "1.5 lakh" matches 150000 and 1.5.

    >>> [m.value for m in find_value("1.2 million methamphetamine tablets", 1.2)]
    [1200000.0]
    """
    if not math.isfinite(value):
        return []
    out: list[QuantityMention] = []
    for m in find_quantities(text):
        candidates = [m.value] + ([m.alt_value] if m.alt_value is not None else [])
        if m.scale != 1.0:
            candidates += [c / m.scale for c in list(candidates)]
        if any(_close(c, value, rel_tol) for c in candidates):
            out.append(m)
    return out


def parse_number(text: str) -> float | None:
    """The value of a number phrase, or None if ``text`` is not exactly one number (optionally with a unit).

    Accepts everything :func:`find_quantities` reads ("2,400", "1,50,000", "thirty-seven", "a dozen", "half a",
    "one and a half", "1.5 million", "3 crore", "2 lakh", "1.2bn", "½"), with an approximation word or currency
    sign before it and a unit after it. Separator rule: "2.400" alone is 2.4; "2.400 kg" is 2400 (a unit follows);
    "2.400.000" is 2400000 (see :mod:`._number_digits`). Years are numbers here ("2022" → 2022.0).

    >>> parse_number("1,50,000"), parse_number("thirty-seven"), parse_number("half a"), parse_number("1.2bn")
    (150000.0, 37.0, 0.5, 1200000000.0)
    """
    stripped = text.strip().rstrip(".,;:")
    if not stripped:
        return None
    mentions = _Scanner(stripped, parse_mode=True).scan()
    if len(mentions) != 1:
        return None
    m = mentions[0]
    before = stripped[: m.start]
    if before.strip() and not (_APPROX_BEFORE.fullmatch(before) or _CURRENCY_BEFORE.fullmatch(before)):
        return None
    if stripped[m.end :].strip():
        return None
    return m.value
