"""The server assembled: the Starlette app from its parts, and running it (`serve`, `start_server`).

`ReplayServer` builds one of each part (chat, files, batches, stats; the recordings, fault
injector, counters and connections they share) and restarts them together on `reset`.
`create_app` wraps it in a Starlette app (`app.state.replay`); `serve` runs that under
uvicorn in the foreground, `start_server` in a background thread (a `ServerHandle`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from llm_extract.errors import ConfigError
from llm_extract.testing.server.batch_jobs import BatchRunner, FileStore
from llm_extract.testing.server.chat import ChatService, Latency
from llm_extract.testing.server.config import BATCH_SETTINGS, ServerConfig, is_loopback
from llm_extract.testing.server.connections import Connections, ServerSlots
from llm_extract.testing.server.faults import FaultInjector, FaultPlan, FaultResponses
from llm_extract.testing.server.files_batches import BatchesEndpoints, FilesEndpoints
from llm_extract.testing.server.recordings import CorruptedAnswers, RecordingIndex
from llm_extract.testing.server.responses import Responder, http_error
from llm_extract.testing.server.stats import Counters, StatsEndpoints

__all__ = [
    "ReplayServer",
    "ServerHandle",
    "create_app",
    "run_server_in_thread",
    "running_server",
    "serve",
    "start_server",
]

logger = logging.getLogger("llm_extract.server")


class ReplayServer:
    """One server's parts, wired together: what each endpoint family shares, and `reset`."""

    def __init__(self, config: ServerConfig, index: RecordingIndex) -> None:
        self.config = config
        self.index = index
        self.injector = FaultInjector(config.fault_plan, config.seed)
        self.counters = Counters()
        self.connections = Connections()
        self.corrupted = CorruptedAnswers(index)
        self.latency = Latency(config.latency_ms, config.jitter_ms, config.seed)
        responder = Responder()
        faults = FaultResponses(responder, self.connections, retry_after_s=config.retry_after_s, hang_s=config.hang_s)
        self.chat = ChatService(
            index=index,
            injector=self.injector,
            faults=faults,
            latency=self.latency,
            corrupted=self.corrupted,
            counters=self.counters,
            connections=self.connections,
            responder=responder,
            slots=ServerSlots(config.slots),
            rate_limit=None if config.rate_limit_after is None else (config.rate_limit_after, config.rate_limit_count),
        )
        files = FileStore()
        self.batch_runner = BatchRunner(config, index, files, self.counters, self.corrupted)
        self.files = FilesEndpoints(files, self.counters, responder, max_batch_bytes=config.batch_max_bytes)
        self.batches = BatchesEndpoints(self.batch_runner, files, self.counters, responder)
        self.control = StatsEndpoints(responder, self.counters, self.injector, config, len(index), self.reset)

    def routes(self) -> list[Route]:
        return [*self.chat.routes(), *self.files.routes(), *self.batches.routes(), *self.control.routes()]

    def stats(self) -> dict[str, Any]:
        """What `GET /_stats` answers."""
        return self.control.report()

    def reset(
        self,
        *,
        faults: str | None = None,
        seed: int | None = None,
        replace_faults: bool = False,
        batch: Mapping[str, Any] | None = None,
    ) -> None:
        """Zero the counters, restart the schedule and generators; optionally a new plan/seed
        and new batch settings (`BATCH_SETTINGS`). Files and batches are kept."""
        plan = FaultPlan.parse(faults) if replace_faults else None
        if batch:
            unknown = set(batch) - set(BATCH_SETTINGS)
            if unknown:
                raise ConfigError(f"not batch settings: {', '.join(sorted(unknown))}")
            self.config = dataclasses.replace(self.config, **batch)  # checked by ServerConfig
        self.counters.reset()
        self.corrupted.clear()
        self.injector.reset(plan, seed)
        self.latency.reseed(self.injector.seed)
        self.batch_runner.reset(self.config, self.injector.seed)


def create_app(config: ServerConfig, *, index: RecordingIndex | None = None) -> Starlette:
    """The ASGI app for `config`; the recordings are indexed now, once (`ConfigError`)."""
    service = ReplayServer(config, index or RecordingIndex.load(config.fixtures))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        service.connections.stopping.set()

    app = Starlette(
        routes=service.routes(),
        exception_handlers={HTTPException: http_error, Exception: http_error},
        lifespan=lifespan,
    )
    app.state.replay = service
    return app


def _service(app: Starlette) -> ReplayServer:
    service: ReplayServer = app.state.replay
    return service


# -- running it ---------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn's server, telling us when it is listening and when it starts to stop."""

    def __init__(
        self, config: uvicorn.Config, *, on_started: Callable[[], None], on_stopping: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._on_stopping = on_stopping

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_stopping()  # hung requests end now instead of holding the shutdown
        await super().shutdown(sockets=sockets)


def _bind(config: ServerConfig) -> socket.socket:
    host = config.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0, as socket.create_server leaves it): asyncio sets TCP_NODELAY
    # only on sockets that say they are TCP, and without it keep-alive requests wait ~40 ms
    # (Nagle + delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, config.port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc}") from exc
    sock.setblocking(False)
    return sock


def _base_url(config: ServerConfig, sock: socket.socket) -> str:
    host = config.host.strip("[]")
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}/v1" if ":" in host else f"http://{host}:{port}/v1"


def _uvicorn_server(
    app: Starlette, config: ServerConfig, *, on_started: Callable[[], None], in_thread: bool
) -> _Server:
    service = _service(app)
    kwargs: dict[str, Any] = {"log_config": None} if in_thread else {}
    uv_config = uvicorn.Config(
        app,
        http=service.connections.protocol(),
        loop="asyncio",
        lifespan="on",
        proxy_headers=False,  # scope["client"] must stay the socket's peer (see connections.py)
        server_header=False,
        log_level=config.log_level.lower(),
        access_log=config.access_log,
        timeout_graceful_shutdown=math.ceil(config.graceful_shutdown_s),
        **kwargs,
    )
    return _Server(uv_config, on_started=on_started, on_stopping=service.connections.stopping.set)


def _describe(app: Starlette) -> str:
    service = _service(app)
    index = service.index
    plan = str(service.injector.plan) or "none"
    config = service.config
    latency = f"{config.latency_ms:g}±{config.jitter_ms:g} ms" if config.latency_ms or config.jitter_ms else "none"
    extra = f"; slots: {config.slots}" if config.slots else ""
    if config.rate_limit_after is not None:
        count = "every later one" if config.rate_limit_count is None else f"the next {config.rate_limit_count}"
        extra += f"; 429 after {config.rate_limit_after} request(s), for {count}"
    return (
        f"replaying {len(index)} recorded request(s) from {index.directory} (models: {', '.join(index.models)}); "
        f"faults: {plan}; seed: {service.injector.seed}; latency: {latency}{extra}"
    )


def serve(config: ServerConfig, *, on_listening: Callable[[str], None] | None = None) -> None:
    """Run the server until Ctrl-C or SIGTERM (blocking).

    Once listening, calls `on_listening(base_url)`; by default prints
    `listening on http://HOST:PORT/v1` on stdout (flushed, so that a parent process can read
    the port when `port=0`) and a summary on stderr. Raises `ConfigError` for bad settings,
    unreadable recordings or an address that cannot be bound.
    """
    app = create_app(config)
    sock = _bind(config)
    base_url = _base_url(config, sock)
    if not is_loopback(config.host):
        logger.warning("listening on %s, reachable from the network (allow_remote)", config.host)

    def started() -> None:
        if on_listening is not None:
            on_listening(base_url)
            return
        print(_describe(app), file=sys.stderr, flush=True)
        print(f"listening on {base_url}", flush=True)

    server = _uvicorn_server(app, config, on_started=started, in_thread=False)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled, after a clean shutdown
        pass
    finally:
        sock.close()


class ServerHandle:
    """A server running in a background thread (see `start_server`); a context manager."""

    def __init__(self, app: Starlette, server: _Server, thread: threading.Thread, base_url: str) -> None:
        self.app = app
        self.base_url = base_url
        self._server = server
        self._thread = thread

    @property
    def root_url(self) -> str:
        """The base URL without `/v1` (where `/_stats` and `/_reset` live)."""
        return self.base_url.removesuffix("/v1")

    @property
    def port(self) -> int:
        return int(self.root_url.rsplit(":", 1)[1])

    def stats(self) -> dict[str, Any]:
        """The counters, as `GET /_stats` answers them."""
        return _service(self.app).stats()

    def reset(
        self,
        *,
        faults: str | None = None,
        seed: int | None = None,
        replace_faults: bool = False,
        batch: Mapping[str, Any] | None = None,
    ) -> None:
        """As `POST /_reset`; `replace_faults=True` installs `faults` (None: no faults);
        `batch` sets batch settings (e.g. `{"batch_fail_rate": 0}`)."""
        _service(self.app).reset(
            faults=faults, seed=seed, replace_faults=replace_faults or faults is not None, batch=batch
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (hung requests are cut) and wait for its thread. Idempotent."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(config: ServerConfig, *, startup_timeout: float = 30.0) -> ServerHandle:
    """Start the server in a daemon thread and return once it is listening.

    Logs `listening on http://HOST:PORT/v1` (logger `llm_extract.server`, INFO). Raises
    `ConfigError` for bad settings or recordings, `RuntimeError` if uvicorn fails to start.
    """
    app = create_app(config)
    sock = _bind(config)
    base_url = _base_url(config, sock)
    ready = threading.Event()
    failure: list[BaseException] = []
    server = _uvicorn_server(app, config, on_started=ready.set, in_thread=True)

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            failure.append(exc)
        finally:
            sock.close()
            ready.set()

    thread = threading.Thread(target=run, name=f"llm-extract-serve {base_url}", daemon=True)
    thread.start()
    if not ready.wait(startup_timeout) or not server.started:
        server.should_exit = True
        thread.join(5.0)
        reason = f": {failure[0]!r}" if failure else ""
        raise RuntimeError(f"the replay server did not start on {base_url}{reason}")
    logger.info("listening on %s", base_url)
    return ServerHandle(app, server, thread, base_url)


def run_server_in_thread(config: ServerConfig) -> tuple[str, Callable[[], None]]:
    """Start the server in a background thread: `(base_url, stop)`."""
    handle = start_server(config)
    return handle.base_url, handle.stop


@contextmanager
def running_server(config: ServerConfig) -> Iterator[str]:
    """`with running_server(config) as base_url:` the server runs inside the block."""
    handle = start_server(config)
    try:
        yield handle.base_url
    finally:
        handle.stop()
