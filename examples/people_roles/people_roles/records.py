"""What users get: one `PeopleExtraction` per article, one line of `records.jsonl`.

A `PersonRecord` is the model's `PersonMention` as written, plus what `build` adds beside
it: an `id` stable within the article (`p1`, `p2`, ... in the model's order), the
normalised `name_key` (NFKC, case-folded, whitespace collapsed: the same person however the
article spaces or capitalises the name), the evidence `span` in the article
(`text[span.start:span.end]`) and how it was found (`grounding`), and `flags` for a reader to
check. A person whose evidence is not in the article is never silently kept: it goes to
`rejected`, with the reason.

`article` and `run` (which article, how it was extracted) come from the engine's
`ArticleResult`; nothing in them was written by the model.
"""

from __future__ import annotations

from typing import Literal

from llm_extract.core.grounding import Span
from llm_extract.core.results import ArticleResult
from pydantic import BaseModel, Field

from .schema import PersonMention

__all__ = ["Grounding", "PeopleExtraction", "PersonRecord", "RejectedPerson"]

Grounding = Literal["exact", "normalized", "fuzzy", "ungrounded"]


class PersonRecord(PersonMention):
    """A person as the model wrote them, grounded and normalised."""

    id: str = Field(description="'p1', 'p2', ... in the order the model listed them.")
    name_key: str = Field(description="The name normalised: NFKC, case-folded, whitespace collapsed.")
    span: Span | None = Field(default=None, description="Where the evidence is in the article.")
    grounding: Grounding = "ungrounded"
    flags: list[str] = Field(default_factory=list, description="What a reader should check.")


class RejectedPerson(BaseModel):
    """A person the model listed that is not kept, and why."""

    reason: str
    record: dict[str, object]


class PeopleExtraction(ArticleResult):
    """The people task's result for one article."""

    chunks: int = Field(default=1, description="How many chunks the article was extracted in.")
    people: list[PersonRecord] = Field(default_factory=list)
    rejected: list[RejectedPerson] = Field(default_factory=list)
