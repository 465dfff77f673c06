"""Reading a place phrase for :mod:`.gazetteer`: tokens, then the names in them and the words around each."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ._gazetteer_index import COUNTRY, SUBDIVISION, CountryCode, Index, country_code_function
from ._gazetteer_words import (
    ADMIN_WORDS,
    APOSTROPHE_CHARS,
    ARTICLES,
    BUILDING_WORDS,
    CONNECTORS,
    COUNTERPARTY_WORDS,
    DIRECTIONS,
    ELISION,
    FACILITY_WORDS,
    MAX_SPAN,
    NAME_ARTICLES,
    OF_WORDS,
    POSSESSIVE,
    PROMINENT_ALTERNATE,
    SETTLEMENT_WORDS,
    SKELETON_ABROAD,
    SKELETON_HOME,
    WATER_BODY,
    WEAK_WORDS,
    fold_word,
    skeleton_key,
    skeleton_strength,
)

# ---------------------------------------------------------------------------
# reading a phrase
# ---------------------------------------------------------------------------

_TOKEN = re.compile(f"[^\\W_](?:[\\w{APOSTROPHE_CHARS}.]*[^\\W_])?|\\d+")
_BARRIER = re.compile(r"[,;:()\[\]{}/|\"“”«»!?]|\s[-\u2010-\u2015]|[-\u2010-\u2015]\s|\.\s")


@dataclass(slots=True)
class Token:
    text: str
    key: str
    alt: str | None  # the key without an Arabic article ("الرباط" → "رباط")
    cap: bool
    start: int
    end: int
    barrier_before: bool
    weak: bool
    article: bool = False  # a capitalised article inside cased text: "Las" of "Las Campiñas"
    possessive: bool = False  # "Gujarat's": ends a proper-noun run


def tokenize(text: str) -> list[Token]:
    text = unicodedata.normalize("NFC", text)
    has_upper = any(ch.isupper() for ch in text)
    has_lower = any(ch.islower() for ch in text)
    cased = has_upper and has_lower
    tokens: list[Token] = []
    last_end = 0
    for m in _TOKEN.finditer(text):
        word = m.group().rstrip(".")
        key = fold_word(word.replace(".", "")) if "." in word else fold_word(word)
        if not key:
            continue
        alt = key[2:] if len(key) > 3 and key.startswith("ال") else None
        first = ELISION.sub("", word)[0]  # "d'Anvers" is capitalised (fold_word drops the "d'")
        cap = (not first.islower()) or not cased
        if first.isdigit():
            cap = False
        gap = text[last_end : m.start()]
        tokens.append(
            Token(
                text=word,
                key=key,
                alt=alt,
                cap=cap,
                start=m.start(),
                end=m.start() + len(word),
                barrier_before=bool(tokens) and bool(_BARRIER.search(gap)),
                weak=key in WEAK_WORDS,
                article=cased and first.isupper() and key in NAME_ARTICLES,
                possessive=bool(POSSESSIVE.search(word)) and len(word) > 2,
            )
        )
        last_end = m.end()
    return tokens


@dataclass(slots=True)
class Match:
    start: int  # token index
    end: int  # token index, exclusive
    entries: list[tuple[int, int]]  # (entry id, tier)
    weak: bool  # only generic or common words
    fuzzy: bool  # through the consonant skeleton
    admin: bool = False
    settlement: bool = False
    counterparty: bool = False
    direction: bool = False
    facility: bool = False  # next to "port", "airport", "Hafen": a city's facility
    water: bool = False  # names a sea or strait ("the Strait of Malacca"), not the place
    partial: bool = False  # part of a longer proper-noun run that names nothing ("Austin" of "Austin Trace")
    support_only: frozenset[int] = frozenset()


def scan(idx: Index, tokens: list[Token]) -> list[Match]:
    """The names in ``tokens``, longest first, each annotated with the words around it."""
    country_code = country_code_function()
    n_tokens = len(tokens)
    matches: list[Match] = []
    i = 0
    while i < n_tokens:
        tok = tokens[i]
        if not tok.cap or tok.key in CONNECTORS:
            i += 1
            continue
        limit = i + 1
        while limit < n_tokens and limit - i < MAX_SPAN and not tokens[limit].barrier_before:
            limit += 1
        found = None
        for fuzzy in (False, True):  # exact names of any length before transliteration skeletons
            for end in range(limit, i, -1):
                last = tokens[end - 1]
                if not last.cap or last.key in CONNECTORS:
                    continue
                if fuzzy and any(t.possessive for t in tokens[i : end - 1]):
                    continue  # "Syria's Deir" is two names
                found = _lookup(idx, tokens, i, end, country_code, fuzzy=fuzzy)
                if found is not None:
                    break
            if found is not None:
                break
        if found is None:
            # "Las Campiñas", "El Chinarral": a capitalised article belongs to the name that
            # follows it; when the whole name is unknown, its last word alone is not that name
            nxt = i + 1
            if tok.article and nxt < n_tokens and tokens[nxt].cap and not tokens[nxt].barrier_before:
                i += 2
            else:
                i += 1
            continue
        matches.append(found)
        i = found.end
    for m in matches:
        _annotate(tokens, m)
        if m.admin and not m.fuzzy:
            m.weak = False  # "departamento de Colón", "the Eastern Region": a designator vouches for it
    _mark_partial(idx, tokens, matches)
    return matches


def _mark_partial(idx: Index, tokens: list[Token], matches: list[Match]) -> None:
    """Flag names that are only part of a run of capitalised words ("Beni" of "Beni Boussaid")."""

    def proper(k: int) -> bool:
        t = tokens[k]
        return t.cap and not t.weak and not t.text[0].isdigit()

    def run_of(k: int) -> range:
        lo = k
        while lo > 0 and not tokens[lo].barrier_before:
            prev = lo - 1
            if proper(prev) and not tokens[prev].possessive:
                lo = prev
            elif (
                tokens[prev].key in OF_WORDS | NAME_ARTICLES
                and not tokens[prev].cap
                and prev > 0
                and not tokens[prev].barrier_before
                and proper(prev - 1)
                and not tokens[prev - 1].possessive
            ):
                lo = prev - 1
            else:
                break
        hi = k + 1
        while hi < len(tokens) and not tokens[hi].barrier_before and not tokens[hi - 1].possessive:
            if proper(hi):
                hi += 1
            elif (
                tokens[hi].key in OF_WORDS | NAME_ARTICLES
                and not tokens[hi].cap
                and hi + 1 < len(tokens)
                and not tokens[hi + 1].barrier_before
                and proper(hi + 1)
            ):
                hi += 2
            else:
                break
        return range(lo, hi)

    # a run's other words count even when a junk match covers them ("Virgen" of "Virgen del Valle");
    # countries inside a run are names of their own ("Antwerp Belgium")
    country_at = [False] * len(tokens)
    for m in matches:
        if all(idx.entries[e].kind == COUNTRY for e, _ in m.entries):
            for k in range(m.start, m.end):
                country_at[k] = True
    for m in matches:
        run = run_of(m.start)
        m.partial = any(proper(k) and not country_at[k] for k in run if not m.start <= k < m.end)


def _lookup(
    idx: Index,
    tokens: list[Token],
    start: int,
    end: int,
    country_code: CountryCode | None,
    *,
    fuzzy: bool,
) -> Match | None:
    span = tokens[start:end]
    words = [t.key for t in span if t.key not in CONNECTORS]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    weak = all(t.weak for t in span)
    keys = [" ".join(words)]
    if span[0].alt:
        keys.append(" ".join([span[0].alt, *words[1:]]))
    if fuzzy:
        return _lookup_skeleton(idx, span, start, end, keys[0], weak)
    designated = len(words) > 1 and words[-1] in ADMIN_WORDS  # "Eastern Region", "Khatlon Province"
    entries: list[tuple[int, int]] = []
    for key in keys:
        first = key.partition(" ")[0]
        if len(words) == 1 or idx.first_words.get(first, 1) >= len(words):
            for packed in idx.keys.get(key, ()):
                entries.append((packed >> 1, packed & 1))
        if entries:
            break
    if designated:
        for packed in idx.keys.get(" ".join(words[:-1]), ()):
            if idx.entries[packed >> 1].kind == SUBDIVISION and (packed >> 1, packed & 1) not in entries:
                entries.append((packed >> 1, packed & 1))
    if not entries and len(words) == 1 and len(words[0]) > 4:
        word = words[0]
        if word.endswith("s"):
            for packed in idx.keys.get(word[:-1], ()):  # "Eistlands", "Afghanistans"
                if idx.entries[packed >> 1].kind == COUNTRY:
                    entries.append((packed >> 1, 0))
        elif word.endswith("er") and span[0].cap and not weak:
            for packed in idx.keys.get(word[:-2], ()):  # German "Hamburger Hafen", "Rotterdamer"
                entry = idx.entries[packed >> 1]
                if entry.kind != COUNTRY and entry.pop >= PROMINENT_ALTERNATE:
                    entries.append((packed >> 1, 1))
    if country_code is not None and len(span) <= 4 and not span[0].text[0].isdigit():
        phrase = " ".join(t.text for t in span)
        iso3 = country_code(phrase)
        if iso3 is not None and iso3 in idx.country_entry:
            entry_id = idx.country_entry[iso3]
            if all(e != entry_id for e, _ in entries):
                # tier 1: the project's alias ("Scotland" → GBR), not the country's own name
                entries.append((entry_id, 1))
    if entries:
        return Match(start, end, entries, weak=weak, fuzzy=False, admin=designated)
    return None


def _lookup_skeleton(idx: Index, span: list[Token], start: int, end: int, key: str, weak: bool) -> Match | None:
    """The names whose consonant skeleton is the span's ("Sistan-Baluchistan", "Phongsaly")."""
    if weak or span[0].weak or span[-1].weak:
        return None  # no fuzzy "Lao Bao Border"
    skeleton = skeleton_key(key)
    strength = skeleton_strength(skeleton)
    if strength < SKELETON_HOME:
        return None
    fuzzy = [(e, 1) for e in idx.skeletons.get(skeleton, ())]
    if fuzzy:
        # short skeletons only count in a context or named country (a weak match)
        return Match(start, end, fuzzy, weak=strength < SKELETON_ABROAD, fuzzy=True)
    return None


def _annotate(tokens: list[Token], m: Match) -> None:
    """Designators, counterparties, directions and water bodies around a match, within its segment."""
    n = len(tokens)
    after = m.end
    if after < n and not tokens[after].barrier_before:
        key = tokens[after].key
        building = after + 1 < n and tokens[after + 1].key in BUILDING_WORDS  # "Tauranga District Court"
        if key in ADMIN_WORDS and not building:
            m.admin = True
        elif key in SETTLEMENT_WORDS:
            m.settlement = True  # "Zahedan city"
        elif key in FACILITY_WORDS:
            m.facility = True  # "Dar es Salaam port", "im Hamburger Hafen"
        elif key in WATER_BODY:
            m.counterparty = m.water = True  # "Indian Ocean", "Arabian Sea": not the country
    j = m.start - 1
    steps = 0
    skipped_adjective = passed_of = False
    while j >= 0 and steps < 5 and not tokens[j + 1].barrier_before:
        tok = tokens[j]
        key = tok.key
        if key in OF_WORDS or key in ARTICLES:
            if key in OF_WORDS and j >= 1 and tokens[j - 1].key in WATER_BODY:
                m.counterparty = m.water = True  # "Gulf of Mexico", "Strait of Malacca"
            passed_of = passed_of or key in OF_WORDS
            j -= 1
            steps += 1
            continue
        if key in ADMIN_WORDS:
            m.admin = True
        elif key in SETTLEMENT_WORDS:
            m.settlement = True  # "the town of Angostura", "v mestu Manta"
        elif key in FACILITY_WORDS:
            m.facility = True  # "the port of Callao", "le port d'Anvers"
        elif key in COUNTERPARTY_WORDS:
            m.counterparty = True
        elif key in DIRECTIONS:
            m.direction = m.direction or not passed_of  # "western Herat", not "south of Nogales"
            j -= 1
            steps += 1
            continue
        elif not tok.cap and not tok.weak and not skipped_adjective and j < m.start - 1:
            skipped_adjective = True  # "departamento caribeño de Colón", "distrito costeiro de Mossuril"
            j -= 1
            steps += 1
            continue
        break
