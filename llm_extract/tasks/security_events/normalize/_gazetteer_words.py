"""Folding, transliteration skeletons and word lists of :mod:`.gazetteer`: what is *not* a place name.

Every list here is a list of *words* (designators, facility and direction words, connectors,
common English words), never of places; the places all come from packaged data.
"""

from __future__ import annotations

import re
import unicodedata

LETTERS = {
    "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    "ħ": "h", "ŧ": "t", "ŀ": "l", "ĸ": "k",
    # Arabic and Persian letter variants written interchangeably
    "ی": "ي", "ى": "ي", "ک": "ك", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
}  # fmt: skip
FOLD_TABLE: dict[int, str | None] = {ord(k): v for k, v in LETTERS.items()}
for _lo, _hi in ((0x300, 0x370), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100), (0xFE20, 0xFE30)):
    FOLD_TABLE.update(dict.fromkeys(range(_lo, _hi)))
FOLD_TABLE.update(dict.fromkeys(range(0x64B, 0x660)))  # Arabic vowel marks
FOLD_TABLE.update(dict.fromkeys((0x670, 0x640, 0x200C, 0x200D)))  # superscript alef, tatweel, ZWNJ/ZWJ

APOSTROPHE_CHARS = "'\u2019\u2018\u02bc\u02bb\u02be\u02bf`\u00b4"
POSSESSIVE = re.compile(f"[{APOSTROPHE_CHARS}]s?$")
APOSTROPHE = re.compile(f"[{APOSTROPHE_CHARS}]")
ELISION = re.compile(f"^(?:d|l|dell|dall|nell|sull|all|qu|s|j|c|n)[{APOSTROPHE_CHARS}](?=\\w)", re.IGNORECASE)
WORD = re.compile(f"[^\\W_](?:[\\w{APOSTROPHE_CHARS}]*[^\\W_])?")
NON_WORD = re.compile(r"[\W_]+")

CONNECTORS = frozenset({"and", "va", "y", "e", "et", "und", "ve"})
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def strip_marks(s: str) -> str:
    """Diacritics off, compatibility forms folded ("Sīstān" → "sistan", "¹" → "1")."""
    return unicodedata.normalize("NFKD", s).translate(FOLD_TABLE)


def fold_word(word: str) -> str:
    """One word's key: case, diacritics, apostrophes, possessive folded ("Guayaquil’s" → "guayaquil")."""
    s = word.casefold()
    if not s.isascii():
        s = strip_marks(s).casefold()  # casefold again: NFKD turns "𝐀" into "A"
    if not s.isalnum():
        s = ELISION.sub("", s)  # "d'Anvers" → "anvers", "L'Aquila", "N'Djamena", "Côte d'Ivoire"
        s = POSSESSIVE.sub("", s) if len(s) > 2 else s
        s = NON_WORD.sub("", APOSTROPHE.sub("", s))
    return ABBREVIATIONS.get(s, s)


def name_words(name: str) -> list[str]:
    """Keys of a name's words, connectors and a leading "the" dropped."""
    lowered = name.casefold()
    if not lowered.isascii():
        lowered = strip_marks(lowered).casefold()
    if lowered.isalpha():  # one word, the common case
        return [ABBREVIATIONS.get(lowered, lowered)] if lowered not in CONNECTORS else []
    if lowered.replace(" ", "").isalpha():
        words = [ABBREVIATIONS.get(w, w) for w in lowered.split() if w not in CONNECTORS]
    else:
        words = [fold_word(w) for w in WORD.findall(lowered)]
        words = [w for w in words if w and w not in CONNECTORS]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return words


def fold(text: str) -> str:
    """The lookup key of a name: ``"Sistan–Baluchestan"`` and ``"Sīstān va Balūchestān"`` → ``"sistan baluchestan"``."""
    return " ".join(name_words(text))


SKELETON_VOWELS = re.compile(r"(?<=\S)[aeiouy]+")
SKELETON_H = re.compile(r"(?<=\S)h")
SKELETON_MAP = str.maketrans({"q": "k", "w": "v", "j": "y", "c": "k", "x": "ks"})
DOUBLES = re.compile(r"(\S)\1+")


def skeleton_key(key: str) -> str:
    """Transliteration-insensitive key: vowels dropped after a word's first letter, h after consonants, doubles."""
    if not key.isascii():
        return ""
    w = SKELETON_H.sub("", key.translate(SKELETON_MAP))
    return DOUBLES.sub(r"\1", SKELETON_VOWELS.sub("", w).replace(" ", ""))  # "Deir Ezzor" = "Dayr az Zawr"


def skeleton_strength(skeleton: str) -> int:
    return len(skeleton)


# ---------------------------------------------------------------------------
# word lists (what is *not* a name)
# ---------------------------------------------------------------------------

#: Designators of administrative units, in the languages of seizure news (folded).
ADMIN_WORDS = frozenset(
    """
    province provinces state states region regions department departments governorate
    governorates county counties district districts municipality municipalities regency regencies
    upazila upazilas zila township townships daira division divisions prefecture prefectures oblast krai territory
    territories canton
    cantons emirate parish parishes commune communes subdistrict tehsil taluka taluk mandal union ward wards
    voivodeship kabupaten kecamatan provinsi daerah wilayah kota regencia
    provincia provincias provincie provinz provinciale estado estados etat etats stato stati departamento
    departamentos departement departements dipartimento region regiao regioes regione regioni municipio
    municipios municipalite municipalites comuna comunas comune distrito distritos distretto cantao canton
    bundesland landkreis kreis bezirk gemeinde gewest
    ilce ili il bolge
    mkoa wilaya kaunti
    lalawigan
    pokrajina regija obcina okrug
    провинция провинцията провинции област областта oblast район регион край
    محافظة محافظه ولاية ولايه منطقة منطقه اقليم قضاء استان شهرستان
    tinh huyen xa
    """.split()  # noqa: SIM905
)
#: Designators of settlements.
SETTLEMENT_WORDS = frozenset(
    """
    city cities town towns village villages hamlet metropolis capital suburb
    ciudad ciudades cidade cidades ville villes citta stadt stad kota bandar pueblo poblado localidad
    localidade localite vila villa aldea comunidad barrio bairro barangay brgy colonia ejido
    mestu mesto mestni grad jiji mji sehir kent lungsod bayan thanh pho
    град града градът село مدينة مدينه بلدة قرية شهر
    """.split()  # noqa: SIM905
)
#: Facility, geography, direction and function words: never a place on their own.
GENERIC_WORDS = (
    frozenset(
        """
    the a an of in at on near off from to by with for along between outside inside within around about across
    into onto via per some over under just beyond behind towards toward
    port ports harbour harbor harbours seaport seaports terminal terminals airport airports airfield airstrip
    international domestic cargo complex container containers dock docks dockyard pier berth wharf jetty quay
    marina base station checkpoint check post outpost border borders crossing crossings frontier gate gates
    bridge road roads highway motorway street streets avenue route expressway freeway junction bypass lane
    drive boulevard warehouse warehouses house building office market hotel prison jail camp farm farms field
    fields plantation factory plant lab laboratory
    area areas sector zone zones locality neighbourhood neighborhood quarter district
    island islands isle coast coasts coastal shore shores waters water sea seas ocean gulf bay strait straits
    channel canal river rivers lake lagoon beach beaches mountain mountains mount hill hills valley desert
    forest jungle park reserve peninsula cape point delta
    north south east west northern southern eastern western northeast northwest southeast southwest
    northeastern northwestern southeastern southwestern central centre center middle upper lower greater
    inner outer rural urban metropolitan federal national royal
    provincial regional municipal customs police navy naval army military coastguard guard guards security force forces
    headquarters command
    authority agency ministry service unit units special anti narcotics drug drugs
    kilometres kilometers kilometre kilometer km kms miles mile nautical
    new old great little
    puerto puertos porto portos porte aeropuerto aeroporto aeroport flughafen hafen hafens haven liman
    seehafen seehafen muelle cais quai aduana alfandega douane douanes zoll dogana frontera fronteira
    frontiere grenze carretera rodovia autopista autoroute strasse calle rua rue via avenida playa praia plage
    strand spiaggia isla ilha ile insel isola costa costas cote cotes kuste mar mer meer rio riviere fluss
    fiume lago lac see zona sector secteur recinto golfo golfe
    norte nord sur sud sul este est oeste ouest ovest
    centro del de la las los el le les du des da do das dos di della delle dello dei degli al en em na no
    pelabuhan pulau perairan selatan utara timur barat tengah sa ng ya wa
    der die das dem den einem einer eines
    """.split()  # noqa: SIM905
    )
    | ADMIN_WORDS
    | SETTLEMENT_WORDS
)
DIRECTIONS = frozenset(
    """north south east west northern southern eastern western northeast northwest southeast southwest
    northeastern northwestern southeastern southwestern central norte nord sur sud sul este est oeste ouest
    septentrional meridional oriental occidental""".split()  # noqa: SIM905
)
MARITIME_WORDS = frozenset(
    """off offshore coast coasts coastal waters nautical costa costas cote cotes kuste perairan
    سواحل ساحل""".split()  # noqa: SIM905
)
#: Next to a name, these make the point a point again, even at sea ("off Eluvaitivu Island").
POINT_WORDS = frozenset({"island", "isle", "bay", "lighthouse", "beach", "port", "harbour", "harbor", "pier", "jetty"})
#: Facilities named after the place they are in: "the port of Callao", "Gwadar Port", "Osh airport".
FACILITY_WORDS = frozenset(
    """port ports harbour harbor seaport airport terminal dock docks pier wharf jetty puerto porto aeropuerto
    aeroporto aeroport hafen haven seehafen liman pelabuhan bandari""".split()  # noqa: SIM905
)
BUILDING_WORDS = frozenset({"court", "office", "hospital", "council", "jail", "prison", "headquarters", "police"})
LIST_WORDS = CONNECTORS | {"or", "between", "from", "to", "desde", "hacia", "entre", "and", "ou", "o"}
COUNTERPARTY_WORDS = frozenset({"with", "avec", "con", "com", "mit", "bordering", "ya"})
ARTICLES = frozenset({"the", "le", "la", "les", "el", "los", "las", "l", "o", "a", "os", "as", "der", "die", "das"})
WATER_BODY = frozenset({"ocean", "sea", "gulf", "bay", "strait", "straits", "oceano", "mar", "golfo", "golfe"})
NAME_ARTICLES = frozenset({"la", "las", "los", "el", "le", "les", "il", "lo", "al", "the"})
OF_WORDS = frozenset({"of", "de", "del", "do", "da", "di", "du", "des", "della", "dos", "das", "ya", "wa"})

#: Common English words that are also names of loaded places (a town, an alternate name, a
#: region). They resolve only inside a context country or a country the string names ("Van"
#: with TUR, "Split, Croatia", "Nice" with FRA, "Rivers State" with NGA), because in place
#: strings they are mostly words of facility names ("Golden Jubilee Terminal", "Marine Drive",
#: "Mail Processing Centre", "Constance Bank Anchorage"). Derived by intersecting the one-word
#: keys of the index with the lowercase words of an English dictionary (Debian's wamerican,
#: 1,500 words), then keeping the everyday ones; big cities whose name is a rare word
#: ("Shanghai", "Tangier", "Cologne", "Wellington", "Phoenix") are not in it.
COMMON_WORDS = frozenset(
    """
    ado airport anchorage are area ask ate bank banks base bath bay beaches bell bend best big bluff bluffs
    branch bridge brush but buy cage camp canal canals canyon capital car cars castle cave cell center
    central chair chamber chance change city clay cloud coal coast college colon colony come commerce common
    commonwealth concord cone cork corners cove creek crossing crossings crossroads crystal dam dawn deal
    delta diamond dome downtown drug dual due eagle east eastern echo economy empire enterprise falls far
    farmers federal federation first fleet forest fort fortune fountain free freedom freeman friendly frost
    gap gateway gold golden got grant grants grass green grove groves gulf hall hamlet harbor harvest
    headquarters highland highlands hills hillside hole holiday hollow homeland homestead hope hub human
    hunt hunter imperial independence isle jam jubilee junction justice king kings lakes landing lane law
    lee liberty lime line lion lone long loop lot luck made major male manor marina maritime market marks
    mason media meeting mesa metro metropolis midland midlands midway mile mill mine mission mobile model
    modern monument more most mound mountain mountaintop much name naval needle needles never nice nine
    noble none nor normal north northeast northeastern northern northwest oasis of off officer one opera
    opportunity orange outer overland own pacific page palms panorama paradise paramount parkway passage
    peak pearl per pier pine plain plains plan plantation plateau plaza point police pond pool port portage
    post progress prospect put quarter queen queens race rail rain range rapid reach reading real region
    republic reserve rest retreat ridge rise river rivers riverside rock rose run rush sale sales salt same
    sand sandy savage say seaside see seen set settlement shaft she side since soda sol solo son song south
    southeastern southern spa split spring springs star steps stone store story strand street success summit
    sun sunrise sunset superior surprise swamp temple ten terminus terrace than time tin trail transit
    triangle trinity twin union unity university upland uptown vale valley van victor village villages vista
    walk welcome wells west western wharf woodland woodlands worth young zero
    """.split()  # noqa: SIM905
)
WEAK_WORDS = COMMON_WORDS | GENERIC_WORDS

SKELETON_HOME = 4  # consonants a skeleton needs to match in a context or named country
SKELETON_ABROAD = 6  # ... and anywhere
MAX_SPAN = 7  # words in the longest key worth scanning for ("united kingdom of great britain ...")
SMALL_TOWN = 15_000  # below this, only names in Latin script are indexed
PROMINENT = 50_000  # a city outside the context and named countries stands alone from this size
PROMINENT_ALTERNATE = 250_000  # ... or from this size when matched by one of its alternate names
AMBIGUITY_SHARE = 0.05  # namesakes under 5 % of the winner's population do not make a name ambiguous
#: pycountry locales whose country names are loaded: the languages of most seizure news.
LANGUAGES = (
    "es", "pt", "pt_BR", "fr", "it", "de", "nl", "tr", "id", "ms", "ro", "pl", "cs", "sk", "hr", "sl", "sr",
    "bs", "sq", "sv", "da", "nb_NO", "fi", "is", "hu", "ca", "gl", "eu", "vi", "fil", "tl", "sw", "ar", "fa",
    "ur", "ps", "ru", "uk", "bg", "mk", "el", "he", "az", "uz", "kk", "tg", "ky", "tk",
)  # fmt: skip
