"""Where a seizure happened: country, first-level region, coordinates and precision.

In order (the first that gives a country wins, and says so in `country_source`):

1. `place`: the gazetteer (`normalize.gazetteer`: GeoNames cities and pycountry's ISO 3166-2
   subdivisions), with the article's context to decide ambiguous names: the agency's
   country, the dateline's country, the countries the article names;
2. `agency`: the seizing agency's country ("the Brazilian Federal Police", "NDLEA");
3. `dateline`: the country of the article's dateline ("LAGOS (Reuters) -"): local news
   names the place of a seizure abroad, while a foreign country named in a local report is
   mostly the other side of a border, an origin or a partner;
4. `article`: for an article without a dateline, the only country named in the evidence
   sentence, when there is exactly one and it is not the origin, destination or the other
   side of a border ("with", "from", "bound for").

The origin or destination is never the place of a seizure: "heroin bound for Europe seized
in Karachi" happened in Pakistan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .normalize.gazetteer import Gazetteer, Place

__all__ = ["ArticlePlaces", "SeizurePlace", "dateline_place"]

Source = Literal["place", "agency", "article", "dateline"]

# "LAGOS (Reuters) -", "BAKU, March 4 –", "Kabul, Afghanistan (AP) —", "TEHRAN, Jan. 12 (IRNA) --"
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][^\n]{0,120}\n\s*)?(?P<place>[A-Z][A-Za-z\u00c0-\u024f.'\- ]{1,40}?(?:, [A-Z][A-Za-z.\- ]{2,30})?)"
    r"\s*(?:,\s|\(|\u2014\s|\u2013\s|--\s|-\s)"
)


#: words before a country that make it another place than the seizure's: the other side of a
#: border, the origin, the destination ("on the border with Turkey", "bound for Europe", "from Peru")
_ELSEWHERE = re.compile(
    r"\b(?:with|from|to|for|via|into|towards?|bound for|destined for|en route to|smuggled from|frontera con|"
    r"fronteira com|fronti[eè]re avec|border of|borders?)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SeizurePlace:
    country: str | None = None
    source: Source | None = None
    region: str | None = None
    region_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: Literal["point", "region", "country"] | None = None
    ambiguous: bool = False


@lru_cache(maxsize=1)
def _gazetteer() -> Gazetteer:
    from .normalize.gazetteer import Gazetteer

    return Gazetteer()


def dateline_place(text: str) -> Place | None:
    """The place of an article's dateline (its first line), if the gazetteer knows it."""
    m = _DATELINE.match(text[:300])
    if not m:
        return None
    name = m.group("place").strip(" ,")
    if len(name) < 3 or name.isdigit():
        return None
    place = _gazetteer().resolve(name)
    return place if place is not None and place.iso3 else None


class ArticlePlaces:
    """Resolves the seizures of one article, with the article's context."""

    def __init__(self, text: str, *, named_countries: list[str]) -> None:
        self.text = text
        dateline = dateline_place(text)
        self.dateline_country = dateline.iso3 if dateline else None
        self.named = [c for c in named_countries if c]

    def _context(self, agency_iso3: str | None) -> list[str]:
        order = [agency_iso3, self.dateline_country, *self.named]
        return list(dict.fromkeys(c for c in order if c))

    def resolve(
        self, *, place: str | None, agency: str | None, evidence: str, origin: str | None, destination: str | None
    ) -> SeizurePlace:
        from .normalize.agencies import agency_country

        agency_iso3 = agency_country(agency) if agency else None
        if place:
            found = _gazetteer().resolve(place, context=self._context(agency_iso3))
            if found is not None and found.iso3:
                return SeizurePlace(
                    country=found.iso3, source="place", region=found.region, region_name=found.region_name,
                    lat=found.lat, lon=found.lon, precision=found.precision, ambiguous=found.ambiguous,
                )  # fmt: skip
        if agency_iso3:
            return SeizurePlace(country=agency_iso3, source="agency", precision="country")
        if self.dateline_country:
            return SeizurePlace(country=self.dateline_country, source="dateline", precision="country")
        named = self._countries_in(evidence, exclude=(origin, destination))
        if len(named) == 1:
            return SeizurePlace(country=named[0], source="article", precision="country")
        return SeizurePlace()

    @staticmethod
    def _countries_in(sentence: str, *, exclude: tuple[str | None, ...]) -> list[str]:
        from .normalize import country_code

        skip = {code for text in exclude if text for code in [country_code(text)] if code}
        lowered = [e.casefold() for e in exclude if e]
        found: list[str] = []
        for m in re.finditer(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)?\b", sentence):
            word = m.group(0)
            if any(word.casefold() in e for e in lowered) or _ELSEWHERE.search(sentence[max(0, m.start() - 30) : m.start()]):
                continue
            code = country_code(word)
            if code and code not in skip and code not in found:
                found.append(code)
        return found
