"""What users get: records built from what the model filled, plus run metadata.

A record carries the model's values as written (the same fields as
`llm_extract.schema`), an `id` stable within its article, and what deterministic code adds
after the model, each beside the value it was computed from:

- `spans`: where the evidence is in the article (`text[start:end]`), with the alignment
  status (exact / normalized / fuzzy); the first span is the record's own evidence, the
  others are further mentions of the same event in the article;
- normalised values: party `iso3`, drug `drug_name` / `drug_group`, `kg` (mass only: counts
  and volumes stay `count` / `litres`), seizure `country`, `date_iso` with its precision;
- `flags`: what a reader should check (a quantity or drug not found in the evidence, a drug
  that could not be classified, a date relative to a publication date the model guessed).

Records whose evidence cannot be found in the article are not silently kept: they go to
`ArticleExtraction.rejected` with the reason. The run metadata (model, prompt version,
attempts, reasks, tokens, latency) lives once per article in `ArticleExtraction.run`, kept
apart from anything the model wrote.

One `ArticleExtraction` is one line of `records.jsonl`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from llm_extract.core.grounding import Span
from llm_extract.core.results import ArticleInfo, ArticleResult, CallRecord, Failure, RunMeta, Usage

from .schema import AgreementMention, DrugItem, Party, SeizureMention

__all__ = [
    "AgreementRecord",
    "ArticleExtraction",
    "DrugItemRecord",
    "PartyRecord",
    "RejectedRecord",
    "SeizureRecord",
    "ValueSpan",
    # the generic result types, re-exported for the task's users
    "ArticleInfo",
    "ArticleResult",
    "CallRecord",
    "Failure",
    "RunMeta",
    "Usage",
]

Grounding = Literal["exact", "normalized", "fuzzy", "ungrounded"]
DatePrecision = Literal["year", "half", "quarter", "month", "week", "day", "range"]
GeoPrecision = Literal["point", "region", "country"]


class ValueSpan(BaseModel):
    """Where the article says one value of a record (a field as the model wrote it).

    `where`: `evidence` (in the record's own sentence), `nearby` (the sentences around it),
    `article` (elsewhere in the article), `missing` (nowhere: then `start`/`end` are None).
    """

    field: str = Field(description="'quantity[0]', 'drug[0]', 'date', 'place', 'seizing_agency', 'party[1]', ...")
    value: str
    where: Literal["evidence", "nearby", "article", "missing"]
    start: int | None = None
    end: int | None = None


class PartyRecord(Party):
    """A party as written, with its ISO 3166-1 alpha-3 code when it is (or belongs to) a country."""

    iso3: str | None = None


class DrugItemRecord(DrugItem):
    """A drug item as written, classified and converted.

    `kg` only for masses; tablets and other counts go to `count`, volumes to `litres`.
    """

    drug_name: str | None = Field(default=None, description="Canonical name (normalize.DrugName).")
    drug_group: str | None = Field(default=None, description="UNODC family (normalize.DrugGroup).")
    drug_ambiguous: bool = False
    unit_kind: Literal["mass", "count", "volume", "unknown"] = "unknown"
    kg: float | None = None
    litres: float | None = None
    count: float | None = None


class _Grounded(BaseModel):
    spans: list[Span] = Field(default_factory=list, description="Evidence in the article; the first is the record's own.")
    grounding: Grounding = "ungrounded"
    date_iso: str | None = Field(default=None, description="YYYY, YYYY-MM, YYYY-Www or YYYY-MM-DD.")
    date_precision: DatePrecision | None = None
    date_start: str | None = Field(default=None, description="First day the date can be (ISO), for any precision.")
    date_end: str | None = Field(default=None, description="Last day the date can be (ISO), for any precision.")
    date_approximate: bool = Field(default=False, description="'mid-March', 'early 2023': the range is a reading.")
    flags: list[str] = Field(default_factory=list)
    value_spans: list[ValueSpan] = Field(default_factory=list, description="Where the article says each value.")
    confidence: float = Field(default=1.0, ge=0, le=1, description="From grounding and checks (README: flags).")


class AgreementRecord(_Grounded, AgreementMention):
    """An agreement as the model filled it, grounded and normalised."""

    id: str = Field(description="'a1', 'a2', ... in the order of the article.")
    parties: list[PartyRecord] = Field(min_length=1)  # type: ignore[assignment]
    countries: list[str] = Field(default_factory=list, description="ISO3 of the parties, sorted, unique.")


class SeizureRecord(_Grounded, SeizureMention):
    """A seizure as the model filled it, grounded and normalised."""

    id: str = Field(description="'s1', 's2', ... in the order of the article.")
    items: list[DrugItemRecord] = Field(min_length=1)  # type: ignore[assignment]
    country: str | None = Field(default=None, description="ISO3 of where it happened, if known.")
    country_source: Literal["place", "agency", "article", "dateline"] | None = Field(
        default=None, description="What gave the country: the place, the seizing agency, the article's text, its dateline."
    )
    region: str | None = Field(default=None, description="ISO 3166-2 code of the first-level region, if known.")
    region_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    geo_precision: GeoPrecision | None = Field(default=None, description="point (town, port), region, or country.")
    place_ambiguous: bool = Field(default=False, description="The place name fits several countries.")
    total_kg: float | None = Field(default=None, description="Sum of the items' kg (masses only).")
    total_reason: str | None = Field(
        default=None, description="Why this figure sums seizures over a period (is_total), e.g. 'so far this year'."
    )


class RejectedRecord(BaseModel):
    """A record the model wrote that is not kept, and why (e.g. evidence not in the article)."""

    kind: Literal["agreement", "seizure"]
    reason: str
    record: dict[str, object]


class ArticleExtraction(ArticleResult):
    """The built-in task's result for one article: its agreements and drug seizures."""

    title: str | None = None
    published_as_written: str | None = None
    published_iso: str | None = Field(default=None, description="The anchor of relative dates.")
    published_source: Literal["caller", "dateline", "model"] | None = Field(
        default=None, description="Where the anchor came from: the caller, the article's header, or the model."
    )
    chunks: int = Field(default=1, description="How many chunks the article was extracted in.")
    agreements: list[AgreementRecord] = Field(default_factory=list)
    seizures: list[SeizureRecord] = Field(default_factory=list)
    rejected: list[RejectedRecord] = Field(default_factory=list)
