"""Drug words as written → canonical drug names and UNODC families."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:  # pragma: no cover
    pass

from ._text import _fold
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


# Tokens that qualify a drug without changing it ("pure", "tablets of", "2,400 kg").
_DRUG_FILLER = frozenset(
    """a an the of some pure raw crude refined processed high grade quality purity street
    illicit illegal smuggled seized contraband suspected counterfeit fake tablet pill capsule
    tab piece powder powdered liquid block brick slab packet package bag form hydrochloride
    hcl kg kilogram kilo gram tonne ton""".split()  # noqa: SIM905
)
# Words that make a phrase about something else than the drug itself.
_DRUG_BLOCK = frozenset(
    """seed user addict dealer trafficker smuggler lab laboratory factory kitchen money
    test treatment rehab withdrawal""".split()  # noqa: SIM905
)
_IRREGULAR_SINGULAR = {"leaves": "leaf", "bushes": "bush", "tranquillizers": "tranquilizer"}
_HEROIN_CRACK_COUNTRIES = frozenset({"IRN", "AFG"})  # "crack"/"kerack" = heroin product
_CRACK_WORDS = frozenset({"crack", "kerack", "kerak", "krack"})


def _singular(token: str) -> str:
    if token in _IRREGULAR_SINGULAR:
        return _IRREGULAR_SINGULAR[token]
    if len(token) <= 3 or token.endswith(("ss", "us", "is", "as")):
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith("s"):
        return token[:-1]
    return token


def _drug_lookup(phrase: str, country: str | None) -> Drug | None:
    from llm_extract.tasks.security_events.aliases.drugs import GROUP_WORDS, SYNONYMS

    in_crack_country = country in _HEROIN_CRACK_COUNTRIES
    if phrase in _CRACK_WORDS:
        if phrase == "crack" and not in_crack_country:
            return Drug(name=DrugName.COCAINE, group=DrugGroup.COCAINE)
        return Drug(name=DrugName.HEROIN, group=DrugGroup.OPIOIDS)
    if phrase == "crystal":
        if in_crack_country:
            return Drug(name=DrugName.UNSPECIFIED, group=DrugGroup.UNSPECIFIED, ambiguous=True)
        return Drug(name=DrugName.METHAMPHETAMINE, group=DrugGroup.ATS)
    if phrase in SYNONYMS:
        name = DrugName(SYNONYMS[phrase])
        return Drug(name=name, group=DRUG_GROUPS[name])
    if phrase in GROUP_WORDS:
        return Drug(name=DrugName.UNSPECIFIED, group=DrugGroup(GROUP_WORDS[phrase]))
    return None


def _drug_scan(tokens: list[str], country: str | None) -> Drug | None:
    """Longest-match scan: one drug among unknown adjectives ("Afghan heroin")."""
    found: list[Drug] = []
    i = 0
    while i < len(tokens):
        for n in range(min(4, len(tokens) - i), 0, -1):
            hit = _drug_lookup(" ".join(tokens[i : i + n]), country)
            if hit is not None:
                found.append(hit)
                i += n
                break
        else:
            i += 1
    specific = [d for d in found if d.name is not DrugName.UNSPECIFIED]
    if specific:
        # "crystal" next to a named drug is its form; a family word next to a
        # member of that family ("heroin opiate") adds nothing.
        found = specific
    distinct = set(found)
    return distinct.pop() if len(distinct) == 1 else None


def drug(name: str, country: str | None = None) -> Drug | None:
    """Normalise a drug word as written, in the context of a country.

    Case-, plural- and hyphen-insensitive; ignores qualifiers ("pure", "crude",
    "tablets of", "pills"). ``country`` (alpha-3 or any name :func:`country_code`
    knows) decides the regional words: in Iran and Afghanistan "crack"/"kerack"
    is a heroin product and "crystal" alone may be heroin or methamphetamine
    (``ambiguous=True``, name and group unspecified); elsewhere crack is cocaine
    and crystal is methamphetamine. Unknown words give ``None``.

    >>> drug("Captagon pills").name, drug("ecstasy tablets").group
    (<DrugName.AMPHETAMINE: 'amphetamine'>, <DrugGroup.ECSTASY: 'ecstasy'>)
    >>> drug("crack", "IRN").name, drug("crack", "COL").name
    (<DrugName.HEROIN: 'heroin'>, <DrugName.COCAINE: 'cocaine'>)
    >>> drug("crystal", "Iran").ambiguous
    True
    """
    if not isinstance(name, str):
        return None
    iso = None
    if isinstance(country, str) and country:
        iso = country if re.fullmatch(r"[A-Z]{3}", country) else country_code(country)
    return _drug_cached(name, iso)


@lru_cache(maxsize=4096)
def _drug_cached(name: str, iso: str | None) -> Drug | None:
    tokens = [tok for tok in re.split(r"[^a-z0-9]+", _fold(name)) if tok]
    if not tokens:
        return None
    singular = [_singular(tok) for tok in tokens]
    kept = [tok for tok in singular if tok not in _DRUG_FILLER and not tok.isdigit()]
    for candidate in (tokens, singular, kept):
        hit = _drug_lookup(" ".join(candidate), iso)
        if hit is not None:
            return hit
    if any(tok in _DRUG_BLOCK for tok in singular):
        return None
    return _drug_scan(kept, iso)


