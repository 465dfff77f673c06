"""Batch runs (`llm-extract run`): many articles, bounded concurrency, resumable, nothing finished lost.

"Batch" here is a run over many articles, live or replayed; the provider's Batch API is
`llm_extract.runs.batch_api`. Both write their results through the worker loop of this
module (`process`), into the same outputs (`RunSink`):

Articles are pulled lazily from an iterator by `concurrency` workers, so memory stays flat
however large the batch. Each finished article is committed to the SQLite store
(`OUTDIR/extract.db`, one transaction) and then appended to `OUTDIR/records.jsonl` (one
whole line, flushed); each failure goes to the store and to `OUTDIR/errors.jsonl` with its
reason. One article's failure never stops the batch. How an item becomes a result is a
`Worker`'s: `run_batch`'s extracts articles with the extractor; Batch API collect's extracts
an article from its downloaded answers (`batch_api.collect.AnswerWorker`).

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
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from llm_extract.core.articles import Article
from llm_extract.core.results import ArticleInfo, ArticleResult, CallRecord, Failure, Usage
from llm_extract.errors import InputError, LLMExtractError, ModelCallError, StoreError
from llm_extract.runs.outputs import ERRORS_FILE, RECORDS_FILE, STORE_FILE

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.core.task import Task
    from llm_extract.runs.store import EventStore

__all__ = [
    "ERRORS_FILE",
    "RECORDS_FILE",
    "STORE_FILE",
    "BatchSummary",
    "Failed",
    "JsonlAppender",
    "RunSink",
    "Skipped",
    "Waiting",
    "Worker",
    "cut_torn_line",
    "failure_of",
    "keys_in",
    "list_price",
    "now_iso",
    "process",
    "restore_records",
    "run_batch",
    "unexpected_failure",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


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


class RunSink:
    """Where a run's outcomes go: each result committed to the store first, then written as
    one line of `records.jsonl`; each failure to the store and to `errors.jsonl`; all of
    them counted in `summary`.

    Opening it resumes what an earlier run left: `done` holds the articles with a result in
    the store (and gets those committed since), and `records.jsonl` gets a torn last line
    cut and every committed result it lacks (a kill between the two writes). `force=True`
    starts `done` empty and rewrites `records.jsonl` from scratch. `errors.jsonl` lists this
    run's failures only. `cost` prices the calls of a failed article (a result carries its
    own cost). The store is opened, and closed, by the caller.
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
    ) -> None:
        self.store = store
        self.task = task
        self.summary = summary if summary is not None else BatchSummary()
        self.records_path = Path(out_dir) / RECORDS_FILE
        self._cost = cost
        self.done: set[str] = set() if force else store.done_keys()
        if not force:
            restore_records(store, self.records_path, self.done)
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

    def taken(self, key: str, *, redo: bool = False) -> bool:
        """Whether the article is done (and not to be redone) or being extracted: skip it."""
        return (key in self.done and not redo) or key in self.extracting

    async def commit(self, result: ArticleResult, calls: list[CallRecord], article: Article) -> None:
        """Store one result (in a thread: SQLite releases the GIL, the loop goes on), then its line."""
        assert self._records is not None, "the sink is closed"
        if article.sha256 in self.done:
            self.replaced += 1
        await asyncio.to_thread(self.store.add_result, result, calls=calls, extracted_at=now_iso(), text=article.text)
        self._records.write_line(result.model_dump_json())  # committed first, then the JSONL line
        self.done.add(article.sha256)
        self.summary.add_result(result, self.task.counts(result))

    def fail(self, failure: Failure, calls: list[CallRecord] | None = None) -> None:
        """Record one failure (with the calls it made, logged and counted)."""
        assert self._errors is not None, "the sink is closed"
        calls = calls or []
        self.summary.failures.append(failure)
        self.summary.add_failed_calls(calls, self._cost)
        self.store.add_failure(failure, calls=calls, at=now_iso())
        self._errors.write(failure.model_dump(mode="json"))

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
) -> None:
    """Run every item through `worker` into `sink`, `concurrency` at a time: the one worker loop.

    Items are pulled lazily from one shared iterator, so each goes to exactly one worker.
    An article already done (unless the worker redoes the item) or in flight is skipped, so
    none is extracted twice. A result is committed to the store, then written to
    records.jsonl; a failure (an `LLMExtractError`, or any other exception: a bug must not
    stop the run or lose other results) is recorded with the calls it made.
    `on_done` is called after each item; once the summary's cost reaches `max_cost_usd`,
    no new item is started (those in flight finish).
    """
    iterator = iter(items)
    summary = sink.summary

    async def one(item: T | Skipped | Waiting | Failed) -> None:
        summary.articles += 1
        if isinstance(item, Failed):
            sink.fail(item.failure)
            return
        if isinstance(item, Skipped):
            summary.skipped += 1
            return
        if isinstance(item, Waiting):
            return
        article = worker.article(item)
        key = article.sha256
        if sink.taken(key, redo=worker.redo(item)):
            summary.skipped += 1
            return
        sink.extracting.add(key)
        calls: list[CallRecord] = []
        try:
            result = await worker.extract(item, calls)
        except LLMExtractError as exc:
            sink.fail(failure_of(article, exc), calls)
        except Exception as exc:  # a bug must not stop the run or lose other results
            log.exception("unexpected error on %s", article.source)
            sink.fail(unexpected_failure(article, exc), calls)
        else:
            await sink.commit(result, calls, article)
            worker.committed(item, result, calls)
        finally:
            sink.extracting.discard(key)

    async def loop() -> None:
        for item in iterator:  # shared iterator: each item goes to exactly one worker
            await one(item)
            if on_done is not None:
                on_done(summary)
            if max_cost_usd is not None and summary.cost_usd >= max_cost_usd:
                if not summary.budget_stopped:
                    log.warning(
                        "estimated cost $%.4f reached --max-cost $%.4f: no new articles", summary.cost_usd, max_cost_usd
                    )
                summary.budget_stopped = True
                return

    async with asyncio.TaskGroup() as group:
        for _ in range(max(concurrency, 1)):
            group.create_task(loop())


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
    task = extractor.task
    store = EventStore(out_dir / STORE_FILE, tables=task.tables, task=task.name)
    if store.task not in (None, task.name):
        store.close()
        raise StoreError(
            f"{out_dir} holds results of the task {store.task!r}, not {task.name!r}: use another directory"
        )
    borrowed_cache = extractor.cache is None
    if borrowed_cache:
        await extractor.aclose()  # a client made before has no cache: the next one will
        extractor.cache = store  # a rerun never pays twice for the same request
    summary = BatchSummary()
    sink: RunSink | None = None
    try:
        if extractor.prompts.system:
            store.save_prompt(extractor.prompts.version, extractor.prompts.system)
        sink = RunSink(store, out_dir, task, cost=list_price(extractor), force=force, summary=summary)
        inputs = (Failed(failure_of(item, item)) if isinstance(item, InputError) else item for item in items)
        await process(
            inputs, Worker[Article](extractor), sink, concurrency=concurrency or extractor.settings.concurrency,
            on_done=on_done, max_cost_usd=max_cost_usd,
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
