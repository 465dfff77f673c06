"""Named checks of a record against the text: each a flag that says what it found.

The model's answer passed the schema; these catch what is schema-valid and still wrong.
Each check returns flags `name:detail` (the detail says what the text holds), and
`confidence.py` turns flags into a score. The checks, and the mistake each catches:

==================================== =====================================================
`unit_mismatch`                      the quantity is in the text with another unit ("250
                                     grams" kept as 250 kg; "1,200 kilograms" as 1,200 t)
`status_overstated`                  a concluded status (signed, implemented, renewed)
                                     where the evidence speaks only of intent or talks
                                     ("pledged to set up", "agreed to start talks")
`status_unsupported`                 a concluded status where the evidence reports neither
                                     a conclusion nor an intent ("stressed the need to
                                     cooperate" kept as signed)
`status_understated`                 an intent or talks status where the evidence reports
                                     a signing, and nothing of intent
`party_not_a_state`                  a party of kind state that is no country (a person, a
                                     ministry named as a state)
`{party,agency,official}_not_in_article`  a name the article never mentions (by any of
                                     its names, demonyms, acronym or surname)
`{quantity,drug,place,date}_not_in_article`  a value found nowhere in the article
`quantity_not_in_evidence`           the quantity is in the article, but neither in the
                                     evidence sentence nor the sentences around it (mild:
                                     the evidence may belong to another seizure)
`date_is_publication_date`           the event's date is the publication day while the
                                     evidence dates it otherwise ("on Tuesday")
==================================== =====================================================

Intent and modality: a concluding verb counts only when no modal, negation or intent word
stands just before it ("will sign", "is expected to sign", "did not sign", "has yet to
be signed", "to be signed" are not signings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["concluded_in", "intent_in", "status_flags", "unit_family", "unit_flags"]

CONCLUDED = frozenset({"signed", "implemented", "renewed"})
INTENT = frozenset({"agreed", "discussed", "planned"})

# `(?=[...])`: the first letters of the words below; it changes no match, it lets the engine
# skip the other positions (twice as fast)
_CONCLUDING = re.compile(
    r"(?=[cefiloprsu])\b(sign(?:ed|s|ing)?|ink(?:ed|s)?|conclud(?:ed|es)|ratif(?:ied|ies)|seal(?:ed|s)|initial(?:l)?ed|"
    r"entered into force|came into force|implement(?:ed|s|ing)|renew(?:ed|s)|extend(?:ed|s)|"
    r"put into effect|finali[sz]ed|set up|established|created|launched|formed|operational|stepped up|upgraded|"
    r"updated|expanded|strengthened)\b",
    re.IGNORECASE,
)
_INTENT = re.compile(
    r"(?=[acdefhimnprstuvwy])\b(will|would|shall|plans?|planned|planning|intends?|intended|aims?|aimed|hopes?|hoped|seeks?|sought|"
    r"pledged?|pledging|vowed?|committed|commits?|promised?|expected|set to|ready to|agreed to|agree to|"
    r"agreeing to|decided to|to be signed|to sign|propos(?:ed|es|al)|draft|discuss(?:ed|es|ing|ions?)?|talks?|"
    r"negotiat\w*|consider(?:ed|s|ing)?|review(?:ed|s|ing)?|explor(?:ed|es|ing)|examin\w*|may|might|could|"
    r"should|potential|possible|prospects?|upcoming|forthcoming|next (?:week|month|year))\b",
    re.IGNORECASE,
)
#: words that, just before a concluding verb, make it not a conclusion
_UNDOING = re.compile(
    r"\b(will|would|shall|to|not|never|yet|may|might|could|should|expected|set|ready|plan(?:s|ned)?|hope|"
    r"aim|intend|failed|refused|cannot|can't|won't|didn't|hasn't|haven't|wasn't|weren't|be|been)\s+"
    r"(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)


def concluded_in(text: str) -> list[str]:
    """Concluding verbs in `text` that are real (not modal, negated or intended)."""
    real = []
    for m in _CONCLUDING.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        if m.group(0).casefold() == "signing" and re.search(r"\b(?:the|a|for|approved|authori[sz]ed)\s+$", before, re.I):
            continue  # "approved the signing of a pact": a decision to sign, not a signing
        if _UNDOING.search(before) and not re.search(r"\b(has|have|had|was|were)\s+(?:been\s+)?$", before, re.I):
            continue
        real.append(m.group(0))
    return real


def intent_in(text: str) -> list[str]:
    """Words of intent, modality or talks in `text`."""
    return [m.group(0) for m in _INTENT.finditer(text)]


def status_flags(status: str, evidence: str, *, background: bool = False) -> list[str]:
    """`status_overstated` / `status_understated` against the evidence sentence (a background
    agreement, recalled in passing, is not doubted for want of a signing verb)."""
    concluded, intent = concluded_in(evidence), intent_in(evidence)
    if status in CONCLUDED and not concluded and intent:
        return [f'status_overstated:{status}, but the evidence says "{intent[0]}"']
    if status in CONCLUDED and not concluded and not background:
        return [f"status_unsupported:{status}, but the evidence reports no signing, implementation or renewal"]
    if status in INTENT and concluded and not intent:
        return [f'status_understated:{status}, but the evidence says "{concluded[0]}"']
    return []


#: units as `normalize.units`/`numbers` name them → (kind, scale to the family's base)
_UNIT_FAMILY: dict[str, tuple[str, str]] = {
    "mg": ("mass", "mg"), "g": ("mass", "g"), "kg": ("mass", "kg"), "tonne": ("mass", "tonne"),
    "lb": ("mass", "lb"), "oz": ("mass", "oz"), "ml": ("volume", "ml"), "litre": ("volume", "litre"),
    "gallon": ("volume", "gallon"),
}  # fmt: skip
_COUNT_UNITS = frozenset({"tablet", "pill", "capsule", "packet", "plant", "piece", "bottle", "bag", "block", "brick"})

_MODEL_UNITS: dict[str, str] = {
    "milligram": "mg", "milligrams": "mg", "mg": "mg", "gram": "g", "grams": "g", "gramme": "g", "grammes": "g",
    "g": "g", "gm": "g", "gms": "g", "gr": "g", "kilogram": "kg", "kilograms": "kg", "kilogramme": "kg",
    "kilogrammes": "kg", "kilo": "kg", "kilos": "kg", "kg": "kg", "kgs": "kg", "tonne": "tonne", "tonnes": "tonne",
    "ton": "tonne", "tons": "tonne", "t": "tonne", "metric tons": "tonne", "metric tonnes": "tonne",
    "pound": "lb", "pounds": "lb", "lb": "lb", "lbs": "lb", "ounce": "oz", "ounces": "oz", "oz": "oz",
    "litre": "litre", "litres": "litre", "liter": "litre", "liters": "litre", "l": "litre", "millilitre": "ml",
    "millilitres": "ml", "ml": "ml", "gallon": "gallon", "gallons": "gallon",
}  # fmt: skip


def unit_family(unit: str | None) -> str | None:
    """A unit as written or as `numbers` names it → its canonical name ('kilograms' → 'kg');
    count units ('tablets', 'pills') → 'count'; None when unknown."""
    if not unit:
        return None
    key = unit.strip().casefold().rstrip(".")
    if key in _UNIT_FAMILY:
        return key
    if key in _MODEL_UNITS:
        return _MODEL_UNITS[key]
    singular = key[:-1] if key.endswith("s") else key
    if key in _COUNT_UNITS or singular in _COUNT_UNITS or singular.rstrip("e") in _COUNT_UNITS:
        return "count"
    return None


def unit_flags(quantity: float, unit: str | None, written: Sequence[str | None]) -> list[str]:
    """`unit_mismatch` when the number is written near the evidence only with other units.

    `written` are the units found after each occurrence of the number in the evidence and
    the sentences around it (None: no unit after it). No flag when the model's unit is among
    them, when the text gives no unit, or when either unit is unknown.
    """
    mine = unit_family(unit)
    theirs = [u for u in (unit_family(w) for w in written) if u is not None]
    if mine is None or not theirs or mine in theirs:
        return []
    number = f"{quantity:g}"
    return [f"unit_mismatch:{number} {theirs[0]} in the text, not {number} {mine}"]
