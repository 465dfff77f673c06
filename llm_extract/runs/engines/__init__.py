"""How a run's articles are extracted: in this process (the runner's `Worker`), or spread over
worker processes (`processes.ProcessWorker`), always through the one worker loop
(`llm_extract.runs.runner.process`) and its one writer (`RunSink`).

- `resolve_workers("auto" | N)`: the number of worker processes (`auto`: the cores this
  process may run on);
- `error_state(exc)` / `rebuild_error(state)`: a failure carried to another process and raised
  there as the same error (class, message, kind, attempts, last output);
- `run_batch_in_processes(extractor, items, out_dir, workers=N)`: `run_batch` with the
  articles extracted by N processes (or by a `ProcessWorker` already started, `pool=`,
  whose children then outlive the run: benchmarks, a service running batch after batch).
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract import errors
from llm_extract.errors import ConfigError, LLMExtractError

if TYPE_CHECKING:
    from llm_extract.core.articles import Article
    from llm_extract.core.pipeline import Extractor
    from llm_extract.errors import InputError
    from llm_extract.runs.engines.processes import ProcessWorker
    from llm_extract.runs.runner import ArticleOutcome, BatchSummary

__all__ = ["available_cores", "error_state", "rebuild_error", "resolve_workers", "run_batch_in_processes"]

#: attributes of an `llm_extract.errors` instance carried across (whichever it has)
_ERROR_ATTRIBUTES = ("article", "attempts", "last_output", "status_code", "changes", "source", "problem")


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve_workers(value: int | str | None) -> int:
    """`--workers`: a whole number from 1, or `auto` (the cores); None is 1. `ConfigError` otherwise."""
    if value is None:
        return 1
    if isinstance(value, str) and value.strip().lower() == "auto":
        return available_cores()
    try:
        workers = int(value)
    except (TypeError, ValueError):
        workers = 0
    if workers < 1 or str(workers) != str(value).strip():
        raise ConfigError(f"workers: expected a whole number from 1, or auto, not {value!r}")
    return workers


def error_state(exc: BaseException) -> dict[str, Any]:
    """What rebuilds `exc` in another process (`rebuild_error`): its `llm_extract.errors` class (the
    nearest, for a task's own error), message, kind and attributes; any other exception pickled, if it
    pickles, with its traceback."""
    base = next((c for c in type(exc).__mro__ if getattr(errors, c.__name__, None) is c), None)
    state: dict[str, Any] = {"name": type(exc).__name__, "message": str(exc), "error": None, "pickled": None}
    if base is not None and issubclass(base, LLMExtractError):
        state["error"] = base.__name__
        state["kind"] = getattr(exc, "kind", base.kind)
        state["attributes"] = {k: getattr(exc, k) for k in _ERROR_ATTRIBUTES if hasattr(exc, k)}
        return state
    state["traceback"] = "".join(traceback.format_exception(exc)).rstrip()
    try:
        state["pickled"] = pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - then it is rebuilt by name and message
        state["pickled"] = None
    return state


def rebuild_error(state: dict[str, Any]) -> Exception:
    """The exception `error_state` describes: the same `llm_extract.errors` class, message, kind and
    attributes; or the same exception (else one of the same name and message), its traceback as a note."""
    if state["error"] is not None:
        cls: type[LLMExtractError] = getattr(errors, state["error"])
        error = cls.__new__(cls)
        Exception.__init__(error, state["message"])
        for name, value in state["attributes"].items():
            setattr(error, name, value)
        if state["kind"] != cls.kind:
            error.kind = state["kind"]
        return error
    rebuilt: Exception | None = None
    if state["pickled"] is not None:
        try:
            loaded = pickle.loads(state["pickled"])  # noqa: S301 - our own child, over a private pipe
            rebuilt = loaded if isinstance(loaded, Exception) else None
        except Exception:  # noqa: BLE001 - an exception that does not unpickle: rebuilt by name
            rebuilt = None
    if rebuilt is None:
        rebuilt = type(state["name"], (Exception,), {})(state["message"])
    rebuilt.add_note(f"in a worker process:\n{state['traceback']}")
    return rebuilt


async def run_batch_in_processes(
    extractor: Extractor[Any],
    items: Iterable[Article | InputError],
    out_dir: Path,
    *,
    workers: int | str = 2,
    pool: ProcessWorker | None = None,
    concurrency: int | None = None,
    force: bool = False,
    max_cost_usd: float | None = None,
    merge: bool = True,
    on_done: Callable[[BatchSummary], None] | None = None,
    on_article: Callable[[ArticleOutcome], None] | None = None,
    note: Callable[[str], None] | None = None,
    summary: BatchSummary | None = None,
) -> BatchSummary:
    """`llm_extract.runs.runner.run_batch`, the articles extracted by worker processes.

    The same outputs, lock, resume, cost budget and summary as `run_batch` (this is its
    body with `ProcessWorker` for `Worker`). `workers` processes are started for the run,
    with `concurrency` (default: the extractor's) shared among them, and stopped at its
    end; or give `pool`, started already, and it is used as it is (its children's response
    cache is what it was started with).
    """
    import logging

    from llm_extract.errors import InputError, StoreError
    from llm_extract.runs.engines.processes import ProcessWorker
    from llm_extract.runs.lock import hold_output
    from llm_extract.runs.runner import STORE_FILE, BatchSummary, Failed, RunSink, failure_of, list_price, process
    from llm_extract.runs.store import EventStore

    say = note or logging.getLogger("llm_extract.runs.runner").warning
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summary if summary is not None else BatchSummary()
    task = extractor.task
    db = out_dir / STORE_FILE
    total = concurrency or (pool.concurrency if pool is not None else extractor.settings.concurrency)
    with hold_output(out_dir, say=say):
        if not db.exists():
            for leftover in (Path(f"{db}-wal"), Path(f"{db}-shm")):
                leftover.unlink(missing_ok=True)
        store = EventStore(db, tables=task.tables, task=task.name, task_spec=task.spec)
        if store.task not in (None, task.name):
            recorded = store.task
            store.close()
            raise StoreError(f"{out_dir} holds results of the task {recorded!r}, not {task.name!r}: use another one")
        borrowed_cache = extractor.cache is None and pool is None
        if borrowed_cache:
            extractor.cache = store  # the children read the calls log: a rerun never pays twice
        sink: RunSink | None = None
        try:
            worker = pool or ProcessWorker(extractor, workers=resolve_workers(workers), concurrency=total, note=say)
            if extractor.prompts.system:
                store.save_prompt(extractor.prompts.version, extractor.prompts.system)
            sink = RunSink(store, out_dir, task, cost=list_price(extractor), force=force, summary=summary, note=note)
            inputs = (Failed(failure_of(item, item)) if isinstance(item, InputError) else item for item in items)
            try:
                await worker.start()
                await process(
                    inputs, worker, sink, concurrency=total, on_done=on_done, max_cost_usd=max_cost_usd,
                    on_article=on_article,
                )  # fmt: skip
            finally:
                if pool is None:
                    await worker.aclose()
            sink.close()
            if merge:
                sink.merge()
        finally:
            if sink is not None:
                sink.close()
            if borrowed_cache:
                extractor.cache = None
            store.close()
    return summary
