"""Drug words as written in the news → canonical drug names (strings of ``DrugName``).

The tables live in ``_drug_synonyms`` (``SYNONYMS``), ``_drug_rules`` (the weaker and
context-dependent readings) and ``_drug_words`` (function words); this module re-exports them.

Plain data, read lazily by :func:`llm_extract.normalize.drug`. Keys are written
as the news writes them (any case, accents, script); the reader folds case,
accents, hyphens, plurals and filler words ("pure", "crude", "tablets of",
"de", "kg") the same way on both sides before lookup, so only the distinct
spellings need listing. Misspellings that are one or two letters off a long
word ("metaphetamine", "Ecstacy", "daizepam") are found by the reader's
bounded fuzzy match and need no entry; short words match exactly only.

The tables, by the weight the reader gives a hit when a phrase names several things:

* ``SYNONYMS``: a word that names one listed drug ("shabu", "Phensedyl", "maconha").
  ``GENERIC`` marks family words ("cannabis", "coca") that give way to a more
  precise member of the family in the same phrase ("charas (cannabis)").
* ``UNLISTED``: real substances outside the closed list (tapentadol, Lyrica,
  "pink cocaine"/tusi): name ``unspecified``, family where one fits. They are
  named drugs, so "Tapentadol" next to "Timaking" (a tramadol brand) is a conflict.
* ``AMBIGUOUS``: slang and brand names whose reading is a best guess
  ("rock", "alcaloide", "Eskuf"): the result carries ``ambiguous=True`` and gives
  way to any named drug in the same phrase.
* ``FORM_WORDS``: words for a drug's form ("crystal"): alone they name a drug,
  next to a named drug they only describe it ("crystal heroin", "MDMA crystals").
* ``GROUP_WORDS`` and the ``unspecified`` synonyms: family or generic words.
* ``REGIONAL``: words whose meaning depends on the country (Iran's "crack" is
  heroin; Morocco's "cannabis" is resin; Myanmar's "stimulant tablets" are yaba).
* ``MODIFIER_RULES``: words that change the form of a drug named next to them
  ("weed" + "plants" → cannabis_plants, "base de cocaína" → coca_paste).
"""

from __future__ import annotations

from ._drug_rules import AMBIGUOUS, FORM_WORDS, GENERIC, GROUP_WORDS, MODIFIER_RULES, REGIONAL, UNLISTED
from ._drug_synonyms import SYNONYMS
from ._drug_words import AND_WORDS, BLOCK, EVERYDAY_WORDS, FILLER, NAMING_WORDS, NOT_DRUGS, OR_WORDS

__all__ = [
    "AMBIGUOUS",
    "AND_WORDS",
    "BLOCK",
    "EVERYDAY_WORDS",
    "FILLER",
    "FORM_WORDS",
    "GENERIC",
    "GROUP_WORDS",
    "MODIFIER_RULES",
    "NAMING_WORDS",
    "NOT_DRUGS",
    "OR_WORDS",
    "REGIONAL",
    "SYNONYMS",
    "UNLISTED",
]
