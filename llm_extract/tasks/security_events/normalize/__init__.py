"""Deterministic normalisation of what the model wrote: masses, countries, drugs, dates.

Every function here is pure (same input, same output, no I/O, no clock): the
model fills strings as written ("2,400 kg", "Iranian", "shisheh", "on Sunday"),
and this module turns them into kilograms, ISO 3166-1 alpha-3 codes, UNODC drug
families and dates with an explicit precision. Anything it cannot decide safely
gives ``None`` (or an ``ambiguous`` flag) rather than a guess.

Libraries and where we hand-roll instead
----------------------------------------
* **pint** converts units. Unit *words* are mapped by our own table first,
  because pint's ``ton`` is the US short ton (907 kg) while news outside the US
  means the metric tonne, and pint does not know "kilos", "grammes" or "kgs",
  nor that "tablets" are counts (never kilograms).
* **pycountry** supplies every country's ``name``, ``official_name`` and
  ``common_name`` (exact lookups only: ``search_fuzzy`` maps "Iran" to wrong
  countries). pycountry misses "Turkey", "Russia", "Britain" and all demonyms
  ("Iranian", "Kyrgyz"), so :mod:`llm_extract.aliases.countries` adds them.
* **dateparser** is only a fallback for absolute dates in forms our patterns do
  not cover ("10-Sep-2024"). Relative expressions are resolved here, because
  dateparser's ``PREFER_DATES_FROM="past"`` resolves a weekday that equals the
  publication day to a week earlier, and because it silently fills missing
  parts from the clock. Fallback results are kept only when they do not depend
  on the relative base (parsed twice against two bases, they must agree).
* Drug synonyms, datelines and copyright lines are domain conventions no
  library knows; their tables live in :mod:`llm_extract.aliases`.

Import is cheap: pint, pycountry, dateparser and the alias tables are loaded on
first use and cached with :func:`functools.lru_cache`.

Examples
--------
>>> to_kg(2.4, "tons")
2400.0
>>> country_code("Iranian")
'IRN'
>>> drug("crack", country="IRN").name
<DrugName.HEROIN: 'heroin'>
>>> from datetime import date
>>> resolve_date("on Sunday", date(2025, 1, 12)).iso()
'2025-01-12'
"""

from __future__ import annotations

from .countries import country_code, country_names, country_of_place
from .dates import PartialDate, Precision, published_date, resolve_date
from .drugs import DRUG_GROUPS, Drug, DrugGroup, DrugName, drug
from .units import UnitKind, to_kg, to_litres, unit_kind

__all__ = [
    "DRUG_GROUPS",
    "Drug",
    "DrugGroup",
    "DrugName",
    "PartialDate",
    "Precision",
    "UnitKind",
    "country_code",
    "country_names",
    "country_of_place",
    "drug",
    "published_date",
    "resolve_date",
    "to_kg",
    "to_litres",
    "unit_kind",
]
