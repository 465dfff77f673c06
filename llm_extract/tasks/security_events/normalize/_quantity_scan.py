"""The quantity scanner: numbers with their units, ranges, compounds and restatements, found in a text.

What is recognised
------------------
* Digits with separators: ``1,234.5``; Indian grouping ``1,50,000``; thin/no-break-space grouping ``1 234``
  (U+2009, U+202F, U+00A0). A plain ASCII space groups digits (``3 400 kg``, ``2 511.35kgs``) and a stray space
  after a comma is forgiven (``49, 200 bottles``, ``8, 69,557 pills``) only when a unit follows, so that
  "in 2019 120 kg" is not read as 2019120. Irregular grouping before a unit is read literally (``1700,000 tablets``
  → 1,700,000). Unicode vulgar fractions ``½ ¼ ¾ ⅓ …``, also glued (``1½ kg``). Any Unicode decimal digits
  (Bengali ``২২০৬``, Arabic-Indic ``۶۵``).
* Number words: zero … ninety-nine, hundred, thousand, million, billion, trillion, lakh, crore ("seven hundred and
  fifty", "twenty-one", "two million five hundred thousand"); "a hundred", "a million"; "a dozen", "two dozen",
  "half a dozen"; "half a tonne" (0.5 tonne); "one and a half", "2 and a half million"; "a quarter of a tonne";
  "a tonne"/"a kilo" (1, only directly before a weight or volume word, and not in a price: "$30,000 a kilo").
  Vague plurals ("dozens", "hundreds of", "thousands of", "tens of thousands") are not numbers and are skipped;
  so are pronoun uses of "one" ("one of the suspects", "no one") and fractions ("two-thirds").
  Spanish/Portuguese/French/German/Italian number words (uno … cien, "once" = 11, huit, zwei …) count only directly
  before a unit word ("tres toneladas", "once kilos", "huit tonnes").
* Scale words after a number: thousand, million, billion, trillion, bn, mn, mln, lakh/lakhs/lac/lacs,
  crore/crores, dozen, millones/milhões/Millionen/millions, Bengali/Hindi হাজার/লাখ/কোটি/हजार/लाख/करोड़,
  Indonesian ribu/juta. ``m``, ``k`` and ``b``/``cr``/``tn`` are scales only after a currency sign ("$13.3m",
  "Rs 5cr") or, for ``m``/``k``, before a unit ("1.2m tablets", "10k pills"): "a 20m boat" is 20 metres, not
  20 million. ``mil`` (Spanish/Portuguese thousand) only before a Spanish/Portuguese unit or in such a text.
  Groups after a scale word are added while each is smaller than the scale before it and the chain ends on a
  scale word or before a unit: "10 lakh 26 thousand 610 pieces" → 1,026,610; "one thousand 423 kg" → 1,423.
* Units (normalised name in brackets): kilogram(s)/kilogramme(s)/kilo(s)/kg/kgs [kg]; gram(s)/gramme(s)/g/gm/gms/
  gr/grs [g]; milligram(s)/mg [mg]; tonne(s)/ton(s)/t/tn/MT/metric tons [tonne]; pound(s)/lb/lbs [lb];
  ounce(s)/oz [oz]; litre(s)/liter(s)/l/L/ltr [litre]; millilitre(s)/ml [ml]; gallon(s)/gal [gallon]; quintal(s)/qtl
  [kg, value × 100, ``scale`` 100]; and counted units: tablet/tab, pill, capsule, packet (pack, package, sachet,
  parcel, wrap, pouch, bundle, bale), plant (bush, seedling, sapling), piece (pcs, block, brick, slab, cake,
  blotter, roll, rock, lump, sheet, cartridge, cigarette, unit, item, vape, candy), bottle (vial, ampoule, phial,
  jar), bag (sack). The same units in Spanish, Portuguese, French, German and Italian (kilogramos, quilos,
  toneladas, Tonnen, gramos, litros, comprimidos, pastillas, paquetes, fardos, bultos, Tabletten, panetti …) and
  the commonest Bengali/Hindi/Tamil/Telugu/Arabic/Persian weight words (কেজি, किलो, கிராம், కిలోలు, كيلوغرام, طن …).
  Units may be glued (``395kg``, ``1.2t``, ``50gm``), hyphenated (``a 50-kg bag``, ``two-tonne``), and a counted
  unit may sit up to three descriptive words after the number ("1.2 million methamphetamine tablets",
  "3,000 cannabis plants", "16,000 happy-5 tablets", "89.760 Kaptagon-Tabletten"); the words in between must not be
  function words, verbs in -ing, or people, vehicles, places or time ("3 suspects carrying bags" is 3 with no unit).
  A measure word used as an adjective is not the unit ("335 kilo-sized packages" → 335 packets).
* **"ton" is the metric tonne.** "short tons"/"long tons" also map to ``tonne`` with ``unit_text`` showing what
  was written: converting US short tons is the caller's business.
* Compound weights become one mention in the larger unit: "1 kg 73 grams" → 1.073 kg, "24 pounds, 4 ounces" →
  24.25 lb, "3 tons and 115 kilograms" → 3.115 tonne, "8 kilos y 415 gramos" → 8.415 kg. Digits restating a number
  in brackets join it: "ten (10) packages", "five thousand (5,000) tablets". "una tonelada y media" → 1.5 tonne.
* Approximation words before the number: about, around, approximately, roughly, nearly, almost, some, over,
  more/less/fewer than, at least, up to, close to, upwards of, in excess of, (an) estimated, just/well over, under,
  circa, as many/much as, in the region of, ``~`` (and más de, cerca de, casi, unos, quase, etwa, über, environ,
  oltre …); after it: ``+``, "-plus", "-odd", "or so", "or more". They set ``approximate`` but are not part of the
  span: the span is the number and its unit only.
* Ranges and pairs ("between 2 and 3 tonnes", "2-3 kg", "2 to 3 kg", "2 or 3 tonnes", "entre 50 y 60 panelas")
  give two mentions; the bare first number takes the unit of the second (its span stays the bare number) and also
  its scale when it is smaller than the second's base ("between 2 and 3 million tablets" → 2,000,000 and
  3,000,000, but "between 500 and 1 million" keeps 500).
* Money: a number after a currency sign or code ($, US$, €, £, ₹, Rs, Tk, INR, Ksh, N…) is reported with
  ``unit=None`` and ``currency`` set ("Rs 1.5 crore" → 15,000,000, currency "Rs"), as is one followed by a currency
  word ("2 million dollars"): the caller decides.
* Not quantities, skipped: days and years next to a month name ("10 September", "March 2021"), bare years
  1900–2100 with no unit, digit dates and times ("2023-06-30", "10/09/2024", "12.03.2024", "10:30", "10am"),
  percentages, ordinals ("3rd"), decades ("1990s"), codes glued to letters ("A320", "COVID-19", "5G", "KI/4177108"),
  numbers made only of zeros ("24 00 tablets" gives 24, never "0 tablets").
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ._number_reader import _WORD_STARTS, _NumberReader
from ._number_words import (
    _APPROX_AFTER,
    _APPROX_BEFORE,
    _COMPOUND_GAP,
    _COMPOUND_RATIO,
    _COUNTED,
    _CURRENCY_WORDS,
    _MONTHS,
    _ORDINAL_SUFFIXES,
    _PERCENT_AFTER,
    _RANGE_GAP,
    _SMALL,
    _TENS,
    _TIME_AFTER,
    _TIME_SUFFIXES,
)
from ._quantity_types import QuantityMention, _Found, _Num, _Unit


class _Scanner(_NumberReader):
    """Tokenises a text once and finds the quantities in it."""

    def quantity_at(self, i: int) -> tuple[_Found | None, int] | None:
        num = self.number_at(i)
        if num is None:
            return None
        if num is False:
            j = i + 1
            while j < len(self.toks) and self.glued(j) and self.toks[j].kind != "other":
                j += 1
            return None, j
        j = num.j
        value, alt, scale = num.value, num.alt, num.scale
        end = num.end
        currency = self.currency_before(num.start) if not num.words or self.toks[i].low not in ("a", "an") else None

        # "and a half" ("one and a half tonnes", "2 and a half million")
        if self.word(j) == "and" and self.word(j + 1) == "a" and self.word(j + 2) == "half" and num.scale == 1:
            value += Decimal("0.5")
            alt = None
            end = self.toks[j + 2].end
            j += 3
            num.plain_int = False

        nt = self.tok(j)
        # Glued letters after digits: unit, scale, or something that makes the number a non-quantity.
        if not num.words and nt is not None and nt.kind == "word" and self.glued(j):
            low = nt.low
            if low in _ORDINAL_SUFFIXES or low == "s" or low in _TIME_SUFFIXES:
                return None, j + 1
            if self.measure_at(j) is None and low not in _COUNTED and self.scale_at(j, currency is not None) is None:
                return None, j + 1

        # Scale word.
        if scale == 1:
            s = self.scale_at(j, currency is not None)
            if s is not None:
                mult, j = s
                value *= mult
                if alt is not None:
                    alt *= mult
                scale = mult
                end = self.toks[j - 1].end
                num.plain_int = False

        if not self.parse_mode and self._not_a_quantity(i, num, j):
            return None, j

        chained = self._chain(value, scale, j)
        if chained is not None:
            value, j = chained
            alt, scale = None, 1
            end = self.toks[j - 1].end
            num.plain_int = False
        restated = self._restatement(value, j)
        if restated is not None:
            j = restated
            end = self.toks[j - 1].end

        approx = _APPROX_BEFORE.search(self.text, max(0, num.start - 40), num.start) is not None
        # "500+ kg", "500-plus kilograms", "300-odd"
        t = self.tok(j)
        if t is not None and t.text == "+" and self.glued(j):
            approx = True
            j += 1
        else:
            hw = self.hyphen_word(j)
            if hw is not None and self.toks[hw].low in ("plus", "odd"):
                approx = True
                j = hw + 1

        unit: _Unit | None = None
        if scale != 1 and self.word(j) in ("de", "di", "of") and self.unit_at(j + 1) is not None:
            j += 1  # "1,3 millones de pastillas"
        if currency is None:
            unit = self.unit_at(j)
            if unit is None and self.word(j) in _CURRENCY_WORDS:
                currency = self.toks[j].text
        if unit is not None:
            end = unit.end
            j = unit.j
            if unit.factor != 1:
                value *= unit.factor
                alt = alt * unit.factor if alt is not None else None
                scale *= unit.factor
            if self.word(j) in ("y", "e") and self.word(j + 1) in ("media", "medio", "meia", "meio"):
                value += Decimal("0.5")  # "una tonelada y media", "247 toneladas y media"
                alt = None
                j += 2
                end = self.toks[j - 1].end
        if _APPROX_AFTER.match(self.text, end):
            approx = True
        bare_int = not self.parse_mode and unit is None and currency is None and num.plain_int and not num.words
        if bare_int and len(self.toks[i].text) == 4 and 1900 <= value <= 2100:
            return None, j  # a year
        mention = QuantityMention(
            start=num.start,
            end=end,
            value=float(value),
            unit=unit.unit if unit else None,
            unit_text=unit.text if unit else None,
            approximate=approx,
            scale=float(scale),
            alt_value=float(alt) if alt is not None else None,
            currency=currency,
        )
        return _Found(mention, bare=unit is None and currency is None), j

    def _chain(self, value: Decimal, scale: int, j: int) -> tuple[Decimal, int] | None:
        """Groups after a scale word: "10 lakh 26 thousand 610 pieces", "one thousand 423 kg" → (value, next token).

        Each group must be smaller than the scale before it; the chain must end on a scale word or before a unit.
        """
        if scale < 1000:
            return None
        total, last_scale, k, groups = value, scale, j, 0
        while (t := self.tok(k)) is not None and not self.glued(k) and t.kind in ("num", "word"):
            if t.kind == "num":
                sub = self.digits_at(k)
            elif t.low in _SMALL or t.low in _TENS:
                sub = self.words_at(k)
            else:
                break
            if not isinstance(sub, _Num) or sub.alt is not None or sub.value <= 0:
                break
            sub_value, sub_scale, kk = sub.value, sub.scale, sub.j
            if not sub.words and (sc := self.scale_at(kk, False)) is not None:
                sub_scale, kk = sc
                sub_value *= sub_scale
            if sub_value >= last_scale:
                break
            total += sub_value
            last_scale, k, groups = sub_scale, kk, groups + 1
            if sub_scale == 1:
                break
        if groups == 0 or (last_scale == 1 and self.unit_at(k) is None):
            return None
        return total, k

    def _restatement(self, value: Decimal, j: int) -> int | None:
        """Digits repeating a number in brackets: "ten (10) packages", "five thousand (5,000)" → token after ")"."""
        t = self.tok(j)
        if t is None or t.text != "(" or (inner := self.tok(j + 1)) is None or inner.kind != "num":
            return None
        sub = self.digits_at(j + 1)
        if not isinstance(sub, _Num):
            return None
        sub_value, k = sub.value, sub.j
        if (sc := self.scale_at(k, False)) is not None:
            sub_value, k = sub_value * sc[0], sc[1]
        close = self.tok(k)
        if close is None or close.text != ")" or sub_value != value:
            return None
        return k + 1

    def _not_a_quantity(self, i: int, num: _Num, j: int) -> bool:
        """Dates, times, percentages, slashed numbers."""
        text = self.text
        if _PERCENT_AFTER.match(text, num.end) or _TIME_AFTER.match(text, num.end):
            return True
        nt = self.tok(num.j)
        if nt is not None and nt.text in ":/" and self.glued(num.j):
            nn = self.tok(num.j + 1)
            if nn is not None and nn.kind == "num" and self.glued(num.j + 1):
                return True
        if num.words:
            return False
        small_int = num.plain_int and 1 <= num.value <= 31
        year = num.plain_int and 1000 <= num.value <= 2100
        if small_int or year:
            after = self.word(j)
            if after is None and nt is not None and nt.text == "," and self.word(j + 1) in _MONTHS:
                after = self.word(j + 1)
            if small_int and after in _MONTHS:
                return True  # 10 September
            if small_int and after == "of" and self.word(j + 1) in _MONTHS:
                return True
            k = i - 1
            pt = self.tok(k)
            if pt is not None and pt.text == "." and self.glued(k):  # "Sept. 10"
                k -= 1
            prev = self.tok(k)
            if prev is not None and prev.kind == "word" and prev.low in _MONTHS:
                return True  # March 10 / March 2021
        return False

    def scan(self) -> list[QuantityMention]:
        found: list[_Found] = []
        i = 0
        toks = self.toks
        n = len(toks)
        while i < n:
            t = toks[i]
            if t.kind == "other" or (t.kind == "word" and t.low not in _WORD_STARTS):
                i += 1  # no number starts here (`number_at` is None): the common case, skipped quickly
                continue
            r = self.quantity_at(i)
            if r is None:
                i += 1
                continue
            f, j = r
            if f is not None:
                found.append(f)
            i = max(j, i + 1)
        found = self._merge_compounds(found)
        self._propagate_ranges(found)
        return [f.mention for f in found]

    def _merge_compounds(self, found: list[_Found]) -> list[_Found]:
        """ "1 kg 73 grams" → 1.073 kg; "24 pounds, 4 ounces" → 24.25 lb (in the larger unit)."""
        out: list[_Found] = []
        for f in found:
            if out:
                a, b = out[-1].mention, f.mention
                ratio = _COMPOUND_RATIO.get((a.unit or "", b.unit or ""))
                if (
                    ratio is not None
                    and a.currency is None
                    and b.scale == 1.0
                    and b.value < ratio
                    and a.value == int(a.value)
                    and _COMPOUND_GAP.fullmatch(self.text, a.end, b.start)
                ):
                    merged = replace(
                        a,
                        end=b.end,
                        value=a.value + b.value / ratio,
                        approximate=a.approximate or b.approximate,
                        alt_value=None,
                    )
                    out[-1] = _Found(merged, bare=False)
                    continue
            out.append(f)
        return out

    def _propagate_ranges(self, found: list[_Found]) -> None:
        for k in range(len(found) - 2, -1, -1):
            a, b = found[k], found[k + 1]
            if not a.bare or b.mention.unit is None:
                continue
            if not _RANGE_GAP.fullmatch(self.text, a.mention.end, b.mention.start):
                continue
            ma, mb = a.mention, b.mention
            value, alt, scale = ma.value, ma.alt_value, ma.scale
            if scale == 1.0 and mb.scale > 1.0 and ma.value < mb.value / mb.scale:
                value, scale = value * mb.scale, mb.scale
                alt = alt * mb.scale if alt is not None else None
            found[k] = _Found(
                replace(ma, unit=mb.unit, unit_text=mb.unit_text, value=value, scale=scale, alt_value=alt),
                bare=False,
            )
