"""The built-in task's post-processing: ground → normalise → merge, for one article.

What the model filled (`ArticleMentions`, values as written) becomes records
(`ArticleExtraction`) by deterministic code only:

1. **ground**: each record's `evidence` is located in the article (`grounding.Grounder`);
   a record whose evidence is not there is rejected with the reason (or kept, flagged
   `ungrounded`, with `keep_ungrounded`). A seizure whose quantity or drug does not appear
   in its evidence passage is flagged.
2. **normalise**: parties → ISO3, drugs → canonical name and UNODC group (the seizure's
   country decides Iran's "crack"), quantities → kg / litres / counts, dates → ISO at their
   precision against the publication date (the caller's, else the article's dateline, else
   the model's reading of it, flagged).
3. **merge**: the same event listed twice (e.g. once per chunk of a long article) becomes one
   record with every evidence span; further sentences of the article that mention the same
   seizure (same quantity and drug) are added to its spans.

Merge rules (deterministic, within one article):
- seizures: same set of drugs (canonical name, else as written), each item's quantity equal
  within 1 % (in kg for masses, else the number in the same unit kind), and compatible
  dates (equal, or one unknown);
- agreements: overlapping evidence spans, or the same countries (else party names), instrument
  type, status, background flag, compatible dates and the same evidence text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from llm_extract.core.articles import Article
from llm_extract.core.chunking import sentence_boundaries
from llm_extract.core.grounding import Grounder, Span, contains_value, normalize_text
from llm_extract.tasks.security_events.normalize import (
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
from llm_extract.core.results import ArticleInfo, RunMeta
from llm_extract.tasks.security_events.records import AgreementRecord, ArticleExtraction, DrugItemRecord, PartyRecord, RejectedRecord, SeizureRecord
from llm_extract.tasks.security_events.schema import AgreementMention, ArticleMentions, PartyKind, SeizureMention

__all__ = ["BuildOptions", "build_extraction", "combine_chunks"]

QUANTITY_TOLERANCE = 0.01


@dataclass(frozen=True)
class BuildOptions:
    """Post-processing options (from `ExtractorSettings`)."""

    fuzzy_threshold: float = 0.8
    keep_ungrounded: bool = False


def combine_chunks(parts: Sequence[ArticleMentions]) -> ArticleMentions:
    """One `ArticleMentions` from the answers for each chunk (duplicates merge later)."""
    if len(parts) == 1:
        return parts[0]
    return ArticleMentions(
        title=next((p.title for p in parts if p.title), None),
        published=next((p.published for p in parts if p.published), None),
        agreements=[a for p in parts for a in p.agreements],
        seizures=[s for p in parts for s in p.seizures],
    )


# -- the anchor of relative dates -------------------------------------------------------
def _anchor(article: Article, mentions: ArticleMentions) -> tuple[PartialDate | None, str | None]:
    if article.published is not None:
        return PartialDate.of(article.published), "caller"
    header = published_date(article.text)
    if header is not None:
        return header, "dateline"
    if mentions.published:
        guess = resolve_date(mentions.published, None)
        if guess is not None:
            return guess, "model"
    return None, None


@dataclass
class _DateValue:
    iso: str | None = None
    precision: str | None = None
    flags: tuple[str, ...] = ()


def _date(written: str | None, anchor: PartialDate | None, anchor_source: str | None) -> _DateValue:
    if not written:
        return _DateValue()
    resolved = resolve_date(written, anchor)
    if resolved is None:
        return _DateValue(flags=("date_unresolved",))
    flags: tuple[str, ...] = ()
    if anchor_source == "model" and resolve_date(written, None) is None:
        flags = ("date_relative_to_model_published",)
    return _DateValue(resolved.iso(), resolved.precision, flags)


# -- normalising one record ----------------------------------------------------------------
def _party(name: str, kind: PartyKind) -> PartyRecord:
    iso3 = None
    if kind is not PartyKind.organisation:
        iso3 = country_code(name) or country_of_place(name)
    return PartyRecord(name=name, kind=kind, iso3=iso3)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _seizure_country(m: SeizureMention) -> str | None:
    for text in (m.place, m.seizing_agency, m.destination):
        if text:
            code = country_code(text) or country_of_place(text)
            if code:
                return code
    return None


def _items(m: SeizureMention, country: str | None, passage: str) -> tuple[list[DrugItemRecord], list[str]]:
    items: list[DrugItemRecord] = []
    flags: list[str] = []
    for item in m.items:
        found = drug(item.drug, country)
        kind = unit_kind(item.unit) if item.unit else "unknown"
        value = item.quantity
        record = DrugItemRecord(
            **item.model_dump(),
            drug_name=found.name.value if found else None,
            drug_group=found.group.value if found else None,
            drug_ambiguous=bool(found and found.ambiguous),
            unit_kind=kind,
            kg=to_kg(value, item.unit) if value is not None and item.unit and kind == "mass" else None,
            litres=to_litres(value, item.unit) if value is not None and item.unit and kind == "volume" else None,
            count=value if value is not None and kind == "count" else None,
        )
        items.append(record)
        if found is None:
            flags.append(f"drug_unrecognised:{item.drug}")
        elif found.ambiguous:
            flags.append(f"drug_ambiguous:{item.drug}")
        if value is not None and item.unit and kind == "unknown":
            flags.append(f"unit_unrecognised:{item.unit}")
        if passage and value is not None and not contains_value(passage, _number_text(value)):
            flags.append(f"quantity_not_in_evidence:{_number_text(value)}")
        if passage and not contains_value(passage, item.drug):
            flags.append(f"drug_not_in_evidence:{item.drug}")
    return items, flags


def _total_kg(items: list[DrugItemRecord]) -> tuple[float | None, list[str]]:
    """The seizure's mass in kg, without counting a total and its parts twice.

    "500 kg of narcotics, including 300 kg of opium" gives an unspecified item (the total)
    and a specific one (a part): the total is the unspecified item's mass, not their sum.
    """
    masses = [i for i in items if i.kg is not None]
    if not masses:
        return None, []
    general = [i for i in masses if i.drug_name in (None, "unspecified")]
    specific = [i for i in masses if i.drug_name not in (None, "unspecified")]
    if len(general) == 1 and specific and general[0].kg >= sum(i.kg for i in specific) * (1 - QUANTITY_TOLERANCE):  # type: ignore[operator]
        return general[0].kg, ["total_includes_items"]
    return round(sum(i.kg for i in masses), 6), []  # type: ignore[misc]


def _grounding(span: Span | None) -> str:
    return span.status if span is not None else "ungrounded"


# -- merging -------------------------------------------------------------------------------
def _dates_compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a.startswith(b) or b.startswith(a)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=QUANTITY_TOLERANCE)


def _item_key(item: DrugItemRecord) -> str:
    return item.drug_name if item.drug_name and item.drug_name != "unspecified" else item.drug.casefold()


def _same_seizure(a: SeizureRecord, b: SeizureRecord) -> bool:
    if not a.spans or not b.spans:
        return False  # an ungrounded record kept on request stays apart, flagged
    # (one sentence may report two seizures: a shared span alone never merges them)
    if sorted(map(_item_key, a.items)) != sorted(map(_item_key, b.items)):
        return False
    by_drug = {_item_key(i): i for i in b.items}
    for item in a.items:
        other = by_drug[_item_key(item)]
        if item.kg is not None or other.kg is not None:
            if not _close(item.kg, other.kg):
                return False
        elif item.unit_kind != other.unit_kind or not _close(item.quantity, other.quantity):
            return False
    return _dates_compatible(a.date_iso, b.date_iso)


def _same_agreement(a: AgreementRecord, b: AgreementRecord) -> bool:
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


def _union_spans(first: list[Span], second: Iterable[Span]) -> list[Span]:
    spans = list(first)
    for span in second:
        if not _spans_overlap(spans, [span]):
            spans.append(span)
    return spans[:1] + sorted(spans[1:], key=lambda s: s.start)


def _merge_into(keep: SeizureRecord | AgreementRecord, other: SeizureRecord | AgreementRecord) -> None:
    keep.spans = _union_spans(keep.spans, other.spans)
    keep.flags = sorted(set(keep.flags) | set(other.flags))
    for name in type(keep).model_fields:
        if getattr(keep, name) in (None, [], "") and getattr(other, name) not in (None, [], ""):
            setattr(keep, name, getattr(other, name))


def _dedupe(records: list, same) -> list:  # type: ignore[no-untyped-def]
    kept: list = []
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
    from bisect import bisect_right

    i = bisect_right(starts, position) - 1
    start = starts[i] if i >= 0 else 0
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _more_mentions(record: SeizureRecord, text: str, starts: list[int]) -> list[Span]:
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


# -- the build -------------------------------------------------------------------------------
def build_extraction(
    mentions: ArticleMentions,
    article: Article,
    info: ArticleInfo,
    run: RunMeta,
    *,
    options: BuildOptions = BuildOptions(),
    chunks: int = 1,
) -> ArticleExtraction:
    """Ground, normalise and merge what the model filled for one article."""
    text = article.text
    grounder = Grounder(text)
    anchor, anchor_source = _anchor(article, mentions)
    rejected: list[RejectedRecord] = []

    agreements: list[AgreementRecord] = []
    for m in mentions.agreements:
        span = grounder.locate(m.evidence, threshold=options.fuzzy_threshold)
        if span is None:
            rejected.append(_rejection("agreement", m))
            if not options.keep_ungrounded:
                continue
        parties = [_party(p.name, p.kind) for p in m.parties]
        when = _date(m.date, anchor, anchor_source)
        flags = list(when.flags) + ([] if span else ["ungrounded"])
        agreements.append(
            AgreementRecord(
                **{**m.model_dump(), "parties": [p.model_dump() for p in parties]},
                id="",
                countries=sorted({p.iso3 for p in parties if p.iso3}),
                spans=[span] if span else [],
                grounding=_grounding(span),
                date_iso=when.iso,
                date_precision=when.precision,  # type: ignore[arg-type]
                flags=flags,
            )
        )

    seizures: list[SeizureRecord] = []
    for s in mentions.seizures:
        span = grounder.locate(s.evidence, threshold=options.fuzzy_threshold)
        if span is None:
            rejected.append(_rejection("seizure", s))
            if not options.keep_ungrounded:
                continue
        country = _seizure_country(s)
        passage = text[span.start : span.end] if span else ""
        items, item_flags = _items(s, country, passage)
        when = _date(s.date, anchor, anchor_source)
        total_kg, total_flags = _total_kg(items)
        seizures.append(
            SeizureRecord(
                **{**s.model_dump(), "items": [i.model_dump() for i in items]},
                id="",
                country=country,
                total_kg=total_kg,
                spans=[span] if span else [],
                grounding=_grounding(span),
                date_iso=when.iso,
                date_precision=when.precision,  # type: ignore[arg-type]
                flags=sorted(
                    set(item_flags) | set(when.flags) | set(total_flags) | (set() if span else {"ungrounded"})
                ),
            )
        )

    agreements = _dedupe(agreements, _same_agreement)
    seizures = _dedupe(seizures, _same_seizure)
    starts = [0, *sentence_boundaries(text)]
    for seizure in seizures:
        if seizure.spans:  # an ungrounded record kept on request gets no borrowed span
            seizure.spans = _union_spans(seizure.spans, _more_mentions(seizure, text, starts))
    agreements.sort(key=_position)
    seizures.sort(key=_position)
    for i, a in enumerate(agreements, 1):
        a.id = f"a{i}"
    for i, s in enumerate(seizures, 1):
        s.id = f"s{i}"
    return ArticleExtraction(
        article=info,
        run=run,
        title=mentions.title,
        published_as_written=mentions.published,
        published_iso=anchor.iso() if anchor else None,
        published_source=anchor_source,  # type: ignore[arg-type]
        chunks=chunks,
        agreements=agreements,
        seizures=seizures,
        rejected=rejected,
    )


def _position(record: AgreementRecord | SeizureRecord) -> int:
    return record.spans[0].start if record.spans else 1 << 62


def _rejection(kind: str, mention: AgreementMention | SeizureMention) -> RejectedRecord:
    return RejectedRecord(
        kind=kind,  # type: ignore[arg-type]
        reason="evidence not found in the article (not verbatim, and no close match)",
        record=mention.model_dump(mode="json"),
    )
