"""The same event listed twice within one article → one record with every evidence span.

Rules (deterministic):
- seizures: same set of drugs (canonical name, else as written), each item's quantity equal
  within 1 % (in kg for masses, else the number in the same unit kind), compatible dates
  (equal, nested, or one unknown), both totals or both single seizures; seizures with no
  quantity at all merge only when their evidence overlaps (never on dates alone);
- agreements: overlapping evidence spans, or the same countries (else party names),
  instrument type, status, background flag, compatible dates and the same evidence text.

Further sentences of the article that give the same quantity of the same drug are added to
a seizure's spans (`more_mentions`).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import TypeVar

from llm_extract.core.grounding import Span, contains_value, normalize_text

from .records import AgreementRecord, DrugItemRecord, SeizureRecord

__all__ = ["QUANTITY_TOLERANCE", "dedupe", "more_mentions", "same_agreement", "same_seizure", "union_spans"]

QUANTITY_TOLERANCE = 0.01
T = TypeVar("T", AgreementRecord, SeizureRecord)


def _dates_compatible(a: str | None, b: str | None) -> bool:
    """Equal, one unknown, or one a more precise form of the other (2024 and 2024-09-10)."""
    return a is None or b is None or a.startswith(b) or b.startswith(a)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=QUANTITY_TOLERANCE)


def _item_key(item: DrugItemRecord) -> str:
    return item.drug_name if item.drug_name and item.drug_name != "unspecified" else item.drug.casefold()


def same_seizure(a: SeizureRecord, b: SeizureRecord) -> bool:
    if not a.spans or not b.spans:
        return False  # an ungrounded record kept on request stays apart, flagged
    # (one sentence may report two seizures: a shared span alone never merges them)
    if sorted(map(_item_key, a.items)) != sorted(map(_item_key, b.items)) or a.is_total != b.is_total:
        return False
    if all(i.quantity is None for i in (*a.items, *b.items)):
        return _spans_overlap(a.spans, b.spans)  # nothing to compare but the words: never dates alone
    # items in a canonical order (a drug may come twice: "crystal meth and yaba" are both methamphetamine)
    order = lambda i: (_item_key(i), i.kg if i.kg is not None else -1.0, i.quantity or -1.0)  # noqa: E731
    for item, other in zip(sorted(a.items, key=order), sorted(b.items, key=order), strict=True):
        if item.kg is not None or other.kg is not None:
            if not _close(item.kg, other.kg):
                return False
        elif item.unit_kind != other.unit_kind or not _close(item.quantity, other.quantity):
            return False
    return _dates_compatible(a.date_iso, b.date_iso)


def same_agreement(a: AgreementRecord, b: AgreementRecord) -> bool:
    if not a.spans or not b.spans:
        return False
    who_a = a.countries or sorted(p.name.casefold() for p in a.parties)
    who_b = b.countries or sorted(p.name.casefold() for p in b.parties)
    if who_a != who_b or a.instrument_type != b.instrument_type:
        return False  # one sentence may name two agreements: a shared span alone never merges them
    if _spans_overlap(a.spans, b.spans):
        return True
    return (
        a.status == b.status
        and a.is_background == b.is_background
        and _dates_compatible(a.date_iso, b.date_iso)
        and normalize_text(a.evidence) == normalize_text(b.evidence)
    )


def _spans_overlap(a: Iterable[Span], b: Iterable[Span]) -> bool:
    return any(x.start < y.end and y.start < x.end for x in a for y in b)


def union_spans(first: list[Span], second: Iterable[Span]) -> list[Span]:
    spans = list(first)
    for span in second:
        if not _spans_overlap(spans, [span]):
            spans.append(span)
    return spans[:1] + sorted(spans[1:], key=lambda s: s.start)


def _merge_into(keep: SeizureRecord | AgreementRecord, other: SeizureRecord | AgreementRecord) -> None:
    keep.spans = union_spans(keep.spans, other.spans)
    keep.flags = sorted(set(keep.flags) | set(other.flags))
    if keep.date_iso and other.date_iso and len(other.date_iso) > len(keep.date_iso):
        # nested dates ("2024" and "2024-09-10"): the merged record keeps the more precise day
        for name in ("date", "date_iso", "date_precision", "date_start", "date_end"):
            setattr(keep, name, getattr(other, name))
    keep.value_spans = keep.value_spans or other.value_spans
    keep.confidence = max(keep.confidence, other.confidence)
    for name in type(keep).model_fields:
        if getattr(keep, name) in (None, [], "") and getattr(other, name) not in (None, [], ""):
            setattr(keep, name, getattr(other, name))


def dedupe(records: list[T], same: Callable[[T, T], bool]) -> list[T]:
    kept: list[T] = []
    for record in records:
        for existing in kept:
            if same(existing, record):
                _merge_into(existing, record)
                break
        else:
            kept.append(record)
    return kept


# -- further mentions of a seizure -------------------------------------------------------
def _number_pattern(value: float) -> re.Pattern[str] | None:
    if not float(value).is_integer() or value < 100:
        return None  # small numbers ("two men") are too common to mean the same seizure
    digits = str(int(value))
    groups = []
    head = len(digits) % 3 or 3
    groups.append(digits[:head])
    groups.extend(digits[i : i + 3] for i in range(head, len(digits), 3))
    return re.compile(r"(?<![\d.,])" + r"[,.\u00a0\u202f ]?".join(groups) + r"(?![\d])")


def _sentence_at(text: str, starts: list[int], position: int) -> tuple[int, int]:
    i = bisect_right(starts, position) - 1
    start = starts[i] if i >= 0 else 0
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def more_mentions(record: SeizureRecord, text: str, starts: list[int]) -> list[Span]:
    found: list[Span] = []
    for item in record.items:
        pattern = _number_pattern(item.quantity) if item.quantity is not None else None
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            start, end = _sentence_at(text, starts, match.start())
            sentence = text[start:end]
            if contains_value(sentence, item.drug) or (item.drug_name and contains_value(sentence, item.drug_name)):
                found.append(Span(start=start, end=end, status="exact", score=1.0))
    return found
