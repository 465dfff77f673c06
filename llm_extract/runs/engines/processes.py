"""Worker processes: one run's articles spread over N processes, with one writer.

`ProcessWorker` is a `Worker` of the one worker loop (`llm_extract.runs.runner.process`):
the loop, its `RunSink` (store, records.jsonl, errors.jsonl), the summary, the progress
display and `max_cost_usd` stay in this process, the parent; only the extraction (prompts,
model calls, validation, reasks, retries, the task's build) runs in N children, each with
its own event loop, openai client and limiter. So every guarantee of a one-process run
holds as it is: one writer, a result in the store before its line, resume from the store.

- **Children** are `python -c` processes of the same interpreter (a fresh start, like
  multiprocessing's `spawn`), with the parent's `sys.path` as `PYTHONPATH`. Each gets over
  its stdin the extractor's settings (the API key through the pipe only: never on a command
  line, in the environment or a log) and the task's registry spec (`Task.spec`, and its
  options), and builds its own `Extractor`. A task given as an object, an extractor with its
  own HTTP transport, or a response cache other than the run's store cannot cross
  processes: `ProcessWorker` refuses them (`ConfigError`) before starting anything.
- **The concurrency budget** is shared: child i gets `concurrency // N` (+1 for the first
  `concurrency % N`) as its own concurrency; the parent keeps `concurrency` articles in
  flight and sends each to the child with the least in flight per share. With fewer slots
  than workers, only `concurrency` children are started.
- **Messages** are length-prefixed pickles over the child's stdin / stdout (a private pipe
  between two processes of one program; the child's stdout is moved to stderr, so a stray
  print never corrupts a frame): a result as the task's result object and its `CallRecord`s;
  a failure as its `llm_extract.errors` class, message, kind and attributes, rebuilt as the
  same error (any other exception as itself, the child's traceback as a note). The
  children's log records are logged by the parent (`-v`, `-q` and its handlers apply).
- **The response cache** is the run's store: in live mode a child reads the calls log
  through its own read-only SQLite connection (WAL: never blocking the parent's writes).
- **A child that dies** (SIGKILL, OOM, a native crash): the parent sees its pipe end, starts
  another in its place, and sends each article it had in flight once more. An article whose
  second child dies too fails (`WorkerDiedError`, kind `worker_died`); the run goes on. The
  calls a dead child made for unfinished articles die with it (as in a killed one-process
  run): not in the calls log, asked again by the redo.
- **The parent dying** (SIGKILL included): a child sees its input end (and checks
  `os.getppid()` every second) and exits at once, writing nothing: the next run resumes.
  Children ignore SIGINT (Ctrl-C reaches the process group): the parent stops them, by
  closing their input, then killing what is left after `stop_timeout_s`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import sqlite3
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from llm_extract.core.articles import Article
from llm_extract.core.results import ArticleResult, CallRecord
from llm_extract.errors import ConfigError, LLMExtractError, WorkerDiedError
from llm_extract.runs.engines import CombinedLimits, error_state, rebuild_error
from llm_extract.runs.runner import Worker

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor

__all__ = ["ProcessWorker", "WorkerDiedError", "child_main", "process_spec", "shares"]

log = logging.getLogger(__name__)

#: how a child is started: `python -c` of this, so that nothing runs under `__main__` twice
_CHILD_CODE = "from llm_extract.runs.engines.processes import child_main; child_main()"
_HEADER = struct.Struct("!Q")
_MAX_FRAME = 1 << 34
#: stream buffer of each pipe (a frame may be bigger: it is read in parts)
_BUFFER = 1 << 20
#: the response cache's query (`EventStore.cached_response`): answers paid for, validated
_CACHED = (
    "SELECT response_json FROM calls WHERE request_hash = ? AND response_json IS NOT NULL"
    " AND outcome IN ('ok', 'ok (cached)') AND error IS NULL ORDER BY id DESC LIMIT 1"
)


def shares(concurrency: int, workers: int) -> list[int]:
    """Each child's part of `concurrency` (at most `concurrency` children, each at least 1)."""
    n = max(1, min(workers, concurrency))
    return [concurrency // n + (1 if i < concurrency % n else 0) for i in range(n)]


def process_spec(extractor: Extractor[Any]) -> dict[str, Any]:
    """What a child needs to build the same extractor; `ConfigError` if it cannot be sent."""
    from llm_extract.runs.store import EventStore

    task = extractor.task
    if not task.spec or task.spec.startswith("__main__:"):
        raise ConfigError(
            f"the task {task.name!r} was given as an object, not by name or module:attribute, so worker processes "
            "cannot load it: give it by name (a built-in or an installed task) or as an importable module:attribute "
            "(not one of __main__), or run with one worker"
        )
    if extractor.transport is not None:
        raise ConfigError("an extractor with its own HTTP transport cannot be sent to worker processes: use one worker")
    cache = extractor.cache
    if cache is not None and not (isinstance(cache, EventStore) and cache.path is not None):
        raise ConfigError("worker processes can only share the run's store as the response cache: use one worker")
    settings = extractor.settings
    values = settings.model_dump()
    values["api_key"] = settings.api_key.get_secret_value() if settings.api_key else None
    values["mode"] = extractor.mode
    options = task.option_values.model_dump(mode="json") if task.option_values is not None else None
    return {"settings": values, "task": task.spec, "options": options, "parent": os.getpid(), "levels": _log_levels(),
            "cache": str(cache.path) if isinstance(cache, EventStore) else None}  # fmt: skip


def _log_levels() -> dict[str, int]:
    """The root's effective level and every logger's own level: the children log the same."""
    levels = {"": logging.getLogger().getEffectiveLevel()}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels[name] = logger.level
    return levels


def _frame(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > _MAX_FRAME:
        raise ConnectionError(f"a frame of {size} bytes: the pipe is out of step")
    return pickle.loads(await reader.readexactly(size))  # noqa: S301 - our own child, over a private pipe


def _exit_reason(returncode: int | None) -> str:
    if returncode is None or returncode >= 0:
        return "closed its pipe" if returncode is None else f"exited with code {returncode}"
    names = {int(s): s.name for s in signal.Signals}
    return f"was killed by {names.get(-returncode, f'signal {-returncode}')}"


# -- the parent's side ---------------------------------------------------------------------------


@dataclass
class _Pending:
    """One article sent to a child, until its answer: `deaths` are the children that died with it."""

    article: Article
    future: asyncio.Future[tuple[bool, Any, list[CallRecord]]]
    deaths: list[str] = field(default_factory=list)
    #: the child it was last sent to, and that child's limit on calls in flight when it answered
    child: int | None = None
    limit: int | None = None


@dataclass
class _Child:
    index: int
    share: int
    process: asyncio.subprocess.Process
    stdin: asyncio.StreamWriter
    stdout: asyncio.StreamReader
    pending: dict[int, _Pending] = field(default_factory=dict)
    ready: bool = False
    reader: asyncio.Task[None] | None = None

    @property
    def load(self) -> float:
        return len(self.pending) / self.share


class ProcessWorker(Worker[Article]):
    """Extracts articles in `workers` child processes (see the module); use it as an async
    context manager around `process(...)` (or call `start` and `aclose`).

    `concurrency` (default: the extractor's) is the budget the children share. The
    extractor's `cache` must be None or the run's `EventStore` (set it before making the
    worker, as `run_batch` does). `note` is told, in one line, of each child that dies
    (default: a logged warning). `died`, `restarted` and `resent` count what happened.
    """

    def __init__(
        self, extractor: Extractor[Any], *, workers: int, concurrency: int | None = None,
        note: Callable[[str], None] | None = None, start_timeout_s: float = 300.0, stop_timeout_s: float = 10.0,
        limits: CombinedLimits | None = None,
    ) -> None:  # fmt: skip
        super().__init__(extractor)
        self.concurrency = concurrency or extractor.settings.concurrency
        self.shares = shares(self.concurrency, workers)
        #: the calls in flight the children allow together (each says its limit with each result)
        self.limits = limits or CombinedLimits()
        self.limits.start(dict(enumerate(self.shares)))
        self._spec = process_spec(extractor)
        self._note = note or log.warning
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._children: list[_Child | None] = [None] * len(self.shares)
        self._spawning: set[asyncio.Task[None]] = set()
        self._changed: asyncio.Condition | None = None
        self._started = False
        self._closing = False
        self._broken: str | None = None
        self._next_id = 0
        self.died = self.restarted = self.resent = 0
        from llm_extract.model.secrets import register_secrets, split_credentials

        # the parent makes no client, yet its store and logs must redact what the children send
        settings = extractor.settings
        _, user, password = split_credentials(settings.base_url)
        register_secrets(settings.api_key.get_secret_value() if settings.api_key else None, user=user, password=password)

    @property
    def workers(self) -> int:
        """How many child processes run (at most the concurrency)."""
        return len(self.shares)

    def pids(self) -> list[int]:
        """The process ids of the children running now."""
        return [c.process.pid for c in self._children if c is not None and c.process.returncode is None]

    async def __aenter__(self) -> ProcessWorker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Start every child and wait until each is ready; `ConfigError` if one cannot start."""
        if self._started:
            return
        self._started = True
        self._changed = asyncio.Condition()
        outcomes = await asyncio.gather(*(self._spawn(i) for i in range(self.workers)), return_exceptions=True)
        problems = [o for o in outcomes if isinstance(o, BaseException)]
        if problems:
            await self.aclose()
            if not isinstance(problems[0], Exception):
                raise problems[0]
            raise ConfigError(f"worker processes could not start: {problems[0]}") from None
        log.info("%d worker processes (pids %s), concurrency %s", self.workers, self.pids(), "+".join(map(str, self.shares)))

    async def _spawn(self, index: int) -> None:
        """Start child `index`, send it the spec, and wait for it to say it is ready."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD_CODE, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=env, limit=_BUFFER,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        child = _Child(index, self.shares[index], process, process.stdin, process.stdout)
        try:
            child.stdin.write(_frame(("hello", {**self._spec, "concurrency": child.share, "index": index})))
            await child.stdin.drain()
            answer = await asyncio.wait_for(_read_frame(child.stdout), self._start_timeout_s)
        except BaseException as exc:
            await self._stop(child, kill=True)
            if isinstance(exc, asyncio.IncompleteReadError | ConnectionError):
                raise LLMExtractError(f"worker process {index} {_exit_reason(process.returncode)} on start") from None
            if isinstance(exc, TimeoutError):
                raise LLMExtractError(f"worker process {index} not ready after {self._start_timeout_s:g} s") from None
            raise
        if answer[0] != "ready":
            await self._stop(child, kill=True)
            raise LLMExtractError(f"worker process {index}: {answer[1]}")
        expected = (self.extractor.task.name, self.extractor.prompts.version, self.extractor.mode)
        found = (answer[1]["task"], answer[1]["prompt_version"], answer[1]["mode"])
        if found != expected:
            await self._stop(child, kill=True)
            raise LLMExtractError(f"worker process {index} loaded task, prompt, mode {found}, not {expected}")
        child.ready = True
        child.reader = asyncio.create_task(self._read(child))
        self._children[index] = child
        await self._tell()

    async def _tell(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def extract(self, item: Article, calls: list[CallRecord]) -> ArticleResult:
        """Send the article to a child and wait for its answer (the calls it made go to `calls`)."""
        if not self._started:
            await self.start()
        article = self.article(item)
        pending = _Pending(article, asyncio.get_running_loop().create_future())
        await self._send(pending)
        ok, payload, child_calls = await pending.future
        calls.extend(child_calls)
        if pending.child is not None:
            self.limits.observe(pending.child, pending.limit)
        if not ok:
            raise rebuild_error(payload)
        result: ArticleResult = payload
        return result

    async def _send(self, pending: _Pending) -> None:
        """Send to the ready child with the least load per share (waiting for one if none is ready)."""
        assert self._changed is not None
        if not self._ready():
            async with self._changed:
                await self._changed.wait_for(lambda: self._ready() or self._broken is not None or self._closing)
        ready = self._ready()
        if not ready:
            if not pending.future.done():
                reason = self._broken or "the worker processes are stopping"
                pending.future.set_exception(WorkerDiedError(f"{pending.article.source}: not extracted: {reason}"))
            return
        child = min(ready, key=lambda c: c.load)
        self._next_id += 1
        child.pending[self._next_id] = pending
        pending.child = child.index
        a = pending.article
        child.stdin.write(_frame(("extract", self._next_id, (a.text, a.source, a.id, a.published, a.url, a.title))))
        try:
            await child.stdin.drain()
        except ConnectionError:
            pass  # the child died: its reader sees the end of the pipe, and sends the article again

    def _ready(self) -> list[_Child]:
        return [c for c in self._children if c is not None and c.ready]

    async def _read(self, child: _Child) -> None:
        """Answers and log records from one child, until its pipe ends; then what its death needs."""
        try:
            while True:
                message = await _read_frame(child.stdout)
                if message[0] == "log":
                    _relay(message[1], message[2], message[3])
                    continue
                pending = child.pending.pop(message[1], None)
                if pending is None or pending.future.done():
                    continue
                try:
                    payload, calls, pending.limit = pickle.loads(message[2])  # noqa: S301 - our own child's pipe
                except Exception as exc:  # noqa: BLE001 - that article fails, the others go on
                    error = LLMExtractError(f"{pending.article.source}: the worker's answer cannot be read: {exc}")
                    pending.future.set_exception(error)
                    continue
                pending.future.set_result((message[0] == "done", payload, calls))
        except (asyncio.IncompleteReadError, ConnectionError, pickle.UnpicklingError, EOFError) as exc:
            if not isinstance(exc, asyncio.IncompleteReadError):
                log.error("worker process %d: the pipe is broken (%s): stopping it", child.index, exc)
        child.ready = False
        if self._closing:
            return
        await self._lost(child)

    async def _lost(self, child: _Child) -> None:
        """A child died: start another in its place, and send its articles once more (or fail them)."""
        await self._stop(child, kill=True)
        if self._closing:
            return
        how = _exit_reason(child.process.returncode)
        orphans = [p for p in child.pending.values() if not p.future.done()]
        child.pending.clear()
        self.died += 1
        self._note(
            f"worker process {child.index} (pid {child.process.pid}) {how} with {len(orphans)} article(s) in flight: "
            "starting another, and sending each of them once more"
        )
        respawn = asyncio.create_task(self._respawn(child.index, how))
        self._spawning.add(respawn)
        respawn.add_done_callback(self._spawning.discard)
        for pending in orphans:
            pending.deaths.append(f"pid {child.process.pid} {how}")
            if len(pending.deaths) >= 2:
                pending.future.set_exception(
                    WorkerDiedError(
                        f"{pending.article.source}: the worker processes extracting it died twice "
                        f"({'; then '.join(pending.deaths)}): not sent a third time (run again to retry it)"
                    )
                )
            else:
                self.resent += 1
                await self._send(pending)

    async def _respawn(self, index: int, how: str) -> None:
        self._children[index] = None
        if self._closing:
            return
        try:
            await self._spawn(index)
        except Exception as exc:  # noqa: BLE001 - the others go on; with none left, the run's articles fail
            log.error("worker process %d could not be started again: %s", index, exc)
            if not any(c is not None and c.ready for c in self._children) and len(self._spawning) <= 1:
                self._broken = f"no worker process is running (the last one {how}; another could not start: {exc})"
            await self._tell()
            return
        self.restarted += 1

    async def _stop(self, child: _Child, *, kill: bool = False) -> None:
        """End a child: close its input (it then exits by itself), wait, and kill it if it lingers
        (`kill`: after 1 s). Never kills a child that may have exited: `Popen.kill` would reap
        it, and the event loop's child watcher then reports exit code 255, not how it ended."""
        child.ready = False
        if not child.stdin.is_closing():
            child.stdin.close()
        if child.process.returncode is None:
            try:
                await asyncio.wait_for(child.process.wait(), 1.0 if kill else self._stop_timeout_s)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()

    async def aclose(self) -> None:
        """Stop every child (in flight articles are abandoned: the caller is stopping)."""
        self._closing = True
        for task in list(self._spawning):
            task.cancel()
        await asyncio.gather(*self._spawning, return_exceptions=True)
        children = [c for c in self._children if c is not None]
        await asyncio.gather(*(self._stop(c) for c in children), return_exceptions=True)
        for child in children:
            if child.reader is not None:
                child.reader.cancel()
            for pending in child.pending.values():
                if not pending.future.done():
                    pending.future.cancel()
        await asyncio.gather(*(c.reader for c in children if c.reader is not None), return_exceptions=True)
        if self._changed is not None:
            await self._tell()


def _relay(level: int, name: str, text: str) -> None:
    """Log, here, a record a child logged (the parent's levels and handlers decide)."""
    logger = logging.getLogger(name)
    if logger.isEnabledFor(level):
        logger.log(level, "%s", text)


# -- the child's side ----------------------------------------------------------------------------


class _CallsLog:
    """The run's calls log as a response cache, read-only (`EventStore.cached_response`'s query)."""

    def __init__(self, path: Path) -> None:
        self._uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        self._conn: sqlite3.Connection | None = None

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        import json

        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self._uri, uri=True, timeout=30.0, check_same_thread=False)
            row = self._conn.execute(_CACHED, (request_hash,)).fetchone()
        except sqlite3.Error as exc:
            log.debug("the calls log cannot be read as a cache (%s): asking the model", exc)
            return None
        answer: dict[str, Any] | None = json.loads(row[0]) if row else None
        return answer

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class _ToParent(logging.Handler):
    """Sends each log record to the parent, as one frame (from any thread)."""

    def __init__(self, writer: asyncio.StreamWriter, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._writer, self._loop, self._thread = writer, loop, threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if self._writer.transport.is_closing():
            return  # the parent is gone (and asyncio's own warning about it must not loop back here)
        try:
            frame = _frame(("log", record.levelno, record.name, self.format(record)))
            if threading.get_ident() == self._thread:
                self._writer.write(frame)
            else:
                self._loop.call_soon_threadsafe(self._writer.write, frame)
        except Exception:  # noqa: BLE001 - logging must never stop an extraction
            self.handleError(record)


def child_main() -> None:
    """A worker process: frames on the standard input and output it was started with."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the parent stops us
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # a stray print goes to stderr, never into a frame
    asyncio.run(_child(read_fd, write_fd))


async def _child(read_fd: int, write_fd: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_BUFFER)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", 0))
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, os.fdopen(write_fd, "wb", 0))
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    try:
        _, spec = await _read_frame(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        return
    handler = _ToParent(writer, loop)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=spec["levels"].get("", logging.WARNING), handlers=[handler], force=True)
    for name, level in spec["levels"].items():
        if name:
            logging.getLogger(name).setLevel(level)
    try:
        extractor = _extractor(spec)
    except Exception as exc:  # noqa: BLE001 - told to the parent, which stops the run
        writer.write(_frame(("fatal", f"{type(exc).__name__}: {exc}")))
        await writer.drain()
        return
    info = {"pid": os.getpid(), "task": extractor.task.name, "prompt_version": extractor.prompts.version,
            "mode": extractor.mode}  # fmt: skip
    writer.write(_frame(("ready", info)))
    running: set[asyncio.Task[None]] = set()
    serve = asyncio.create_task(_serve(reader, writer, extractor, running))
    watch = asyncio.create_task(_watch_parent(spec["parent"]))
    try:
        await asyncio.wait({serve, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # our input ended (the parent stopped us, or died): stop at once, writing nothing
        for task in (*running, serve, watch):
            task.cancel()
        await asyncio.gather(*running, serve, watch, return_exceptions=True)
        try:
            await asyncio.wait_for(extractor.aclose(), 5.0)
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
        if isinstance(extractor.cache, _CallsLog):
            extractor.cache.close()


def _extractor(spec: dict[str, Any]) -> Extractor[Any]:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.core.registry import load_task
    from llm_extract.settings import ExtractorSettings

    settings = ExtractorSettings(**{**spec["settings"], "concurrency": spec["concurrency"]})
    task = load_task(spec["task"]).configure(spec["options"])
    cache = _CallsLog(Path(spec["cache"])) if spec["cache"] else None
    return Extractor(settings=settings, task=task, cache=cache)


async def _watch_parent(parent: int) -> None:
    """Returns when the parent is gone (its pipe's end is the usual sign; this one is a backstop)."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)


async def _serve(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, extractor: Extractor[Any], running: set[asyncio.Task[None]]
) -> None:
    while True:
        try:
            message = await _read_frame(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        if message[0] == "extract":
            task = asyncio.create_task(_one(writer, extractor, message[1], message[2]))
            running.add(task)
            task.add_done_callback(running.discard)


async def _one(writer: asyncio.StreamWriter, extractor: Extractor[Any], rid: int, fields: tuple[Any, ...]) -> None:
    text, source, id_, published, url, title = fields
    calls: list[CallRecord] = []
    ok = False
    payload: Any
    try:
        article = Article(text=text, source=source, id=id_, published=published, url=url, title=title)
        payload = await extractor.aextract(article, calls=calls)
        ok = True
    except Exception as exc:  # noqa: BLE001 - every failure goes to the parent, which records it
        payload = error_state(exc)
    try:
        blob = pickle.dumps((payload, calls, extractor.limiter.current_limit), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - that article fails, the others go on
        ok = False
        unsent = LLMExtractError(f"{source}: the result cannot be sent to the parent process: {exc}")
        blob = pickle.dumps((error_state(unsent), calls, None), protocol=pickle.HIGHEST_PROTOCOL)
    writer.write(_frame(("done" if ok else "failed", rid, blob)))
    try:
        await writer.drain()
    except ConnectionError:
        pass  # the parent is gone: the serve loop sees the end of its input
