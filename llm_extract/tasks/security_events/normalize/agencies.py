"""An agency string as the model wrote it → the ISO3 code of the agency's country.

``agency_country("the Brazilian Federal Police")`` is ``"BRA"``, ``agency_country("NDLEA")``
is ``"NGA"``, ``agency_country("Customs")`` is ``None``. Two sources, in this order:

1. **The table** ``llm_extract/tasks/security_events/data/agencies.json``: national police,
   customs, navies, coast guards, gendarmeries, anti-narcotics and military forces, each
   ``{"name", "aliases", "iso3", "kind"}``. Names and aliases match as whole words, folded
   (case, accents, punctuation, a leading "the"); an accented spelling is tried first, so
   Portuguese "Polícia Federal" (Brazil) and Spanish "Policía Federal" (Argentina) stay
   apart. Acronyms (aliases written in capitals, or in mixed case like "GdF", "KMar") match
   only as written, so "ice", "Sic" or "and" are not agencies. The longest match wins.
   A name or acronym that the table gives to agencies of different countries is
   ambiguous and gives ``None``: "Policía Nacional" (Spain, Colombia, Peru ...),
   "Gendarmerie nationale" (France, Algeria, Senegal), "PNP" (Peru, the Philippines),
   "AFP" (the Australian Federal Police and the Armed Forces of the Philippines; AFP is
   also a news agency, so a string that mentions a press agency gives ``None`` outright),
   "Polícia Judiciária" (Portugal, Cape Verde, Guinea-Bissau), "DGSN" (Morocco, Algeria).
2. **A country named in the string**: ``country_code`` of
   :mod:`llm_extract.normalize` (names, aliases and demonyms) on its word triples, pairs
   and words, longest first: "Dutch customs", "Nigeria's NDLEA", "Pakistan Coast Guards",
   "the Royal Thai Navy". A phrase naming two countries ("US-Mexican task force") gives
   ``None``; "New Mexico State Police" does not name Mexico.

Generic names ("Customs", "Coast Guard", "Navy", "Anti-Narcotics Force", "Federal
Police", "National Police") are deliberately absent from the table: without a country
they are ``None``, not a guess. When the table and a named country disagree, the table
wins (the agency is the DEA in "the DEA office in Bogotá").
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import TypedDict

__all__ = ["Agency", "agency_country", "agency_records"]


class Agency(TypedDict):
    """One row of ``agencies.json``."""

    name: str
    aliases: list[str]
    iso3: str
    kind: str  # police | customs | navy | coast_guard | gendarmerie | anti_narcotics | military | other


_TABLE = ("llm_extract.tasks.security_events", "data", "agencies.json")
_KINDS = frozenset({"police", "customs", "navy", "coast_guard", "gendarmerie", "anti_narcotics", "military", "other"})
_MAX_WORDS = 14
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})
_WORD = re.compile(r"[^\W_]+(?:['.&][^\W_]+)*\.?")
_PRESS = re.compile(r"\b(?:news|press|presse|newswire|wire service)\b|\bagence france", re.IGNORECASE)
_AMBIGUOUS = "?"
_ACRONYM_TOKEN = re.compile(r"[^\W_][\w.&-]*[^\W_.]|[^\W_]")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str, *, accents: bool) -> list[str]:
    """Lower-case words, possessives and dots dropped: "Nigeria's N.D.L.E.A." → ["nigeria", "ndlea"]."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).casefold()
    if not accents:
        text = _strip_accents(text)
    out = []
    for word in _WORD.findall(text):
        word = re.sub(r"'s?$", "", word).replace(".", "").replace("'", "")
        if word:
            out.append(word)
    if len(out) > 1 and out[0] == "the":
        out = out[1:]
    return out


def _is_acronym(alias: str) -> bool:
    """Written as an acronym: no spaces, and capitals beyond the first letter ("DEA", "GdF", "KMar", "Polri")."""
    bare = alias.replace(".", "").replace("-", "").replace("&", "")
    if " " in alias or not bare.isalnum() or len(bare) > 10:
        return False
    return sum(ch.isupper() for ch in bare) >= 2 or bare.isupper()


def _compact(token: str) -> str:
    return token.replace(".", "").replace("-", "").replace("&", "")


@lru_cache(maxsize=1)
def agency_records() -> tuple[Agency, ...]:
    """The agencies table as loaded (validated: a known kind, a three-letter code)."""
    path = resources.files(_TABLE[0]).joinpath(*_TABLE[1:])
    with path.open("r", encoding="utf-8") as handle:
        records = json.load(handle)
    out: list[Agency] = []
    for record in records:
        iso3, kind = record["iso3"], record["kind"]
        if not (isinstance(iso3, str) and re.fullmatch(r"[A-Z]{3}", iso3)) or kind not in _KINDS:
            raise ValueError(f"bad agency record: {record!r}")
        out.append(Agency(name=str(record["name"]), aliases=[str(a) for a in record["aliases"]], iso3=iso3, kind=kind))
    return tuple(out)


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(accented phrase → ISO3, accent-free phrase → ISO3, acronym → ISO3); ``"?"`` marks ambiguity."""
    accented: dict[str, str] = {}
    plain: dict[str, str] = {}
    acronyms: dict[str, str] = {}

    def put(table: dict[str, str], key: str, iso3: str) -> None:
        if key and table.setdefault(key, iso3) != iso3:
            table[key] = _AMBIGUOUS

    for record in agency_records():
        for name in (record["name"], *record["aliases"]):
            if _is_acronym(name):
                put(acronyms, _compact(name), record["iso3"])
            else:
                put(accented, " ".join(_words(name, accents=True)), record["iso3"])
                put(plain, " ".join(_words(name, accents=False)), record["iso3"])
    return accented, plain, acronyms


def _table_match(text: str) -> str | None:
    """The ISO3 of the longest table names in ``text`` (``"?"`` if they disagree), else ``None``."""
    accented, plain, acronyms = _tables()
    found: list[tuple[int, str]] = []  # (words, ISO3)
    for table, accents in ((accented, True), (plain, False)):
        words = _words(text, accents=accents)
        for i in range(len(words)):
            for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
                iso3 = table.get(" ".join(words[i : i + n]))
                if iso3 is not None:
                    found.append((n, iso3))
                    break
        if found:
            break  # an accented match is not second-guessed without accents
    for token in _ACRONYM_TOKEN.findall(text):
        iso3 = acronyms.get(_compact(token))
        if iso3 is not None and _is_acronym(token):
            found.append((1, iso3))
    if not found:
        return None
    longest = max(n for n, _ in found)
    codes = {iso3 for n, iso3 in found if n == longest}
    return codes.pop() if len(codes) == 1 else _AMBIGUOUS


def _named_countries(text: str) -> set[str]:
    """Countries ``country_code`` finds in the text's word triples, pairs and words."""
    from llm_extract.normalize import country_code

    tokens = re.findall(r"[^\W_](?:[\w.'’]*[^\W_])?\.?", text)
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):
            if i + n > len(tokens):
                continue
            phrase = " ".join(tokens[i : i + n])
            code = country_code(phrase)
            if code is None:
                continue
            if n == 1 and i > 0 and tokens[i - 1].casefold() == "new":
                break  # "New Mexico", "New Jersey", "New South Wales"
            found.add(code)
            i += n - 1
            break
        i += 1
    return found


def agency_country(text: str) -> str | None:
    """ISO3 code of the country an agency belongs to, or ``None`` when the string does not say.

    >>> [agency_country(x) for x in ("NDLEA", "the Brazilian Federal Police", "Dutch customs", "Guardia Civil")]
    ['NGA', 'BRA', 'NLD', 'ESP']
    >>> [agency_country(x) for x in ("Customs", "Coast Guard", "Anti-Narcotics Force", "Policía Nacional")]
    [None, None, None, None]
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = text[:300]
    if _PRESS.search(text):
        return None  # "AFP" the news agency, "Reuters news agency": not a security agency
    found = _table_match(text)
    if found is not None and found != _AMBIGUOUS:
        return found
    named = _named_countries(text)  # also settles an ambiguous name: "the Spanish Policía Nacional"
    if len(named) == 1:
        return next(iter(named))
    return None
