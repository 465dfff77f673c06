"""Country names, official names and demonyms → ISO 3166-1 alpha-3; places → their country."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass

from ._text import _fold, _LazyRegex

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
    return _country_code(name)


@lru_cache(maxsize=8192)
def _country_code(name: str) -> str | None:
    """`country_code` of a string, remembered (a build asks for the same names many times)."""
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
    return _country_of_place(place)


@lru_cache(maxsize=8192)
def _country_of_place(place: str) -> str | None:
    """`country_of_place` of a string, remembered."""
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


@lru_cache(maxsize=512)
def country_names(iso3: str) -> tuple[str, ...]:
    """Every folded name, alias and demonym that `country_code` maps to `iso3` ("iran",
    "iranian", "islamic republic of iran", ...), for finding a country in a text."""
    names, abbreviations, _ = _country_tables()
    found = {name for name, code in names.items() if code == iso3}
    found |= {abbr for abbr, code in abbreviations.items() if code == iso3}
    return tuple(sorted(found, key=lambda n: (-len(n), n)))
