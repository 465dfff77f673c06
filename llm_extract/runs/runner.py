"""Batch extraction: many articles, bounded concurrency, resumable, nothing finished lost.

Articles are pulled lazily from an iterator by `concurrency` workers, so memory stays flat
however large the batch. Each finished article is committed to the SQLite store
(`OUTDIR/extract.db`, one transaction) and then appended to `OUTDIR/records.jsonl` (one
whole line, flushed); each failure goes to the store and to `OUTDIR/errors.jsonl` with its
reason. One article's failure never stops the batch.

Resume: run the same command again. Articles already in the store are skipped; a line torn
by a kill is cut off; an article committed to the store but not yet written to
`records.jsonl` (a kill between the two) is written from the store, so no result is lost
and none is written twice. `force=True` re-extracts everything and rewrites
`records.jsonl`. Articles with identical text are the same article (same sha256) and are
extracted once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from llm_extract.core.articles import Article
from llm_extract.errors import InputError, LLMExtractError, ModelCallError, StoreError
from llm_extract.core.results import ArticleInfo, ArticleResult, CallRecord, Failure
from llm_extract.runs.outputs import ERRORS_FILE, RECORDS_FILE, STORE_FILE

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.runs.store import EventStore

__all__ = [
    "BatchSummary",
    "ERRORS_FILE",
    "JsonlAppender",
    "RECORDS_FILE",
    "STORE_FILE",
    "cut_torn_line",
    "failure_of",
    "keys_in",
    "now_iso",
    "restore_records",
    "run_batch",
    "unexpected_failure",
]

log = logging.getLogger(__name__)



@dataclass
class BatchSummary:
    """Counts for a batch, and every failure with its reason."""

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

    def add_failed_calls(self, calls: list[CallRecord], cost: Callable[[list[CallRecord]], float | None]) -> None:
        self.calls += len(calls)
        self.input_tokens += sum(c.input_tokens for c in calls)
        self.output_tokens += sum(c.output_tokens for c in calls)
        spent = cost(calls)
        if spent:
            self.cost_usd += spent


class JsonlAppender:
    """Appends whole lines and flushes each one, so a finished result is on disk at once."""

    def __init__(self, path: Path, *, truncate: bool = False) -> None:
        if not truncate:
            cut_torn_line(path)
        self._fh: IO[str] = path.open("w" if truncate else "a", encoding="utf-8")

    def write_line(self, line: str) -> None:
        self._fh.write(line + "\n")
        self._fh.flush()

    def write(self, obj: Any) -> None:
        self.write_line(json.dumps(obj, ensure_ascii=False))

    def close(self) -> None:
        self._fh.close()


def cut_torn_line(path: Path) -> None:
    """Cut a last line left unfinished by a kill (everything after the last newline)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with path.open("rb+") as fh:
        fh.seek(max(size - 1, 0))
        if fh.read(1) == b"\n":
            return
        step = 1 << 16
        position = size
        while position > 0:
            start = max(position - step, 0)
            fh.seek(start)
            chunk = fh.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                fh.truncate(start + newline + 1)
                log.warning("%s: cut a torn last line (%d bytes)", path, size - start - newline - 1)
                return
            position = start
        fh.truncate(0)


def keys_in(path: Path) -> set[str]:
    """The article sha256 of every line of a records.jsonl."""
    keys: set[str] = set()
    if not path.exists():
        return keys
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                keys.add(json.loads(line)["article"]["sha256"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return keys


def restore_records(store: EventStore, records_path: Path, done: set[str]) -> int:
    """Make `records.jsonl` hold every article in `done`: cut a torn last line, then append
    the results committed to the store but not yet written (a kill between the two).
    Returns how many lines were restored."""
    cut_torn_line(records_path)
    missing = done - keys_in(records_path)
    if missing:
        with records_path.open("a", encoding="utf-8") as fh:
            for key in sorted(missing):
                text = store.result_json(key)
                if text:
                    fh.write(text.strip() + "\n")
        log.info("restored %d result(s) from the store into %s", len(missing), records_path)
    return len(missing)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def failure_of(item: Article | InputError, exc: LLMExtractError) -> Failure:
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


def unexpected_failure(item: Article, exc: Exception) -> Failure:
    failure = failure_of(item, LLMExtractError(f"{item.source}: unexpected {type(exc).__name__}: {exc}"))
    return failure.model_copy(update={"kind": "unexpected"})


async def run_batch(
    extractor: Extractor[Any],
    items: Iterable[Article | InputError],
    out_dir: Path,
    *,
    concurrency: int | None = None,
    force: bool = False,
    max_cost_usd: float | None = None,
    merge: bool = True,
    on_done: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Extract every article in `items` into `out_dir`, resuming what an earlier run did.

    `items` may hold `InputError`s (unreadable inputs): they are reported, not raised.
    `max_cost_usd` stops starting new articles once the estimated cost reaches it (those
    in flight finish). `on_done` is called after each article (progress display).
    """
    from llm_extract.runs.store import EventStore

    out_dir.mkdir(parents=True, exist_ok=True)
    summary = BatchSummary()
    task = extractor.task
    store = EventStore(out_dir / STORE_FILE, tables=task.tables, task=task.name)
    if store.task not in (None, task.name):
        store.close()
        raise StoreError(f"{out_dir} holds results of the task {store.task!r}, not {task.name!r}: use another directory")
    records_path = out_dir / RECORDS_FILE
    borrowed_cache = extractor.cache is None
    if borrowed_cache:
        await extractor.aclose()  # a client made before has no cache: the next one will
        extractor.cache = store  # a rerun never pays twice for the same request
    try:
        if extractor.prompts.system:
            store.save_prompt(extractor.prompts.version, extractor.prompts.system)
        done = set() if force else store.done_keys()
        if not force:
            restore_records(store, records_path, done)
        records = JsonlAppender(records_path, truncate=force)
        errors = JsonlAppender(out_dir / ERRORS_FILE, truncate=True)
        await _work(extractor, items, store, records, errors, summary, done, concurrency, max_cost_usd, on_done)
        records.close()
        errors.close()
        merge_hook = task.view("merge")
        if merge and merge_hook is not None:
            summary.canonical_events = merge_hook(store)
    finally:
        await extractor.aclose()
        if borrowed_cache:
            extractor.cache = None
        store.close()
    return summary


async def _work(
    extractor: Extractor[Any],
    items: Iterable[Article | InputError],
    store: EventStore,
    records: JsonlAppender,
    errors: JsonlAppender,
    summary: BatchSummary,
    done: set[str],
    concurrency: int | None,
    max_cost_usd: float | None,
    on_done: Callable[[BatchSummary], None] | None,
) -> None:
    iterator = iter(items)
    in_flight: set[str] = set()
    limit = concurrency or extractor.settings.concurrency

    def cost_of(calls: list[CallRecord]) -> float | None:
        from llm_extract.core.results import Usage

        usage = Usage(
            input_tokens=sum(c.input_tokens for c in calls),
            output_tokens=sum(c.output_tokens for c in calls),
            cached_input_tokens=sum(c.cached_input_tokens for c in calls),
        )
        return extractor.prices.cost(extractor.settings.model, usage)

    def fail(item: Article | InputError, failure: Failure, calls: list[CallRecord]) -> None:
        summary.failures.append(failure)
        summary.add_failed_calls(calls, cost_of)
        store.add_failure(failure, calls=calls, at=now_iso())
        errors.write(failure.model_dump(mode="json"))

    async def worker() -> None:
        for item in iterator:  # shared iterator: each article goes to exactly one worker
            summary.articles += 1
            if isinstance(item, InputError):
                fail(item, failure_of(item, item), [])
            elif item.sha256 in done or item.sha256 in in_flight:
                summary.skipped += 1
            else:
                in_flight.add(item.sha256)
                calls: list[CallRecord] = []
                try:
                    result = await extractor.aextract(item, calls=calls)
                except LLMExtractError as exc:
                    fail(item, failure_of(item, exc), calls)
                except Exception as exc:  # a bug must not stop the batch or lose other results
                    log.exception("unexpected error on %s", item.source)
                    fail(item, unexpected_failure(item, exc), calls)
                else:
                    # committed first (in a thread: SQLite releases the GIL, the loop goes on),
                    await asyncio.to_thread(store.add_result, result, calls=calls, extracted_at=now_iso(), text=item.text)
                    records.write_line(result.model_dump_json())  # then the JSONL line
                    done.add(item.sha256)
                    summary.add_result(result, extractor.task.counts(result))
                finally:
                    in_flight.discard(item.sha256)
            if on_done is not None:
                on_done(summary)
            if max_cost_usd is not None and summary.cost_usd >= max_cost_usd:
                if not summary.budget_stopped:
                    log.warning("estimated cost $%.4f reached --max-cost $%.4f: no new articles", summary.cost_usd, max_cost_usd)
                summary.budget_stopped = True
                return

    async with asyncio.TaskGroup() as group:
        for _ in range(limit):
            group.create_task(worker())
