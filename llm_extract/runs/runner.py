"""Batch runs (`llm-extract run`): many articles, bounded concurrency, resumable, nothing finished lost.

"Batch" here is a run over many articles, live or replayed; the provider's Batch API is
`llm_extract.runs.batch_api`. Both write their results through the worker loop of this
module (`process`), into the same outputs (`RunSink`). Articles are pulled lazily by
`concurrency` workers, so memory stays flat. Each finished article is committed to the
store (`OUTDIR/extract.db`, one transaction), then appended to `OUTDIR/records.jsonl` (one
whole, flushed line); each failure goes to the store and to `OUTDIR/errors.jsonl`. One
article's failure never stops the batch. How an item becomes a result is a `Worker`'s;
where it runs (this process, worker processes, a Ray cluster) is an `Engine`'s, which gives
`run_batch` the worker of one run: the loop and its writer always stay in this process.

Resume: run the same command again. Articles in the store are skipped; `records.jsonl` is
repaired from the store (a torn last line cut, damaged lines rewritten, missing ones
written), and a lost store rebuilt from `records.jsonl` (`llm_extract.runs.outputs`): no
result is lost, none is written twice. `force=True` re-extracts everything. Articles with
identical text are one article (same sha256). One process writes a directory at a time
(`llm_extract.runs.lock`). Interrupted (Ctrl-C, SIGTERM), the loop waits for the commits in
flight and writes their lines: the store is never ahead of records.jsonl at exit.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from llm_extract.core.articles import Article
from llm_extract.core.results import ArticleInfo, ArticleResult, CallRecord, Failure, Usage
from llm_extract.errors import InputError, LLMExtractError, ModelCallError, StoreError
from llm_extract.runs.outputs import (
    ERRORS_FILE,
    RECORDS_FILE,
    STORE_FILE,
    JsonlAppender,
    cut_torn_line,
    keys_in,
    rebuild_store,
    restore_records,
)
from llm_extract.runs.summary import ArticleOutcome, BatchSummary, CallCounts

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.core.task import Task
    from llm_extract.runs.store import EventStore

__all__ = [
    "ERRORS_FILE", "RECORDS_FILE", "STORE_FILE", "ArticleOutcome", "BatchSummary", "CallCounts", "Engine", "Failed",
    "JsonlAppender", "LocalEngine", "RunSink", "Skipped", "Waiting", "Worker", "cut_torn_line", "failure_of", "keys_in",
    "list_price", "now_iso", "process", "restore_records", "run_batch", "unexpected_failure",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


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


class RunSink:
    """Where a run's outcomes go: each result committed to the store first, then written as
    one line of `records.jsonl`; each failure to the store and to `errors.jsonl`; all of
    them counted in `summary`.

    Opening it resumes what an earlier run left: `done` holds the articles with a result in
    the store (and gets those committed since); a store that is empty beside a
    `records.jsonl` is rebuilt from it; `records.jsonl` gets a torn last line cut, damaged
    lines rewritten from the store and every committed result it lacks (a kill between the
    two writes), each repair told to `note` in one line. `force=True` starts `done` empty
    and rewrites `records.jsonl` from scratch. `errors.jsonl` lists this run's failures
    only. `cost` prices the calls of a failed article (a result carries its own cost). The
    store is opened, and closed, by the caller.
    """

    def __init__(
        self,
        store: EventStore,
        out_dir: Path,
        task: Task[Any, Any],
        *,
        cost: Callable[[list[CallRecord]], float | None],
        force: bool = False,
        summary: BatchSummary | None = None,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.task = task
        self.summary = summary if summary is not None else BatchSummary()
        self.records_path = Path(out_dir) / RECORDS_FILE
        self._cost = cost
        self._note = note or log.warning
        self.done: set[str] = set() if force else store.done_keys()
        if not force:
            if not self.done and self.records_path.exists() and self.records_path.stat().st_size:
                rebuild_store(store, self.records_path, task, note=self._note)
                self.done = store.done_keys()
            restore_records(store, self.records_path, self.done, note=self._note)
        self._records: JsonlAppender | None = JsonlAppender(self.records_path, truncate=force)
        self._errors: JsonlAppender | None = None
        try:
            self._errors = JsonlAppender(Path(out_dir) / ERRORS_FILE, truncate=True)
        except BaseException:
            self.close()
            raise
        #: the articles being extracted into this sink now (by `process`)
        self.extracting: set[str] = set()
        #: results that replaced one already in the store (records.jsonl then holds both lines)
        self.replaced = 0
        #: store commits whose coroutine was cancelled while their thread went on: `drain` writes their lines
        self._unwritten: dict[asyncio.Future[None], tuple[ArticleResult, Article, str]] = {}

    def taken(self, key: str, *, redo: bool = False) -> bool:
        """Whether the article is done (and not to be redone) or being extracted: skip it."""
        return (key in self.done and not redo) or key in self.extracting

    async def commit(self, result: ArticleResult, calls: list[CallRecord], article: Article) -> None:
        """Store one result (in a thread: SQLite releases the GIL, the loop goes on), then its line.

        Cancelled while the store writes (Ctrl-C), the commit still ends in its thread, and
        `drain` writes its line: the store is never left ahead of records.jsonl.
        """
        assert self._records is not None, "the sink is closed"
        line = result.model_dump_json()  # once: the store's copy and the line are the same text
        stored = asyncio.ensure_future(
            asyncio.to_thread(
                self.store.add_result, result, calls=calls, extracted_at=now_iso(), text=article.text, result_json=line
            )
        )
        self._unwritten[stored] = (result, article, line)
        try:
            await asyncio.shield(stored)
        except asyncio.CancelledError:
            raise  # the commit goes on: drain() waits for it
        except BaseException:
            del self._unwritten[stored]
            raise
        del self._unwritten[stored]
        self._written(result, article, line)

    def _written(self, result: ArticleResult, article: Article, line: str) -> None:
        assert self._records is not None, "the sink is closed"
        if article.sha256 in self.done:
            self.replaced += 1
        self._records.write_line(line)  # committed first, then the JSONL line
        self.done.add(article.sha256)
        self.summary.add_result(result, self.task.counts(result))
        log.debug("%s: committed and written", article.source)

    async def drain(self) -> None:
        """Wait for the store commits still running after their coroutine was cancelled, and
        write their lines."""
        while self._unwritten:
            stored, (result, article, line) = next(iter(self._unwritten.items()))
            try:
                await stored
            except Exception as exc:  # the commit failed: nothing to write (the article is not done)
                log.info("%s: not committed (%s)", article.source, exc)
                del self._unwritten[stored]
                continue
            del self._unwritten[stored]
            if self._records is not None:
                self._written(result, article, line)

    def settle(self) -> None:
        """On the way out of a run that stopped (interrupted, or a write failed): make
        records.jsonl hold every result the store holds. Never raises: what it cannot do
        now the next run does."""
        if self._records is not None:
            self._records.close()
            self._records = None
        try:
            restore_records(self.store, self.records_path, self.store.done_keys(), note=self._note)
        except (OSError, sqlite3.Error, StoreError) as exc:
            log.info("%s not brought up to date with the store now (%s): the next run does it", RECORDS_FILE, exc)

    def fail(self, failure: Failure, calls: list[CallRecord] | None = None) -> CallCounts:
        """Record one failure (with the calls it made, logged and counted); returns how its calls count."""
        assert self._errors is not None, "the sink is closed"
        calls = calls or []
        self.summary.failures.append(failure)
        counted = self.summary.add_failed_calls(calls, self._cost, kind=failure.kind)
        self.store.add_failure(failure, calls=calls, at=now_iso())
        self._errors.write(failure.model_dump(mode="json"))
        return counted

    def merge(self) -> None:
        """Run the task's cross-article merge, if it has one (`summary.canonical_events`)."""
        merge_hook = self.task.view("merge")
        if merge_hook is not None:
            self.summary.canonical_events = merge_hook(self.store)

    def close(self) -> None:
        """Close records.jsonl and errors.jsonl (idempotent); the store is its opener's to close."""
        for appender in (self._records, self._errors):
            if appender is not None:
                appender.close()
        self._records = self._errors = None


@dataclass(frozen=True)
class Skipped:
    """An item the loop counts as skipped (done already) without looking at it."""


@dataclass(frozen=True)
class Waiting:
    """An item not ready yet (counted as an article, neither extracted nor skipped)."""


@dataclass(frozen=True)
class Failed:
    """An item that failed before any extraction (an unreadable input, unanswered batch requests)."""

    failure: Failure


class Worker(Generic[T]):
    """How the loop turns one item into a result. This one extracts articles with the
    extractor (`run_batch`); Batch API collect's extracts an article from its batch answers."""

    def __init__(self, extractor: Extractor[Any]) -> None:
        self.extractor = extractor

    def article(self, item: T) -> Article:
        """The article the item is for (identity for `done`, failures and the stored text)."""
        if not isinstance(item, Article):  # pragma: no cover (a subclass's items)
            raise TypeError(f"{type(self).__name__} takes articles, not {type(item).__name__}")
        return item

    def redo(self, item: T) -> bool:
        """Whether the item is extracted again although its article is done."""
        return False

    async def extract(self, item: T, calls: list[CallRecord]) -> ArticleResult:
        """The item's result; one `CallRecord` per model call goes to `calls`, whatever happens."""
        return await self.extractor.aextract(self.article(item), calls=calls)

    def committed(self, item: T, result: ArticleResult, calls: list[CallRecord]) -> None:
        """Called once the result is in the store and records.jsonl."""


async def process(
    items: Iterable[T | Skipped | Waiting | Failed],
    worker: Worker[T],
    sink: RunSink,
    *,
    concurrency: int,
    on_done: Callable[[BatchSummary], None] | None = None,
    max_cost_usd: float | None = None,
    on_article: Callable[[ArticleOutcome], None] | None = None,
) -> None:
    """Run every item through `worker` into `sink`, `concurrency` at a time: the one worker loop.

    Items are pulled lazily from one shared iterator, so each goes to exactly one worker.
    An article already done (unless the worker redoes the item) or in flight is skipped, so
    none is extracted twice. A result is committed to the store, then written to
    records.jsonl; a failure (an `LLMExtractError`, or any other exception: a bug must not
    stop the run or lose other results) is recorded with the calls it made.
    `on_article` is told what happened to each item, `on_done` is called after each item;
    once the summary's paid cost (`billed_usd`: replayed answers are not paid) reaches
    `max_cost_usd`, no new item is started (those in flight finish).

    When the run stops before its end (cancelled by Ctrl-C or SIGTERM, or an output that
    cannot be written, e.g. a full disk), the commits in flight end and get their lines,
    records.jsonl is brought up to date with the store, and the first error is raised as
    itself (not inside an exception group).
    """
    iterator = iter(items)
    summary = sink.summary
    tell = on_article or (lambda _outcome: None)

    async def one(item: T | Skipped | Waiting | Failed) -> None:
        summary.articles += 1
        if isinstance(item, Failed):
            sink.fail(item.failure)
            tell(ArticleOutcome("failed", item.failure.source, failure=item.failure))
            return
        if isinstance(item, Skipped):
            summary.skipped += 1
            tell(ArticleOutcome("skipped", None))
            return
        if isinstance(item, Waiting):
            return
        article = worker.article(item)
        key = article.sha256
        if sink.taken(key, redo=worker.redo(item)):
            summary.skipped += 1
            tell(ArticleOutcome("skipped", article.source))
            return
        sink.extracting.add(key)
        calls: list[CallRecord] = []
        started = time.monotonic()
        log.debug("%s: extracting", article.source)
        try:
            failure: Failure | None = None
            try:
                result = await worker.extract(item, calls)
            except Exception as exc:
                _stop_if_cancelled(exc)  # the run is stopping: the article is not a failure, a rerun does it
                if isinstance(exc, LLMExtractError):
                    failure = failure_of(article, exc)
                else:  # a bug must not stop the run or lose other results
                    log.exception("unexpected error on %s", article.source)
                    failure = unexpected_failure(article, exc)
            if failure is not None:
                counted = sink.fail(failure, calls)
                tell(ArticleOutcome("failed", article.source, time.monotonic() - started, counted, failure=failure))
                return
            await sink.commit(result, calls, article)
            worker.committed(item, result, calls)
            seconds = time.monotonic() - started
            tell(ArticleOutcome("ok", article.source, seconds, CallCounts.of_result(result), sink.task.counts(result)))
        finally:
            sink.extracting.discard(key)

    async def loop() -> None:
        for item in iterator:  # shared iterator: each item goes to exactly one worker
            _stop_if_cancelled()
            await one(item)
            if on_done is not None:
                on_done(summary)
            if max_cost_usd is not None and summary.billed_usd >= max_cost_usd:
                if not summary.budget_stopped:
                    log.warning(
                        "estimated cost $%.4f reached --max-cost $%.4f: no new articles",
                        summary.billed_usd,
                        max_cost_usd,
                    )
                summary.budget_stopped = True
                return

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(concurrency, 1)):
                group.create_task(loop())
    except BaseException as exc:
        try:
            await sink.drain()
        finally:
            sink.settle()
        if isinstance(exc, BaseExceptionGroup):
            raise _first_error(exc) from None
        raise


def _stop_if_cancelled(cause: BaseException | None = None) -> None:
    """Raise `CancelledError` if this task is being cancelled (Ctrl-C, SIGTERM), although what it
    awaited returned or raised something else: a library that turns a cancellation into its own
    error, or swallows it, must not make the loop record a failure or take the next article."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from cause


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error of a task group that is not a cancellation (the one that stopped the others)."""
    found: list[BaseException] = []
    for exc in group.exceptions:
        found.append(_first_error(exc) if isinstance(exc, BaseExceptionGroup) else exc)
    for exc in found:
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return found[0]


def list_price(extractor: Extractor[Any]) -> Callable[[list[CallRecord]], float | None]:
    """What calls cost at the extractor's price table (None: the model is not priced)."""

    def cost(calls: list[CallRecord]) -> float | None:
        usage = Usage(
            input_tokens=sum(c.input_tokens for c in calls),
            output_tokens=sum(c.output_tokens for c in calls),
            cached_input_tokens=sum(c.cached_input_tokens for c in calls),
        )
        return extractor.prices.cost(extractor.settings.model, usage)

    return cost


class Engine(Protocol):
    """Where a run's articles are extracted: `run_batch` asks it for the `Worker` of one run.

    `worker(extractor, sink, concurrency=N)` is an async context manager: it starts what
    extracts (processes, a cluster's actors), yields the `Worker` the loop calls, and stops
    it when the run ends. The engine never writes outputs: the loop (`process`) and its
    sink, in the calling process, are the one writer. Engines: `LocalEngine` (this process,
    the default), `llm_extract.runs.engines.ProcessEngine` (`--workers N`) and
    `llm_extract.runs.engines.ray.RayEngine` (`--engine ray`).
    """

    def worker(
        self, extractor: Extractor[Any], sink: RunSink, *, concurrency: int
    ) -> AbstractAsyncContextManager[Worker[Article]]: ...


class LocalEngine:
    """Articles extracted in this process, by the extractor itself, `concurrency` at a time."""

    @asynccontextmanager
    async def worker(self, extractor: Extractor[Any], sink: RunSink, *, concurrency: int) -> AsyncIterator[Worker[Article]]:
        del sink, concurrency  # the loop bounds what is in flight
        yield Worker[Article](extractor)


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
    on_article: Callable[[ArticleOutcome], None] | None = None,
    note: Callable[[str], None] | None = None,
    summary: BatchSummary | None = None,
    workers: int = 1,
    engine: Engine | None = None,
) -> BatchSummary:
    """Extract every article in `items` into `out_dir`, resuming what an earlier run did.

    `items` may hold `InputError`s (unreadable inputs): they are reported, not raised.
    `max_cost_usd` stops starting new articles once the estimated cost of what is paid
    (live and recorded calls: replayed answers are free) reaches it (those in flight
    finish). `on_done` is called after each article (progress display), `on_article` with
    what happened to it (`-v`); `note` is told, in one line each, what was repaired or
    taken over (default: a logged warning). `summary` (filled as the run goes) lets a
    caller that is interrupted say what was kept.

    `engine` says where the articles are extracted (an `Engine`; default: this process).
    `workers` > 1, without an engine, is `ProcessEngine(workers)`: that many processes,
    `concurrency` shared among them (`ConfigError` for a task given as an object). Whatever
    the engine, this process is the one writer, and the outputs are the same.

    Holds the directory's lock (`llm_extract.runs.lock.hold_output`) while it writes:
    another process writing it raises `OutputBusyError`.
    """
    from llm_extract.runs.lock import hold_output
    from llm_extract.runs.store import EventStore

    if engine is None and workers > 1:
        from llm_extract.runs.engines import ProcessEngine

        engine = ProcessEngine(workers, note=note)
    engine = engine or LocalEngine()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summary if summary is not None else BatchSummary()
    task = extractor.task
    db = out_dir / STORE_FILE
    with hold_output(out_dir, say=note or log.warning):
        if not db.exists():  # a store deleted by hand may leave its journal: never replay it into a new one
            for leftover in (Path(f"{db}-wal"), Path(f"{db}-shm")):
                leftover.unlink(missing_ok=True)
        store = EventStore(db, tables=task.tables, task=task.name, task_spec=task.spec)
        if store.task not in (None, task.name):
            recorded = store.task
            store.close()
            raise StoreError(f"{out_dir} holds results of the task {recorded!r}, not {task.name!r}: use another one")
        borrowed_cache = extractor.cache is None
        if borrowed_cache:
            await extractor.aclose()  # a client made before has no cache: the next one will
            extractor.cache = store  # a rerun never pays twice for the same request
        sink: RunSink | None = None
        try:
            if extractor.prompts.system:
                store.save_prompt(extractor.prompts.version, extractor.prompts.system)
            sink = RunSink(store, out_dir, task, cost=list_price(extractor), force=force, summary=summary, note=note)
            inputs = (Failed(failure_of(item, item)) if isinstance(item, InputError) else item for item in items)
            total = concurrency or extractor.settings.concurrency
            async with engine.worker(extractor, sink, concurrency=total) as worker:
                await process(
                    inputs, worker, sink, concurrency=total, on_done=on_done, max_cost_usd=max_cost_usd,
                    on_article=on_article,
                )  # fmt: skip
            sink.close()
            if merge:
                sink.merge()
        finally:
            if sink is not None:
                sink.close()
            await extractor.aclose()
            if borrowed_cache:
                extractor.cache = None
            store.close()
    return summary
