"""What every task's result carries, kept apart from anything a model wrote.

- `ArticleInfo`: which article a result belongs to;
- `RunMeta`: how it was extracted (model, mode, task, prompt version, calls, reasks,
  retries, tokens, latency, cost);
- `Usage`: tokens summed over an article's calls;
- `CallRecord`: one HTTP call, for the calls log;
- `ArticleResult`: the base of every task's result (one line of `records.jsonl`);
- `Failure`: an article that could not be extracted (one line of `errors.jsonl`).

A task's own records (the built-in task's agreements and seizures) live in the task's
package and subclass `ArticleResult`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ArticleInfo", "ArticleResult", "CallRecord", "Failure", "Mode", "RunMeta", "Usage"]

Mode = Literal["replay", "record", "live", "batch"]


class Usage(BaseModel):
    """Tokens summed over every model call made for one article (first try, reasks, retries)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class CallRecord(BaseModel):
    """One HTTP call to the model (or the replay store), for the calls log.

    `request` is the JSON body sent (the system prompt replaced by a reference
    `{"$prompt": "<prompt_version>"}` to keep the log small; never a header, so never the key);
    `response` the JSON body received, when there was one.
    """

    article_sha256: str
    model: str
    prompt_version: str
    turn: int = Field(description="1 for the first answer, 2 for the first reask, ...")
    attempt: int = Field(description="1 for the first try of this turn, 2+ for transport retries")
    kind: Literal["first", "reask", "retry"]
    outcome: str = Field(description="ok, or the error kind (rate_limit, server_error, timeout, ...)")
    status_code: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    latency_s: float = 0.0
    request_hash: str
    request: dict[str, object]
    response: dict[str, object] | None = None
    error: str | None = None


class RunMeta(BaseModel):
    """How one article was extracted. Nothing here comes from the model's own output."""

    model: str
    mode: Mode
    task: str
    prompt_version: str
    calls: int = Field(description="HTTP calls that reached the model (or the replay store).")
    reasks: int = Field(description="Calls that re-asked the model after a validation error.")
    retries: int = Field(description="Calls repeated after a transport error (429/5xx/timeout).")
    cached_calls: int = Field(default=0, description="Calls answered from the response cache (not paid).")
    usage: Usage
    latency_s: float = Field(description="Wall time of the whole article, retries included.")
    cost_usd: float | None = Field(default=None, description="Estimated cost from the price table (None for an unknown model).")


class ArticleInfo(BaseModel):
    """Which article a result belongs to."""

    id: str = Field(description="The id given in the input, or sha256[:16] of the text.")
    source: str = Field(description="The file path, or the id given by the caller.")
    sha256: str = Field(description="sha256 of the article text (UTF-8), hex.")
    chars: int
    published: str | None = Field(default=None, description="Publication date passed by the caller (ISO), if any.")
    url: str | None = None
    title: str | None = Field(default=None, description="Title given in the input (JSONL), if any.")


class ArticleResult(BaseModel):
    """What every task returns for one article: the article and how it was extracted."""

    model_config = ConfigDict(extra="forbid")

    article: ArticleInfo
    run: RunMeta


class Failure(BaseModel):
    """An article that could not be extracted, with the reason (one line of errors.jsonl)."""

    article: ArticleInfo | None = None
    source: str
    kind: str
    message: str
    attempts: int | None = None
    last_output: str | None = None
