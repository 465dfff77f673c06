"""What users get: records built from what the model filled, plus run metadata.

A record carries the model's values as written (the same fields as
`llm_extract.schema`), an `id` stable within its article, and room for what deterministic
code adds after the model (evidence spans, normalised values). The run metadata (model,
prompt version, attempts, reasks, tokens, latency) lives once per article in
`ArticleExtraction.run`, kept apart from anything the model wrote.

One `ArticleExtraction` is one line of `records.jsonl`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .schema import AgreementMention, SeizureMention

__all__ = [
    "AgreementRecord",
    "ArticleExtraction",
    "ArticleInfo",
    "ArticleResult",
    "Failure",
    "RunMeta",
    "SeizureRecord",
    "Usage",
]

Mode = Literal["replay", "record", "live"]


class Usage(BaseModel):
    """Tokens summed over every model call made for one article (first try, reasks, retries)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class RunMeta(BaseModel):
    """How one article was extracted. Nothing here comes from the model's own output."""

    model: str
    mode: Mode
    task: str
    prompt_version: str
    calls: int = Field(description="HTTP calls that reached the model (or the replay store).")
    reasks: int = Field(description="Calls that re-asked the model after a validation error.")
    retries: int = Field(description="Calls repeated after a transport error (429/5xx/timeout).")
    usage: Usage
    latency_s: float = Field(description="Wall time of the whole article, retries included.")


class ArticleInfo(BaseModel):
    """Which article a result belongs to."""

    id: str = Field(description="The id given in the input, or sha256[:16] of the text.")
    source: str = Field(description="The file path, or the id given by the caller.")
    sha256: str = Field(description="sha256 of the article text (UTF-8), hex.")
    chars: int
    published: str | None = Field(
        default=None, description="Publication date passed by the caller (ISO), if any."
    )


class AgreementRecord(AgreementMention):
    """An agreement as the model filled it, with its id within the article."""

    id: str = Field(description="'a1', 'a2', ... in the order the model listed them.")


class SeizureRecord(SeizureMention):
    """A seizure as the model filled it, with its id within the article."""

    id: str = Field(description="'s1', 's2', ... in the order the model listed them.")


class ArticleResult(BaseModel):
    """What every task returns for one article: the article and how it was extracted."""

    model_config = ConfigDict(extra="forbid")

    article: ArticleInfo
    run: RunMeta


class ArticleExtraction(ArticleResult):
    """The built-in task's result for one article: its agreements and drug seizures."""

    title: str | None = None
    published_as_written: str | None = None
    agreements: list[AgreementRecord] = Field(default_factory=list)
    seizures: list[SeizureRecord] = Field(default_factory=list)


class Failure(BaseModel):
    """An article that could not be extracted, with the reason (one line of errors.jsonl)."""

    article: ArticleInfo | None = None
    source: str
    kind: str
    message: str
    attempts: int | None = None
    last_output: str | None = None
