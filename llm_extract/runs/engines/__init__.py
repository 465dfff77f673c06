"""How a run's articles are extracted: in this process (the runner's `Worker`), spread over
worker processes (`processes.ProcessWorker`), or over a Ray cluster (`ray.RayWorker`),
always through the one worker loop (`llm_extract.runs.runner.process`) and its one writer
(`RunSink`).

- `resolve_workers("auto" | N)`: the number of worker processes (`auto`: the cores this
  process may run on);
- `error_state(exc)` / `rebuild_error(state)`: a failure carried to another process and raised
  there as the same error (class, message, kind, attempts, last output);
- `ProcessEngine(workers=N)`: the `llm_extract.runs.runner.Engine` of `--workers N`, for
  `run_batch(..., engine=)` (or with a `ProcessWorker` already started, `pool=`, whose
  children then outlive the run: benchmarks, a service running batch after batch);
  `run_batch_in_processes(extractor, items, out_dir, workers=N)` is `run_batch` with it;
- `ray.RayEngine`: the engine of `--engine ray` (the `ray` extra).
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract import errors
from llm_extract.errors import ConfigError, LLMExtractError

if TYPE_CHECKING:
    from llm_extract.core.articles import Article
    from llm_extract.core.pipeline import Extractor
    from llm_extract.errors import InputError
    from llm_extract.runs.engines.processes import ProcessWorker
    from llm_extract.runs.runner import BatchSummary, RunSink

__all__ = [
    "CombinedLimits", "ProcessEngine", "available_cores", "error_state", "rebuild_error", "resolve_workers",
    "run_batch_in_processes",
]  # fmt: skip

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


class CombinedLimits:
    """The calls in flight an engine's workers allow together: the sum of each worker's adaptive
    limit, as each last said with a result (it starts at each worker's share of the
    concurrency). What the progress bar and the run's summary show, like a limiter's
    `current_limit`, `min_seen` and `max_seen`."""

    adaptive = True

    def __init__(self) -> None:
        self._limits: dict[object, int] = {}
        self.current_limit = self.min_seen = self.max_seen = 0

    def start(self, shares: dict[object, int]) -> None:
        """A run's workers and their shares: the limits start there."""
        self._limits = dict(shares)
        self.current_limit = self.min_seen = self.max_seen = sum(shares.values())

    def observe(self, worker: object, limit: int | None) -> None:
        """`worker` said its limit is now `limit` (None: it did not say)."""
        if limit is None or worker not in self._limits:
            return
        self._limits[worker] = limit
        self.current_limit = sum(self._limits.values())
        self.min_seen = min(self.min_seen, self.current_limit)
        self.max_seen = max(self.max_seen, self.current_limit)


class ProcessEngine:
    """Articles extracted by worker processes (`--workers N`): `workers` children (`auto`: the
    cores), `concurrency` shared among them, started for each run and stopped at its end; or
    `pool`, a `ProcessWorker` started already, used as it is and left running (its children
    outlive the run: benchmarks, a service running batch after batch)."""

    def __init__(
        self, workers: int | str = 2, *, pool: ProcessWorker | None = None, note: Callable[[str], None] | None = None
    ) -> None:
        self.workers = resolve_workers(workers) if pool is None else pool.workers
        self.pool = pool
        self.note = note
        #: the calls in flight its processes allow, together (the last run's, once it started)
        self.limits = pool.limits if pool is not None else CombinedLimits()

    @asynccontextmanager
    async def worker(self, extractor: Extractor[Any], sink: RunSink, *, concurrency: int) -> AsyncIterator[ProcessWorker]:
        from llm_extract.runs.engines.processes import ProcessWorker

        del sink  # the children never see the output directory
        if self.pool is not None:
            await self.pool.start()
            yield self.pool
            return
        worker = ProcessWorker(extractor, workers=self.workers, concurrency=concurrency, note=self.note, limits=self.limits)
        async with worker as pool:
            yield pool


async def run_batch_in_processes(
    extractor: Extractor[Any],
    items: Iterable[Article | InputError],
    out_dir: Path,
    *,
    workers: int | str = 2,
    pool: ProcessWorker | None = None,
    concurrency: int | None = None,
    **options: Any,
) -> BatchSummary:
    """`llm_extract.runs.runner.run_batch` with `engine=ProcessEngine(workers, pool=pool)` (the
    pool's concurrency, when one is given and `concurrency` is not)."""
    from llm_extract.runs.runner import run_batch

    engine = ProcessEngine(workers, pool=pool, note=options.get("note"))
    total = concurrency or (pool.concurrency if pool is not None else None)
    return await run_batch(extractor, items, out_dir, concurrency=total, engine=engine, **options)
