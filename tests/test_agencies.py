"""Agency strings → the agency's country: the agencies table, then a country named in the string."""

from __future__ import annotations

import collections

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_extract.tasks.security_events.normalize.agencies import agency_country, agency_records

KINDS = {"police", "customs", "navy", "coast_guard", "gendarmerie", "anti_narcotics", "military", "other"}


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        # a country or demonym in the string
        ("the Brazilian Federal Police", "BRA"),
        ("Dutch customs", "NLD"),
        ("Nigeria's NDLEA", "NGA"),
        ("Pakistan Coast Guards", "PAK"),
        ("the Royal Thai Navy", "THA"),
        ("U.S. Coast Guard", "USA"),
        ("Iranian police", "IRN"),
        ("the Spanish Policía Nacional", "ESP"),  # an ambiguous name settled by the demonym
        ("Indian Navy", "IND"),
        # the table: full names and acronyms
        ("NDLEA", "NGA"),
        ("National Drug Law Enforcement Agency", "NGA"),
        ("NCB", "IND"),
        ("DNC Bangladesh", "BGD"),
        ("Department of Narcotics Control", "BGD"),
        ("ANF", "PAK"),
        ("DEA", "USA"),
        ("CBP", "USA"),
        ("the Drug Enforcement Administration (DEA)", "USA"),
        ("Guardia Civil", "ESP"),
        ("la Guardia Civil", "ESP"),
        ("Policía Nacional de Colombia", "COL"),
        ("Polícia Federal", "BRA"),  # Portuguese spelling
        ("Policía Federal", "ARG"),  # Spanish spelling
        ("PDEA", "PHL"),
        ("ONCB", "THA"),
        ("BNN", "IDN"),
        ("AADK", "MYS"),
        ("GdF", "ITA"),
        ("Guardia di Finanza", "ITA"),
        ("Carabinieri", "ITA"),
        ("OFAST", "FRA"),
        ("Border Force", "GBR"),
        ("Australian Border Force", "AUS"),
        ("NCA", "GBR"),
        ("Australian Federal Police", "AUS"),
        ("Australian Federal Police (AFP)", "AUS"),
        ("RCMP", "CAN"),
        ("CBSA", "CAN"),
        ("SEDENA", "MEX"),
        ("SEMAR", "MEX"),
        ("FELCN", "BOL"),
        ("DIRANDRO", "PER"),
        ("ANGA", "EGY"),
        ("FARAJA", "IRN"),
        ("Anti-Narcotics Police", "IRN"),
        ("Gendarmerie nationale sénégalaise", "SEN"),
        ("KMar", "NLD"),
        ("Mossos d'Esquadra", "ESP"),
        ("JIATF-South", "USA"),
        ("the Hawks", "ZAF"),
        ("Royal Malaysian Customs Department", "MYS"),
        ("DEA and CBP agents", "USA"),
        ("the DEA office in Bogotá", "USA"),  # the table beats a place named in passing
    ],
)
def test_agency_country(text: str, iso3: str) -> None:
    assert agency_country(text) == iso3


@pytest.mark.parametrize(
    "text",
    [
        # generic: used in many countries
        "Customs",
        "customs officers",
        "Coast Guard",
        "the Navy",
        "Anti-Narcotics Force",
        "Federal Police",
        "National Police",
        "Douane",
        # the table gives these to several countries
        "Policía Nacional",
        "Gendarmerie nationale",
        "PNP",  # Peru and the Philippines
        "AFP",  # the Australian Federal Police and the Armed Forces of the Philippines
        "Polícia Judiciária",  # Portugal, Cape Verde, Guinea-Bissau
        "DGSN",  # Morocco and Algeria
        # not an agency party
        "AFP news agency",
        "Agence France-Presse",
        # several countries, or none
        "US-Mexican task force",
        "DEA and NCB",
        "New Mexico State Police",
        "UNODC",
        "Interpol",
        "",
        "   ",
        # acronyms count only as written
        "ice",
        "dea",
    ],
)
def test_no_country(text: str) -> None:
    assert agency_country(text) is None


def test_the_table() -> None:
    records = agency_records()
    assert len(records) >= 150
    countries = collections.Counter(r["iso3"] for r in records)
    assert len(countries) >= 60
    for record in records:
        assert pycountry.countries.get(alpha_3=record["iso3"]) is not None, record
        assert record["kind"] in KINDS, record
        assert record["name"].strip() and all(alias.strip() for alias in record["aliases"]), record
    names = collections.Counter((r["iso3"], r["name"]) for r in records)
    assert max(names.values()) == 1
    kinds = collections.Counter(r["kind"] for r in records)
    assert set(kinds) == KINDS


def test_every_unambiguous_name_resolves_to_its_country() -> None:
    owners: dict[str, set[str]] = collections.defaultdict(set)
    for record in agency_records():
        for name in (record["name"], *record["aliases"]):
            owners[name.casefold()].add(record["iso3"])
    for record in agency_records():
        if len(owners[record["name"].casefold()]) == 1:
            assert agency_country(record["name"]) == record["iso3"], record["name"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=100))
def test_never_raises(text: str) -> None:
    iso3 = agency_country(text)
    assert iso3 is None or len(iso3) == 3
