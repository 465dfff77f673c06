"""The offline gazetteer: place strings as news writes them → country, first-level region, point."""

from __future__ import annotations

import time
from collections.abc import Callable

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_extract.tasks.security_events.normalize.gazetteer import COMMON_WORDS, Gazetteer, Place, fold

ISO3 = sorted(c.alpha_3 for c in pycountry.countries)


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    gazetteer = Gazetteer()
    gazetteer.resolve("Lagos")  # load once for the module (about 1.5 s)
    return gazetteer


TOP_LEVEL = frozenset(s.code for s in pycountry.subdivisions if not s.parent_code)


def _top_level(code: str) -> bool:
    return code in TOP_LEVEL


# --- the traps of the brief -------------------------------------------------

RESOLVED = [
    # text, context, iso3, region, precision
    ("Hyderabad", ("IND",), "IND", "IN-TS", "point"),
    ("Hyderabad", ("PAK",), "PAK", "PK-SD", "point"),
    ("Georgia", ("USA",), "USA", "US-GA", "region"),
    ("Georgia", ("GEO",), "GEO", None, "country"),
    ("Georgia", (), "GEO", None, "country"),
    ("Santa Cruz", ("BOL",), "BOL", "BO-S", "region"),
    ("Sistan–Baluchestan", (), "IRN", "IR-11", "region"),
    ("Sistan and Baluchestan", (), "IRN", "IR-11", "region"),
    ("Sistan-Baluchistan", (), "IRN", "IR-11", "region"),
    ("Sistan va Baluchestan Province", (), "IRN", "IR-11", "region"),
    ("Balochistan", (), "PAK", "PK-BA", "region"),
    ("off the coast of Sicily", (), "ITA", "IT-82", "region"),
    ("Apapa port in Lagos", (), "NGA", "NG-LA", "point"),
    ("Apapa port in Lagos", ("NGA",), "NGA", "NG-LA", "point"),
    ("a warehouse in Rotterdam", (), "NLD", "NL-ZH", "point"),
    ("Kandahar province", (), "AFG", "AF-KAN", "region"),
    ("Kandahar", (), "AFG", "AF-KAN", "point"),
    ("Sinaloa state", (), "MEX", "MX-SIN", "region"),
    ("the violence-ridden state of Sinaloa", ("MEX",), "MEX", "MX-SIN", "region"),
    ("Port Klang", (), "MYS", "MY-10", "point"),
    ("Port Klang in Selangor", ("MYS",), "MYS", "MY-10", "point"),
    ("Guayaquil", (), "ECU", "EC-G", "point"),
    ("Quetta, Balochistan", (), "PAK", "PK-BA", "point"),
    ("Rotterdam, the Netherlands", ("USA",), "NLD", "NL-ZH", "point"),
    ("Antwerp, Belgium", ("NLD",), "BEL", "BE-VLG", "point"),  # BE-VAN's top-level parent
    ("Sydney, na Austrália", ("BRA",), "AUS", "AU-NSW", "point"),
    ("Hyderabad, Sindh", ("IND",), "PAK", "PK-SD", "point"),
    ("Onitsha, Anambra State", ("NGA",), "NGA", "NG-AN", "point"),
    ("Nogales, Arizona", ("MEX",), "USA", "US-AZ", "point"),
    ("Keelung, Taiwan", ("PHL",), "TWN", "TW-KEE", "point"),
    ("warehouse sa Brgy. San Jose, Malino, Mexico, Pampanga", ("PHL",), "PHL", "PH-03", "point"),
    ("Zahedan city", ("IRN",), "IRN", "IR-11", "point"),
    ("the Southern county of Saravan", ("IRN",), "IRN", "IR-11", "region"),
    ("off the coast of Nador", ("MAR",), "MAR", "MA-02", "region"),
    ("Cox's Bazar's Teknaf upazila", ("BGD",), "BGD", "BD-B", "region"),
    ("the Strait of Malacca", ("MYS",), "MYS", None, "region"),
    ("Scotland", ("GBR",), "GBR", "GB-SCT", "region"),
    # other languages and scripts
    ("le port d'Anvers en Belgique", ("FRA",), "BEL", "BE-VLG", "point"),
    ("im Hamburger Hafen", ("DEU",), "DEU", "DE-HH", "point"),
    ("в Истанбул", ("TUR",), "TUR", "TR-34", "point"),
    ("el puerto holandés de Róterdam", ("CRI",), "NLD", "NL-ZH", "point"),
    ("la provincia Mejillones del departamento de Oruro (noroeste)", ("BOL",), "BOL", "BO-O", "region"),
    # countries
    ("Nigeria", (), "NGA", None, "country"),
    ("the Netherlands", (), "NLD", None, "country"),
    ("Türkiye", (), "TUR", None, "country"),
    ("Turkey", (), "TUR", None, "country"),
    ("Nigéria", ("BRA",), "NGA", None, "country"),
    ("Schweden", ("ECU",), "SWE", None, "country"),
    ("la Guinée-Bissau", ("SEN",), "GNB", None, "country"),
    ("Mexico", ("PHL",), "MEX", None, "country"),
    ("northern Jordan", ("JOR",), "JOR", None, "region"),
]


@pytest.mark.parametrize(("text", "context", "iso3", "region", "precision"), RESOLVED)
def test_resolves(
    gaz: Gazetteer, text: str, context: tuple[str, ...], iso3: str, region: str | None, precision: str
) -> None:
    place = gaz.resolve(text, context=context)
    assert place is not None, text
    assert (place.iso3, place.region, place.precision) == (iso3, region, precision)
    assert place.text == text
    if place.region is not None:
        assert _top_level(place.region)
        assert place.region_name


def test_ambiguous_names_without_context_take_the_most_populous_and_say_so(gaz: Gazetteer) -> None:
    place = gaz.resolve("Hyderabad")
    assert place is not None
    assert place.iso3 == "IND" and place.ambiguous
    assert {"IND", "PAK"} <= set(place.candidates)
    assert list(place.candidates) == sorted(place.candidates)
    kingston = gaz.resolve("Kingston")  # Kingston, Ontario is too small to win abroad, not to be possible
    assert kingston is not None and kingston.iso3 == "JAM" and kingston.ambiguous
    assert {"CAN", "JAM"} <= set(kingston.candidates)
    georgia = gaz.resolve("Georgia")  # the country, but the US state was possible
    assert georgia is not None and georgia.iso3 == "GEO" and set(georgia.candidates) == {"GEO", "USA"}


def test_context_settles_an_ambiguous_name(gaz: Gazetteer) -> None:
    place = gaz.resolve("a container terminal in Kingston", context=("JAM",))
    assert place is not None
    assert (place.iso3, place.region, place.ambiguous, place.candidates) == ("JAM", "JM-01", False, ())


def test_a_tiny_namesake_does_not_make_a_name_ambiguous(gaz: Gazetteer) -> None:
    place = gaz.resolve("Lagos")  # Lagos, Portugal has 0.3 % of Lagos, Nigeria's people
    assert place is not None and place.iso3 == "NGA" and not place.ambiguous


@pytest.mark.parametrize("word", ["Van", "Police", "Mobile", "Split", "Nice", "Of", "Golden", "Mesa", "Reading"])
def test_common_english_words_are_not_places_on_their_own(gaz: Gazetteer, word: str) -> None:
    assert word.casefold() in COMMON_WORDS
    assert gaz.resolve(word) is None


@pytest.mark.parametrize(
    ("text", "context", "iso3", "region"),
    [
        ("Van", ("TUR",), "TUR", "TR-65"),
        ("Split, Croatia", (), "HRV", "HR-17"),
        ("Nice", ("FRA",), "FRA", "FR-PAC"),
        ("a motorway between Van and the southeastern Hakkari provinces", ("TUR",), "TUR", "TR-65"),
        ("the Eastern Region", ("GHA",), "GHA", "GH-EP"),
    ],
)
def test_common_words_resolve_where_the_context_or_the_string_backs_them(
    gaz: Gazetteer, text: str, context: tuple[str, ...], iso3: str, region: str
) -> None:
    place = gaz.resolve(text, context=context)
    assert place is not None
    assert (place.iso3, place.region) == (iso3, region)


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("the Golden Jubilee Terminal", ("GHA",)),  # not Golden, Colorado
        ("the Léo-Blanchette Mail Processing Centre", ("CAN",)),  # not Léo, Burkina Faso
        ("Pan American Dock", ("PRI",)),
    ],
)
def test_facility_names_are_not_foreign_towns(gaz: Gazetteer, text: str, context: tuple[str, ...]) -> None:
    place = gaz.resolve(text, context=context)
    assert place is None or place.iso3 in context


@pytest.mark.parametrize("text", ["", "   ", "the port", "a warehouse in", "Xqzvwk Blorptown", "12345", "!!!"])
def test_nothing_matches(gaz: Gazetteer, text: str) -> None:
    assert gaz.resolve(text) is None


def test_torkham_is_not_in_the_data_so_the_caller_falls_back_on_its_context(gaz: Gazetteer) -> None:
    for context in (("PAK",), ("AFG",)):
        place = gaz.resolve("near the Torkham border crossing", context=context)
        assert place is None or place.iso3 == context[0]
        iso3 = place.iso3 if place else context[0]  # what the normaliser does with None
        assert iso3 == context[0]


@pytest.mark.xfail(reason="GeoNames city files hold no Torkham (a border post, population under 500)", strict=True)
def test_torkham_border_crossing(gaz: Gazetteer) -> None:
    place = gaz.resolve("near the Torkham border crossing", context=("PAK",))
    assert place is not None and place.iso3 == "PAK"


def test_place_fields(gaz: Gazetteer) -> None:
    city = gaz.resolve("Guayaquil, Ecuador")
    assert isinstance(city, Place)
    assert city.source == "geonames" and city.name == "Guayaquil" and city.region_name
    assert city.lat is not None and city.lon is not None
    assert -3 < city.lat < -1.5 and -81 < city.lon < -79
    region = gaz.resolve("Sinaloa state")
    assert region is not None and region.source == "iso3166-2" and region.lat is None
    country = gaz.resolve("Nigeria")
    assert country is not None and country.source == "iso3166-1" and country.region is None
    with pytest.raises(AttributeError):
        city.iso3 = "XXX"  # type: ignore[misc]  # frozen


def test_context_may_be_one_code_or_junk(gaz: Gazetteer) -> None:
    place = gaz.resolve("Hyderabad", context="PAK")  # a bare string is one code, not letters
    assert place is not None and place.iso3 == "PAK"
    place = gaz.resolve("Hyderabad", context=("XXX", "pak", "", "PAK"))
    assert place is not None and place.iso3 == "PAK"


def test_construction_is_cheap_and_loading_is_lazy() -> None:
    started = time.perf_counter()
    fresh = Gazetteer()
    assert time.perf_counter() - started < 0.05
    assert fresh._index is None


def test_instances_share_one_index(gaz: Gazetteer) -> None:
    other = Gazetteer()
    assert other.resolve("Lagos") is not None
    assert other._load() is gaz._load()


def test_resolving_is_fast_once_loaded(gaz: Gazetteer) -> None:
    texts = [text for text, *_ in RESOLVED] * 4
    started = time.perf_counter()
    for text in texts:
        gaz.resolve(text, context=("NGA", "IND"))
    per_call = (time.perf_counter() - started) / len(texts)
    assert per_call < 0.005  # about 0.1 ms on a quiet machine; loose for busy CI


# --- folding --------------------------------------------------------------------


def test_fold() -> None:
    assert fold("Sīstān va Balūchestān") == fold("Sistan and Baluchestan") == fold("Sistan–Baluchestan")
    assert fold("Cox's Bazar") == fold("Cox’s Bazar") == "cox bazar"
    assert fold("St. Louis") == "saint louis"
    assert fold("The Hague") == "hague"


NAMES = [
    ("Sistan and Baluchestan", "IR-11"),
    ("Khyber Pakhtunkhwa", "PK-KP"),
    ("Guayaquil", "EC-G"),
    ("Rotterdam", "NL-ZH"),
    ("Kandahar province", "AF-KAN"),
    ("Port Klang", "MY-10"),
    ("Gracias a Dios", "HN-GD"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(NAMES),
    case=st.sampled_from([str, str.upper, str.lower, str.title]),
    separator=st.sampled_from([" ", "-", "–", "  "]),
    prefix=st.sampled_from(["", "near ", "the ", "a warehouse in "]),
)
def test_folding_invariance(
    gaz: Gazetteer, name: tuple[str, str], case: Callable[[str], str], separator: str, prefix: str
) -> None:
    text, region = name
    if separator != " " and " a " in f" {text} ":  # "Gracias-a-Dios" is not how anyone writes it
        return
    variant = prefix + case(text.replace(" ", separator))
    place = gaz.resolve(variant)
    assert place is not None, variant
    assert place.region == region, variant


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=120), context=st.lists(st.sampled_from([*ISO3[:40], "", "x", "PAK"]), max_size=3))
def test_resolve_never_raises(gaz: Gazetteer, text: str, context: list[str]) -> None:
    place = gaz.resolve(text, context=context)
    if place is not None:
        assert place.iso3 is None or len(place.iso3) == 3
        assert place.precision in ("point", "region", "country", None)
        assert not place.ambiguous or len(place.candidates) > 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
