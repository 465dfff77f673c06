"""Numbers written with digits: the text's separator style and the value of one digit string.

Dots and commas (the rule for ambiguous separators)
---------------------------------------------------
A number written ``d.ddd`` (one dot, exactly three digits after it, first group 1–999) or ``d,ddd`` is ambiguous.
English reports use ``d.ddd`` for three decimals — gram precision, as in "52.800 kg", "1.108 kg", "2.484 tons"
(Pakistani, Indian, Bangladeshi police reports) — while Spanish, Portuguese, German and French use it for
thousands ("1.200 kilogramos", "89.760 Kaptagon-Tabletten"). The rule, measured on a corpus of real news phrases:

1. The text's own style decides first. European evidence: several dot groups (``1.234.567``), dot groups with a
   decimal comma (``1.234,5``), a decimal comma before a unit (``1,5 kg``). English evidence: comma groups with a
   decimal dot (``1,234.5``), several comma groups, a decimal dot with other than three digits (``1.5``). With only
   English evidence, ``2.400`` is 2.4 and ``2,400`` is 2400; with only European evidence, ``2.400`` is 2400 and
   ``2,400`` is 2.4.
2. Otherwise ``2.400`` is read as thousands when the text is Spanish/Portuguese/French/German/Italian (two or more
   of their function words), when the unit after it is a word of those languages or "kilo(s)", or when the digits
   after the dot are ``000``; else it is a decimal (2.4). ``2,400`` is 2400.

The other reading is kept in ``alt_value`` and :func:`find_value` matches either, so grounding works whichever
convention the article used; ``alt_value`` is set only for these ambiguous forms. ``1.234.567`` and ``1.234,5`` are
always European; ``1,5`` is a decimal comma only before a unit or scale word ("1,3 millones") or in a European text.
:func:`parse_number` applies the same rule to its argument: "2.400" → 2.4, "2.400 kilogramos" → 2400,
"2.400.000" → 2,400,000.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from ._number_words import _EN_EVIDENCE, _EU_EVIDENCE, _THIN
from ._quantity_types import Style


def _text_style(text: str) -> Style:
    en = _EN_EVIDENCE.search(text) is not None
    eu = _EU_EVIDENCE.search(text) is not None
    if en and not eu:
        return "en"
    if eu and not en:
        return "eu"
    return None


def _dec(text: str) -> Decimal:
    return Decimal(text)


def _digits_value(raw: str, style: Style, *, european: bool, unit_follows: bool) -> tuple[Decimal, Decimal | None] | None:
    """Value (and the other reading, if ambiguous) of a digit string with separators; None if malformed.

    ``european``: the text, or the unit word after the number, is Spanish/Portuguese/French/German.
    """
    try:
        if raw.isdigit():
            return Decimal(int(raw)), None
        if any(c in _THIN for c in raw):
            m = re.fullmatch(r"([1-9]\d{0,2}(?:[\u00a0\u2009\u202f ]\d{3})+)(?:[.,](\d+))?", raw)
            if m is None:
                return None
            whole = re.sub(r"\D", "", m.group(1))
            return _dec(whole + ("." + m.group(2) if m.group(2) else "")), None
        if re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?", raw):
            thousands = _dec(raw.replace(",", ""))
            if "." not in raw and raw.count(",") == 1:
                if style == "eu":
                    return _dec(raw.replace(",", ".")), thousands
                if european and style is None:
                    return thousands, _dec(raw.replace(",", "."))
            return thousands, None
        if re.fullmatch(r"[1-9]\d?(?:,\d{2})+,\d{3}(?:\.\d+)?", raw):  # Indian lakh grouping
            return _dec(raw.replace(",", "")), None
        if re.fullmatch(r"\d+\.\d+", raw):
            decimal = _dec(raw)
            if re.fullmatch(r"[1-9]\d{0,2}\.\d{3}", raw):
                thousands = _dec(raw.replace(".", ""))
                if style == "eu" or (style is None and (european or raw.endswith(".000"))):
                    return thousands, decimal
                return decimal, thousands
            return decimal, None
        if re.fullmatch(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?", raw):  # European: 1.234.567 / 1.234,5
            return _dec(raw.replace(".", "").replace(",", ".")), None
        if re.fullmatch(r"\d+,\d+", raw) and (unit_follows or style == "eu"):
            if re.fullmatch(r"[1-9]\d{3,}(?:,\d{3})+", raw):  # irregular grouping: "1700,000 tablets"
                return _dec(raw.replace(",", "")), None
            return _dec(raw.replace(",", ".")), None  # decimal comma: 1,5 kg
        if re.fullmatch(r"[1-9]\d{3,}(?:,\d{3})+", raw) and unit_follows:
            return _dec(raw.replace(",", "")), None
    except InvalidOperation:  # pragma: no cover - the patterns above only pass valid decimals
        return None
    return None


def _fraction_value(char: str) -> Decimal:
    return Decimal(str(unicodedata.numeric(char)))
