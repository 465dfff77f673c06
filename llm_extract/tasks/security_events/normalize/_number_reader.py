"""Numbers at a token: digits, number words and fractions, with any scale word (see :mod:`.numbers`).

Why no library for number words
-------------------------------
Evaluated (2026): ``text2num`` 3.1 (``alpha2digit``; MIT; Rust wheel) and ``number-parser`` 0.3.2 (BSD-3-Clause;
last release 2023). Neither reports spans: both rewrite the string, so offsets into the original text would have
to be reconstructed. Neither handles "a dozen", "half a tonne", "one and a half" (both give "1 and a half"),
"a hundred" (text2num: invalid; alpha2digit leaves "a 100"), or lakh (text2num leaves "two lakh"). number-parser
turns ordinals and pronouns into numbers ("the second half" → "the 2 half", "first seizure" → "1 seizure",
"no one was hurt" → "no 1 was hurt", "one of the suspects" → "1 of the suspects", "one-third" → "1 - 3").
text2num's default threshold leaves small numbers ("two tonnes") as words; with ``threshold=0`` it converts
"one of the" and "no one" too. The number-word grammar here is a small state machine that keeps token offsets.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from ._number_digits import _digits_value, _fraction_value
from ._number_words import (
    _A_UNITS,
    _COUNTED,
    _FOREIGN_NUMBERS,
    _FRACTION_WORDS,
    _PRONOUN_AFTER_ONE,
    _PRONOUN_BEFORE_ONE,
    _SMALL,
    _TENS,
    _WORD_SCALES,
)
from ._quantity_tokens import _Reader
from ._quantity_types import _Num, _Unit

#: the words `words_at` can start a number with: any other word token starts none
_WORD_STARTS = frozenset({"a", "an", "half", "quarter", *_SMALL, *_TENS, *_FOREIGN_NUMBERS})


class _NumberReader(_Reader):
    """Reads the number (digits or words) that starts at a token."""

    def digits_at(self, i: int) -> _Num | None | Literal[False]:
        """Number written with digits at token i; False when the token is a number but not a quantity."""
        t = self.toks[i]
        start = t.start
        j = i + 1
        if t.kind == "frac":
            value: Decimal = _fraction_value(t.text)
            alt: Decimal | None = None
            raw_plain = False
        else:
            raw = t.text
            # ASCII-space grouping "3 400 kg" and a stray space after a comma "49, 200 bottles", "8, 69,557 pills"
            # (only when a unit follows, or when parsing one number).
            k = j
            grouped = raw
            if re.fullmatch(r"[1-9]\d{0,2}", raw):
                while (
                    (nt := self.tok(k)) is not None
                    and nt.kind == "num"
                    and self.gap(k) == " "
                    and re.fullmatch(r"\d{3}(?:\.\d+)?", nt.text)
                    and "." not in grouped
                ):
                    grouped += " " + nt.text
                    k += 1
                comma, after = self.tok(j), self.tok(j + 1)
                if (
                    k == j
                    and comma is not None
                    and comma.text == ","
                    and self.glued(j)
                    and after is not None
                    and after.kind == "num"
                    and self.gap(j + 1) == " "
                    and re.fullmatch(r"\d{3}(?:,\d{3})*|\d{2}(?:,\d{2})*,\d{3}", after.text)
                ):
                    grouped, k = raw + "," + after.text, j + 2
                if k > j and (self.parse_mode or self._following_unit(k) is not None):
                    raw, j = grouped, k
            unit = self._following_unit(j)
            european = self.foreign or (unit is not None and (unit.foreign or unit.text.lower() in ("kilo", "kilos")))
            scale_word = (w := self.tok(j)) is not None and w.low in _WORD_SCALES and not self.glued(j)
            parsed = _digits_value(raw, self.style, european=european, unit_follows=unit is not None or scale_word)
            if parsed is None:
                return False
            value, alt = parsed
            raw_plain = raw.isdigit()
            nt = self.tok(j)
            if nt is not None and nt.kind == "frac" and self.glued(j):  # 1½
                value += _fraction_value(nt.text)
                alt = None
                raw_plain = False
                j += 1
        end = self.toks[j - 1].end
        return _Num(value, alt, 1, j, start, end, words=False, plain_int=raw_plain)

    def _following_unit(self, j: int) -> _Unit | None:
        """The unit after token j, past an optional scale word."""
        if self.tok(j) is None:
            return None
        s = self.scale_at(j, False)
        if s is not None:
            j = s[1]
        return self.unit_at(j)

    def words_at(self, i: int) -> _Num | None | Literal[False]:
        """Number written with words at token i ("forty-two", "a dozen", "half a")."""
        t = self.toks[i]
        low = t.low
        if self.glued(i) and self.tok(i - 1) is not None and self.toks[i - 1].kind in ("num", "word"):
            return None
        if i >= 2 and self.glued(i) and self.toks[i - 1].text == "-" and self.glued(i - 1):
            return None  # inside a hyphenated word ("one-to-one", "well-two")
        if low in ("a", "an"):
            w = self.word(i + 1)
            if w in _WORD_SCALES or w in ("hundred", "dozen"):
                return self._word_sequence(i + 1, i, Decimal(1))
            if w == "quarter" and self.word(i + 2) == "of" and self.word(i + 3) in ("a", "an"):
                return self._fraction_of(i, i + 4, Decimal("0.25"))
            if w in _A_UNITS:
                prev = self.tok(i - 1)
                if prev is not None and (prev.kind == "num" or prev.low in _WORD_SCALES or prev.low == "per"):
                    return None  # a price: "$30,000 a kilo"
                return _Num(Decimal(1), None, 1, i + 1, t.start, t.end, words=True, plain_int=False)
            return None
        if low == "half" and self.word(i + 1) in ("a", "an"):
            return self._fraction_of(i, i + 2, Decimal("0.5"))
        if low == "quarter" and self.word(i + 1) == "of" and self.word(i + 2) in ("a", "an"):
            return self._fraction_of(i, i + 3, Decimal("0.25"))
        if low in _SMALL or low in _TENS:
            return self._word_sequence(i, i, Decimal(0))
        if low in _FOREIGN_NUMBERS and self.word(i + 1) is not None and self.unit_at(i + 1) is not None:
            return _Num(Decimal(_FOREIGN_NUMBERS[low]), None, 1, i + 1, t.start, t.end, words=True, plain_int=False)
        return None

    def _fraction_of(self, i: int, j: int, frac: Decimal) -> _Num | None:
        """Fractions: "half a tonne", "half a million", "half a dozen", "a quarter of a tonne"; j is the token after "a"."""
        start = self.toks[i].start
        w = self.word(j)
        if w in _WORD_SCALES or w == "dozen":
            mult = _WORD_SCALES.get(w or "", 12)
            end = self.toks[j].end
            return _Num(frac * mult, None, mult if w != "dozen" else 1, j + 1, start, end, True, False)
        if w is not None and (self.measure_at(j) is not None or w in _COUNTED):
            return _Num(frac, None, 1, j, start, self.toks[j - 1].end, words=True, plain_int=False)
        if self.parse_mode and j >= len(self.toks):
            return _Num(frac, None, 1, j, start, self.toks[j - 1].end, words=True, plain_int=False)
        return None

    def _word_sequence(self, i: int, first: int, group0: Decimal) -> _Num | Literal[False]:
        """The number-word state machine from token i (``first`` is where the phrase starts, maybe at "a")."""
        total = Decimal(0)
        group = group0
        last = "a" if group0 else None
        last_scale = 10**15
        scales_used = 0
        last_scale_value = 1
        j = i
        while j < len(self.toks):
            t = self.toks[j]
            if j > first and t.kind != "word":
                if t.text == "-" and last == "tens" and self.glued(j) and (self.word(j + 1, spaced=False) or "") in _SMALL:
                    nxt = self.toks[j + 1].low
                    if 1 <= _SMALL[nxt] <= 9 and self.glued(j + 1):
                        group += _SMALL[nxt]
                        last = "unit"
                        j += 2
                        continue
                break
            w = t.low
            if j > first and self.glued(j):
                break
            if w in _TENS and last in (None, "hundred", "scale", "and"):
                group += _TENS[w]
                last = "tens"
            elif w in _SMALL and 1 <= _SMALL[w] <= 9 and last == "tens":
                group += _SMALL[w]
                last = "unit"
            elif w in _SMALL and last in (None, "hundred", "scale", "and"):
                group += _SMALL[w]
                last = "small"
            elif w == "hundred" and last in ("small", "tens", "unit", "a") and 0 < group < 100:
                group *= 100
                last = "hundred"
            elif w in _WORD_SCALES and last in ("small", "tens", "unit", "hundred", "a") and _WORD_SCALES[w] < last_scale:
                last_scale = _WORD_SCALES[w]
                total += group * last_scale
                group = Decimal(0)
                last = "scale"
                scales_used += 1
                last_scale_value = last_scale
            elif w == "dozen" and last in ("small", "tens", "unit", "a"):
                group *= 12
                last = "dozen"
                j += 1
                break
            elif w == "and" and last in ("hundred", "scale"):
                follow = self.word(j + 1)
                if follow is None or not (follow in _SMALL or follow in _TENS):
                    break
                last = "and"
            else:
                break
            j += 1
        if last in (None, "a", "and"):
            return False
        value = total + group
        scale = 1
        if last == "scale" and scales_used == 1:
            scale = last_scale_value
        end = self.toks[j - 1].end
        start = self.toks[first].start
        num = _Num(value, None, scale, j, start, end, words=True, plain_int=False)
        if j - first == 1 and self.toks[first].low == "one" and not self.parse_mode:
            before = self.word(first - 1) if first > 0 else None
            after = self.word(j)
            if before in _PRONOUN_BEFORE_ONE or after in _PRONOUN_AFTER_ONE:
                return False
        hw = self.hyphen_word(j)
        if hw is not None and self.toks[hw].low in _FRACTION_WORDS:
            return False  # "one-third", "two-thirds"
        return num

    # -- quantities -------------------------------------------------------------------------------------------

    def number_at(self, i: int) -> _Num | None | Literal[False]:
        t = self.toks[i]
        if t.kind in ("num", "frac"):
            if t.start in self.blocked or (len(t.text) > 1 and set(t.text) == {"0"}):
                return False
            prev = self.tok(i - 1)
            glued_wa = prev is not None and prev.text == "و"  # Arabic "and" written against the number: و889
            if self.glued(i) and prev is not None and not glued_wa and self.currency_before(t.start) is None:
                if prev.kind in ("num", "word", "frac"):
                    return False  # A320, MV22
                if prev.text in "-‐‑/" and self.glued(i - 1) and i >= 2 and self.toks[i - 2].kind == "word":
                    return False  # COVID-19, AK-47, KI/4177108
                if prev.text in "#№":
                    return False
                if prev.text in "/:" and i >= 2 and self.toks[i - 2].kind == "num" and self.glued(i - 1):
                    return False  # 10/09, 10:30
                if prev.text in "'’" and not self.parse_mode:
                    return False  # '23
                if prev.text in ".,":
                    return False  # ".5", "1.2.3" pieces
            return self.digits_at(i)
        if t.kind == "word":
            return self.words_at(i)
        return None
