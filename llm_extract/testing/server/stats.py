"""The server's counters, `GET /_stats` (what they say) and `POST /_reset` (start over)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from llm_extract.errors import ConfigError
from llm_extract.testing.server.config import BATCH_SETTINGS, ServerConfig
from llm_extract.testing.server.faults import ALL_FAULT_KINDS, FaultInjector
from llm_extract.testing.server.responses import Responder

__all__ = ["BATCH_COUNTERS", "Counters", "Reset", "StatsEndpoints"]

#: What `/_stats` counts under `batches`.
BATCH_COUNTERS: tuple[str, ...] = (
    "created", "completed", "failed", "expired", "cancelled", "requests", "answered", "errors", "schema",
)  # fmt: skip

#: A chat request's outcome, as counted.
Outcome = Literal["requests", "replayed", "recovered", "misses", "rejected"]


@dataclass
class _Totals:
    requests: int = 0
    replayed: int = 0
    recovered: int = 0
    misses: int = 0
    rejected: int = 0
    #: chat requests whose body (request hash) had come before: the same request sent again
    repeats: int = 0
    max_in_flight: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALL_FAULT_KINDS, 0))
    endpoints: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BATCH_COUNTERS, 0))


class Counters:
    """Request, outcome, fault and batch counters, and the requests in flight. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = _Totals()
        self._in_flight = 0
        self._seen: set[str] = set()
        #: how many chat requests wait for a slot now (set by the chat service)
        self.queue_length: Callable[[], int] = lambda: 0

    def count(self, name: Outcome, n: int = 1) -> None:
        with self._lock:
            setattr(self._totals, name, getattr(self._totals, name) + n)

    def count_request(self, key: str) -> None:
        """Remember a chat request's hash; one seen before counts as a repeat."""
        with self._lock:
            if key in self._seen:
                self._totals.repeats += 1
            else:
                self._seen.add(key)

    def count_endpoint(self, endpoint: str) -> None:
        with self._lock:
            self._totals.endpoints[endpoint] = self._totals.endpoints.get(endpoint, 0) + 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self._totals.faults[kind] += 1

    def count_batch(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._totals.batches[name] = self._totals.batches.get(name, 0) + n

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Counts a chat request being answered, for the block's duration."""
        with self._lock:
            self._in_flight += 1
            self._totals.max_in_flight = max(self._totals.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as `/_stats` reports them (without `schedule_position` and `config`)."""
        with self._lock:
            t = self._totals
            return {
                "requests": t.requests,
                "replayed": t.replayed,
                "recovered": t.recovered,
                "misses": t.misses,
                "rejected": t.rejected,
                "repeats": t.repeats,
                "faults": dict(t.faults),
                "faults_total": sum(t.faults.values()),
                "in_flight": self._in_flight,
                "max_in_flight": t.max_in_flight,
                "queued": self.queue_length(),
                "endpoints": dict(t.endpoints),
                "batches": dict(t.batches),
            }

    def reset(self) -> None:
        """Every counter back to zero (the requests in flight are still in flight)."""
        with self._lock:
            self._totals = _Totals()
            self._totals.max_in_flight = self._in_flight
            self._seen.clear()


class Reset(Protocol):
    """What `POST /_reset` calls: the app's `ReplayServer.reset`."""

    def __call__(
        self,
        *,
        faults: str | None = None,
        seed: int | None = None,
        replace_faults: bool = False,
        batch: Mapping[str, Any] | None = None,
    ) -> None: ...


class StatsEndpoints:
    """`GET /_stats` and `POST /_reset`."""

    def __init__(
        self,
        responder: Responder,
        counters: Counters,
        injector: FaultInjector,
        config: ServerConfig,
        recordings: int,
        reset: Reset,
    ) -> None:
        self.responder = responder
        self.counters = counters
        self.injector = injector
        self.config = config
        self.recordings = recordings
        self.reset = reset

    def routes(self) -> list[Route]:
        return [
            Route("/_stats", self.get_stats, methods=["GET"]),
            Route("/_reset", self.post_reset, methods=["POST"]),
        ]

    def report(self) -> dict[str, Any]:
        """What `GET /_stats` answers."""
        counts = self.counters.snapshot()
        batches = counts.pop("batches")
        return {
            **counts,
            "schedule_position": self.injector.position,
            "batches": batches,
            "config": {
                "faults": str(self.injector.plan) or None,
                "seed": self.injector.seed,
                "latency_ms": self.config.latency_ms,
                "jitter_ms": self.config.jitter_ms,
                "hang_s": self.config.hang_s,
                "slots": self.config.slots,
                "rate_limit_after": self.config.rate_limit_after,
                "rate_limit_count": self.config.rate_limit_count,
                "recordings": self.recordings,
            },
        }

    async def get_stats(self, request: Request) -> Response:
        """GET /_stats."""
        return self.responder.json(200, self.report())

    async def post_reset(self, request: Request) -> Response:
        """POST /_reset, optionally with `{"faults": SPEC, "seed": N}` and batch settings
        (`batch_delay_s`, `batch_fail_rate`, `batch_schema_rate`, `batch_expire`)."""
        error = self.responder.error
        raw = await request.body()
        try:
            options = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            options = None
        if not isinstance(options, dict) or set(options) - {"faults", "seed", *BATCH_SETTINGS}:
            return error(
                400,
                'the body of /_reset must be {} or {"faults": SPEC, "seed": N} (and batch settings: '
                + ", ".join(BATCH_SETTINGS)
                + ")",
                "invalid_request_error",
            )
        batch = {k: v for k, v in options.items() if k in BATCH_SETTINGS}
        for name, value in batch.items():
            wanted = bool if name == "batch_expire" else (int, float)
            if not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool)):
                return error(400, f"{name} has the wrong type", "invalid_request_error", param=name)
        seed = options.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            return error(400, "seed must be an integer", "invalid_request_error", param="seed")
        faults = options.get("faults")
        if faults is not None and not isinstance(faults, str):
            return error(400, "faults must be a fault spec string", "invalid_request_error", param="faults")
        try:
            self.reset(faults=faults, seed=seed, replace_faults="faults" in options, batch=batch)
        except ConfigError as exc:
            return error(400, str(exc), "invalid_request_error", param="faults")
        return self.responder.json(200, self.report())
