"""Drug words as written → canonical drug names and UNODC families."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, model_validator

from .countries import country_code

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


# ---------------------------------------------------------------------------
# reading a drug phrase
#
# A phrase is folded into words (case, accents, Arabic/Persian letter variants,
# the Arabic article; Indic vowel signs are kept), then looked up whole; failing
# that, it is split at conjunctions ("and" lists a mixture, "or" and "/" list
# alternatives) and each part is scanned left to right for the longest known
# phrase, a known phrase written with its words run together or apart
# ("meth amphetamine", "nitro vet"), a known word, a word one or two letters off
# a long known word, or a known word glued to another ("Kokainhydrochlorid").
# Each hit has a weight (_STRONG: a named drug; _GENERIC: a family word that
# yields to a precise member of its family; _WEAK: slang, a form word or a
# best guess; _VAGUE: "drugs", "opiates"); the heaviest hits of a part must
# agree, or the part is a conflict and the phrase gives None.
# ---------------------------------------------------------------------------

_VAGUE, _WEAK, _GENERIC, _STRONG = range(4)
_MIN_FUZZY = 6  # words shorter than this match exactly or not at all
_IRREGULAR_SINGULAR = {"leaves": "leaf", "bushes": "bush", "tranquillizers": "tranquilizer"}
_SCRIPT_VARIANTS = str.maketrans({"ی": "ي", "ى": "ي", "ک": "ك", "ة": "ه", "ۀ": "ه", "ٱ": "ا", "ـ": None})
_LAST_DIACRITIC_BASE = 0x08FF  # marks on Latin, Greek, Cyrillic, Arabic letters are diacritics; Indic ones are vowels


class _Hit(NamedTuple):
    name: DrugName
    group: DrugGroup
    weight: int
    ambiguous: bool = False

    def drug(self) -> Drug:
        return Drug(name=self.name, group=self.group, ambiguous=self.ambiguous)


_CONFLICT = _Hit(DrugName.UNSPECIFIED, DrugGroup.UNSPECIFIED, -1)


class _Tables(NamedTuple):
    phrases: dict[str, _Hit]
    regional: dict[str, tuple[tuple[frozenset[str], _Hit], ...]]
    alone_only: frozenset[str]  # regional family words read regionally only as the whole phrase
    modifiers: dict[str, int]  # word → index into rules (lower = applied first)
    rules: tuple[dict[DrugName, DrugName], ...]
    filler: frozenset[str]
    block: frozenset[str]
    and_words: frozenset[str]
    or_words: frozenset[str]
    naming: frozenset[str]
    meaning: dict[str, str]  # fuzzy vocabulary: word → what it stands for
    by_initial: dict[str, tuple[str, ...]]
    fuzzy_targets: frozenset[str]
    longest: int  # most words in a key


def _words(text: str) -> list[str]:
    """Fold ``text`` into lookup words: ``"Kaptagon-Tabletten"`` → ``["kaptagon", "tabletten"]``."""
    text = unicodedata.normalize("NFKD", text.casefold())
    chars: list[str] = []
    base = 0
    for ch in text:
        if unicodedata.combining(ch):
            if base <= _LAST_DIACRITIC_BASE:
                continue
        else:
            base = ord(ch)
        chars.append(ch)
    text = "".join(chars).translate(_SCRIPT_VARIANTS).replace("/", " or ").replace("&", " and ")
    text = re.sub(r"['’](?:s\b)?", "", text).replace(".", "")  # "Iran's", "U.S.", "Kg."
    words: list[str] = []
    current: list[str] = []
    for ch in text + " ":
        if unicodedata.category(ch)[0] in "LNM":
            current.append(ch)
        elif current:
            word = "".join(current)
            current = []
            words.append(word[2:] if word.startswith("ال") and len(word) >= 5 else word)  # Arabic article
    return words


def _singular(token: str) -> str:
    if token in _IRREGULAR_SINGULAR:
        return _IRREGULAR_SINGULAR[token]
    if len(token) <= 3 or token.endswith(("ss", "us", "is")):
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith("s"):
        return token[:-1]
    return token


def _close(word: str, known: str, distance: int) -> bool:
    """Whether ``distance`` edits (OSA) are few enough between two words of these lengths.

    Two edits from ten letters, one from seven, and from six one that is not a
    change of letter (a letter dropped, added or swapped: "cystal", "cocain",
    "herion"); shorter words match exactly only. English is dense in short
    words one letter apart ("heron", "lyrics", "retina"), drug typos are not.
    """
    shortest = min(len(word), len(known))
    if shortest >= 10:
        return distance <= 2
    if shortest >= 7:
        return distance <= 1
    if shortest >= _MIN_FUZZY:
        return distance == 1 and (len(word) != len(known) or sorted(word) == sorted(known))
    return False


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """The alias tables, folded the way input is folded (built on first use)."""
    from llm_extract.tasks.security_events.aliases import drugs as a

    phrases: dict[str, _Hit] = {}

    spelled: set[str] = set()  # the keys as listed (fuzzy targets), not their made-up singulars

    def add(key: str, hit: _Hit) -> None:
        words = _words(key)
        phrases.setdefault(" ".join(words), hit)
        phrases.setdefault(" ".join(_singular(w) for w in words), hit)
        if len(words) == 1 and hit.weight != _WEAK or key in a.FORM_WORDS:
            spelled.add(words[0])

    def named(name: str, weight: int, ambiguous: bool = False) -> _Hit:
        drug_name = DrugName(name)
        return _Hit(drug_name, DRUG_GROUPS[drug_name], weight, ambiguous)

    generic = {" ".join(_words(k)) for k in a.GENERIC}
    for key, name in a.SYNONYMS.items():
        if name == DrugName.UNSPECIFIED:
            add(key, named(name, _VAGUE))
        else:
            add(key, named(name, _GENERIC if " ".join(_words(key)) in generic else _STRONG))
    for key, group in a.UNLISTED.items():
        add(key, _Hit(DrugName.UNSPECIFIED, DrugGroup(group), _STRONG))
    for key, name in a.AMBIGUOUS.items():
        add(key, named(name, _WEAK, ambiguous=True))
    for key, name in a.FORM_WORDS.items():
        add(key, named(name, _WEAK))
    for key, group in a.GROUP_WORDS.items():
        add(key, _Hit(DrugName.UNSPECIFIED, DrugGroup(group), _VAGUE))

    forms = {" ".join(_words(k)) for k in a.FORM_WORDS}
    regional: dict[str, tuple[tuple[frozenset[str], _Hit], ...]] = {}
    for key, by_country in a.REGIONAL.items():
        folded = " ".join(_words(key))
        regional[folded] = tuple(
            (countries, named(name, _WEAK if ambiguous or folded in forms else _STRONG, ambiguous))
            for countries, name, ambiguous in by_country
        )

    modifiers: dict[str, int] = {}
    for index, (words, _) in enumerate(a.MODIFIER_RULES):
        for word in words.split():
            modifiers.setdefault(" ".join(_words(word)), index)
    rules = tuple({DrugName(k): DrugName(v) for k, v in mapping.items()} for _, mapping in a.MODIFIER_RULES)

    def folded_set(words: frozenset[str]) -> frozenset[str]:
        return frozenset(w for word in words for w in _words(word))

    filler = folded_set(a.FILLER)
    meaning: dict[str, str] = {}
    for key, hit in phrases.items():
        if " " not in key:
            meaning[key] = f"{hit.name}/{hit.group}"
    for key in regional:
        if " " not in key:
            meaning.setdefault(key, f"regional:{key}")
    for word, index in modifiers.items():
        meaning.setdefault(word, f"modifier:{index}")
    for word in filler:
        meaning.setdefault(word, "filler")
    exact_only = folded_set(a.EVERYDAY_WORDS)
    for word in folded_set(a.NOT_DRUGS):
        meaning[word] = f"word:{word}"
    targets = (spelled | set(modifiers) | filler | folded_set(a.NOT_DRUGS)) - exact_only
    by_initial: dict[str, list[str]] = {}
    for word in targets:
        if len(word) >= _MIN_FUZZY and word.isalpha():
            by_initial.setdefault(word[0], []).append(word)
    return _Tables(
        phrases=phrases,
        regional=regional,
        alone_only=frozenset(generic & set(regional)),
        modifiers=modifiers,
        rules=rules,
        filler=filler,
        block=folded_set(a.BLOCK),
        and_words=folded_set(a.AND_WORDS),
        or_words=folded_set(a.OR_WORDS),
        naming=folded_set(a.NAMING_WORDS),
        meaning=meaning,
        by_initial={k: tuple(sorted(v)) for k, v in by_initial.items()},
        fuzzy_targets=frozenset(targets),
        longest=max(len(k.split()) for k in [*phrases, *regional]),
    )


def _lookup(t: _Tables, phrase: str, iso: str | None, whole: bool = True) -> _Hit | None:
    if iso is not None and (whole or phrase not in t.alone_only):
        for countries, hit in t.regional.get(phrase, ()):
            if iso in countries:
                return hit
    return t.phrases.get(phrase)


def _fuzzy(t: _Tables, word: str) -> str | None:
    """The one known word within a few edits of ``word`` (same first letter, long words only)."""
    if len(word) < _MIN_FUZZY or word in t.meaning or any(ch.isdigit() for ch in word):
        return None
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract

    candidates = t.by_initial.get(word[0], ())
    found = extract(word, candidates, scorer=OSA.distance, score_cutoff=2, limit=None)
    allowed = [(d, c) for c, d, _ in found if _close(word, c, d)]
    if not allowed:
        return None
    best = min(d for d, _ in allowed)
    winners = {c for d, c in allowed if d == best}
    meanings = {t.meaning[c] for c in winners}
    return min(winners) if len(meanings) == 1 else None


class _Part(NamedTuple):
    hits: list[_Hit]
    modifiers: list[int]
    loose: list[_Hit]  # what the modifier words mean alone ("resin", "vape"), used when nothing else is named


def _word_role(t: _Tables, word: str, iso: str | None, part: _Part, exact: bool = True) -> bool:
    """Record what one known (or, not ``exact``, fuzzily known) word means in ``part``; False if unknown."""
    for form in dict.fromkeys((word, _singular(word))):
        if form in t.modifiers:
            part.modifiers.append(t.modifiers[form])
            loose = _lookup(t, form, iso) if exact else None  # "sapping" is no "sapling"
            if loose is not None:
                part.loose.append(loose)
            return True
        if form in t.filler:
            return True
        hit = _lookup(t, form, iso, whole=False)
        if hit is not None:
            part.hits.append(hit)
            return True
    return False


def _compound(t: _Tables, word: str, iso: str | None, part: _Part) -> bool:
    """A drug word glued to a known word: ``kokainhydrochlorid``, ``cannabisharz``."""
    if len(word) < 8 or not word.isalpha():
        return False
    for cut in range(4, len(word) - 3):
        left, right = word[:cut], word[cut:]
        for drug_word, other in ((left, right), (right, left)):
            if drug_word in t.fuzzy_targets and drug_word in t.phrases and drug_word not in t.modifiers:
                known = other if other in t.meaning else _fuzzy(t, other)
                if known is not None and (known in t.modifiers or (known in t.filler and len(known) >= _MIN_FUZZY)):
                    _word_role(t, drug_word, iso, part)
                    _word_role(t, known, iso, part, exact=False)
                    return True
    return False


def _scan(t: _Tables, raw: list[str], iso: str | None) -> _Part:
    singular = [_singular(w) for w in raw]
    part = _Part([], [], [])
    i = 0
    while i < len(raw):
        step = 0
        for n in range(min(t.longest, len(raw) - i), 1, -1):  # the longest known phrase
            for words in (raw, singular):
                hit = _lookup(t, " ".join(words[i : i + n]), iso, whole=False)
                if hit is not None:
                    step = n
                    changes = [t.modifiers.get(w) for w in words[i : i + n]]
                    if all(c is not None for c in changes):  # "pasta base" alone, or changing "de cocaína"
                        part.modifiers.extend(c for c in changes if c is not None)
                        part.loose.append(hit)
                    else:
                        part.hits.append(hit)
                    break
            if step:
                break
        if not step:
            for n in (3, 2):  # a known word written apart: "meth amphetamine", "ya ba", "nitro vet"
                pieces = raw[i : i + n]
                if len(pieces) < n or not all(p.isalpha() for p in pieces):
                    continue
                joined = "".join(pieces)
                if _lookup(t, joined, iso) is None and len(joined) >= 8 and not any(p in t.meaning for p in pieces):
                    joined = _fuzzy(t, joined) or joined
                if joined not in t.filler and joined not in t.modifiers and _lookup(t, joined, iso) is not None:
                    _word_role(t, joined, iso, part)
                    step = n
                    break
        if not step:
            step = 1
            word = raw[i]
            if not _word_role(t, word, iso, part) and word not in t.meaning:
                corrected = _fuzzy(t, singular[i]) or _fuzzy(t, word)
                if corrected is None or not _word_role(t, corrected, iso, part, exact=False):
                    _compound(t, word, iso, part)
        i += step
    return part


def _apply_modifiers(t: _Tables, part: _Part) -> list[_Hit]:
    if not part.hits:
        return part.loose
    hits = []
    for hit in part.hits:
        for index in sorted(set(part.modifiers)):
            new = t.rules[index].get(hit.name)
            if new is not None:
                hit = hit._replace(name=new, group=DRUG_GROUPS[new])
                break
        hits.append(hit)
    return hits


def _pick(hits: list[_Hit]) -> _Hit | None:
    """The one drug the heaviest hits agree on; ``_CONFLICT`` if they disagree."""
    if not hits:
        return None
    top = max(h.weight for h in hits)
    if top >= _GENERIC:
        precise = {h.group for h in hits if h.weight == _STRONG}
        chosen = [h for h in hits if h.weight == _STRONG or (h.weight == _GENERIC and h.group not in precise)]
    elif top == _WEAK:
        chosen = [h for h in hits if h.weight == _WEAK]
    else:  # only vague words: a family beats "drugs"
        chosen = [h for h in hits if h.group is not DrugGroup.UNSPECIFIED] or hits
    if len({(h.name, h.group) for h in chosen}) != 1:
        return _CONFLICT
    return chosen[0]._replace(weight=top, ambiguous=any(h.ambiguous for h in chosen))


def _read_part(t: _Tables, raw: list[str], iso: str | None) -> _Hit | None:
    found = _pick(_apply_modifiers(t, _scan(t, raw, iso)))
    if found is not _CONFLICT:
        return found
    for i, word in enumerate(raw):  # "amphetamine pills called Ecstasy": the name given wins
        after = i + 2 if word == "known" and raw[i + 1 : i + 2] == ["as"] else i + 1 if word in t.naming else 0
        if after:
            named = _pick(_apply_modifiers(t, _scan(t, raw[after:], iso)))
            if named is not None and named is not _CONFLICT:
                return named._replace(ambiguous=True)
    return _CONFLICT


def _read(t: _Tables, raw: list[str], iso: str | None) -> Drug | None:
    parts: list[list[str]] = [[]]
    alternatives = True
    for word in raw:
        if word in t.and_words or word in t.or_words:
            alternatives = alternatives and word in t.or_words
            parts.append([])
        else:
            parts[-1].append(word)
    found: list[_Hit] = []
    for words in parts:
        hit = _read_part(t, words, iso) if words else None
        if hit is _CONFLICT:
            return None
        if hit is not None:
            found.append(hit)
    if not found:
        return None
    if alternatives:  # "cannabis/hashish": the family word gives way here too
        precise = {h.group for h in found if h.weight == _STRONG}
        found = [h for h in found if h.weight != _GENERIC or h.group not in precise]
    first = found[0]
    if all((h.name, h.group) == (first.name, first.group) for h in found):
        return first._replace(ambiguous=any(h.ambiguous for h in found)).drug()
    same_family = first.group is not DrugGroup.UNSPECIFIED and all(h.group is first.group for h in found)
    if len(parts) > 1 and alternatives and same_family:  # "ephedrine/pseudoephedrine": the first, flagged
        return first._replace(ambiguous=True).drug()
    return None


def drug(name: str, country: str | None = None) -> Drug | None:
    """Normalise a drug word as written, in the context of a country.

    Case-, accent-, plural-, spacing- and hyphen-insensitive; ignores qualifiers
    ("pure", "crude", "tablets of", "pills", "de"); reads the corpus's languages
    and scripts ("maconha", "Kokain", "الحشيش", "ফেনসিডিল"); forgives a letter or
    two in long words ("metaphetamine", "Ecstacy"); applies form words
    ("weed plants", "base de cocaína", "hasish wax"). ``country`` (alpha-3 or
    any name :func:`country_code` knows) decides the regional words: in Iran and
    Afghanistan "crack"/"kerack" is a heroin product and "crystal" alone may be
    heroin or methamphetamine (``ambiguous=True``, name and group unspecified);
    elsewhere crack is cocaine and crystal is methamphetamine. Slang and brands
    that are a best guess ("rock", "Eskuf") come back with ``ambiguous=True``.
    Unknown words, and phrases that name two different drugs, give ``None``.

    >>> drug("Captagon pills").name, drug("ecstasy tablets").group
    (<DrugName.AMPHETAMINE: 'amphetamine'>, <DrugGroup.ECSTASY: 'ecstasy'>)
    >>> drug("crack", "IRN").name, drug("crack", "COL").name
    (<DrugName.HEROIN: 'heroin'>, <DrugName.COCAINE: 'cocaine'>)
    >>> drug("crystal", "Iran").ambiguous
    True
    >>> [drug(x).name.value for x in ("meth amphetamine", "cocain", "Kokainhydrochlorid", "weed plants")]
    ['methamphetamine', 'cocaine', 'cocaine', 'cannabis_plants']
    >>> drug("heroin and opium") is None, drug("Lyrica capsules").name.value
    (True, 'unspecified')
    """
    if not isinstance(name, str):
        return None
    iso = None
    if isinstance(country, str) and country:
        iso = country if re.fullmatch(r"[A-Z]{3}", country) else country_code(country)
    return _drug_cached(name, iso)


@lru_cache(maxsize=4096)
def _drug_cached(name: str, iso: str | None) -> Drug | None:
    raw = _words(name)
    if not raw:
        return None
    t = _tables()
    singular = [_singular(w) for w in raw]
    kept = [w for w in singular if w not in t.filler and not w.isdigit()]
    for candidate in (raw, singular, kept):
        hit = _lookup(t, " ".join(candidate), iso) if candidate else None
        if hit is not None:
            return hit.drug()
    if any(w in t.block for w in singular):
        return None
    return _read(t, raw, iso)
