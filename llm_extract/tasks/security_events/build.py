"""The built-in task's post-processing: ground → find values → check → normalise → merge.

What the model filled (`ArticleMentions`, values as written) becomes records
(`ArticleExtraction`) by deterministic code only:

1. **ground**: each record's `evidence` is located in the article (`grounding.Grounder`);
   a record whose evidence is not there is rejected with the reason (or kept, flagged
   `ungrounded`, with `keep_ungrounded`); one copied from the prompt's example is rejected
   (`leakage`).
2. **find every value** in the text (`values.ValueFinder`): the evidence sentence, then
   the sentences around it, then the whole article; each record keeps a span per value.
3. **check** (`checks`): the unit the number is written with, the status against intent
   and talk words, names the article never gives, the publication date given as the
   event's date; then a **confidence** (`confidence`), and `min_confidence` moves doubtful
   records to `rejected`.
4. **normalise**: parties → ISO3, the seizure's place → country, region, coordinates and
   precision (`places`), drugs → canonical name and UNODC group, quantities → kg / litres /
   counts, dates → ISO at their precision and a start–end range (periods included), and
   totals over a period marked (`totals`).
5. **merge** the same event listed twice (`dedupe`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from llm_extract.core.articles import Article
from llm_extract.core.grounding import Grounder, Span
from llm_extract.core.results import ArticleInfo, RunMeta

from .checks import status_flags, unit_flags
from .confidence import confidence
from .dates import DateValue, publication_date_flags, resolve
from .dedupe import QUANTITY_TOLERANCE, dedupe, more_mentions, same_agreement, same_seizure, union_spans
from .leakage import REASON as LEAK_REASON
from .leakage import Example
from .normalize import (
    PartialDate,
    country_code,
    country_names,
    country_of_place,
    drug,
    published_date,
    resolve_date,
    to_kg,
    to_litres,
    unit_kind,
)
from .places import ArticlePlaces
from .records import (
    AgreementRecord,
    ArticleExtraction,
    DrugItemRecord,
    PartyRecord,
    RejectedRecord,
    SeizureRecord,
    ValueSpan,
)
from .schema import AgreementMention, ArticleMentions, PartyKind, SeizureMention
from .totals import total_reason
from .values import ValueFinder

__all__ = ["BuildOptions", "build_extraction", "combine_chunks"]


@dataclass(frozen=True)
class BuildOptions:
    """Post-processing options (from `ExtractorSettings` and the task)."""

    fuzzy_threshold: float = 0.8
    keep_ungrounded: bool = False
    min_confidence: float | None = None
    example: Example = field(default_factory=Example)


def combine_chunks(parts: list[ArticleMentions]) -> ArticleMentions:
    """One `ArticleMentions` from the answers for each chunk (duplicates merge later)."""
    if len(parts) == 1:
        return parts[0]
    return ArticleMentions(
        title=next((p.title for p in parts if p.title), None),
        published=next((p.published for p in parts if p.published), None),
        agreements=[a for p in parts for a in p.agreements],
        seizures=[s for p in parts for s in p.seizures],
    )


def _anchor(article: Article, mentions: ArticleMentions) -> tuple[PartialDate | None, str | None]:
    """The anchor of relative dates: the caller's date, the dateline's, or the model's reading."""
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


def _party(name: str, kind: PartyKind) -> PartyRecord:
    iso3 = None
    if kind is not PartyKind.organisation:
        iso3 = country_code(name) or country_of_place(name)
    return PartyRecord(name=name, kind=kind, iso3=iso3)


def _presence(field_name: str, value: str, span: ValueSpan) -> list[str]:
    """`<field>_not_in_article` when the value is nowhere in the article.

    A value the article gives elsewhere is not doubted (its span says where it is), with
    one exception: a quantity neither in the evidence nor the sentences around it
    (`quantity_not_in_evidence`) suggests the evidence belongs to another seizure.
    """
    if span.where == "missing":
        return [f"{field_name}_not_in_article:{value}"]
    if span.where == "article" and field_name == "quantity":
        return [f"{field_name}_not_in_evidence:{value}"]
    return []


def _grounding(span: Span | None) -> str:
    return span.status if span is not None else "ungrounded"


def _rejection(kind: str, mention: AgreementMention | SeizureMention, reason: str) -> RejectedRecord:
    return RejectedRecord(kind=kind, reason=reason, record=mention.model_dump(mode="json"))  # type: ignore[arg-type]


_UNGROUNDED = "evidence not found in the article (not verbatim, and no close match)"


class _Builder:
    """Builds the records of one article (one instance per article)."""

    def __init__(self, mentions: ArticleMentions, article: Article, options: BuildOptions) -> None:
        self.mentions, self.article, self.options = mentions, article, options
        self.text = article.text
        self.grounder = Grounder(self.text)
        self.finder = ValueFinder(self.text)
        self.anchor, self.anchor_source = _anchor(article, mentions)
        self.rejected: list[RejectedRecord] = []
        named = [p.iso3 for a in mentions.agreements for p in (_party(q.name, q.kind) for q in a.parties) if p.iso3]
        self.places = ArticlePlaces(self.text, named_countries=list(dict.fromkeys(named)))

    def _ground(self, kind: str, m: AgreementMention | SeizureMention) -> tuple[bool, Span | None]:
        """(keep, span): the evidence located; a leak or an ungrounded record is rejected."""
        span = self.grounder.locate(m.evidence, threshold=self.options.fuzzy_threshold)
        if span is None and (self.options.example.evidence_leaked(m.evidence, self.text) or self._values_leaked(m)):
            self.rejected.append(_rejection(kind, m, LEAK_REASON))
            return False, None
        if span is None:
            self.rejected.append(_rejection(kind, m, _UNGROUNDED))
            return self.options.keep_ungrounded, None
        return True, span

    def _values_leaked(self, m: AgreementMention | SeizureMention) -> bool:
        """The example's values (its drugs and quantities, its parties), none of them in the article."""
        example = self.options.example
        if isinstance(m, SeizureMention):
            quantities = [i.quantity for i in m.items if i.quantity is not None]
            found = any(self.finder.find_quantity(q, None)[0] is not None for q in quantities)
            return example.seizure_leaked(m, quantity_in_article=found)
        parties = [p.name for p in m.parties]
        return example.agreement_leaked(m, parties_in_article=self.finder.find_words(parties, None) is not None)

    def _date(self, written: str | None, country: str | None, span: Span | None) -> tuple[DateValue, ValueSpan | None]:
        when = resolve(written, self.anchor, self.anchor_source, country=country)
        if not written:
            return when, None
        found = self.finder.span("date", written, self.finder.find_words([written], span))
        return when, found

    # -- agreements --------------------------------------------------------------------
    def agreement(self, m: AgreementMention) -> AgreementRecord | None:
        keep, span = self._ground("agreement", m)
        if not keep:
            return None
        parties = [_party(p.name, p.kind) for p in m.parties]
        spans: list[ValueSpan] = []
        flags: list[str] = []
        for i, p in enumerate(parties):
            needles = [p.name, *(country_names(p.iso3) if p.iso3 else ())]
            found = self.finder.find_words(needles, span) or (None if p.iso3 else self.finder.find_agency(p.name, span))
            spans.append(self.finder.span(f"party[{i}]", p.name, found))
        if self.options.example.agreement_leaked(m, parties_in_article=any(s.where != "missing" for s in spans)):
            self.rejected.append(_rejection("agreement", m, LEAK_REASON))
            return None
        flags += [f for s in spans if s.where == "missing" for f in [f"party_not_in_article:{s.value}"]]
        flags += [f"party_not_a_state:{p.name}" for p in parties if p.kind is PartyKind.state and p.iso3 is None]
        for i, o in enumerate(m.officials):
            found_official = self.finder.span(f"official[{i}]", o.name, self.finder.find_person(o.name, span))
            spans.append(found_official)
            flags += [f"official_not_in_article:{o.name}"] if found_official.where == "missing" else []
        if m.place:
            place_span = self.finder.span("place", m.place, self.finder.find_words([m.place], span))
            spans.append(place_span)
            flags += _presence("place", m.place, place_span)
        countries = sorted({p.iso3 for p in parties if p.iso3})
        when, date_span = self._date(m.date, countries[0] if len(countries) == 1 else None, span)
        if date_span is not None:
            spans.append(date_span)
            flags += _presence("date", m.date or "", date_span)
        evidence = self.text[span.start : span.end] if span else m.evidence
        flags += list(when.flags) + status_flags(m.status.value, evidence, background=m.is_background)
        flags += publication_date_flags(
            when, self.anchor, evidence, written_near=date_span is None or date_span.where in ("evidence", "nearby")
        )
        flags += [] if span else ["ungrounded"]
        return AgreementRecord(
            **{**m.model_dump(), "parties": [p.model_dump() for p in parties]},
            id="",
            countries=countries,
            spans=[span] if span else [],
            grounding=_grounding(span),  # type: ignore[arg-type]
            **when.fields(),
            flags=sorted(set(flags)),
            value_spans=spans,
            confidence=confidence(_grounding(span), span.score if span else 0.0, flags),
        )

    # -- seizures ----------------------------------------------------------------------
    def seizure(self, m: SeizureMention) -> SeizureRecord | None:
        keep, span = self._ground("seizure", m)
        if not keep:
            return None
        evidence = self.text[span.start : span.end] if span else m.evidence
        where = self.places.resolve(
            place=m.place, agency=m.seizing_agency, evidence=evidence, origin=m.origin, destination=m.destination
        )
        spans: list[ValueSpan] = []
        flags: list[str] = []
        items: list[DrugItemRecord] = []
        quantity_in_article = False
        for i, item in enumerate(m.items):
            record, item_spans, item_flags = self._item(i, item, where.country, span)
            items.append(record)
            spans += item_spans
            flags += item_flags
            quantity_in_article |= any(s.field == f"quantity[{i}]" and s.where != "missing" for s in item_spans)
        if self.options.example.seizure_leaked(m, quantity_in_article):
            self.rejected.append(_rejection("seizure", m, LEAK_REASON))
            return None
        for name, value in (("place", m.place), ("agency", m.seizing_agency)):
            if value:
                finder = self.finder.find_agency if name == "agency" else (lambda v, s: self.finder.find_words([v], s))
                found = self.finder.span(name, value, finder(value, span))
                spans.append(found)
                flags += _presence(name, value, found)
        when, date_span = self._date(m.date, where.country, span)
        if date_span is not None:
            spans.append(date_span)
            flags += _presence("date", m.date or "", date_span)
        reason = total_reason(
            is_total=m.is_total, evidence=evidence, date_is_period=when.is_period, date_precision=when.precision
        )
        total_kg, total_flags = _total_kg(items)
        flags += (
            list(when.flags)
            + total_flags
            + publication_date_flags(
                when, self.anchor, evidence, written_near=date_span is None or date_span.where in ("evidence", "nearby")
            )
        )
        flags += (["place_ambiguous"] if where.ambiguous else []) + ([] if span else ["ungrounded"])
        flags += ["country_from_dateline"] if where.source == "dateline" else []
        return SeizureRecord(
            **{**m.model_dump(), "items": [i.model_dump() for i in items], "is_total": reason is not None},
            id="",
            country=where.country,
            country_source=where.source,
            region=where.region,
            region_name=where.region_name,
            lat=where.lat,
            lon=where.lon,
            geo_precision=where.precision,
            place_ambiguous=where.ambiguous,
            total_kg=total_kg,
            total_reason=reason,
            spans=[span] if span else [],
            grounding=_grounding(span),  # type: ignore[arg-type]
            **when.fields(),
            flags=sorted(set(flags)),
            value_spans=spans,
            confidence=confidence(_grounding(span), span.score if span else 0.0, flags),
        )

    def _item(
        self, i: int, item: object, country: str | None, span: Span | None
    ) -> tuple[DrugItemRecord, list[ValueSpan], list[str]]:
        from .schema import DrugItem

        assert isinstance(item, DrugItem)
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
        flags: list[str] = []
        spans: list[ValueSpan] = []
        if found is None:
            flags.append(f"drug_unrecognised:{item.drug}")
        elif found.ambiguous:
            flags.append(f"drug_ambiguous:{item.drug}")
        if value is not None and item.unit and kind == "unknown":
            flags.append(f"unit_unrecognised:{item.unit}")
        if value is not None:
            best, close = self.finder.find_quantity(value, span)
            number = f"{value:g}"
            quantity = self.finder.span(f"quantity[{i}]", f"{number} {item.unit or ''}".strip(), best)
            spans.append(quantity)
            flags += _presence("quantity", number, quantity)
            flags += unit_flags(value, item.unit, [u for _, u in close])
        drug_span = self.finder.span(f"drug[{i}]", item.drug, self.finder.find_words(_drug_words(item.drug, found), span))
        spans.append(drug_span)
        flags += _presence("drug", item.drug, drug_span)
        return record, spans, flags

    # -- the article -------------------------------------------------------------------
    def build(self, info: ArticleInfo, run: RunMeta, chunks: int) -> ArticleExtraction:
        agreements = [a for m in self.mentions.agreements if (a := self.agreement(m)) is not None]
        seizures = [s for m in self.mentions.seizures if (s := self.seizure(m)) is not None]
        agreements = dedupe(agreements, same_agreement)
        seizures = dedupe(seizures, same_seizure)
        for seizure in seizures:
            if seizure.spans and not seizure.is_total:  # an ungrounded record kept on request borrows no span
                seizure.spans = union_spans(seizure.spans, more_mentions(seizure, self.text, self.finder.sentence_starts))
        agreements = self._confident(agreements, "agreement")
        seizures = self._confident(seizures, "seizure")
        agreements.sort(key=_position)
        seizures.sort(key=_position)
        for n, a in enumerate(agreements, 1):
            a.id = f"a{n}"
        for n, s in enumerate(seizures, 1):
            s.id = f"s{n}"
        return ArticleExtraction(
            article=info,
            run=run,
            title=self.mentions.title,
            published_as_written=self.mentions.published,
            published_iso=self.anchor.iso() if self.anchor else None,
            published_source=self.anchor_source,  # type: ignore[arg-type]
            chunks=chunks,
            agreements=agreements,
            seizures=seizures,
            rejected=self.rejected,
        )

    def _confident(self, records: list, kind: str) -> list:  # type: ignore[type-arg]
        """Records at or above `min_confidence`; the others go to `rejected` with their flags."""
        floor = self.options.min_confidence
        if floor is None:
            return records
        kept = []
        for r in records:
            if r.confidence >= floor:
                kept.append(r)
                continue
            why = "; ".join(r.flags) or "weak grounding"
            self.rejected.append(
                RejectedRecord(
                    kind=kind,  # type: ignore[arg-type]
                    reason=f"confidence {r.confidence:.2f} below the minimum {floor:.2f}: {why}",
                    record=r.model_dump(mode="json"),
                )
            )
        return kept


def _drug_words(written: str, found: object) -> list[str]:
    """The drug as written, its canonical name and synonyms, and generic words for 'drugs'."""
    from .values import GENERIC_DRUG_WORDS

    words = [written]
    name = getattr(getattr(found, "name", None), "value", None)
    if name:
        words += [name.replace("_", " "), *_synonyms(name)]
    if name in (None, "unspecified"):
        words += list(GENERIC_DRUG_WORDS)
    return words


@lru_cache(maxsize=256)
def _synonyms(name: str) -> tuple[str, ...]:
    """Every word the synonym table maps to the canonical drug `name` ("shabu", "ice", ...)."""
    from .aliases.drugs import SYNONYMS

    return tuple(word for word, canonical in SYNONYMS.items() if canonical == name)


def _total_kg(items: list[DrugItemRecord]) -> tuple[float | None, list[str]]:
    """The seizure's mass in kg, without counting a total and its parts twice.

    "500 kg of narcotics, including 300 kg of opium" gives an unspecified item (the total)
    and a specific one (a part): the total is the unspecified item's mass, not their sum.
    """
    masses = [(i, i.kg) for i in items if i.kg is not None]
    if not masses:
        return None, []
    general = [kg for i, kg in masses if i.drug_name in (None, "unspecified")]
    specific = [kg for i, kg in masses if i.drug_name not in (None, "unspecified")]
    if len(general) == 1 and specific and general[0] >= sum(specific) * (1 - QUANTITY_TOLERANCE):
        return general[0], ["total_includes_items"]
    return round(sum(kg for _, kg in masses), 6), []


def _position(record: AgreementRecord | SeizureRecord) -> int:
    return record.spans[0].start if record.spans else 1 << 62


def build_extraction(
    mentions: ArticleMentions,
    article: Article,
    info: ArticleInfo,
    run: RunMeta,
    *,
    options: BuildOptions = BuildOptions(),
    chunks: int = 1,
) -> ArticleExtraction:
    """Ground, find, check, normalise and merge what the model filled for one article."""
    return _Builder(mentions, article, options).build(info, run, chunks)
