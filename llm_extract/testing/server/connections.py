"""The server's connections: each one's socket transport, the stop signal, interruptible waits.

ASGI gives an application no way to abort a connection. The server therefore runs uvicorn
with a small subclass of its h11 protocol (`tracking_protocol`) that records each
connection's asyncio transport by peer address, and the application finds its transport
through `scope["client"]` (proxy headers are off, so that address is the socket's). The
`reset` and `truncate` faults (`faults.py`) act on that transport; so does a wait cut short
by the server stopping (the connection is closed without a response).
"""

from __future__ import annotations

import asyncio
import socket
from contextlib import suppress
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = [
    "CloseResponse",
    "Connections",
    "NoResponse",
    "Outcome",
    "ServerSlots",
    "Transport",
    "settle",
    "tracking_protocol",
    "wait_receive",
]

Transport = asyncio.Transport
#: How a wait ended: its time elapsed, the server started to stop, or the client went away.
Outcome = Literal["elapsed", "stopping", "disconnected"]


async def until_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def wait_receive(receive: Receive, stopping: asyncio.Event, seconds: float) -> Outcome:
    """Sleep `seconds`, unless the server stops or the client (its `receive`) goes away first."""
    return await _race(receive, stopping, asyncio.sleep(seconds), "elapsed")


async def _race(receive: Receive, stopping: asyncio.Event, work: Any, name: Outcome) -> Outcome:
    """Wait for `work` (named `name` when it ends first), the server stopping or the client leaving."""
    if stopping.is_set():
        if asyncio.iscoroutine(work):
            work.close()
        return "stopping"
    waiters: dict[asyncio.Future[Any], Outcome] = {
        asyncio.ensure_future(stopping.wait()): "stopping",
        asyncio.ensure_future(until_disconnect(receive)): "disconnected",
        asyncio.ensure_future(work): name,
    }
    try:
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    for waiter, outcome in waiters.items():  # in priority order: stopping, disconnected, the work
        if waiter in done and not waiter.cancelled() and waiter.exception() is None:
            return outcome
    return "disconnected"


async def settle(receive: Receive) -> None:
    """After closing a connection ourselves: let uvicorn see it lost, so it logs nothing."""
    with suppress(asyncio.TimeoutError, Exception):
        await asyncio.wait_for(until_disconnect(receive), timeout=5.0)


class NoResponse(Response):
    """Nothing to send: the client is gone."""

    def __init__(self) -> None:
        super().__init__(status_code=499)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


class CloseResponse(Response):
    """Closes the connection without a response (FIN): the server going away."""

    def __init__(self, transport: Transport | None) -> None:
        super().__init__(status_code=499)
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.transport is None:
            raise RuntimeError("the server is stopping")
        self.transport.close()
        await settle(receive)


def tracking_protocol(registry: dict[tuple[str, int], Transport]) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, recording each connection's transport by peer address."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TrackingH11Protocol(H11Protocol):
        _peer: tuple[str, int] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                with suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._peer = self.client
            if self._peer is not None:
                registry[self._peer] = transport

        def connection_lost(self, exc: Exception | None) -> None:
            if self._peer is not None and registry.get(self._peer) is self.transport:
                del registry[self._peer]
            super().connection_lost(exc)

    return TrackingH11Protocol


class Connections:
    """The open connections' transports (filled by `protocol()`) and the `stopping` signal."""

    def __init__(self) -> None:
        self.transports: dict[tuple[str, int], Transport] = {}
        self.stopping = asyncio.Event()

    def protocol(self) -> type[asyncio.Protocol]:
        """The uvicorn `http` protocol class that records transports here."""
        return tracking_protocol(self.transports)

    def transport(self, request: Request) -> Transport | None:
        """The transport of `request`'s connection (None outside `serve`/`start_server`)."""
        client = request.scope.get("client")
        return self.transports.get((str(client[0]), int(client[1]))) if client else None

    async def wait(self, request: Request, seconds: float) -> Outcome:
        """Sleep `seconds`, unless the server stops or the client goes away first."""
        return await wait_receive(request.receive, self.stopping, seconds)

    def abandon(self, request: Request, outcome: Outcome) -> Response:
        """What to answer after a wait that did not elapse: a closed connection, or nothing."""
        return CloseResponse(self.transport(request)) if outcome == "stopping" else NoResponse()


class ServerSlots:
    """At most `slots` chat requests processed at once (None: no limit); the others wait in
    arrival order, like llama.cpp's `llama-server -np N`. A request whose client goes away
    while it waits leaves the queue. Counts what waits (`queued`) and the most processed at
    once (`max_busy`)."""

    def __init__(self, slots: int | None) -> None:
        self.slots = slots
        self._semaphore = asyncio.Semaphore(slots) if slots else None
        self.queued = 0
        self.busy = 0
        self.max_busy = 0

    async def acquire(self, request: Request, stopping: asyncio.Event) -> Outcome:
        """'elapsed' once the request holds a slot (release it with `release`), else why not."""
        if self._semaphore is None:
            self._taken()
            return "elapsed"
        semaphore = self._semaphore
        if not semaphore.locked():
            await semaphore.acquire()
            self._taken()
            return "elapsed"
        self.queued += 1
        acquired = asyncio.ensure_future(semaphore.acquire())
        try:
            outcome = await _race(request.receive, stopping, _shielded(acquired), "elapsed")
        finally:
            self.queued -= 1
        if outcome == "elapsed":
            self._taken()
            return outcome
        acquired.cancel()
        with suppress(asyncio.CancelledError):
            await acquired
        if acquired.done() and not acquired.cancelled():
            semaphore.release()  # granted as the client left
        return outcome

    def _taken(self) -> None:
        self.busy += 1
        self.max_busy = max(self.max_busy, self.busy)

    def release(self) -> None:
        self.busy -= 1
        if self._semaphore is not None:
            self._semaphore.release()

    def reset(self) -> None:
        self.max_busy = self.busy


async def _shielded(future: asyncio.Future[Any]) -> Any:
    """Wait for `future` without cancelling it when the wait is cancelled."""
    return await asyncio.shield(future)
