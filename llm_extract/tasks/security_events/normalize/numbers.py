"""Quantities as news writes them: find "2,400 kg", "1.5 lakh tablets", "half a tonne" in text, with exact spans.

The model reports a seizure as ``quantity=2400.0, unit="kilograms"`` with an evidence sentence. This module finds
where that quantity is written in the sentence (or the article), and with which unit, so that the caller can
ground the number and catch a model that changed the unit ("250 grams" in the article, 250 kg in the answer).

Public API: :class:`QuantityMention`, :func:`find_quantities`, :func:`find_value`, :func:`parse_number`.
Spans always index the original text: ``text[m.start:m.end]`` is the phrase.

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

import math
import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

__all__ = ["QuantityMention", "find_quantities", "find_value", "parse_number"]


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


# --------------------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------------------

_SMALL: Final[dict[str, int]] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS: Final[dict[str, int]] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_WORD_SCALES: Final[dict[str, int]] = {
    "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
    "lakh": 10**5, "lakhs": 10**5, "lac": 10**5, "lacs": 10**5, "crore": 10**7, "crores": 10**7,
    # Spanish, Portuguese, French, German (after digits: "1,3 millones", "2 Millionen")
    "millones": 10**6, "millón": 10**6, "milhões": 10**6, "milhão": 10**6, "millions": 10**6, "millionen": 10**6,
    "milliards": 10**9, "milliarden": 10**9,
    "হাজার": 10**3, "লাখ": 10**5, "লক্ষ": 10**5, "কোটি": 10**7, "हजार": 10**3, "हज़ार": 10**3, "लाख": 10**5,
    "करोड़": 10**7, "ribu": 10**3, "juta": 10**6,
}  # fmt: skip
# Scale abbreviations after digits; the second field says when they count (see the module docstring).
_ABBREV_SCALES: Final[dict[str, tuple[int, Literal["always", "unit", "currency"]]]] = {
    "bn": (10**9, "always"), "mn": (10**6, "always"), "mln": (10**6, "always"), "tn": (10**12, "currency"),
    "m": (10**6, "unit"), "k": (10**3, "unit"), "b": (10**9, "currency"), "cr": (10**7, "currency"),
    "mil": (10**3, "unit"),  # Spanish/Portuguese "5 mil kilos"
}  # fmt: skip

_MEASURE_EN: Final[dict[str, str]] = {
    **dict.fromkeys(("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes"), "kg"),
    **dict.fromkeys(("gm", "gms", "gr", "grs", "gram", "grams", "gramme", "grammes"), "g"),
    **dict.fromkeys(("mg", "mgs", "milligram", "milligrams", "milligramme", "milligrammes"), "mg"),
    **dict.fromkeys(("tonne", "tonnes", "ton", "tons", "tn", "mt"), "tonne"),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), "lb"),
    **dict.fromkeys(("oz", "ozs", "ounce", "ounces"), "oz"),
    **dict.fromkeys(("litre", "litres", "liter", "liters", "ltr", "ltrs"), "litre"),
    **dict.fromkeys(("ml", "mls", "millilitre", "millilitres", "milliliter", "milliliters"), "ml"),
    **dict.fromkeys(("gallon", "gallons", "gal", "gals"), "gallon"),
}
_SOUTH_ASIAN_AND_ARABIC_KG: Final[tuple[str, ...]] = (
    "কেজি",
    "কিলো",
    "किलो",
    "किलोग्राम",
    "கிலோ",
    "కిలోలు",
    "కిలోల",
    "కిలో",
    "كيلوغرام",
    "كيلوغراما",
    "كيلوغرامًا",
    "كيلو",
    "كلغ",
    "كغ",
    "کیلوگرم",
    "کیلو",
)
# Spanish, Portuguese, French, German unit words (their texts write "1.200 kilogramos" for 1,200 kg).
_MEASURE_FOREIGN: Final[dict[str, str]] = {
    **dict.fromkeys(("kilogramo", "kilogramos", "quilo", "quilos", "quilograma", "quilogramas", "kilogramm"), "kg"),
    **dict.fromkeys(("gramo", "gramos", "grama", "gramas", "gramm"), "g"),
    **dict.fromkeys(("miligramo", "miligramos", "miligrama", "miligramas", "milligramm"), "mg"),
    **dict.fromkeys(("tonelada", "toneladas", "tonnen", "tonă", "tonnellata", "tonnellate"), "tonne"),
    **dict.fromkeys(("litro", "litros", "litri"), "litre"),
    **dict.fromkeys(("mililitro", "mililitros"), "ml"),
    **dict.fromkeys(("galón", "galones", "galão", "galões"), "gallon"),
    **dict.fromkeys(("chilogrammo", "chilogrammi", "chilo"), "kg"),
    **dict.fromkeys(("grammo", "grammi"), "g"),
    # Bengali, Hindi, Tamil, Telugu, Arabic, Persian
    **dict.fromkeys(_SOUTH_ASIAN_AND_ARABIC_KG, "kg"),
    **dict.fromkeys(("গ্রাম", "ग्राम", "கிராம்", "గ్రాములు", "غرام", "غراما", "گرم"), "g"),
    **dict.fromkeys(("طن", "طنا", "طنًا", "أطنان", "تن"), "tonne"),
}
_MEASURE_LOWER: Final[dict[str, str]] = {**_MEASURE_EN, **_MEASURE_FOREIGN}
# Units written as a multiple of one in the list: (unit, factor). "7.87 quintals" is 787 kg, with scale 100.
_MEASURE_SCALED: Final[dict[str, tuple[str, int]]] = {
    **dict.fromkeys(("quintal", "quintals", "qtl", "qtls", "quintales", "quintais"), ("kg", 100)),
}
# One-letter abbreviations are case-sensitive ("5G" is a network, "3 T" is nothing).
_MEASURE_EXACT: Final[dict[str, str]] = {"g": "g", "t": "tonne", "l": "litre", "L": "litre"}
_TON_WORDS: Final[frozenset[str]] = frozenset({"ton", "tons", "tonne", "tonnes"})
_TON_QUALIFIERS: Final[frozenset[str]] = frozenset({"metric", "short", "long"})
# Full words that "a"/"an" may count as one of ("a tonne of cocaine").
_A_UNITS: Final[frozenset[str]] = frozenset(
    {"kilo", "kilogram", "kilogramme", "gram", "gramme", "tonne", "ton", "pound", "ounce", "litre", "liter",
     "gallon", "milligram", "millilitre", "milliliter"}
)  # fmt: skip

_COUNTED_WORDS: Final[dict[str, str]] = {
    "tablet": "tablet tablets tab tabs",
    "pill": "pill pills",
    "capsule": "capsule capsules",
    "packet": "packet packets pack packs package packages sachet sachets parcel parcels wrap wraps pouch pouches"
    " bundle bundles bale bales",
    "plant": "plant plants bush bushes seedling seedlings sapling saplings",
    "piece": "piece pieces pcs block blocks brick bricks slab slabs cake cakes blotter blotters roll rolls rock rocks"
    " lump lumps sheet sheets cartridge cartridges cigarette cigarettes unit units item items vape vapes"
    " candy candies pitch",
    "bottle": "bottle bottles vial vials ampoule ampoules ampule ampules phial phials jar jars",
    "bag": "bag bags sack sacks",
}
_COUNTED_FOREIGN_WORDS: Final[dict[str, str]] = {
    "tablet": "tableta tabletas comprimido comprimidos comprimé comprimés tablette tabletten compressa compresse أقراص",
    "pill": "pastilla pastillas pílula pílulas pilule pilules pille pillen pasticca pasticche حبة قرص",
    "capsule": "cápsula cápsulas capsula capsulas gélule gélules kapsel kapseln",
    "packet": "paquete paquetes pacote pacotes paquet paquets päckchen paket pakete fardo fardos paca pacas"
    " envoltorio envoltorios",
    "plant": "planta plantas pflanze pflanzen",
    "piece": "pieza piezas peça peças pièce pièces panela panelas ladrillo ladrillos bloque bloques bloco blocos"
    " panetto panetti পিস",
    "bottle": "botella botellas garrafa garrafas flacon flacons flasche flaschen বোতল",
    "bag": "bolsa bolsas saco sacos bulto bultos sac sacs säcke borsone borsoni",
}

_COUNTED_FOREIGN: Final[dict[str, str]] = {word: unit for unit, words in _COUNTED_FOREIGN_WORDS.items() for word in words.split()}
_COUNTED: Final[dict[str, str]] = {
    **{word: unit for unit, words in _COUNTED_WORDS.items() for word in words.split()},
    **_COUNTED_FOREIGN,
}
_FOREIGN_UNITS: Final[frozenset[str]] = frozenset(_MEASURE_FOREIGN) | frozenset(_COUNTED_FOREIGN)
# A measure word followed by one of these is an adjective ("kilo-sized packages", "litre-sized cans").
_SIZE_SUFFIXES: Final[frozenset[str]] = frozenset({"sized", "size", "capacity", "weight", "like", "long", "wide"})

# Number words of other languages; they count only directly before a unit word ("tres toneladas", "huit tonnes").
_FOREIGN_NUMBERS: Final[dict[str, int]] = {
    "un": 1, "uno": 1, "una": 1, "um": 1, "uma": 1, "une": 1, "ein": 1, "eine": 1, "einen": 1, "dos": 2, "dois": 2,
    "duas": 2, "deux": 2, "zwei": 2, "tres": 3, "três": 3, "trois": 3, "drei": 3, "cuatro": 4, "quatro": 4,
    "quatre": 4, "vier": 4, "cinco": 5, "cinq": 5, "fünf": 5, "seis": 6, "sechs": 6, "siete": 7, "sete": 7,
    "sept": 7, "sieben": 7, "ocho": 8, "oito": 8, "huit": 8, "acht": 8, "nueve": 9, "nove": 9, "neuf": 9,
    "neun": 9, "diez": 10, "dez": 10, "dix": 10, "zehn": 10, "once": 11, "onze": 11, "elf": 11, "doce": 12,
    "doze": 12, "douze": 12, "zwölf": 12, "quince": 15, "quinze": 15, "veinte": 20, "vinte": 20, "vingt": 20,
    "zwanzig": 20, "treinta": 30, "trinta": 30, "trente": 30, "dreißig": 30, "cuarenta": 40, "quarenta": 40,
    "quarante": 40, "vierzig": 40, "cincuenta": 50, "cinquenta": 50, "cinquante": 50, "fünfzig": 50, "cien": 100,
    "cem": 100, "cent": 100, "hundert": 100, "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7,
    "otto": 8, "dieci": 10, "cento": 100,
}  # fmt: skip

_MONTHS: Final[frozenset[str]] = frozenset(
    {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)  # fmt: skip
_ORDINAL_SUFFIXES: Final[frozenset[str]] = frozenset({"st", "nd", "rd", "th"})
_TIME_SUFFIXES: Final[frozenset[str]] = frozenset({"am", "pm", "hrs", "hr", "h", "gmt", "utc", "ist", "est", "pst"})
_FRACTION_WORDS: Final[frozenset[str]] = frozenset(
    {"half", "halves", "third", "thirds", "quarter", "quarters", "fifth", "fifths", "tenth", "tenths"}
)

# Words that may not stand between a number and a counted unit ("3 suspects carrying bags" has no unit).
_GAP_STOP: Final[frozenset[str]] = frozenset(
    {"a", "an", "the", "of", "and", "or", "but", "nor", "with", "without", "from", "in", "on", "at", "to", "by",
     "for", "into", "onto", "as", "than", "was", "were", "is", "are", "be", "been", "being", "has", "had", "have",
     "who", "whom", "which", "that", "this", "these", "those", "their", "his", "her", "its", "our", "your", "my",
     "they", "he", "she", "it", "we", "you", "i", "them", "per", "each", "every", "worth", "valued", "value",
     "after", "before", "while", "when", "where", "also", "not", "no", "all", "some", "over", "about", "around",
     "nearly", "further", "another", "said", "say", "says", "seized", "found", "recovered", "contained", "arrested",
     "detained", "held", "killed", "injured", "total", "including", "out", "up", "down", "off", "only", "just",
     "least", "most", "such", "there", "here", "then", "so", "if", "de", "del", "y", "e", "et", "und", "von",
     "mit", "con", "em", "com", "avec"}
    # people, vehicles, places and time: "12 people with 30 pills", "3 trucks carrying bags"
    | {"people", "persons", "person", "men", "man", "women", "woman", "children", "child", "police", "policemen",
       "officers", "officer", "officials", "soldiers", "agents", "suspects", "suspect", "accused", "traffickers",
       "smugglers", "dealers", "peddlers", "couriers", "members", "individuals", "individual", "nationals",
       "foreigners", "passengers", "migrants", "crew", "staff", "personnel", "arrests", "vehicles", "cars", "trucks",
       "lorries", "boats", "vessels", "ships", "houses", "homes", "buildings", "shops", "raids", "operations",
       "villages", "districts", "provinces", "countries", "cities", "states", "days", "day", "weeks", "week",
       "months", "month", "years", "year", "hours", "hour", "minutes", "minute", "times", "time", "km",
       "kilometres", "kilometers", "miles", "metres", "meters"}
)  # fmt: skip
_FOREIGN_MARKERS = re.compile(
    r"(?<![^\W\d_])(?:del|los|las|el|y|con|por|para|una|unos|unas|em|com|dos|das|und|der|mit|von|im|les|du"
    r"|avec|une|sur|aux|pelo|pela|que|não|fue|fueron|wurden|während|été|más|mais|cerca|casi|etwa|environ)(?![^\W\d_])",
    re.IGNORECASE,
)
_PRONOUN_BEFORE_ONE: Final[frozenset[str]] = frozenset(
    {"no", "any", "every", "each", "the", "this", "that", "which", "another", "someone"}
)
_PRONOUN_AFTER_ONE: Final[frozenset[str]] = frozenset({"of", "another", "by", "after"})

_CURRENCY_WORDS: Final[frozenset[str]] = frozenset(
    {"dollar", "dollars", "rupee", "rupees", "taka", "naira", "peso", "pesos", "euro", "euros", "shilling",
     "shillings", "baht", "dirham", "dirhams", "riyal", "riyals", "rial", "rials", "yuan", "afghani", "afghanis",
     "kyat", "kyats", "rand", "ringgit", "rupiah", "won", "yen", "francs", "cedi", "cedis", "kwacha", "birr",
     "soles", "reais", "usd", "inr", "eur"}
)  # fmt: skip

_CURRENCY_BEFORE = re.compile(
    r"(?:(?<![^\W\d_])(?:US|A|AU|C|CA|NZ|HK|S|NT|R|J|EC|Z)?\$"
    r"|[€£¥₹₦₱৳₨₩₫₭฿₵₴₺₽]"
    r"|(?<![^\W\d_])(?:Rs|INR|USD|EUR|GBP|Tk|TK|Tsh|TSh|TZS|Ksh|KSh|Kshs|KES|NGN|PHP|Php|MXN|AED|SAR|PKR|BDT|LKR|NPR"
    r"|Rp|IDR|RM|MYR|Sh|Dh|Dhs|AUD|CAD|CHF|JPY|CNY|RMB|Rmb|THB|Bt|GHS|ZAR|UGX|Ush|ETB|Birr|AFN|Af|MMK|BRL|R\$|COP"
    r"|PEN|ARS|CLP|QAR|KWD|OMR|BHD|JOD|EGP|LE|MAD|DZD|TND|TRY|IRR|IQD|NRs|SLRs)\.?"
    r"|(?<![^\W\d_])[PNRK])\s?$"
)
_APPROX_BEFORE = re.compile(
    r"(?:(?<![^\W\d_])(?:about|around|approximately|approx\.?|roughly|nearly|almost|some|over|more\s+than"
    r"|less\s+than|fewer\s+than|at\s+least|up\s+to|close\s+to|upwards?\s+of|in\s+excess\s+of|(?:an\s+)?estimated"
    r"|just\s+over|just\s+under|well\s+over|under|circa|ca\.|c\.|as\s+many\s+as|as\s+much\s+as|in\s+the\s+region\s+of"
    r"|nigh\s+on|almost|más\s+de|mas\s+de|mais\s+de|cerca\s+de|casi|quase|aproximadamente|unos|unas"
    r"|alrededor\s+de|al\s+menos|pelo\s+menos|hasta|etwa|fast|rund|über|knapp|mehr\s+als|environ|plus\s+de"
    r"|près\s+de|presque|au\s+moins|oltre|circa|quasi|около)[\s,]*|~|≈)\s*$",
    re.IGNORECASE,
)
_APPROX_AFTER = re.compile(r"\s*(?:or\s+so|or\s+more)(?![^\W\d_])", re.IGNORECASE)
_RANGE_GAP = re.compile(r"\s*(?:-|–|—|to|and|or|y|e|a|à|bis|und|et|ou|o)\s*", re.IGNORECASE)
# Between the two parts of a compound weight: "1 kg 73 grams", "3 kilograms and 321 grams", "24 pounds, 4 ounces".
_COMPOUND_GAP = re.compile(r"\s*(?:,|and|y|e|und|et|&)?\s*", re.IGNORECASE)
_COMPOUND_RATIO: Final[dict[tuple[str, str], int]] = {
    ("tonne", "kg"): 1000, ("kg", "g"): 1000, ("g", "mg"): 1000, ("lb", "oz"): 16, ("litre", "ml"): 1000,
}  # fmt: skip
_TIME_AFTER = re.compile(r"\s?(?:[ap]\.\s?m\.|[ap]m(?![^\W\d_]))", re.IGNORECASE)
_PERCENT_AFTER = re.compile(r"\s?(?:%|percent(?![^\W\d_])|per\s?cent(?![^\W\d_])|pc(?![^\W\d_]))", re.IGNORECASE)

# Evidence of a text's number style (see the module docstring).
_EN_EVIDENCE = re.compile(
    r"(?<![\d.,])(?:[1-9]\d{0,2}(?:,\d{3})+\.\d+|[1-9]\d{0,2}(?:,\d{3}){2,}|\d+\.(?:\d{1,2}|\d{4,}))(?![\d.,]|,\d)"
)
_EU_EVIDENCE = re.compile(
    r"(?<![\d.,])(?:[1-9]\d{0,2}(?:\.\d{3}){2,}(?![\d.])|[1-9]\d{0,2}(?:\.\d{3})+,\d+"
    r"|\d+,\d{1,2}(?![\d,])\s?(?:kg|kilos?|g|gr|t|tonnes?|toneladas|l|ml|mg)(?![^\W\d_]))"
)


def _combining_marks() -> str:
    """A regex character class body for the combining marks of the BMP (Bengali, Tamil, Arabic vowel signs …)."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp)).startswith("M"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


_TOKEN_RE = re.compile(
    r"(?P<num>\d+(?:[.,\u00a0\u2009\u202f]\d+)*)"
    r"|(?P<frac>[\u00bc-\u00be\u2150-\u215e])"
    rf"|(?P<word>[^\W\d_](?:[^\W\d_]|[{_combining_marks()}])*)"
    r"|(?P<other>\S)"
)
_THIN = "\u00a0\u2009\u202f "
# Dates and clock times written with digits: their numbers are not quantities.
_DATE_TIME = re.compile(
    r"(?<![\d.,/:-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{1,2}:\d{2}(?::\d{2})?)(?![\d/:-]|\.\d)"
)


@dataclass(frozen=True, slots=True)
class _Tok:
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


class _Scanner:
    """Tokenises a text once and finds the quantities in it."""

    def __init__(self, text: str, *, parse_mode: bool = False) -> None:
        self.text = text
        self.parse_mode = parse_mode
        self.style = _text_style(text)
        markers = {m.group().lower() for m in _FOREIGN_MARKERS.finditer(text)}
        self.foreign = len(markers) >= 2
        self.toks = [
            _Tok(m.lastgroup or "other", m.group(), m.group().lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)
        ]
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
        n = len(self.toks)
        while i < n:
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


def find_quantities(text: str) -> list[QuantityMention]:
    """Every quantity written in ``text``, in order of position; see the module docstring for the rules.

    >>> [(m.value, m.unit, m.unit_text) for m in find_quantities("seized 2,400 kg of methamphetamine")]
    [(2400.0, 'kg', 'kg')]
    >>> [(m.value, m.unit) for m in find_quantities("between 2 and 3 tonnes")]
    [(2.0, 'tonne'), (3.0, 'tonne')]
    """
    return _Scanner(text).scan()


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
    "2.400.000" is 2400000 (see the module docstring). Years are numbers here ("2022" → 2022.0).

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
