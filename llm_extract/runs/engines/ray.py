"""The Ray engine: the same extraction over a Ray cluster (`llm-extract run --engine ray`).

An `llm_extract.runs.runner.Engine`: `run_batch(..., engine=RayEngine(...))`.
`pip install 'llm-extract[ray]'` (plain `ray`: Ray Core, no dashboard, no Ray Data). The
driver reads the articles and sends each to a pool of Ray actors (`ExtractorActor`: an
`Extractor` with its own HTTP client and its share of `concurrency`); an actor sends back
the result (JSON) and its calls, the driver validates the result with the task's
`result_model`, and the one worker loop (`llm_extract.runs.runner.process`) commits it.
The driver is the single writer of the store and `records.jsonl`: the output directory is
a local run's and resumes the same way; in live mode the driver looks up each article's
first requests in the store's response cache, so a `--force` rerun pays nothing twice.

A failure in an actor is raised again on the driver as itself (`error_state` /
`rebuild_error`, as for worker processes): the same `LLMExtractError` (class, message,
kind, attempts), or any other exception with the actor's traceback as a note. An actor
that dies (killed, OOM, its node lost) is restarted by Ray (`max_restarts`) and each
article it had in flight is extracted again, once; dying a second time, the article fails
(`worker_died`; a rerun retries it). The calls a dead actor made are lost with it (not in
the calls log).

The cluster: `address` (`auto`, `HOST:6379`; default: env `RAY_ADDRESS`, else a local Ray
with all the machine's CPUs, stopped at the end). Every node needs the same llm-extract
(checked: version, prompt version) and the paths a run reads or writes outside the output
directory (`--replay-dir`, `--prices`) on a filesystem it sees. Actors load the task by
name or `module:attribute` (else it is pickled) and get the API key as a constructor
argument (in Ray's memory, never in a log or file). Ray is imported only when a run starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract.core.articles import Article
from llm_extract.core.results import ArticleResult, CallRecord
from llm_extract.errors import ConfigError, LLMExtractError, WorkerDiedError
from llm_extract.runs.engines import CombinedLimits, error_state, rebuild_error
from llm_extract.runs.runner import Worker

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.runs.runner import RunSink

__all__ = ["ExtractorActor", "RayEngine", "RayWorker", "WorkerDiedError", "require_ray"]

log = logging.getLogger(__name__)

#: what `pip install` needs for this engine
INSTALL_HINT = "pip install 'llm-extract[ray]'"


def require_ray() -> Any:
    """The `ray` module, or a `ConfigError` saying how to install it."""
    try:
        import ray  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise ConfigError(f"the Ray engine needs Ray: {INSTALL_HINT}") from None
    return ray


def _package_version() -> str:
    with suppress(PackageNotFoundError):
        return version("llm-extract")
    return "unknown"  # pragma: no cover (a source tree on sys.path)


#: what an actor answers: status, the result JSON or the error's state, the calls (JSON), its limit
_Answer = tuple[str, Any, list[str], int | None]


# -- the actor -------------------------------------------------------------------------
class _PrefetchedCache:
    """The store's cached answers for the articles in flight in one actor (sent by the driver).

    Two articles in flight never share a first request (the same request is the same text,
    the same article, never in flight twice); if two did, the second would only be asked."""

    def __init__(self) -> None:
        self._answers: dict[str, dict[str, Any]] = {}

    def add(self, answers: dict[str, dict[str, Any]]) -> None:
        self._answers.update(answers)

    def drop(self, answers: dict[str, dict[str, Any]]) -> None:
        for key in answers:
            self._answers.pop(key, None)

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        return self._answers.get(request_hash)


class ExtractorActor:
    """One Ray actor (made remote by `RayEngine`): an `Extractor` of the driver's settings, key
    and task, `concurrency` articles at a time. Nothing it raises leaves it: failures are
    carried back (`llm_extract.runs.engines.error_state`); one that cannot be built says why in `ready`."""

    def __init__(self, settings: dict[str, Any], secret: str | None, task: Any, options: Any, concurrency: int) -> None:
        self._cache = _PrefetchedCache()
        self._problem: str | None = None
        self._extractor: Extractor[Any] | None = None
        try:
            from llm_extract.core.pipeline import Extractor
            from llm_extract.core.registry import load_task
            from llm_extract.settings import ExtractorSettings

            chosen = load_task(task).configure(options) if isinstance(task, str) else task
            values = {**settings, "api_key": secret, "concurrency": concurrency}
            self._extractor = Extractor(settings=ExtractorSettings(**values), task=chosen, cache=self._cache)
        except Exception as exc:  # noqa: BLE001 - told to the driver by `ready`, in one line
            self._problem = str(exc) if isinstance(exc, LLMExtractError) else f"{type(exc).__name__}: {exc}"

    async def ready(self) -> dict[str, Any]:
        """Who this actor is (pid, host, versions), and the problem that stops it, if any."""
        prompt = self._extractor.prompts.version if self._extractor is not None else None
        return {"pid": os.getpid(), "host": socket.gethostname(), "version": _package_version(),
                "prompt_version": prompt, "problem": self._problem}  # fmt: skip

    async def extract(self, article: Article, cached: dict[str, dict[str, Any]]) -> _Answer:
        """("ok", result JSON, calls, limit) or ("failed", `error_state` of the exception, calls,
        limit); calls as `CallRecord` JSON, limit: this actor's on calls in flight now. Any
        exception is carried back: a bug is the driver's failure to record."""
        if self._extractor is None:
            return "failed", error_state(ConfigError(f"the Ray worker cannot extract: {self._problem}")), [], None
        calls: list[CallRecord] = []
        self._cache.add(cached)
        try:
            result = await self._extractor.aextract(article, calls=calls)
        except Exception as exc:  # noqa: BLE001 - raised again on the driver (`rebuild_error`)
            return "failed", error_state(exc), [c.model_dump_json() for c in calls], self._limit()
        finally:
            self._cache.drop(cached)
        return "ok", result.model_dump_json(), [c.model_dump_json() for c in calls], self._limit()

    def _limit(self) -> int | None:
        return self._extractor.limiter.current_limit if self._extractor is not None else None

    async def close(self) -> None:
        if self._extractor is not None:
            await self._extractor.aclose()


# -- the driver's pool of actors -------------------------------------------------------
@dataclass
class _Slot:
    handle: Any
    info: dict[str, Any]
    #: its part of the run's concurrency (its `max_concurrency`)
    share: int = 1
    in_flight: int = 0
    state: str = "up"  # up, restarting, dead
    #: incremented each time it is found dead: a late failure of an older life is not a new death
    life: int = 0


@dataclass
class _Pool:
    ray: Any
    slots: list[_Slot]
    restart_timeout_s: float
    deaths: int = 0
    closed: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _watchers: set[asyncio.Task[None]] = field(default_factory=set)

    def all_dead(self) -> bool:
        return all(s.state == "dead" for s in self.slots)

    def resume(self) -> int:
        """Ready for a run on this event loop (a kept pool: the last one's may be gone); the deaths so far."""
        self._changed = asyncio.Event()
        for slot in self.slots:
            if slot.state == "restarting":  # its watcher ended with the last run
                self._watch_soon(slot)
        return self.deaths

    async def pause(self) -> None:
        """After a run, the actors kept: the watchers stop with the run's event loop."""
        for watcher in list(self._watchers):
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)

    async def acquire(self, source: str) -> tuple[_Slot, int]:
        """The least busy live actor (per share) with room, waiting for one; and its life."""
        while True:
            free = [s for s in self.slots if s.state == "up" and s.in_flight < s.share]
            if free:
                slot = min(free, key=lambda s: s.in_flight / s.share)
                slot.in_flight += 1
                return slot, slot.life
            if self.all_dead():
                raise WorkerDiedError(f"{source}: every Ray worker of this run died, and none could be restarted")
            self._changed.clear()
            await self._changed.wait()

    def release(self, slot: _Slot) -> None:
        slot.in_flight -= 1
        self._changed.set()

    async def call(self, slot: _Slot, article: Article, cached: dict[str, dict[str, Any]]) -> _Answer:
        ref = slot.handle.extract.remote(article, cached)
        try:
            outcome: _Answer = await ref
        except asyncio.CancelledError:  # Ctrl-C: the actor stops it too
            with suppress(Exception):  # finished already, or its worker gone
                self.ray.cancel(ref)
            raise
        return outcome

    def lost(self, slot: _Slot, life: int, exc: Exception) -> None:
        """`slot`'s actor died while at `life` (once per life): watch it come back, or not."""
        if life != slot.life or slot.state != "up":
            return
        slot.life += 1
        slot.state = "restarting"
        self.deaths += 1
        log.warning("a Ray worker (pid %s on %s) died: %s", slot.info.get("pid"), slot.info.get("host"), _first_line(exc))
        self._watch_soon(slot)

    def _watch_soon(self, slot: _Slot) -> None:
        watcher = asyncio.ensure_future(self._watch(slot))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, slot: _Slot) -> None:
        errors_ = self.ray.exceptions
        deadline = time.monotonic() + self.restart_timeout_s
        try:
            while True:
                try:
                    info = await slot.handle.ready.remote()
                except errors_.RayActorError as exc:  # restarting (unavailable) or gone for good (died)
                    if isinstance(exc, errors_.ActorDiedError) or time.monotonic() > deadline:
                        log.warning("a Ray worker did not come back: %s", _first_line(exc))
                        slot.state = "dead"
                        return
                    await asyncio.sleep(0.2)
                    continue
                slot.info, slot.state = info, "dead" if info.get("problem") else "up"
                log.info("a Ray worker is back (pid %s on %s)", info.get("pid"), info.get("host"))
                return
        finally:
            self._changed.set()

    async def close(self) -> None:
        self.closed = True
        await self.pause()
        closing = [s.handle.close.remote() for s in self.slots if s.state == "up"]
        try:  # close the HTTP clients; a worker that does not answer is killed anyway
            await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), timeout=5)
        except TimeoutError:
            log.debug("a Ray worker did not close its clients within 5s")
        for slot in self.slots:
            try:
                self.ray.kill(slot.handle, no_restart=True)
            except Exception as exc:  # noqa: BLE001 - gone already
                log.debug("could not kill a Ray worker: %s", exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


class RayWorker(Worker[Article]):
    """Extracts each article on a Ray actor of the pool; the driver's loop commits it.

    `redone` lists the sources of the articles extracted again because their worker died."""

    def __init__(self, extractor: Extractor[Any], pool: _Pool, limits: CombinedLimits | None = None) -> None:
        super().__init__(extractor)
        self.pool = pool
        self.limits = limits or CombinedLimits()
        self.limits.start({id(slot): slot.share for slot in pool.slots})
        self.redone: list[str] = []

    def _cached(self, article: Article) -> dict[str, dict[str, Any]]:
        """The store's answers to the article's first requests (live runs: `--force` pays nothing twice)."""
        cache = self.extractor.cache
        if cache is None or self.extractor.mode != "live":
            return {}
        planned = self.extractor.plan_requests(article)  # an InputError here is aextract's
        return {p.hash: answer for p in planned if (answer := cache.cached_response(p.hash)) is not None}

    async def extract(self, item: Article, calls: list[CallRecord]) -> ArticleResult:
        article = self.article(item)
        cached = self._cached(article)
        died = self.pool.ray.exceptions.RayActorError
        for attempt in (1, 2):
            slot, life = await self.pool.acquire(article.source)
            try:
                status, body, call_lines, limit = await self.pool.call(slot, article, cached)
            except died as exc:
                self.pool.lost(slot, life, exc)
                if attempt == 2:
                    raise WorkerDiedError(
                        f"{article.source}: its Ray worker died twice while extracting it ({_first_line(exc)}); "
                        "run the same command to try again"
                    ) from None
                log.warning("%s: its Ray worker died; extracting it again (once)", article.source)
                self.redone.append(article.source)
                continue
            finally:
                self.pool.release(slot)
            calls.extend(CallRecord.model_validate_json(line) for line in call_lines)
            self.limits.observe(id(slot), limit)
            if status == "failed":
                raise rebuild_error(body)
            result: ArticleResult = self.extractor.task.result_model.model_validate_json(body)
            return result
        raise AssertionError("unreachable")  # pragma: no cover


# -- the engine ------------------------------------------------------------------------

class RayEngine:
    """Ray actors extracting a run's articles (see the module). `address`: the cluster (None:
    env RAY_ADDRESS, else a local Ray with this machine's CPUs; a Ray already initialised
    here is used as it is). `actors`: how many (default: one per free CPU, at most
    `concurrency`), sharing `concurrency`. `max_restarts`: Ray's, per dead actor. `keep`:
    the actors (and a Ray it started) serve the next runs with the same settings, task and
    concurrency, until `aclose()`. After a run: `deaths` (its actors') and `redone` (articles)."""

    def __init__(
        self, address: str | None = None, *, actors: int | None = None, max_restarts: int = 3, keep: bool = False,
        start_timeout_s: float = 300.0, init_options: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        if actors is not None and actors < 1:
            raise ConfigError(f"the Ray engine needs at least one actor, not {actors}")
        self.address, self.actors, self.max_restarts, self.keep = address, actors, max_restarts, keep
        self.start_timeout_s = start_timeout_s
        self.init_options = dict(init_options or {})
        self.deaths = 0
        self.redone: list[str] = []
        self._pool: _Pool | None = None
        self._arguments: tuple[Any, ...] | None = None
        self._ray_started = False
        self._remote: Any = None
        #: the calls in flight its actors allow, together (the last run's, once it started)
        self.limits = CombinedLimits()

    @property
    def workers(self) -> list[dict[str, Any]]:
        """The actors of the last run: pid, host, versions (as they last said), articles in flight, state."""
        slots = self._pool.slots if self._pool is not None else []
        return [{**slot.info, "in_flight": slot.in_flight, "state": slot.state} for slot in slots]

    @asynccontextmanager
    async def worker(self, extractor: Extractor[Any], sink: RunSink, *, concurrency: int) -> AsyncIterator[RayWorker]:
        """A `RayWorker` for one run: its actors started (and Ray, when needed), stopped after unless `keep`."""
        del sink  # the driver's: the actors never see the output directory
        ray = require_ray()
        if extractor.transport is not None:
            raise ConfigError("the Ray engine cannot send a custom HTTP transport to its workers")
        self._ray_started = self._init(ray) or self._ray_started
        arguments = (*_actor_arguments(extractor), max(concurrency, 1))
        try:
            with _raylet_reports_logged():
                pool = self._pool
                if pool is not None and (pool.closed or arguments != self._arguments or pool.all_dead()):
                    await pool.close()
                    pool = None
                if pool is None:
                    pool = self._pool = await self._start(ray, extractor, arguments)
                    self._arguments = arguments
                deaths = pool.resume()
                worker = RayWorker(extractor, pool, self.limits)
                try:
                    yield worker
                finally:
                    self.deaths, self.redone = pool.deaths - deaths, list(worker.redone)
                    await (pool.pause() if self.keep else pool.close())
        finally:
            if not self.keep:
                await self.aclose()

    async def aclose(self) -> None:
        """Stop the actors kept (`keep`), and Ray if the engine started it."""
        if self._pool is not None and not self._pool.closed:
            await self._pool.close()
        if self._ray_started:
            self._ray_started = False
            require_ray().shutdown()

    def _init(self, ray: Any) -> bool:
        """Connect to (or start) Ray, quietly; True when this call started it."""
        if ray.is_initialized():
            return False
        if self.address and "://" not in self.address and ":" in self.address:  # Ray would retry for minutes
            host, _, port = self.address.rpartition(":")
            try:
                socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot reach the Ray cluster at {self.address}: {exc}") from None
        options: dict[str, Any] = {
            "address": self.address, "include_dashboard": False, "log_to_driver": False,
            "logging_level": logging.WARNING if log.isEnabledFor(logging.DEBUG) else logging.ERROR,
        }  # fmt: skip
        if self.address is None and not os.environ.get("RAY_ADDRESS"):
            options["num_cpus"] = os.cpu_count() or 1
        options.update(self.init_options)
        with _sigterm_kept():  # ray.init sets its own (exit at once): a run stops as the caller decided
            try:
                ray.init(**options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.address or os.environ.get("RAY_ADDRESS") or "a local Ray"
                raise ConfigError(f"cannot start or reach {where}: {_first_line(exc)}") from None
        return True

    async def _start(self, ray: Any, extractor: Extractor[Any], arguments: tuple[Any, ...]) -> _Pool:
        *built_from, concurrency = arguments
        cpus = float(ray.available_resources().get("CPU", 1.0))
        n = max(1, min(self.actors or max(1, int(cpus)), concurrency))
        parts = [concurrency // n + (1 if i < concurrency % n else 0) for i in range(n)]  # each at least 1
        remote = self._remote = self._remote or ray.remote(ExtractorActor)
        options = {"max_restarts": self.max_restarts, "max_task_retries": 0, "num_cpus": min(1.0, cpus / n)}
        handles = [remote.options(max_concurrency=share, **options).remote(*built_from, share) for share in parts]
        pool = _Pool(ray, [_Slot(h, {}, share) for h, share in zip(handles, parts, strict=True)], self.start_timeout_s)
        try:
            infos = await asyncio.wait_for(asyncio.gather(*(h.ready.remote() for h in handles)), self.start_timeout_s)
            for slot, info in zip(pool.slots, infos, strict=True):
                slot.info = info
            _check_workers(infos, extractor)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, TimeoutError):
                raise ConfigError(
                    f"{n} Ray worker(s) did not start within {self.start_timeout_s:g}s ({cpus:g} CPUs free in the cluster)"
                ) from None
            if isinstance(exc, ray.exceptions.RayError):
                raise ConfigError(f"the Ray workers did not start: {_first_line(exc)}") from None
            raise
        hosts = Counter(str(info["host"]) for info in infos)
        log.info("Ray: %d worker(s), %s article(s) in flight each, on %s", n, "/".join(map(str, parts)),
                 ", ".join(f"{h} ({k})" for h, k in hosts.items()))  # fmt: skip
        return pool


def _actor_arguments(extractor: Extractor[Any]) -> tuple[dict[str, Any], str | None, Any, dict[str, Any] | None]:
    """What an actor is built from: the driver's resolved settings (paths made absolute, the
    mode fixed), the key's secret apart, the task by name (or itself) and its options."""
    settings = extractor.settings.model_dump(exclude={"api_key"})
    settings["mode"] = extractor.mode
    for name in ("replay_dir", "prices_file"):
        if settings.get(name) is not None:
            settings[name] = Path(settings[name]).resolve()
    secret = extractor.settings.api_key.get_secret_value() if extractor.settings.api_key else None
    task = extractor.task
    values = task.option_values.model_dump(mode="json") if task.option_values is not None else None
    by_name = task.spec is not None and not task.spec.startswith("__main__:")
    return settings, secret, (task.spec if by_name else task), values


def _check_workers(infos: list[dict[str, Any]], extractor: Extractor[Any]) -> None:
    """Every actor built, with this llm-extract and these prompts: else a `ConfigError`."""
    ours = _package_version()
    for info in infos:
        problem = info.get("problem")
        if problem is None and info.get("version") != ours:
            problem = f"llm-extract {info.get('version')} there, {ours} here: install the same version on every node"
        if problem is None and info.get("prompt_version") != extractor.prompts.version:
            problem = f"prompt version {info.get('prompt_version')} there, {extractor.prompts.version} here"
        if problem is not None:
            raise ConfigError(f"a Ray worker on {info.get('host')} cannot extract: {problem}")


@contextmanager
def _sigterm_kept() -> Iterator[None]:
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGTERM, handler)


@contextmanager
def _raylet_reports_logged() -> Iterator[None]:
    """Ray prints its raylet's reports (a worker died, ...) to stdout, where our summary goes:
    send them to our log instead (info), for the run."""
    from ray._private import worker as ray_worker  # type: ignore[import-not-found, unused-ignore]

    original = getattr(ray_worker, "print_to_stdstream", None)
    if original is None:  # pragma: no cover (another Ray's layout)
        yield
        return

    def to_log(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        for line in data.get("lines", []):
            log.info("Ray (%s): %s", data.get("pid"), line)

    ray_worker.print_to_stdstream = to_log
    try:
        yield
    finally:
        ray_worker.print_to_stdstream = original
