"""Deterministic normalisation of what the model wrote: masses, countries, drugs, dates.

Every function here is pure (same input, same output, no I/O, no clock): the
model fills strings as written ("2,400 kg", "Iranian", "shisheh", "on Sunday"),
and this module turns them into kilograms, ISO 3166-1 alpha-3 codes, UNODC drug
families and dates with an explicit precision. Anything it cannot decide safely
gives ``None`` (or an ``ambiguous`` flag) rather than a guess.

Libraries and where we hand-roll instead
----------------------------------------
* **pint** converts units. Unit *words* are mapped by our own table first,
  because pint's ``ton`` is the US short ton (907 kg) while news outside the US
  means the metric tonne, and pint does not know "kilos", "grammes" or "kgs",
  nor that "tablets" are counts (never kilograms).
* **pycountry** supplies every country's ``name``, ``official_name`` and
  ``common_name`` (exact lookups only: ``search_fuzzy`` maps "Iran" to wrong
  countries). pycountry misses "Turkey", "Russia", "Britain" and all demonyms
  ("Iranian", "Kyrgyz"), so :mod:`llm_extract.aliases.countries` adds them.
* **dateparser** is only a fallback for absolute dates in forms our patterns do
  not cover ("10-Sep-2024"). Relative expressions are resolved here, because
  dateparser's ``PREFER_DATES_FROM="past"`` resolves a weekday that equals the
  publication day to a week earlier, and because it silently fills missing
  parts from the clock. Fallback results are kept only when they do not depend
  on the relative base (parsed twice against two bases, they must agree).
* Drug synonyms, datelines and copyright lines are domain conventions no
  library knows; their tables live in :mod:`llm_extract.aliases`.

Import is cheap: pint, pycountry, dateparser and the alias tables are loaded on
first use and cached with :func:`functools.lru_cache`.

Examples
--------
>>> to_kg(2.4, "tons")
2400.0
>>> country_code("Iranian")
'IRN'
>>> drug("crack", country="IRN").name
<DrugName.HEROIN: 'heroin'>
>>> resolve_date("on Sunday", date(2025, 1, 12)).iso()
'2025-01-12'
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:  # pragma: no cover
    import pint

__all__ = [
    "DRUG_GROUPS",
    "Drug",
    "DrugGroup",
    "DrugName",
    "PartialDate",
    "Precision",
    "UnitKind",
    "country_code",
    "country_of_place",
    "drug",
    "published_date",
    "resolve_date",
    "to_kg",
    "to_litres",
    "unit_kind",
]

UnitKind = Literal["mass", "count", "volume", "unknown"]
Precision = Literal["year", "month", "week", "day"]


class _LazyRegex:
    """A regular expression compiled on first use, so importing this module stays cheap."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def rx(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.rx.fullmatch(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.rx.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text)

    def split(self, text: str) -> list[str]:
        return self.rx.split(text)

    def sub(self, replacement: str, text: str) -> str:
        return self.rx.sub(replacement, text)


# ---------------------------------------------------------------------------
# text folding shared by the lookups
# ---------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: ``"Türkiye's"`` → ``"turkiye"``.

    Dots vanish ("U.S." → "us", "Kg." → "kg"), every other run of punctuation or
    dashes becomes one space, a leading "the" and a trailing possessive go.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_APOSTROPHES).casefold().replace("&", " and ").replace(".", "")
    text = re.sub(r"[^\w']+|_", " ", text)
    text = re.sub(r"'s?(?=\s|$)", "", text)  # possessive: "iran's", "countries'"
    text = re.sub(r"\s+", " ", text).strip(" '")
    text = re.sub(r"^the ", "", text)
    return re.sub(r"\bst\b", "saint", text)


# ---------------------------------------------------------------------------
# 1. units
# ---------------------------------------------------------------------------

_COUNT_WORDS = """tablet tab pill capsule piece pc dose unit item plant bush tree seed blister
    strip sheet blotter ampoule ampule vial bottle packet pack package parcel bag sachet bundle
    brick block slab box carton cigarette joint stick roll count number""".split()  # noqa: SIM905

# unit word (folded, singular) -> (kind, pint expression). None for counts.
_UNITS: dict[str, tuple[UnitKind, str | None]] = {
    # mass
    "µg": ("mass", "microgram"),
    "ug": ("mass", "microgram"),
    "mcg": ("mass", "microgram"),
    "microgram": ("mass", "microgram"),
    "mg": ("mass", "milligram"),
    "milligram": ("mass", "milligram"),
    "milligramme": ("mass", "milligram"),
    "g": ("mass", "gram"),
    "gr": ("mass", "gram"),  # news shorthand for grams (not grains)
    "gm": ("mass", "gram"),
    "gram": ("mass", "gram"),
    "gramme": ("mass", "gram"),
    "kg": ("mass", "kilogram"),
    "kilogram": ("mass", "kilogram"),
    "kilogramme": ("mass", "kilogram"),
    "kilo": ("mass", "kilogram"),
    "t": ("mass", "metric_ton"),
    "mt": ("mass", "metric_ton"),  # "metric tons" in seizure news, not megatonnes
    "ton": ("mass", "metric_ton"),  # outside the US, "ton" is the metric tonne
    "tonne": ("mass", "metric_ton"),
    "metric ton": ("mass", "metric_ton"),
    "metric tonne": ("mass", "metric_ton"),
    "short ton": ("mass", "short_ton"),
    "us ton": ("mass", "short_ton"),
    "net ton": ("mass", "short_ton"),
    "long ton": ("mass", "long_ton"),
    "imperial ton": ("mass", "long_ton"),
    "lb": ("mass", "pound"),
    "pound": ("mass", "pound"),
    "oz": ("mass", "ounce"),
    "ounce": ("mass", "ounce"),
    # volume
    "l": ("volume", "liter"),
    "lt": ("volume", "liter"),
    "ltr": ("volume", "liter"),
    "litre": ("volume", "liter"),
    "liter": ("volume", "liter"),
    "ml": ("volume", "milliliter"),
    "millilitre": ("volume", "milliliter"),
    "milliliter": ("volume", "milliliter"),
    "cc": ("volume", "milliliter"),
    "cm3": ("volume", "milliliter"),
    "cubic centimetre": ("volume", "milliliter"),
    "cubic centimeter": ("volume", "milliliter"),
    "cl": ("volume", "centiliter"),
    "centilitre": ("volume", "centiliter"),
    "centiliter": ("volume", "centiliter"),
    "m3": ("volume", "meter ** 3"),
    "cubic metre": ("volume", "meter ** 3"),
    "cubic meter": ("volume", "meter ** 3"),
    "gal": ("volume", "gallon"),  # pint's gallon is the US liquid gallon
    "gallon": ("volume", "gallon"),
    "us gallon": ("volume", "gallon"),
    "imperial gallon": ("volume", "imperial_gallon"),
    "fl oz": ("volume", "fluid_ounce"),
    "fluid ounce": ("volume", "fluid_ounce"),
    # counts: never kilograms, never litres
    **{word: ("count", None) for word in _COUNT_WORDS},
    "blister pack": ("count", None),
}


def _unit_entry(unit: str) -> tuple[UnitKind, str | None] | None:
    key = re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", _fold(unit))).strip()
    candidates = [key]
    if key.endswith("es"):
        candidates.append(key[:-2])
    if key.endswith("s"):
        candidates.insert(1, key[:-1])
    for candidate in candidates:
        if candidate in _UNITS:
            return _UNITS[candidate]
    return None


def unit_kind(unit: str) -> UnitKind:
    """What a unit word measures: ``"mass"``, ``"count"``, ``"volume"`` or ``"unknown"``.

    Case-, plural- and punctuation-insensitive. Keep the three kinds apart:
    tablets are never kilograms, and a litre is not a kilogram.

    >>> unit_kind("Kgs."), unit_kind("tablets"), unit_kind("litres"), unit_kind("furlong")
    ('mass', 'count', 'volume', 'unknown')
    """
    entry = _unit_entry(unit)
    return entry[0] if entry else "unknown"


@lru_cache(maxsize=1)
def _ureg() -> pint.UnitRegistry[Any]:
    import pint

    return pint.UnitRegistry()


def _convert(value: float, unit: str, kind: UnitKind, target: str) -> float | None:
    entry = _unit_entry(unit)
    if entry is None or entry[0] != kind or entry[1] is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return float(_ureg().Quantity(number, entry[1]).to(target).magnitude)


def to_kg(value: float, unit: str) -> float | None:
    """Convert a mass to kilograms; ``None`` for counts, volumes and unknown units.

    A bare "ton"/"tons"/"t" is the metric tonne (1000 kg); only "short ton"
    (907.18474 kg) and "long ton" (1016.0469 kg) say otherwise.

    >>> to_kg(2, "Tons"), to_kg(1, "short ton"), to_kg(500, "grams")
    (2000.0, 907.18474..., 0.5)
    >>> to_kg(3_000, "tablets") is None, to_kg(5, "litres") is None
    (True, True)
    """
    return _convert(value, unit, "mass", "kilogram")


def to_litres(value: float, unit: str) -> float | None:
    """Convert a volume to litres; ``None`` for masses, counts and unknown units.

    >>> to_litres(250, "ml"), to_litres(1, "gallon")
    (0.25, 3.78541...)
    >>> to_litres(1, "kg") is None
    True
    """
    return _convert(value, unit, "volume", "liter")


# ---------------------------------------------------------------------------
# 2. countries
# ---------------------------------------------------------------------------


def _name_variants(name: str) -> Iterator[str]:
    """pycountry's "Korea, Republic of" also as "Republic of Korea"; drop "(...)"."""
    yield name
    bare = re.sub(r"\s*\([^)]*\)", "", name).strip()
    yield bare
    for inner in re.findall(r"\(([^)]*)\)", name):
        if not re.search(r"\bpart\b", inner):  # "Saint Martin (French part)"
            yield inner
    if "," in bare:
        head, _, tail = bare.partition(",")
        yield f"{tail.strip()} {head.strip()}"


@lru_cache(maxsize=1)
def _country_tables() -> tuple[dict[str, str], dict[str, str], frozenset[str]]:
    """(folded name → alpha-3, capitalised abbreviation → alpha-3, alpha-3 codes)."""
    import pycountry

    from llm_extract.tasks.security_events.aliases.countries import ABBREVIATIONS, DEMONYMS, NAME_ALIASES

    names: dict[str, str] = {}
    codes: set[str] = set()
    for country in pycountry.countries:
        codes.add(country.alpha_3)
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                for variant in _name_variants(value):
                    names.setdefault(_fold(variant), country.alpha_3)
    for table in (NAME_ALIASES, DEMONYMS):
        for alias, code in table.items():
            names[_fold(alias)] = code
    names.pop("", None)
    return names, dict(ABBREVIATIONS), frozenset(codes)


def country_code(name: str) -> str | None:
    """ISO 3166-1 alpha-3 code for a country's name, official name or demonym.

    Names are case-, accent- and whitespace-insensitive and may start with "the";
    initialisms and codes ("US", "U.S.", "UAE", "IRI", "IRN") count only when
    written in capitals, since "us" and "in" are words. Organisations, regions
    and cities give ``None``: use :func:`country_of_place` for places.

    >>> [country_code(x) for x in ("Iranian", "Turkey", "the U.K.", "Kyrgyz Republic")]
    ['IRN', 'TUR', 'GBR', 'KGZ']
    >>> [country_code(x) for x in ("NATO", "UNODC", "Middle East", "Tehran")]
    [None, None, None, None]
    """
    if not isinstance(name, str):
        return None
    names, abbreviations, codes = _country_tables()
    compact = re.sub(r"[.\s]", "", re.sub(r"^\s*the\s+", "", name, flags=re.IGNORECASE))
    if compact.isalpha() and compact.isupper() and 2 <= len(compact) <= 4:
        if compact in abbreviations:
            return abbreviations[compact]
        if compact in codes:
            return compact
    key = _fold(name)
    if key in names:
        return names[key]
    if key.endswith("s") and key[:-1] in names:  # "Iranians", "Afghans"
        return names[key[:-1]]
    return None


@lru_cache(maxsize=1)
def _place_table() -> dict[str, str]:
    from llm_extract.tasks.security_events.aliases.places import PLACES

    return {_fold(place): code for place, code in PLACES.items()}


_PLACE_MAX_WORDS = 6  # longest key: "united kingdom of great britain and northern ireland" is 7
_PLACE_SPLIT = _LazyRegex(r"[\s,;:/()\[\]\-\u2010-\u2015]+")


def country_of_place(place: str) -> str | None:
    """Country of a place phrase: a country named in it, or a known province/city.

    The phrase is scanned for the longest country names, demonyms and places
    of :mod:`llm_extract.aliases.places` (Iranian provinces and cities, capitals
    and main cities of the seeds' countries). If they all agree, that country is
    returned; a phrase naming two countries ("Iran–Pakistan border") or none
    gives ``None``.

    >>> [country_of_place(x) for x in ("Sistan–Baluchestan Province", "Baghdad, Iraq", "Tehran")]
    ['IRN', 'IRQ', 'IRN']
    >>> country_of_place("Iran-Pakistan border") is None
    True
    """
    if not isinstance(place, str):
        return None
    whole = country_code(place)
    if whole is not None:
        return whole
    places = _place_table()
    tokens = [tok for tok in _PLACE_SPLIT.split(place) if tok]
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        for n in range(min(_PLACE_MAX_WORDS + 1, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + n])
            code = country_code(phrase) or places.get(_fold(phrase))
            if code is not None:
                found.add(code)
                i += n
                break
        else:
            i += 1
    return found.pop() if len(found) == 1 else None


# ---------------------------------------------------------------------------
# 3. drugs
# ---------------------------------------------------------------------------


class DrugName(StrEnum):
    """Canonical drug names (UNODC-style, bulk form as seized)."""

    OPIUM = "opium"
    HEROIN = "heroin"
    MORPHINE = "morphine"
    POPPY_STRAW = "poppy_straw"
    TRAMADOL = "tramadol"
    FENTANYL = "fentanyl"
    METHADONE = "methadone"
    CODEINE = "codeine"
    METHAMPHETAMINE = "methamphetamine"
    AMPHETAMINE = "amphetamine"
    MDMA = "mdma"
    COCAINE = "cocaine"
    COCA_PASTE = "coca_paste"
    COCA_LEAF = "coca_leaf"
    CANNABIS_HERB = "cannabis_herb"
    CANNABIS_RESIN = "cannabis_resin"
    CANNABIS_OIL = "cannabis_oil"
    CANNABIS_PLANTS = "cannabis_plants"
    KETAMINE = "ketamine"
    SYNTHETIC_CANNABINOIDS = "synthetic_cannabinoids"
    CATHINONES = "cathinones"
    LSD = "lsd"
    BENZODIAZEPINES = "benzodiazepines"
    EPHEDRINE = "ephedrine"
    PSEUDOEPHEDRINE = "pseudoephedrine"
    ACETIC_ANHYDRIDE = "acetic_anhydride"
    UNSPECIFIED = "unspecified"


class DrugGroup(StrEnum):
    """UNODC drug families used in seizure statistics."""

    OPIOIDS = "opioids"
    COCAINE = "cocaine"
    CANNABIS = "cannabis"
    ATS = "ats"  # amphetamine-type stimulants, excluding ecstasy
    ECSTASY = "ecstasy"
    SEDATIVES = "sedatives"
    HALLUCINOGENS = "hallucinogens"
    NPS = "nps"  # new psychoactive substances
    PRECURSORS = "precursors"
    UNSPECIFIED = "unspecified"


_N, _G = DrugName, DrugGroup

#: The family of every canonical drug name. Ketamine is filed under NPS: it is
#: not under international control, and UNODC's Early Warning Advisory lists it
#: with the NPS (ketamine and phencyclidine-type substances), not with the
#: classic hallucinogens.
DRUG_GROUPS: dict[DrugName, DrugGroup] = {
    _N.OPIUM: _G.OPIOIDS,
    _N.HEROIN: _G.OPIOIDS,
    _N.MORPHINE: _G.OPIOIDS,
    _N.POPPY_STRAW: _G.OPIOIDS,
    _N.TRAMADOL: _G.OPIOIDS,
    _N.FENTANYL: _G.OPIOIDS,
    _N.METHADONE: _G.OPIOIDS,
    _N.CODEINE: _G.OPIOIDS,
    _N.METHAMPHETAMINE: _G.ATS,
    _N.AMPHETAMINE: _G.ATS,
    _N.MDMA: _G.ECSTASY,
    _N.COCAINE: _G.COCAINE,
    _N.COCA_PASTE: _G.COCAINE,
    _N.COCA_LEAF: _G.COCAINE,
    _N.CANNABIS_HERB: _G.CANNABIS,
    _N.CANNABIS_RESIN: _G.CANNABIS,
    _N.CANNABIS_OIL: _G.CANNABIS,
    _N.CANNABIS_PLANTS: _G.CANNABIS,
    _N.KETAMINE: _G.NPS,
    _N.SYNTHETIC_CANNABINOIDS: _G.NPS,
    _N.CATHINONES: _G.NPS,
    _N.LSD: _G.HALLUCINOGENS,
    _N.BENZODIAZEPINES: _G.SEDATIVES,
    _N.EPHEDRINE: _G.PRECURSORS,
    _N.PSEUDOEPHEDRINE: _G.PRECURSORS,
    _N.ACETIC_ANHYDRIDE: _G.PRECURSORS,
    _N.UNSPECIFIED: _G.UNSPECIFIED,
}


class Drug(BaseModel):
    """A normalised drug: canonical ``name``, UNODC ``group``, and an ``ambiguous`` flag.

    ``group`` must be the name's family (``DRUG_GROUPS``), except that an
    ``unspecified`` name may carry a known family ("opiates" → opioids).

    >>> Drug(name="mdma", group="ecstasy")
    Drug(name=<DrugName.MDMA: 'mdma'>, group=<DrugGroup.ECSTASY: 'ecstasy'>, ambiguous=False)
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: DrugName
    group: DrugGroup
    ambiguous: bool = False

    @model_validator(mode="after")
    def _group_matches_name(self) -> Drug:
        if self.name is not DrugName.UNSPECIFIED and DRUG_GROUPS[self.name] is not self.group:
            raise ValueError(f"{self.name} belongs to {DRUG_GROUPS[self.name]}, not {self.group}")
        return self


# Tokens that qualify a drug without changing it ("pure", "tablets of", "2,400 kg").
_DRUG_FILLER = frozenset(
    """a an the of some pure raw crude refined processed high grade quality purity street
    illicit illegal smuggled seized contraband suspected counterfeit fake tablet pill capsule
    tab piece powder powdered liquid block brick slab packet package bag form hydrochloride
    hcl kg kilogram kilo gram tonne ton""".split()  # noqa: SIM905
)
# Words that make a phrase about something else than the drug itself.
_DRUG_BLOCK = frozenset(
    """seed user addict dealer trafficker smuggler lab laboratory factory kitchen money
    test treatment rehab withdrawal""".split()  # noqa: SIM905
)
_IRREGULAR_SINGULAR = {"leaves": "leaf", "bushes": "bush", "tranquillizers": "tranquilizer"}
_HEROIN_CRACK_COUNTRIES = frozenset({"IRN", "AFG"})  # "crack"/"kerack" = heroin product
_CRACK_WORDS = frozenset({"crack", "kerack", "kerak", "krack"})


def _singular(token: str) -> str:
    if token in _IRREGULAR_SINGULAR:
        return _IRREGULAR_SINGULAR[token]
    if len(token) <= 3 or token.endswith(("ss", "us", "is", "as")):
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith("s"):
        return token[:-1]
    return token


def _drug_lookup(phrase: str, country: str | None) -> Drug | None:
    from llm_extract.tasks.security_events.aliases.drugs import GROUP_WORDS, SYNONYMS

    in_crack_country = country in _HEROIN_CRACK_COUNTRIES
    if phrase in _CRACK_WORDS:
        if phrase == "crack" and not in_crack_country:
            return Drug(name=DrugName.COCAINE, group=DrugGroup.COCAINE)
        return Drug(name=DrugName.HEROIN, group=DrugGroup.OPIOIDS)
    if phrase == "crystal":
        if in_crack_country:
            return Drug(name=DrugName.UNSPECIFIED, group=DrugGroup.UNSPECIFIED, ambiguous=True)
        return Drug(name=DrugName.METHAMPHETAMINE, group=DrugGroup.ATS)
    if phrase in SYNONYMS:
        name = DrugName(SYNONYMS[phrase])
        return Drug(name=name, group=DRUG_GROUPS[name])
    if phrase in GROUP_WORDS:
        return Drug(name=DrugName.UNSPECIFIED, group=DrugGroup(GROUP_WORDS[phrase]))
    return None


def _drug_scan(tokens: list[str], country: str | None) -> Drug | None:
    """Longest-match scan: one drug among unknown adjectives ("Afghan heroin")."""
    found: list[Drug] = []
    i = 0
    while i < len(tokens):
        for n in range(min(4, len(tokens) - i), 0, -1):
            hit = _drug_lookup(" ".join(tokens[i : i + n]), country)
            if hit is not None:
                found.append(hit)
                i += n
                break
        else:
            i += 1
    specific = [d for d in found if d.name is not DrugName.UNSPECIFIED]
    if specific:
        # "crystal" next to a named drug is its form; a family word next to a
        # member of that family ("heroin opiate") adds nothing.
        found = specific
    distinct = set(found)
    return distinct.pop() if len(distinct) == 1 else None


def drug(name: str, country: str | None = None) -> Drug | None:
    """Normalise a drug word as written, in the context of a country.

    Case-, plural- and hyphen-insensitive; ignores qualifiers ("pure", "crude",
    "tablets of", "pills"). ``country`` (alpha-3 or any name :func:`country_code`
    knows) decides the regional words: in Iran and Afghanistan "crack"/"kerack"
    is a heroin product and "crystal" alone may be heroin or methamphetamine
    (``ambiguous=True``, name and group unspecified); elsewhere crack is cocaine
    and crystal is methamphetamine. Unknown words give ``None``.

    >>> drug("Captagon pills").name, drug("ecstasy tablets").group
    (<DrugName.AMPHETAMINE: 'amphetamine'>, <DrugGroup.ECSTASY: 'ecstasy'>)
    >>> drug("crack", "IRN").name, drug("crack", "COL").name
    (<DrugName.HEROIN: 'heroin'>, <DrugName.COCAINE: 'cocaine'>)
    >>> drug("crystal", "Iran").ambiguous
    True
    """
    if not isinstance(name, str):
        return None
    iso = None
    if isinstance(country, str) and country:
        iso = country if re.fullmatch(r"[A-Z]{3}", country) else country_code(country)
    return _drug_cached(name, iso)


@lru_cache(maxsize=4096)
def _drug_cached(name: str, iso: str | None) -> Drug | None:
    tokens = [tok for tok in re.split(r"[^a-z0-9]+", _fold(name)) if tok]
    if not tokens:
        return None
    singular = [_singular(tok) for tok in tokens]
    kept = [tok for tok in singular if tok not in _DRUG_FILLER and not tok.isdigit()]
    for candidate in (tokens, singular, kept):
        hit = _drug_lookup(" ".join(candidate), iso)
        if hit is not None:
            return hit
    if any(tok in _DRUG_BLOCK for tok in singular):
        return None
    return _drug_scan(kept, iso)


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
_LEAD = _LazyRegex(
    r"^(?:(?:on|in|during|at|of|the|early|earlier|mid|middle|late|later|end|beginning|start)\b[\s-]*)+"
)
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
    if not re.search(r"\b(?:19|20)\d{2}\b", text) or not re.search(
        r"\b(?:" + "|".join(_MONTHS) + r")\b", text
    ):
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
    from dateparser.date import DateDataParser

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
_FULL_DATES = [
    _LazyRegex(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?!\d)"),
    _LazyRegex(r"\b" + _MON_I + r"\s*(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})(?!\d)", re.I),
    _LazyRegex(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MON_I + r",?\s+(?P<year>\d{4})(?!\d)", re.I),
]
# "TEHRAN, Dec. 20 (MNA)", "Tehran, Sept 13, IRNA": a dateline without its year.
_DATELINE = _LazyRegex(
    r"^[ \t]*[A-Za-z][A-Za-z .'\-]{1,40},\s*" + _MON_I + r"\s*(?P<day>\d{1,2})\b", re.I | re.M
)
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
    matches = sorted(
        (m for pattern in _FULL_DATES for m in pattern.finditer(header)), key=lambda m: m.start()
    )
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
