"""A run's counts: `BatchSummary` (the whole run: articles, calls, tokens, cost, failures),
`CallCounts` (one article's calls) and `ArticleOutcome` (what happened to one item, for `-v`).

Filled by the worker loop (`llm_extract.runs.runner.process`) as articles finish; read by the
CLI's progress display and summary table, and by callers of the Python API.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from llm_extract.core.results import ArticleResult, CallRecord, Failure

__all__ = ["ArticleOutcome", "BatchSummary", "CallCounts"]

@dataclass
class BatchSummary:
    """Counts for a batch run (`run_batch`, or the articles of a Batch API collect), and every failure."""

    articles: int = 0
    extracted: int = 0
    skipped: int = 0
    #: the task's own counts, summed over the results (`Task.summarize`: "seizures", ...)
    counts: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    cached_calls: int = 0
    reasks: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0
    #: the estimated cost of what was paid for (live and recorded calls; not replayed, not cached):
    #: what `max_cost_usd` counts
    billed_usd: float = 0.0
    budget_stopped: bool = False
    canonical_events: int | None = None
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def done(self) -> int:
        return self.extracted + self.skipped

    def failures_by_kind(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.failures))

    def add_result(self, result: ArticleResult, counts: dict[str, int] | None = None) -> None:
        """Count one extracted article; `counts` are the task's (`Task.counts(result)`)."""
        self.extracted += 1
        self.counts.update(counts or {})
        self.add_calls(result)

    def add_calls(self, result: ArticleResult) -> None:
        run = result.run
        self.calls += run.calls
        self.cached_calls += run.cached_calls
        self.reasks += run.reasks
        self.retries += run.retries
        self.input_tokens += run.usage.input_tokens
        self.output_tokens += run.usage.output_tokens
        if run.cost_usd is None:
            self.unpriced += 1
        else:
            self.cost_usd += run.cost_usd
            if run.mode != "replay":  # replayed answers are not paid
                self.billed_usd += run.cost_usd

    def add_failed_calls(
        self, calls: Sequence[CallRecord], cost: Callable[[list[CallRecord]], float | None], *, kind: str | None = None
    ) -> CallCounts:
        """Count the calls of a failed article (`kind`: the failure's), as a result's are counted."""
        counted = CallCounts.of(calls, failure_kind=kind)
        self.calls += counted.calls
        self.cached_calls += counted.cached
        self.reasks += counted.reasks
        self.retries += counted.retries
        self.input_tokens += counted.input_tokens
        self.output_tokens += counted.output_tokens
        sent = list(calls)
        spent = cost(sent) if sent else None
        if spent:
            self.cost_usd += spent
            paid = [c for c in sent if c.outcome not in _NOT_PAID]
            billed = spent if len(paid) == len(sent) else cost(paid) if paid else None
            self.billed_usd += billed or 0.0
        return counted


#: failure kinds of replay: there, a request without an answer was never sent (no call made)
_NOT_SENT = frozenset({"replay", "replay_miss", "stale_recording"})
#: call outcomes nothing was paid for
_NOT_PAID = frozenset({"ok (replayed)", "ok (cached)"})


@dataclass(frozen=True)
class CallCounts:
    """Calls, cache hits, reasks, retries and tokens, counted from an article's `CallRecord`s."""

    calls: int = 0
    cached: int = 0
    reasks: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @classmethod
    def of(cls, calls: Sequence[CallRecord], *, failure_kind: str | None = None) -> CallCounts:
        """`failure_kind` of replay: the request replay could not answer made no call, and is not counted."""
        if failure_kind in _NOT_SENT:
            calls = [c for c in calls if c.response is not None or c.status_code is not None]
        return cls(
            calls=len(calls),
            cached=sum(1 for c in calls if c.outcome == "ok (cached)"),
            reasks=sum(1 for c in calls if c.kind == "reask"),
            retries=sum(1 for c in calls if c.kind == "retry"),
            input_tokens=sum(c.input_tokens for c in calls),
            output_tokens=sum(c.output_tokens for c in calls),
        )

    @classmethod
    def of_result(cls, result: ArticleResult) -> CallCounts:
        run = result.run
        return cls(
            calls=run.calls, cached=run.cached_calls, reasks=run.reasks, retries=run.retries,
            input_tokens=run.usage.input_tokens, output_tokens=run.usage.output_tokens,
        )  # fmt: skip


@dataclass(frozen=True)
class ArticleOutcome:
    """What happened to one item of a run (for `-v`: one line per article)."""

    status: Literal["ok", "failed", "skipped"]
    #: where the article came from (None for an item skipped without being looked at)
    source: str | None
    seconds: float = 0.0
    counts: CallCounts = field(default_factory=CallCounts)
    #: the task's counts of the result (`Task.counts`)
    found: dict[str, int] = field(default_factory=dict)
    failure: Failure | None = None
