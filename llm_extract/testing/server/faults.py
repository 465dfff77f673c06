"""Fault injection: fault specs, the seeded choice of a fault per request, what faults send.

`FaultPlan.parse(spec)` reads a fault spec (rates or a schedule; grammar in the package
docstring), `FaultInjector` draws the fault of each chat request in arrival order, and
`FaultResponses` makes what each fault puts on the wire: OpenAI error JSON (429, 5xx,
400), a hang, a TCP reset, a truncated body, a corrupted answer (`bad_json`, `schema`,
`empty`; see `mutations.py`), and what a hostile or broken server does (`HOSTILE_FAULTS`:
a body sent a byte at a time, a huge answer, the Authorization header echoed back).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import socket
import struct
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from llm_extract.errors import ConfigError
from llm_extract.testing.server.connections import Connections, Transport, settle, wait_receive
from llm_extract.testing.server.mutations import answer_schema, break_json, echo_secret, violate_schema
from llm_extract.testing.server.recordings import Recording
from llm_extract.testing.server.responses import Responder

__all__ = [
    "ALL_FAULT_KINDS",
    "CONTENT_FAULTS",
    "FAULT_KINDS",
    "HOSTILE_FAULTS",
    "REASK_FAULTS",
    "TRANSPORT_FAULTS",
    "Fault",
    "FaultInjector",
    "FaultPlan",
    "FaultResponses",
    "HugeResponse",
    "ResetResponse",
    "SlowBodyResponse",
    "TruncatedResponse",
    "break_json",
    "violate_schema",
]

#: Faults applied before the request is looked up, like a real server's front end.
TRANSPORT_FAULTS: tuple[str, ...] = ("429", "429_noretry", "500", "503", "400", "hang", "reset")
#: Faults that alter (or cut) the recorded answer; they need a matching recording.
CONTENT_FAULTS: tuple[str, ...] = ("truncate", "bad_json", "schema", "empty")
#: The glitches of a healthy server (what a rate spec's mix is usually drawn from).
FAULT_KINDS: tuple[str, ...] = TRANSPORT_FAULTS + CONTENT_FAULTS
#: What a broken or hostile server does: a body a byte at a time (`slow_body[:S]`, after the
#: lookup), a huge streamed answer (`huge[:MB]`, before it), the Authorization header echoed in
#: the answer (`echo_key`, after it) or in a 400's message (`echo_400`, before it), a proxy's
#: HTML error page (`html[:STATUS]`, 502 by default, before it).
HOSTILE_FAULTS: tuple[str, ...] = ("slow_body", "huge", "echo_key", "echo_400", "html")
#: Every kind a spec may name (and `/_stats` counts).
ALL_FAULT_KINDS: tuple[str, ...] = FAULT_KINDS + HOSTILE_FAULTS
#: Faults applied before the lookup, and after it (they need a recording).
EARLY_FAULTS = frozenset({*TRANSPORT_FAULTS, "huge", "echo_400", "html"})
#: Kinds that take a `:SECONDS` parameter, and what it means.
_PARAMETERS = {
    "429": "the Retry-After to send",
    "hang": "how long to hang",
    "slow_body": "the seconds between two bytes",
    "huge": "the answer's size in megabytes",
    "html": "the page's HTTP status",
}
#: Faults whose corrupted answer makes a client reask; the reask is then answered.
REASK_FAULTS = frozenset({"bad_json", "schema", "echo_key"})


# -- fault specs --------------------------------------------------------------------------


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Fault:
    """One fault to inject: its kind (see `FAULT_KINDS`) and, for `429`/`hang`, seconds."""

    kind: str
    seconds: float | None = None

    def __str__(self) -> str:
        return self.kind if self.seconds is None else f"{self.kind}:{_fmt_number(self.seconds)}"

    @classmethod
    def parse(cls, text: str) -> Fault:
        """`KIND` or `KIND:SECONDS`; raises `ConfigError` for anything else."""
        kind, sep, raw = text.strip().partition(":")
        kind = kind.strip()
        if kind not in ALL_FAULT_KINDS:
            raise ConfigError(f"unknown fault {kind!r} in fault spec; known: {', '.join(ALL_FAULT_KINDS)}")
        if not sep:
            return cls(kind)
        if kind not in _PARAMETERS:
            raise ConfigError(f"fault {kind!r} takes no parameter (only {' and '.join(_PARAMETERS)} do)")
        seconds = _parse_float(raw, f"seconds of fault {kind!r}")
        if kind == "html" and not (seconds.is_integer() and 100 <= seconds <= 599):
            raise ConfigError(f"fault 'html': {_PARAMETERS[kind]} must be an HTTP status (100-599), got {raw!r}")
        positive = kind != "429"
        if seconds < 0 or (positive and seconds == 0):
            bound = "> 0" if positive else ">= 0"
            raise ConfigError(f"fault {kind!r}: {_PARAMETERS[kind]} must be {bound}, got {raw!r}")
        return cls(kind, seconds)


def _parse_float(raw: str, what: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{what}: {raw.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what}: {raw.strip()!r} is not a finite number")
    return value


@dataclass(frozen=True)
class FaultPlan:
    """A parsed fault spec: rates (`rates`) or a schedule (`schedule`), never both.

    `FaultPlan.parse(spec)` reads the grammar in the module docstring; `str(plan)` writes it
    back in canonical form.
    """

    rates: tuple[tuple[Fault, float], ...] = ()
    schedule: tuple[Fault | None, ...] | None = None

    @property
    def mode(self) -> Literal["none", "rates", "schedule"]:
        if self.schedule is not None:
            return "schedule"
        return "rates" if self.rates else "none"

    def __str__(self) -> str:
        if self.schedule is not None:
            return "schedule:" + ",".join("ok" if step is None else str(step) for step in self.schedule)
        return ",".join(f"{fault}={_fmt_number(rate)}" for fault, rate in self.rates)

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        """The plan for `spec` (None, "" or "none": no faults). Raises `ConfigError`."""
        text = (spec or "").strip()
        if text.lower() in ("", "none"):
            return cls()
        if text.lower().startswith("schedule:"):
            steps = [s.strip() for s in text[len("schedule:") :].split(",")]
            if not any(steps):
                raise ConfigError("fault spec: 'schedule:' needs at least one step (ok or a fault)")
            if any(not s for s in steps):
                raise ConfigError(f"fault spec: empty step in {text!r}")
            return cls(schedule=tuple(None if s.lower() == "ok" else Fault.parse(s) for s in steps))
        rates: list[tuple[Fault, float]] = []
        for item in text.split(","):
            name, sep, raw = item.strip().rpartition("=")
            if not sep or not name.strip():
                raise ConfigError(
                    f"fault spec: {item.strip()!r} is not FAULT=PROBABILITY "
                    "(e.g. '429=0.1,500=0.05', or 'schedule:429,ok,500')"
                )
            fault = Fault.parse(name)
            rate = _parse_float(raw, f"probability of fault {fault.kind!r}")
            if not 0 <= rate <= 1:
                raise ConfigError(f"fault spec: probability of {fault.kind!r} must be in [0, 1], got {raw.strip()!r}")
            if any(f.kind == fault.kind for f, _ in rates):
                raise ConfigError(f"fault spec: fault {fault.kind!r} given twice")
            rates.append((fault, rate))
        total = sum(rate for _, rate in rates)
        if total > 1 + 1e-9:
            raise ConfigError(f"fault spec: the probabilities add up to {total:g}, more than 1")
        return cls(rates=tuple(rates))


class FaultInjector:
    """Decides, request by request in arrival order, which fault (if any) to inject.

    Deterministic: rates draw from `random.Random(seed)`, one number per request; a
    schedule is walked step by step, then no more faults. Thread-safe.
    """

    def __init__(self, plan: FaultPlan, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.plan = plan
        self.seed = seed
        self._rng = random.Random(seed)
        self._position = 0

    @property
    def position(self) -> int:
        """How many faults were drawn (requests seen) since the start or the last reset."""
        return self._position

    def reset(self, plan: FaultPlan | None = None, seed: int | None = None) -> None:
        """Back to the first request: schedule and generator start over (optionally anew)."""
        with self._lock:
            if plan is not None:
                self.plan = plan
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)
            self._position = 0

    def draw(self) -> Fault | None:
        """The fault for the next request, or None to serve it normally."""
        with self._lock:
            index = self._position
            self._position += 1
            plan = self.plan
            if plan.schedule is not None:
                return plan.schedule[index] if index < len(plan.schedule) else None
            if not plan.rates:
                return None
            point = self._rng.random()
            cumulative = 0.0
            for fault, rate in plan.rates:
                cumulative += rate
                if point < cumulative:
                    return fault
            return None


# -- what faults put on the wire -------------------------------------------------------------


class ResetResponse(Response):
    """Aborts the connection with a TCP RST (SO_LINGER 0 + abort): no response at all."""

    def __init__(self, transport: Transport | None) -> None:
        super().__init__(status_code=499)
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = self.transport
        if transport is None:
            raise RuntimeError("fault 'reset' needs the server started by llm_extract.server (serve/start_server)")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await settle(receive)


class TruncatedResponse(Response):
    """Status and headers announce the whole body (Content-Length); half of it is sent."""

    def __init__(self, content: bytes, headers: Mapping[str, str], transport: Transport | None) -> None:
        super().__init__(content=content, status_code=200, headers=dict(headers), media_type="application/json")
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.body)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        if self.transport is not None:
            self.transport.close()  # flushes what was written, then FIN
            await settle(receive)
        # without a transport, returning now makes uvicorn close the connection mid-body


_HTML_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head><title>{status} Bad Gateway</title></head>\n<body>\n"
    "<center><h1>{status} Bad Gateway</h1></center>\n<hr><center>nginx/1.24.0</center>\n</body>\n</html>\n"
)


class SlowBodyResponse(Response):
    """Status and headers at once (the whole `Content-Length`), then the body a byte every
    `seconds`: a client that only times each read never times out."""

    def __init__(
        self, content: bytes, headers: Mapping[str, str], seconds: float, connections: Connections, request: Request
    ) -> None:
        super().__init__(content=content, status_code=200, headers=dict(headers), media_type="application/json")
        self.seconds = seconds
        self.connections = connections
        self.request = request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.body)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for index in range(len(body)):
            last = index == len(body) - 1
            await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": not last})
            if last:
                return
            outcome = await wait_receive(receive, self.connections.stopping, self.seconds)
            if outcome == "stopping":
                transport = self.connections.transport(self.request)
                if transport is not None:
                    transport.close()
                return
            if outcome == "disconnected":
                return


class HugeResponse(Response):
    """A 200 chat completion of `megabytes` MB (its content a long string), streamed in chunks
    without a `Content-Length`: only reading it shows how big it is."""

    CHUNK = 64 * 1024

    def __init__(self, megabytes: float, model: str, headers: Mapping[str, str]) -> None:
        super().__init__(status_code=200, headers=dict(headers), media_type="application/json")
        self.size = int(megabytes * 1024 * 1024)
        self.model = model

    def _parts(self) -> tuple[bytes, bytes]:
        shell = {
            "id": "chatcmpl-huge",
            "object": "chat.completion",
            "created": 0,
            "model": self.model,
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "@FILL@"}}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        head, tail = json.dumps(shell).split('"@FILL@"')
        return (head + '"').encode(), ('"' + tail).encode()

    async def _chunks(self) -> AsyncIterator[bytes]:
        head, tail = self._parts()
        yield head
        filler = b"x" * self.CHUNK
        remaining = self.size
        while remaining > 0:
            yield filler[: min(remaining, self.CHUNK)]
            remaining -= self.CHUNK
            await asyncio.sleep(0)
        yield tail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in self.raw_headers if k.lower() != b"content-length"]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        sender = asyncio.ensure_future(self._send_all(send))
        watcher = asyncio.ensure_future(until_disconnect_quietly(receive))
        try:
            await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, watcher):
                task.cancel()
            await asyncio.gather(sender, watcher, return_exceptions=True)

    async def _send_all(self, send: Send) -> None:
        async for chunk in self._chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def until_disconnect_quietly(receive: Receive) -> None:
    with suppress(Exception):
        while (await receive())["type"] != "http.disconnect":
            pass


class FaultResponses:
    """What each fault sends; counting faults and remembering corrupted answers is the caller's."""

    def __init__(self, responder: Responder, connections: Connections, *, retry_after_s: float, hang_s: float) -> None:
        self.responder = responder
        self.connections = connections
        self.retry_after_s = retry_after_s
        self.hang_s = hang_s

    async def hang(self, fault: Fault, request: Request) -> Response | None:
        """Wait the hang out: None once it has elapsed (answer normally now), else what to send
        when the client went away or the server is stopping."""
        outcome = await self.connections.wait(request, self.hang_s if fault.seconds is None else fault.seconds)
        return None if outcome == "elapsed" else self.connections.abandon(request, outcome)

    def transport(self, fault: Fault, request: Request, model: str) -> Response:
        """The response of a fault applied before the lookup, other than `hang` (429, 5xx, 400,
        reset, `echo_400`, `huge`)."""
        kind = fault.kind
        error = self.responder.error
        if kind in ("429", "429_noretry"):
            wait = self.retry_after_s if fault.seconds is None else fault.seconds
            headers = {
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{_fmt_number(round(wait, 3))}s",
            }
            if kind == "429":
                headers["retry-after"] = _fmt_number(round(wait, 3))
                headers["retry-after-ms"] = str(round(wait * 1000))
            return error(
                429,
                f"Rate limit reached for {model} in organization org-replay on requests per min (RPM): "
                f"Limit 500, Used 500, Requested 1. Please try again in {_fmt_number(round(wait, 3))}s. "
                "Visit https://platform.openai.com/account/rate-limits to learn more.",
                "requests",
                code="rate_limit_exceeded",
                fault=kind,
                headers=headers,
            )
        if kind == "500":
            return error(
                500,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                fault=kind,
            )
        if kind == "503":
            return error(503, "The server is overloaded or not ready yet.", "server_error", fault=kind)
        if kind == "400":
            return error(
                400,
                "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                "131072 tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                param="messages",
                code="context_length_exceeded",
                fault=kind,
            )
        if kind == "reset":
            return ResetResponse(self.connections.transport(request))
        if kind == "echo_400":
            return error(
                400,
                f"Invalid Authorization header: {request.headers.get('authorization', '(none)')}. "
                "Expected 'Bearer <your API key>'.",
                "invalid_request_error",
                code="invalid_api_key",
                fault=kind,
            )
        if kind == "huge":
            return HugeResponse(50.0 if fault.seconds is None else fault.seconds, model, self.responder.headers(kind))
        if kind == "html":
            status = 502 if fault.seconds is None else int(fault.seconds)
            return Response(
                _HTML_PAGE.format(status=status).encode(),
                status_code=status,
                headers=self.responder.headers(kind),
                media_type="text/html",
            )
        raise AssertionError(f"not a transport fault: {kind}")  # pragma: no cover

    def content(self, fault: Fault, recording: Recording, request: Request) -> Response:
        """The response of a content fault: the recorded answer cut, corrupted or emptied."""
        kind = fault.kind
        if kind == "truncate":
            content = json.dumps(recording.response, ensure_ascii=False).encode("utf-8")
            return TruncatedResponse(content, self.responder.headers(kind), self.connections.transport(request))
        if kind == "slow_body":
            content = json.dumps(recording.response, ensure_ascii=False).encode("utf-8")
            seconds = 1.0 if fault.seconds is None else fault.seconds
            return SlowBodyResponse(content, self.responder.headers(kind), seconds, self.connections, request)
        if kind == "echo_key":
            body = echo_secret(recording.response, request.headers.get("authorization", "(no Authorization header)"))
            return self.responder.json(recording.status, body, fault=kind)
        if kind == "empty":
            body = {**recording.response, "choices": []} if isinstance(recording.response, dict) else recording.response
        elif kind == "bad_json":
            body = break_json(recording.response)
        else:
            body = violate_schema(recording.response, answer_schema(recording.request, recording.response))
        return self.responder.json(recording.status, body, fault=kind)
