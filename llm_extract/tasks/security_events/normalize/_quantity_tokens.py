"""The scanner's base: a text's tokens, and the unit, currency and scale words at a token (see :mod:`.numbers`)."""

from __future__ import annotations

import re

from ._number_digits import _text_style
from ._number_words import (
    _ABBREV_SCALES,
    _COUNTED,
    _CURRENCY_BEFORE,
    _CURRENCY_WORDS,
    _DATE_TIME,
    _FOREIGN_MARKER_WORDS,
    _FOREIGN_MARKERS,
    _FOREIGN_UNITS,
    _GAP_STOP,
    _MEASURE_EXACT,
    _MEASURE_LOWER,
    _MEASURE_SCALED,
    _MONTHS,
    _SIZE_SUFFIXES,
    _SMALL,
    _TENS,
    _TOKEN_RE,
    _TON_QUALIFIERS,
    _TON_WORDS,
    _WORD_SCALES,
)
from ._quantity_types import _Tok, _Unit

_LETTER = re.compile(r"[^\W\d_]")
_ASCII_MARKERS = frozenset(w for w in _FOREIGN_MARKER_WORDS if w.isascii())


def _markers(text: str, toks: list[_Tok]) -> set[str]:
    """`{m.group().lower() for m in _FOREIGN_MARKERS.finditer(text)}`, read off the word tokens (faster).

    A marker is a whole run of letters, so it is a whole word token: an ASCII token is one when
    it is a marker word and no letter (a glued "½") comes before it; a token with other
    characters (accents, combining marks, which may split runs) is searched with the pattern itself.
    """
    found: set[str] = set()
    for t in toks:
        if t.kind != "word":
            continue
        if t.text.isascii():
            if t.low in _ASCII_MARKERS and (t.start == 0 or _LETTER.match(text, t.start - 1) is None):
                found.add(t.low)
        else:
            found.update(m.group().lower() for m in _FOREIGN_MARKERS.finditer(text, t.start, t.end))
    return found


class _Reader:
    """Tokenises a text once; reads the unit, currency and scale words at a token."""

    def __init__(self, text: str, *, parse_mode: bool = False) -> None:
        self.text = text
        self.parse_mode = parse_mode
        self.style = _text_style(text)
        self.toks = [
            _Tok(m.lastgroup or "other", g, g.lower(), *m.span()) for m in _TOKEN_RE.finditer(text) for g in (m.group(),)
        ]
        self.foreign = len(_markers(text, self.toks)) >= 2
        self.blocked: set[int] = set()  # start offsets of digit tokens inside dates and times
        if not parse_mode:
            for m in _DATE_TIME.finditer(text):
                self.blocked.update(range(m.start(), m.end()))

    # -- small helpers ----------------------------------------------------------------------------------------

    def tok(self, i: int) -> _Tok | None:
        return self.toks[i] if 0 <= i < len(self.toks) else None

    def glued(self, i: int) -> bool:
        """Token i touches token i-1 (no space between)."""
        return 0 < i < len(self.toks) and self.toks[i].start == self.toks[i - 1].end

    def word(self, i: int, *, spaced: bool = True) -> str | None:
        """Lower-case text of token i if it is a word (separated by whitespace from i-1 when ``spaced``)."""
        t = self.tok(i)
        if t is None or t.kind != "word" or (spaced and self.glued(i)):
            return None
        return t.low

    def gap(self, i: int) -> str:
        """The text between token i-1 and token i."""
        if i <= 0 or i >= len(self.toks):
            return ""
        return self.text[self.toks[i - 1].end : self.toks[i].start]

    def hyphen_word(self, i: int) -> int | None:
        """If tokens i, i+1 are a glued hyphen and a glued word, the index of the word."""
        t, w = self.tok(i), self.tok(i + 1)
        if t is not None and w is not None and t.text in "-‐‑" and self.glued(i) and self.glued(i + 1):
            return i + 1 if w.kind == "word" else None
        return None

    # -- units ------------------------------------------------------------------------------------------------

    def measure_at(self, i: int) -> _Unit | None:
        t = self.tok(i)
        if t is None or t.kind != "word":
            return None
        if t.low in _TON_QUALIFIERS:
            w = self.word(i + 1)
            if w in _TON_WORDS:
                end = self.toks[i + 1].end
                return _Unit("tonne", self.text[t.start : end], i + 2, end)
            return None
        if t.low in _MEASURE_SCALED:
            scaled_unit, factor = _MEASURE_SCALED[t.low]
            return _Unit(scaled_unit, t.text, i + 1, t.end, factor=factor)
        unit = _MEASURE_EXACT.get(t.text) if len(t.text) == 1 else _MEASURE_LOWER.get(t.low)
        if unit is None:
            return None
        if t.low == "mt" and t.text not in ("MT", "mt", "Mt"):
            return None
        return _Unit(unit, t.text, i + 1, t.end, foreign=t.low in _FOREIGN_UNITS)

    def _size_adjective(self, i: int) -> int | None:
        """If token i is a measure word used as an adjective ("kilo-sized"), the index after the compound."""
        hw = self.hyphen_word(i + 1)
        if hw is not None and self.toks[hw].low in _SIZE_SUFFIXES:
            return hw + 1
        return None

    def unit_at(self, i: int) -> _Unit | None:
        """The unit written from token i on (after a number), if any."""
        t = self.tok(i)
        if t is None:
            return None
        hw = self.hyphen_word(i)
        if hw is not None:
            i, t = hw, self.toks[hw]
        if t.kind != "word":
            return None
        measure = self.measure_at(i)
        if measure is not None and self._size_adjective(i) is None:
            return measure
        if t.low in _COUNTED and self.hyphen_word(i + 1) is None:
            return _Unit(_COUNTED[t.low], t.text, i + 1, t.end, foreign=t.low in _FOREIGN_UNITS)
        if self.glued(i):
            return None
        # Up to three descriptive words between the number and a counted unit.
        k, words = i, 0
        while words < 3:
            w = self.word(k)
            if w is None:
                return None
            after_size = self._size_adjective(k) if self.measure_at(k) is not None else None
            if after_size is not None:
                k = after_size
            elif self._gap_word_ok(w) or (w in _COUNTED and self.hyphen_word(k + 1) is not None):
                k += 1
                while (
                    self.tok(k) is not None
                    and self.toks[k].text in "-‐‑"
                    and self.glued(k)
                    and (nt := self.tok(k + 1)) is not None
                    and nt.kind in ("word", "num")
                    and self.glued(k + 1)
                ):
                    k += 2  # compounds: fentanyl-laced, vacuum-sealed, happy-5, brick-type
                last = self.toks[k - 1]
                if k - 1 > i and last.low in _COUNTED and self.toks[k - 2].text in "-‐‑":  # Kaptagon-Tabletten
                    return _Unit(_COUNTED[last.low], last.text, k, last.end, foreign=last.low in _FOREIGN_UNITS)
            else:
                return None
            words += 1
            nxt = self.word(k)
            if nxt is not None and nxt in _COUNTED:
                return _Unit(_COUNTED[nxt], self.toks[k].text, k + 1, self.toks[k].end, foreign=nxt in _FOREIGN_UNITS)
        return None

    @staticmethod
    def _gap_word_ok(w: str) -> bool:
        if w in _GAP_STOP or w in _SMALL or w in _TENS or w in _WORD_SCALES or w in _MONTHS:
            return False
        if w in _MEASURE_LOWER or w in _COUNTED or w in _CURRENCY_WORDS or w == "hundred":
            return False
        return not (len(w) > 4 and w.endswith("ing"))  # carrying, containing, weighing

    # -- numbers ----------------------------------------------------------------------------------------------

    def currency_before(self, start: int) -> str | None:
        m = _CURRENCY_BEFORE.search(self.text, max(0, start - 8), start)
        return m.group().strip() if m else None

    def scale_at(self, i: int, currency: bool) -> tuple[int, int] | None:
        """A scale word at token i: (multiplier, next token)."""
        t = self.tok(i)
        if t is None or t.kind != "word":
            return None
        if not self.glued(i) and self.gap(i).count("\n"):
            return None
        if t.low in _WORD_SCALES and not self.glued(i):
            return _WORD_SCALES[t.low], i + 1
        if t.low == "dozen" and not self.glued(i):
            return 12, i + 1
        abbrev = _ABBREV_SCALES.get(t.low)
        if abbrev is None:
            return None
        mult, when = abbrev
        if t.low == "mil":  # Spanish/Portuguese thousand: "5 mil kilos"; English "6 mil plastic" is a thickness
            unit = self.unit_at(i + 1)
            european = unit is not None and (unit.foreign or unit.text.lower() in ("kilo", "kilos"))
            return (mult, i + 1) if european or (self.foreign and unit is not None) else None
        if when == "always" or currency:
            return mult, i + 1
        if when == "unit" and self.unit_at(i + 1) is not None:
            return mult, i + 1
        return None
