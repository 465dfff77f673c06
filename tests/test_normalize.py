"""Tests for llm_extract.normalize: units, countries, drugs, dates, publication dates."""

from __future__ import annotations

import doctest
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from llm_extract.tasks.security_events import normalize
from llm_extract.tasks.security_events.aliases.countries import ABBREVIATIONS, DEMONYMS, NAME_ALIASES
from llm_extract.tasks.security_events.aliases.drugs import GROUP_WORDS, SYNONYMS
from llm_extract.tasks.security_events.aliases.places import PLACES
from llm_extract.tasks.security_events.normalize import (
    DRUG_GROUPS,
    Drug,
    DrugGroup,
    DrugName,
    PartialDate,
    country_code,
    country_of_place,
    drug,
    published_date,
    resolve_date,
    to_kg,
    to_litres,
    unit_kind,
)

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "fixtures" / "articles"

# Deterministic property tests: same examples on every run, no timing flakiness.
PROPERTY = settings(derandomize=True, deadline=None, max_examples=150)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31))


def test_module_doctests_pass() -> None:
    from llm_extract.tasks.security_events.normalize import countries, dates, drugs, units

    attempted = 0
    for module in (normalize, units, countries, drugs, dates):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0
        attempted += result.attempted
    assert attempted > 10


def test_import_is_lazy() -> None:
    """Importing the module must not load pint, pycountry, dateparser or the alias tables."""
    code = (
        "import sys, llm_extract.normalize as n; "
        "heavy = [m for m in ('pint', 'pycountry', 'dateparser', 'llm_extract.tasks.security_events.aliases.countries') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert out.stdout.strip() == "[]"


def test_public_api_is_declared() -> None:
    for name in normalize.__all__:
        assert hasattr(normalize, name), name


# --------------------------------------------------------------------------- units

KG = {
    "kg": 1.0, "Kg.": 1.0, "KG": 1.0, "kgs": 1.0, " kg ": 1.0, "kilogram": 1.0,
    "kilograms": 1.0, "Kilogrammes": 1.0, "kilo": 1.0, "kilos": 1.0,
    "g": 0.001, "gram": 0.001, "grams": 0.001, "grammes": 0.001, "mg": 1e-6,
    "milligrams": 1e-6, "t": 1000.0, "tonne": 1000.0, "tonnes": 1000.0,
    "metric ton": 1000.0, "metric tons": 1000.0, "Metric Tonnes": 1000.0,
    "ton": 1000.0, "tons": 1000.0, "Tons.": 1000.0,
    "short ton": 907.18474, "short tons": 907.18474, "long ton": 1016.0469088,
    "long tons": 1016.0469088, "lb": 0.45359237, "lbs": 0.45359237, "pound": 0.45359237,
    "Pounds": 0.45359237, "oz": 0.028349523125, "ounces": 0.028349523125,
}  # fmt: skip


@pytest.mark.parametrize(("unit", "kg"), KG.items())
def test_to_kg(unit: str, kg: float) -> None:
    assert to_kg(1, unit) == pytest.approx(kg, rel=1e-9)
    assert unit_kind(unit) == "mass"


def test_ton_is_the_metric_tonne_not_pints_short_ton() -> None:
    assert to_kg(2.4, "tons") == pytest.approx(2400.0)
    assert to_kg(2.4, "ton") != pytest.approx(2.4 * 907.18474)
    assert to_kg(1, "short ton") == pytest.approx(907.18474)


@pytest.mark.parametrize(
    "unit", ["tablets", "Tablet", "pills", "capsules", "pieces", "doses", "plants", "bottles", "packets"]
)
def test_counts_are_never_kg(unit: str) -> None:
    assert unit_kind(unit) == "count"
    assert to_kg(3000, unit) is None
    assert to_litres(3000, unit) is None


@pytest.mark.parametrize("unit", ["litres", "liters", "l", "L", "ml", "gallons", "fl oz"])
def test_volumes_are_never_kg(unit: str) -> None:
    assert unit_kind(unit) == "volume"
    assert to_kg(5, unit) is None


@pytest.mark.parametrize(
    ("value", "unit", "litres"),
    [(1, "litre", 1.0), (2, "Liters", 2.0), (250, "ml", 0.25), (1, "gallon", 3.785411784),
     (1, "imperial gallon", 4.54609), (3, "l.", 3.0), (1, "cubic metre", 1000.0)],
)  # fmt: skip
def test_to_litres(value: float, unit: str, litres: float) -> None:
    assert to_litres(value, unit) == pytest.approx(litres)


@pytest.mark.parametrize("unit", ["furlongs", "", "  ", "bales?", "kg kg", "units of"])
def test_unknown_units(unit: str) -> None:
    assert to_kg(1, unit) is None
    assert to_litres(1, unit) is None


def test_mass_is_not_litres_and_non_finite_values_are_refused() -> None:
    assert to_litres(1, "kg") is None
    assert to_kg(float("nan"), "kg") is None
    assert to_kg(float("inf"), "kg") is None


MASS_UNITS = ["kg", "kilogram", "gram", "mg", "tonne", "ton", "metric ton", "short ton", "lb", "ounce"]


@PROPERTY
@given(
    value=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    factor=st.floats(min_value=0, max_value=1e3, allow_nan=False),
    unit=st.sampled_from(MASS_UNITS),
)
def test_to_kg_is_linear(value: float, factor: float, unit: str) -> None:
    base = to_kg(value, unit)
    scaled = to_kg(value * factor, unit)
    assert base is not None and scaled is not None
    assert scaled == pytest.approx(base * factor, rel=1e-9, abs=1e-12)


@PROPERTY
@given(
    value=st.floats(min_value=0.001, max_value=1e6),
    unit=st.sampled_from(MASS_UNITS),
    flips=st.lists(st.booleans(), min_size=12, max_size=12),
    plural=st.booleans(),
)
def test_to_kg_ignores_case_and_plural(value: float, unit: str, flips: list[bool], plural: bool) -> None:
    varied = "".join(ch.upper() if flip else ch for ch, flip in zip(unit, flips + [False] * 20, strict=False))
    if plural:
        varied += "s"
    assert to_kg(value, varied) == to_kg(value, unit)


@PROPERTY
@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(["tablets", "pills", "litres"]),
)
def test_no_value_makes_counts_or_volumes_into_kg(value: float, unit: str) -> None:
    assert to_kg(value, unit) is None


# --------------------------------------------------------------------------- countries

COUNTRIES = {
    "Iran": "IRN", "Islamic Republic of Iran": "IRN", "IRI": "IRN", "Iranian": "IRN",
    "Russia": "RUS", "Russian Federation": "RUS", "Russian": "RUS", "Federation of Russia": "RUS",
    "Kyrgyzstan": "KGZ", "Kyrgyz Republic": "KGZ", "Kyrgyz": "KGZ",
    "Turkey": "TUR", "Türkiye": "TUR", "Turkiye": "TUR", "Turkish": "TUR",
    "Iraq": "IRQ", "Iraqi": "IRQ", "Afghanistan": "AFG", "Afghan": "AFG", "Pakistan": "PAK",
    "US": "USA", "U.S.": "USA", "USA": "USA", "United States": "USA", "American": "USA",
    "UK": "GBR", "U.K.": "GBR", "Britain": "GBR", "British": "GBR",
    "UAE": "ARE", "Emirati": "ARE", "Saudi Arabia": "SAU", "Saudi": "SAU",
    "Syria": "SYR", "Syrian": "SYR", "Yemen": "YEM", "Israel": "ISR", "Azerbaijan": "AZE",
    "Armenia": "ARM", "Tajikistan": "TJK", "Turkmenistan": "TKM", "Uzbekistan": "UZB",
    "Kazakhstan": "KAZ", "China": "CHN", "India": "IND", "Oman": "OMN", "Qatar": "QAT",
    "Germany": "DEU", "France": "FRA",
    # tolerance
    "the United States": "USA", "  the   Islamic Republic of  Iran ": "IRN", "IRAN": "IRN",
    "iran": "IRN", "Iran's": "IRN", "the Netherlands": "NLD", "Côte d’Ivoire": "CIV",
    "Ivory Coast": "CIV", "St. Lucia": "LCA", "South Korea": "KOR", "Iranians": "IRN",
    "IRN": "IRN", "CAN": "CAN",
}  # fmt: skip


@pytest.mark.parametrize(("name", "code"), COUNTRIES.items())
def test_country_code(name: str, code: str) -> None:
    assert country_code(name) == code


def test_pycountry_misses_what_our_table_covers() -> None:
    """The trap: pycountry's exact lookup knows neither "Turkey" nor "Iranian"."""
    for name in ("Turkey", "Iranian"):
        with pytest.raises(LookupError):
            pycountry.countries.lookup(name)
    assert country_code("Turkey") == "TUR"
    assert country_code("Iranian") == "IRN"


@pytest.mark.parametrize(
    "name",
    ["NATO", "UNODC", "SCO", "ECO", "EU", "UN", "Europe", "West Asia", "Middle East", "Tehran",
     "Moscow", "Sistan-Baluchestan", "Sistan–Baluchestan Province", "", "   ", "the",
     "us", "can", "in", "Korea", "Interpol", "Asia"],
)  # fmt: skip
def test_country_code_refuses_organisations_regions_cities_and_words(name: str) -> None:
    assert country_code(name) is None


def test_every_pycountry_name_resolves_to_its_own_code() -> None:
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                assert country_code(value) == country.alpha_3, (attr, value)


def test_alias_tables_point_at_real_codes() -> None:
    known = {c.alpha_3 for c in pycountry.countries} | {"XKX"}
    for table in (NAME_ALIASES, DEMONYMS, ABBREVIATIONS, PLACES):
        assert set(table.values()) <= known
    for alias, code in {**NAME_ALIASES, **DEMONYMS}.items():
        assert country_code(alias) == code, alias


COUNTRY_WORDS = sorted({*NAME_ALIASES, *DEMONYMS, *(c.name for c in pycountry.countries)})


@PROPERTY
@given(name=st.sampled_from(COUNTRY_WORDS), flips=st.lists(st.booleans(), min_size=60, max_size=60))
def test_country_code_is_case_insensitive(name: str, flips: list[bool]) -> None:
    varied = "".join(
        ch.upper() if flip else ch.lower() for ch, flip in zip(name, flips + [False] * 60, strict=False)
    )
    expected = country_code(name)
    assert expected is not None
    assert country_code(varied) == expected
    assert country_code(name.upper()) == expected
    assert country_code(f"  the {name.lower()} ") == expected


@pytest.mark.parametrize(
    ("place", "code"),
    [("Sistan–Baluchestan Province", "IRN"), ("Sistan and Baluchestan", "IRN"),
     ("Sistan-Baluchistan province, southeast Iran", "IRN"), ("Baghdad, Iraq", "IRQ"),
     ("Tehran", "IRN"), ("Moscow", "RUS"), ("Bishkek", "KGZ"), ("Dubai, UAE", "ARE"),
     ("the Iranian port of Chabahar", "IRN"), ("Zahedan", "IRN"), ("Quetta, Balochistan", "PAK"),
     ("Iraq", "IRQ"), ("Herat province", "AFG"), ("eastern Iran", "IRN"),
     ("Istanbul, Türkiye", "TUR"), ("Mazar-i-Sharif", "AFG")],
)  # fmt: skip
def test_country_of_place(place: str, code: str) -> None:
    assert country_of_place(place) == code


@pytest.mark.parametrize(
    "place", ["Iran-Pakistan border", "Europe", "West Asia", "somewhere at sea", "", "Tehran and Kabul"]
)
def test_country_of_place_refuses_unknown_or_two_countries(place: str) -> None:
    assert country_of_place(place) is None


# --------------------------------------------------------------------------- drugs

_D = DrugName
DRUGS = {
    "crystal meth": _D.METHAMPHETAMINE, "meth": _D.METHAMPHETAMINE, "ice": _D.METHAMPHETAMINE,
    "shisheh": _D.METHAMPHETAMINE, "Shishe": _D.METHAMPHETAMINE, "shabu": _D.METHAMPHETAMINE,
    "yaba": _D.METHAMPHETAMINE, "methamphetamine hydrochloride": _D.METHAMPHETAMINE,
    "Methamphetamine": _D.METHAMPHETAMINE, "captagon": _D.AMPHETAMINE,
    "captagon pills": _D.AMPHETAMINE, "tablets of captagon": _D.AMPHETAMINE,
    "ecstasy": _D.MDMA, "ecstasy tablets": _D.MDMA, "XTC": _D.MDMA, "molly": _D.MDMA,
    "hashish": _D.CANNABIS_RESIN, "hash": _D.CANNABIS_RESIN, "charas": _D.CANNABIS_RESIN,
    "marijuana": _D.CANNABIS_HERB, "ganja": _D.CANNABIS_HERB, "weed": _D.CANNABIS_HERB,
    "cannabis": _D.CANNABIS_HERB, "cannabis plants": _D.CANNABIS_PLANTS,
    "taryak": _D.OPIUM, "teriak": _D.OPIUM, "raw opium": _D.OPIUM, "crude opium": _D.OPIUM,
    "koknar": _D.POPPY_STRAW, "poppy straw": _D.POPPY_STRAW, "poppy husk": _D.POPPY_STRAW,
    "poppy husks": _D.POPPY_STRAW, "pure heroin": _D.HEROIN, "Heroin": _D.HEROIN,
    "narcotics": _D.UNSPECIFIED, "illicit drugs": _D.UNSPECIFIED, "drugs": _D.UNSPECIFIED,
    "narcotic drugs": _D.UNSPECIFIED, "morphine": _D.MORPHINE, "tramadol pills": _D.TRAMADOL,
    "fentanyl": _D.FENTANYL, "methadone": _D.METHADONE, "codeine": _D.CODEINE,
    "cocaine": _D.COCAINE, "coca paste": _D.COCA_PASTE, "coca leaves": _D.COCA_LEAF,
    "hash oil": _D.CANNABIS_OIL, "ketamine": _D.KETAMINE, "spice": _D.SYNTHETIC_CANNABINOIDS,
    "synthetic cannabinoids": _D.SYNTHETIC_CANNABINOIDS, "mephedrone": _D.CATHINONES,
    "LSD": _D.LSD, "benzodiazepines": _D.BENZODIAZEPINES, "ephedrine": _D.EPHEDRINE,
    "pseudoephedrine": _D.PSEUDOEPHEDRINE, "acetic anhydride": _D.ACETIC_ANHYDRIDE,
    "amphetamines": _D.AMPHETAMINE, "2,400 kg of methamphetamine": _D.METHAMPHETAMINE,
    "Afghan heroin": _D.HEROIN, "crack cocaine": _D.COCAINE,
}  # fmt: skip


@pytest.mark.parametrize(("word", "name"), DRUGS.items())
def test_drug_names(word: str, name: DrugName) -> None:
    result = drug(word)
    assert result is not None
    assert result.name is name
    assert result.group is DRUG_GROUPS[name]
    assert result.ambiguous is False


@pytest.mark.parametrize(
    ("name", "group"),
    [(_D.MDMA, DrugGroup.ECSTASY), (_D.METHAMPHETAMINE, DrugGroup.ATS), (_D.AMPHETAMINE, DrugGroup.ATS),
     (_D.KETAMINE, DrugGroup.NPS), (_D.BENZODIAZEPINES, DrugGroup.SEDATIVES),
     (_D.EPHEDRINE, DrugGroup.PRECURSORS), (_D.PSEUDOEPHEDRINE, DrugGroup.PRECURSORS),
     (_D.ACETIC_ANHYDRIDE, DrugGroup.PRECURSORS), (_D.SYNTHETIC_CANNABINOIDS, DrugGroup.NPS),
     (_D.CATHINONES, DrugGroup.NPS), (_D.HEROIN, DrugGroup.OPIOIDS), (_D.LSD, DrugGroup.HALLUCINOGENS),
     (_D.COCA_PASTE, DrugGroup.COCAINE), (_D.CANNABIS_RESIN, DrugGroup.CANNABIS),
     (_D.UNSPECIFIED, DrugGroup.UNSPECIFIED)],
)  # fmt: skip
def test_drug_groups(name: DrugName, group: DrugGroup) -> None:
    assert DRUG_GROUPS[name] is group


def test_every_drug_name_has_a_group_and_every_table_entry_resolves() -> None:
    assert set(DRUG_GROUPS) == set(DrugName)
    for word, name in SYNONYMS.items():
        result = drug(word, country="DEU")
        assert result is not None and result.name == name, word
    for word, group in GROUP_WORDS.items():
        result = drug(word)
        assert result == Drug(name=DrugName.UNSPECIFIED, group=DrugGroup(group)), word


@pytest.mark.parametrize("country", ["IRN", "AFG", "Iran", "Afghanistan", "Iranian"])
def test_crack_is_heroin_in_iran_and_afghanistan(country: str) -> None:
    assert drug("crack", country) == Drug(name=DrugName.HEROIN, group=DrugGroup.OPIOIDS)
    assert drug("Kerack", country) == Drug(name=DrugName.HEROIN, group=DrugGroup.OPIOIDS)
    assert drug("crack cocaine", country) == drug("cocaine")  # said explicitly


@pytest.mark.parametrize("country", [None, "COL", "USA", "TUR", "Brazil"])
def test_crack_is_cocaine_elsewhere(country: str | None) -> None:
    assert drug("crack", country) == Drug(name=DrugName.COCAINE, group=DrugGroup.COCAINE)


@pytest.mark.parametrize("country", ["IRN", "AFG"])
def test_crystal_is_ambiguous_in_iran_and_afghanistan(country: str) -> None:
    result = drug("crystal", country)
    assert result == Drug(name=DrugName.UNSPECIFIED, group=DrugGroup.UNSPECIFIED, ambiguous=True)
    assert drug("Crystals", country) == result
    meth = Drug(name=DrugName.METHAMPHETAMINE, group=DrugGroup.ATS)
    assert drug("crystal meth", country) == meth  # said explicitly
    assert drug("methamphetamine crystals", country) == meth


@pytest.mark.parametrize("country", [None, "TUR", "PHL"])
def test_crystal_is_methamphetamine_elsewhere(country: str | None) -> None:
    result = drug("crystal", country)
    assert result is not None and result.name is DrugName.METHAMPHETAMINE and not result.ambiguous


@pytest.mark.parametrize(
    "word",
    ["", "  ", "foo", "tablets", "pills", "heroin and opium", "cannabis seeds", "drug money", "police"],
)
def test_unknown_or_mixed_drug_words_give_none(word: str) -> None:
    assert drug(word) is None


def test_drug_model_is_frozen_and_consistent() -> None:
    heroin = Drug(name="heroin", group="opioids")
    assert heroin.ambiguous is False
    with pytest.raises(ValidationError):
        heroin.name = DrugName.OPIUM  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Drug(name="heroin", group="cannabis")
    with pytest.raises(ValidationError):
        Drug(name="speedball", group="opioids")
    assert Drug(name="unspecified", group="opioids").group is DrugGroup.OPIOIDS


DRUG_WORDS = ["heroin", "opium", "methamphetamine", "amphetamine", "cocaine", "tramadol",
              "ketamine", "narcotic", "drug", "hashish", "captagon", "ecstasy", "morphine"]  # fmt: skip


@PROPERTY
@given(
    word=st.sampled_from(DRUG_WORDS),
    adjective=st.sampled_from(["", "pure ", "raw ", "crude ", "Pure ", "high-quality "]),
    suffix=st.sampled_from(["", "s", " pills", " tablets"]),
    upper=st.booleans(),
    country=st.sampled_from([None, "IRN", "TUR"]),
)
def test_drug_ignores_case_plural_and_qualifiers(
    word: str, adjective: str, suffix: str, upper: bool, country: str | None
) -> None:
    text = f"{adjective}{word}{suffix}"
    if upper:
        text = text.upper()
    assert drug(text, country) == drug(word, country)
    assert drug(word, country) is not None


# --------------------------------------------------------------------------- dates

RESOLVED = [
    ("yesterday", date(2023, 6, 30), "2023-06-29", "day"),
    ("today", date(2023, 6, 30), "2023-06-30", "day"),
    ("on Sunday", date(2025, 1, 12), "2025-01-12", "day"),  # 2025-01-12 is a Sunday
    ("Sunday", date(2025, 1, 12), "2025-01-12", "day"),
    ("on Tuesday", date(2017, 12, 20), "2017-12-19", "day"),  # 2017-12-20 is a Wednesday
    ("on Wednesday", date(2017, 12, 20), "2017-12-20", "day"),
    ("Tuesday", date(2023, 6, 30), "2023-06-27", "day"),  # 2023-06-30 is a Friday
    ("Thursday", date(2023, 6, 30), "2023-06-29", "day"),
    ("on Thursday evening", date(2023, 6, 30), "2023-06-29", "day"),
    ("last Monday", date(2023, 6, 30), "2023-06-26", "day"),
    ("on Saturday", date(2023, 6, 30), "2023-06-24", "day"),
    ("earlier this month", date(2023, 6, 30), "2023-06", "month"),
    ("this month", date(2023, 6, 30), "2023-06", "month"),
    ("last month", date(2023, 6, 30), "2023-05", "month"),
    ("last month", date(2023, 1, 5), "2022-12", "month"),
    ("this year", date(2023, 6, 30), "2023", "year"),
    ("earlier this year", date(2023, 6, 30), "2023", "year"),
    ("last year", date(2023, 6, 30), "2022", "year"),
    ("last week", date(2025, 1, 12), "2025-W01", "week"),
    ("three days ago", date(2023, 6, 30), "2023-06-27", "day"),
    ("In June 2011", None, "2011-06", "month"),
    ("June 2011", date(2012, 3, 1), "2011-06", "month"),
    ("Sept. 10, 2024", None, "2024-09-10", "day"),
    ("Sep 10, 2024", None, "2024-09-10", "day"),
    ("10 September 2024", None, "2024-09-10", "day"),
    ("on 10 September 2024", date(2025, 1, 12), "2024-09-10", "day"),
    ("Tuesday, September 10, 2024", None, "2024-09-10", "day"),
    ("September 10", date(2025, 1, 12), "2024-09-10", "day"),
    ("September 10", date(2024, 9, 10), "2024-09-10", "day"),
    ("September 10", date(2024, 9, 9), "2023-09-10", "day"),
    ("Dec. 20", date(2017, 12, 20), "2017-12-20", "day"),
    ("December 21", date(2017, 12, 20), "2016-12-21", "day"),
    ("December 2010", None, "2010-12", "month"),
    ("in December", date(2017, 12, 20), "2017-12", "month"),
    ("in January", date(2017, 12, 20), "2017-01", "month"),
    ("in June", date(2017, 3, 1), "2016-06", "month"),
    ("in 2016", None, "2016", "year"),
    ("2016", date(2019, 9, 13), "2016", "year"),
    ("early 2016", None, "2016", "year"),
    ("2023-06-30", None, "2023-06-30", "day"),
    ("10-Sep-2024", None, "2024-09-10", "day"),  # via the dateparser fallback
]


@pytest.mark.parametrize(("expression", "published", "iso", "precision"), RESOLVED)
def test_resolve_date(expression: str, published: date | None, iso: str, precision: str) -> None:
    result = resolve_date(expression, published)
    assert result is not None
    assert (result.iso(), result.precision) == (iso, precision)


@pytest.mark.parametrize(
    "expression",
    ["yesterday", "today", "on Monday", "Monday", "last Monday", "this month", "earlier this month",
     "last month", "this year", "last year", "last week", "September 10", "Dec. 20", "in June",
     "three days ago"],
)  # fmt: skip
def test_relative_without_published_is_none(expression: str) -> None:
    assert resolve_date(expression, None) is None


@pytest.mark.parametrize(
    "expression",
    ["", "   ", "garbage", "the filed of security", "1234", "February 30, 2024", "13/13/2024",
     "10/09/2024", "Monday or Tuesday", "June 2011 and December 2010", "x" * 200],
)  # fmt: skip
def test_garbage_gives_none(expression: str) -> None:
    assert resolve_date(expression, date(2023, 6, 30)) is None


def test_missing_parts_are_never_filled_from_the_publication_date() -> None:
    published = date(2023, 6, 30)
    assert resolve_date("in 2016", published) == PartialDate(year=2016, precision="year")
    assert resolve_date("June 2011", published) == PartialDate(year=2011, month=6, precision="month")
    assert resolve_date("this month", published).day is None  # type: ignore[union-attr]


def test_coarse_published_date_resolves_only_what_it_can() -> None:
    year_only = PartialDate(year=2012, precision="year")  # seed 000: "Copyright © ANTARA 2012"
    assert resolve_date("this year", year_only) == PartialDate(year=2012, precision="year")
    assert resolve_date("last year", year_only) == PartialDate(year=2011, precision="year")
    assert resolve_date("on Monday", year_only) is None
    assert resolve_date("last month", year_only) is None
    assert resolve_date("December 2010", year_only) == PartialDate(year=2010, month=12, precision="month")
    day = PartialDate(year=2025, month=1, day=12, precision="day")
    assert resolve_date("on Sunday", day) == PartialDate.of(date(2025, 1, 12))


@PROPERTY
@given(published=DATES, weekday=st.integers(0, 6), prefix=st.sampled_from(["", "on ", "last ", "On "]))
def test_weekday_is_latest_on_or_before_published(published: date, weekday: int, prefix: str) -> None:
    result = resolve_date(prefix + WEEKDAYS[weekday], published)
    assert result is not None and result.precision == "day"
    day = result.as_date()
    assert published - timedelta(days=6) <= day <= published
    assert day.weekday() == weekday


PAST_RELATIVE = ["yesterday", "today", "this month", "earlier this month", "last month", "this year",
                 "last year", "this week", "last week", "two days ago", "a week ago", "3 months ago",
                 "a year ago", "last night"] + [f"on {d}" for d in WEEKDAYS]  # fmt: skip


@PROPERTY
@given(published=DATES, expression=st.sampled_from(PAST_RELATIVE))
def test_past_relative_never_after_published(published: date, expression: str) -> None:
    result = resolve_date(expression, published)
    assert result is not None
    assert result.as_date() <= published


@PROPERTY
@given(published=DATES, day=DATES, fmt=st.sampled_from(["%B %d", "%b %d", "%d %B", "%b. %d"]))
def test_month_day_without_year_is_within_a_year_before_published(
    published: date, day: date, fmt: str
) -> None:
    if (day.month, day.day) == (2, 29):
        day = day - timedelta(days=1)
    result = resolve_date(day.strftime(fmt), published)
    assert result is not None and result.precision == "day"
    resolved = result.as_date()
    assert published - timedelta(days=366) < resolved <= published
    assert (resolved.month, resolved.day) == (day.month, day.day)


@PROPERTY
@given(
    day=DATES,
    fmt=st.sampled_from(["%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%b. %d, %Y", "%A, %B %d, %Y"]),
    published=st.none() | DATES,
)
def test_absolute_dates_ignore_published(day: date, fmt: str, published: date | None) -> None:
    result = resolve_date(day.strftime(fmt), published)
    assert result == PartialDate.of(day)


@PROPERTY
@given(day=DATES, precision=st.sampled_from(["year", "month", "week", "day"]))
def test_partial_date_iso_round_trips(day: date, precision: str) -> None:
    partial = PartialDate.of(day, precision)  # type: ignore[arg-type]
    assert PartialDate.from_iso(partial.iso()) == partial
    assert partial.as_date() <= day <= partial.last_date()


def test_partial_date_formats_and_validation() -> None:
    assert PartialDate(year=2012, precision="year").iso() == "2012"
    assert PartialDate(year=2011, month=6, precision="month").iso() == "2011-06"
    assert PartialDate(year=2023, month=6, day=30, precision="day").iso() == "2023-06-30"
    assert PartialDate(year=2011, month=6, precision="month").as_date() == date(2011, 6, 1)
    assert PartialDate(year=2024, month=2, precision="month").last_date() == date(2024, 2, 29)
    assert PartialDate.of(date(2024, 12, 31), "week").iso() == "2025-W01"
    for bad in (
        {"year": 2012, "month": 6, "precision": "year"},
        {"year": 2012, "precision": "month"},
        {"year": 2023, "month": 2, "day": 30, "precision": "day"},
        {"year": 2023, "month": 13, "precision": "month"},
        {"year": 2025, "month": 1, "day": 12, "precision": "week"},  # a Sunday, not a Monday
    ):
        with pytest.raises(ValidationError):
            PartialDate(**bad)
    with pytest.raises(ValueError):
        PartialDate.from_iso("June 2011")
    with pytest.raises(ValidationError):
        PartialDate(year=2012, precision="year").year = 2013  # type: ignore[misc]


# --------------------------------------------------------------------------- publication date

SEEDS = {
    "000": PartialDate(year=2012, precision="year"),
    "001": PartialDate(year=2023, month=6, day=30, precision="day"),
    "002": PartialDate(year=2019, month=9, day=13, precision="day"),
    "003": PartialDate(year=2025, month=1, day=12, precision="day"),
    "004": PartialDate(year=2017, month=12, day=20, precision="day"),
}


@pytest.mark.parametrize(("prefix", "expected"), SEEDS.items())
def test_published_date_of_the_seeds(prefix: str, expected: PartialDate) -> None:
    (path,) = ARTICLES.glob(f"{prefix}_*.txt")
    assert published_date(path.read_text(encoding="utf-8")) == expected


def test_seed_weekdays_resolve_against_their_published_dates() -> None:
    text = {p.name[:3]: p.read_text(encoding="utf-8") for p in ARTICLES.glob("*.txt")}
    assert resolve_date("on Sunday", published_date(text["003"])).iso() == "2025-01-12"  # type: ignore[union-attr]
    assert resolve_date("on Tuesday", published_date(text["004"])).iso() == "2017-12-19"  # type: ignore[union-attr]
    assert resolve_date("on Monday", published_date(text["000"])) is None  # year precision only


def test_dateline_without_year_takes_the_year_from_the_header() -> None:
    text = "Iran, Turkey to cooperate\n\nTEHRAN, Dec. 20 (MNA) – The deputy minister...\nNews ID 2017 \n"
    assert published_date(text) == PartialDate(year=2017, month=12, day=20, precision="day")
    irna = "Iran seeking peace\n\nTehran, Sept 13, IRNA – Iran's minister, in 2019, said ..."
    assert published_date(irna) == PartialDate(year=2019, month=9, day=13, precision="day")


def test_published_date_looks_only_at_header_and_footer() -> None:
    body = "Iran and Russia agreed to sign new MoUs. " * 30  # > 600 characters
    assert published_date(body + "It was signed on Sep 13, 2019." + body) is None
    assert published_date("TEHRAN, Dec. 20 (MNA) – no year here.\n" + body) is None
    assert published_date("Copyright © ANTARA 2012\n" + body) is None  # not in the last 400 chars
    assert published_date(body + "\nCopyright © ANTARA 2012") == PartialDate(year=2012, precision="year")
    assert published_date(body + "\n© 2005-2019 IRNA") == PartialDate(year=2019, precision="year")
    assert published_date("2019-09-13T09:57:00Z IRNA " + body) == PartialDate.of(date(2019, 9, 13))
    assert published_date("") is None


def test_header_date_wins_over_copyright_and_invalid_dates_are_skipped() -> None:
    text = "Feb 30, 2019 typo\nDec 20, 2017, 11:24 AM\n" + "text " * 200 + "Copyright 2024"
    assert published_date(text) == PartialDate.of(date(2017, 12, 20))
