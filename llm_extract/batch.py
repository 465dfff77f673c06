"""Batch extraction: many articles, bounded concurrency, every finished result kept.

Articles are pulled lazily from an iterator by `concurrency` workers, so memory does not
grow with the size of the batch. Each finished article is appended to `records.jsonl` at
once (one JSON object per line, flushed), and each failure to `errors.jsonl` with its
reason; one article's failure never stops the batch.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .articles import Article
from .errors import InputError, LLMExtractError, ModelCallError
from .pipeline import Extractor
from .records import ArticleInfo, ArticleResult, Failure

__all__ = ["BatchSummary", "run_batch"]

log = logging.getLogger(__name__)

RECORDS_FILE = "records.jsonl"
ERRORS_FILE = "errors.jsonl"


@dataclass
class BatchSummary:
    """Counts for a finished batch, and every failure with its reason."""

    articles: int = 0
    extracted: int = 0
    agreements: int = 0
    seizures: int = 0
    calls: int = 0
    reasks: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    rejected: int = 0
    flagged: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def failures_by_kind(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.failures))

    def add_result(self, result: ArticleResult) -> None:
        self.extracted += 1
        records = [*(getattr(result, "agreements", None) or []), *(getattr(result, "seizures", None) or [])]
        self.agreements += len(getattr(result, "agreements", None) or [])
        self.seizures += len(getattr(result, "seizures", None) or [])
        self.rejected += len(getattr(result, "rejected", None) or [])
        self.flagged += sum(1 for r in records if getattr(r, "flags", None))
        self.calls += result.run.calls
        self.reasks += result.run.reasks
        self.retries += result.run.retries
        self.input_tokens += result.run.usage.input_tokens
        self.output_tokens += result.run.usage.output_tokens


class _JsonlWriter:
    """Appends whole lines and flushes each one, so a finished result is on disk at once."""

    def __init__(self, path: Path) -> None:
        self._fh: IO[str] = path.open("w", encoding="utf-8")

    def write(self, obj: Any) -> None:
        self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def _failure(item: Article | InputError, exc: LLMExtractError) -> Failure:
    if isinstance(item, Article):
        info = ArticleInfo(id=item.id, source=item.source, sha256=item.sha256, chars=len(item.text))
        source = item.source
    else:
        info, source = None, item.source
    return Failure(
        article=info,
        source=source,
        kind=exc.kind,
        message=str(exc),
        attempts=exc.attempts if isinstance(exc, ModelCallError) else None,
        last_output=exc.last_output if isinstance(exc, ModelCallError) else None,
    )


def _unexpected(item: Article, exc: Exception) -> Failure:
    failure = _failure(item, LLMExtractError(f"{item.source}: unexpected {type(exc).__name__}: {exc}"))
    return failure.model_copy(update={"kind": "unexpected"})


async def run_batch(
    extractor: Extractor[Any],
    items: Iterable[Article | InputError],
    out_dir: Path,
    *,
    concurrency: int | None = None,
    on_done: Callable[[ArticleResult | Failure], None] | None = None,
) -> BatchSummary:
    """Extract every article in `items`, writing results to `out_dir` as they finish.

    `items` may hold `InputError`s (unreadable files): they are reported, not raised.
    `on_done` is called after each article (for progress display).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = BatchSummary()
    records = _JsonlWriter(out_dir / RECORDS_FILE)
    errors = _JsonlWriter(out_dir / ERRORS_FILE)
    iterator = iter(items)
    limit = concurrency or extractor.settings.concurrency

    def finish(outcome: ArticleResult | Failure) -> None:
        if isinstance(outcome, Failure):
            summary.failures.append(outcome)
            errors.write(outcome.model_dump(mode="json"))
        else:
            summary.add_result(outcome)
            records.write(outcome.model_dump(mode="json"))
        if on_done is not None:
            on_done(outcome)

    async def worker() -> None:
        for item in iterator:  # shared iterator: each article goes to exactly one worker
            summary.articles += 1
            if isinstance(item, InputError):
                finish(_failure(item, item))
                continue
            try:
                result = await extractor.aextract(item)
            except LLMExtractError as exc:
                finish(_failure(item, exc))
            except Exception as exc:  # a bug must not stop the batch or lose other results
                log.exception("unexpected error on %s", item.source)
                finish(_unexpected(item, exc))
            else:
                finish(result)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(limit):
                group.create_task(worker())
    finally:
        records.close()
        errors.close()
        await extractor.aclose()
    return summary
