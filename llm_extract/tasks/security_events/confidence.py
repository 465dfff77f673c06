"""A record's confidence: its grounding times a penalty for each of its flags.

    confidence = grounding × Π penalty(flag)

=========================== ======= ============================================================
grounding                   base    exact 1.0, normalized 0.95, fuzzy 0.85 × its similarity,
                                    ungrounded 0.2 (kept only with --keep-ungrounded)
severe flags                × 0.35  unit_mismatch, status_overstated, *_not_in_article
                                    (quantity, drug, party, agency, official, place, date)
medium flags                × 0.6   date_is_publication_date, status_understated, status_unsupported,
                                    party_not_a_state
mild flags                  × 0.85  *_not_in_evidence, drug_ambiguous, drug_unrecognised,
                                    unit_unrecognised, date_unresolved, place_ambiguous,
                                    date_relative_to_model_published
notes (no penalty)          × 1.0   total_includes_items, country_from_dateline, is_total
=========================== ======= ============================================================

So one severe doubt puts a record below 0.5, two below 0.15; a clean exact record is 1.0.
`--min-confidence X` moves records under X to `rejected`, with their flags as the reason.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PENALTIES", "confidence", "penalty"]

SEVERE, MEDIUM, MILD = 0.35, 0.6, 0.85
PENALTIES: dict[str, float] = {
    "unit_mismatch": SEVERE,
    "status_overstated": SEVERE,
    "date_is_publication_date": MEDIUM,
    "status_understated": MEDIUM,
    "status_unsupported": MEDIUM,
    "party_not_a_state": MEDIUM,
    "drug_ambiguous": MILD,
    "drug_unrecognised": MILD,
    "unit_unrecognised": MILD,
    "date_unresolved": MILD,
    "place_ambiguous": MILD,
    "date_relative_to_model_published": MILD,
}
_BASE = {"exact": 1.0, "normalized": 0.95, "fuzzy": 0.85, "ungrounded": 0.2}


def penalty(flag: str) -> float:
    """The factor of one flag (`name:detail`)."""
    name = flag.partition(":")[0]
    if name in PENALTIES:
        return PENALTIES[name]
    if name.endswith("_not_in_article"):
        return SEVERE
    if name.endswith("_not_in_evidence"):
        return MILD
    return 1.0


def confidence(grounding: str, score: float, flags: Iterable[str]) -> float:
    """The documented score of a record, in [0, 1], rounded to 3 places."""
    value = _BASE.get(grounding, 0.2) * (score if grounding == "fuzzy" else 1.0)
    for flag in flags:
        value *= penalty(flag)
    return round(max(0.0, min(1.0, value)), 3)
