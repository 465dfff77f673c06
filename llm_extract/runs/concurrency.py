"""Adaptive concurrency: how many model calls are in flight at once, found by AIMD.

A local server (llama.cpp's `llama-server -np 1`, Ollama, a small vLLM) answers one or a
few requests at a time and queues the rest; a provider answers 429 when a run goes faster
than its rate limit. A fixed `-c 8` then either waits in the server's queue until the
client's timeout fires (and sends the request again, while the server still works on it), or
spends its retries on 429s. `AdaptiveLimiter` finds the concurrency the server sustains, as
TCP finds a window (additive increase, multiplicative decrease):

- it starts at `maximum` (the configured `concurrency`) and never goes above it, nor below
  `minimum` (1);
- it **halves** on a sign of overload: a 429, a timeout, or a latency that rose past
  `latency_factor` times the best seen (a running average of recent calls compared with the
  fastest one; per output token when the answer says how many it had, so that long answers
  are not mistaken for a queue). One decrease per round: a sign from a call that was sent
  before the last decrease says nothing about the new limit and is ignored;
- the latency it averages is **the server's, not our CPU's**: of each call's latency, only the
  time the event loop sat idle while the call was in flight (`llm_extract.runs.loop_idle`
  says why that, and not a timing at the transport: a busy loop delays both alike). A loop
  kept busy by our own work (other answers parsed and validated, several worker processes on
  few cores) reads answers late, and the timed latency rises with the load; the idle time
  does not, while a server that queues calls leaves the loop idle as they wait. The fastest
  call is the fastest timed latency, so the average can pass `latency_factor` times it only
  when the loop waited that long with nothing to do;
- it **adds 1** after `increase_after` successes in a row since the last change.

Calls wait for a slot in priority order, then first come first served: a call of an
extraction already under way (a reask, a retry) goes before the first call of a new one, so
that articles finish rather than all start.

`current_limit`, `min_seen`, `max_seen`, `history` (every change, with its reason) and
`snapshot()` are what a progress display or a run summary shows. The limiter is not tied to
an event loop: its waiters are futures of the loop that waits.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llm_extract.runs.loop_idle import idle_clock

if TYPE_CHECKING:
    from llm_extract.settings import ExtractorSettings

__all__ = ["AdaptiveLimiter", "LimitChange", "Overload", "Slot"]

log = logging.getLogger(__name__)

#: What made the limit go down.
Overload = Literal["rate_limit", "timeout", "latency"]

_REASONS = {
    "rate_limit": "the server answered 429",
    "timeout": "a call timed out",
    "latency": "latency rose",
    "successes": "calls succeed",
}
#: Smoothing of the latency average (weight of the newest call).
_EWMA_WEIGHT = 0.3
#: Output tokens below which a call's latency is not divided per token (fixed overheads dominate).
_MIN_TOKENS = 32


@dataclass(frozen=True)
class LimitChange:
    """One change of the limit: when (`time.monotonic()`), to what, and why."""

    at: float
    limit: int
    reason: str


@dataclass
class Slot:
    """One call's place in flight: `started` when it got it; report how the call went.

    `idle` reads the seconds the event loop has sat idle (None: not measured), `idle_at_start`
    its reading when the slot was taken.
    """

    limiter: AdaptiveLimiter
    started: float
    idle: Callable[[], float] | None = field(default=None, repr=False)
    idle_at_start: float = 0.0
    _reported: bool = field(default=False, repr=False)

    def success(self, latency_s: float, output_tokens: int | None = None) -> None:
        """The call was answered after `latency_s` (with `output_tokens`, when known)."""
        if not self._reported:
            self._reported = True
            waited = self.idle() - self.idle_at_start if self.idle is not None else None
            self.limiter._success(self, latency_s, output_tokens, waited)

    def overload(self, reason: Overload) -> None:
        """The server showed it is overloaded (429, a timeout)."""
        if not self._reported:
            self._reported = True
            self.limiter._decrease(self, reason)


class AdaptiveLimiter:
    """An AIMD limit on calls in flight (see the module docstring); `adaptive=False` keeps it fixed."""

    def __init__(
        self,
        maximum: int,
        *,
        minimum: int = 1,
        initial: int | None = None,
        increase_after: int = 5,
        latency_factor: float | None = 3.0,
        adaptive: bool = True,
        clock: Callable[[], float] = time.monotonic,
        idle: Callable[[], float] | Literal["loop", "auto"] | None = "auto",
    ) -> None:
        """`idle`: what reads the seconds the event loop has sat idle, on the clock of the latencies
        reported: "loop" (the running loop's, `llm_extract.runs.loop_idle`), a function (a test's),
        or None (latencies taken as they are); "auto", the default, is "loop" with the real clock
        and None with another one (a test's fake clock, whose latencies the loop never saw)."""
        if maximum < 1 or minimum < 1 or minimum > maximum:
            raise ValueError(f"need 1 <= minimum <= maximum, got {minimum} and {maximum}")
        if latency_factor is not None and latency_factor <= 1:
            raise ValueError(f"latency_factor must be > 1, got {latency_factor}")
        self.maximum = maximum
        self.minimum = minimum
        self.adaptive = adaptive
        self.increase_after = max(increase_after, 1)
        self.latency_factor = latency_factor
        self._clock = clock
        if idle == "auto":
            idle = "loop" if clock is time.monotonic else None
        self._idle: Callable[[], float] | Literal["loop"] | None = idle
        self._limit = min(max(initial if initial is not None else maximum, minimum), maximum)
        self.min_seen = self._limit
        self.max_seen = self._limit
        self.history: list[LimitChange] = [LimitChange(clock(), self._limit, "start")]
        self._in_flight = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._successes = 0
        self._last_decrease = float("-inf")
        #: fastest metric seen (per token, else per call) and the running average of recent ones
        self._best: dict[bool, float] = {}
        self._average: dict[bool, float] = {}
        self.decreases = 0
        self.increases = 0

    @classmethod
    def for_settings(cls, settings: ExtractorSettings) -> AdaptiveLimiter:
        """The limiter of a run: at most `concurrency`; adaptive unless `adaptive_concurrency` is
        off or the run replays (replayed latencies say nothing about a server)."""
        return cls(
            settings.concurrency,
            adaptive=settings.adaptive_concurrency and settings.resolved_mode != "replay",
            latency_factor=settings.latency_backoff_factor,
        )

    # -- what a display reads ---------------------------------------------------------------------
    @property
    def current_limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return sum(1 for *_, future in self._waiters if not future.done())

    def snapshot(self) -> dict[str, Any]:
        """`{"limit", "min", "max", "maximum", "in_flight", "waiting", "decreases", "increases"}`."""
        return {
            "limit": self._limit,
            "min": self.min_seen,
            "max": self.max_seen,
            "maximum": self.maximum,
            "in_flight": self._in_flight,
            "waiting": self.waiting,
            "decreases": self.decreases,
            "increases": self.increases,
        }

    # -- taking a slot ------------------------------------------------------------------------------
    @asynccontextmanager
    async def slot(self, priority: int = 1) -> AsyncIterator[Slot]:
        """Wait for a slot (lower `priority` first), hold it for the block."""
        await self._acquire(priority)
        try:
            yield self._new_slot()
        finally:
            self._release()

    def _new_slot(self) -> Slot:
        if not self.adaptive or self.latency_factor is None or self._idle is None:
            return Slot(self, self._clock())
        read = idle_clock() if self._idle == "loop" else self._idle
        return Slot(self, self._clock(), read, read())

    async def _acquire(self, priority: int) -> None:
        if self._in_flight < self._limit and not self.waiting:
            self._in_flight += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # granted as it was cancelled: give the slot on
            raise

    def _release(self) -> None:
        self._in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_flight < self._limit:
            *_, future = heapq.heappop(self._waiters)
            if future.done():  # cancelled while waiting
                continue
            self._in_flight += 1
            future.set_result(None)

    # -- adapting -------------------------------------------------------------------------------------
    def _set(self, limit: int, reason: str) -> None:
        limit = min(max(limit, self.minimum), self.maximum)
        if limit == self._limit:
            return
        if limit < self._limit:
            self.decreases += 1
        else:
            self.increases += 1
        log.info("model calls in flight: at most %d (was %d): %s", limit, self._limit, _REASONS.get(reason, reason))
        self._limit = limit
        self.min_seen = min(self.min_seen, limit)
        self.max_seen = max(self.max_seen, limit)
        self.history.append(LimitChange(self._clock(), limit, reason))
        self._successes = 0
        self._wake()

    def _decrease(self, slot: Slot, reason: Overload) -> bool:
        """Halve the limit, once per round; True when it went down."""
        if not self.adaptive or slot.started < self._last_decrease:
            return False
        self._last_decrease = self._clock()
        self._average.clear()  # the queue drains: averages start over at the new limit
        before = self._limit
        self._set(max(self._limit // 2, self.minimum), reason)
        return self._limit < before

    def _success(self, slot: Slot, latency_s: float, output_tokens: int | None, waited_s: float | None = None) -> None:
        """A call answered after `latency_s`, of which the loop sat idle `waited_s` (None: not measured)."""
        if not self.adaptive:
            return
        if self.latency_factor is not None and latency_s > 0:
            per_token = output_tokens is not None and output_tokens >= _MIN_TOKENS
            divisor = output_tokens if per_token and output_tokens else 1
            metric = latency_s / divisor
            # the server's share: what the loop waited with nothing to do (never more than the latency)
            server = min(latency_s, max(waited_s, 0.0)) / divisor if waited_s is not None else metric
            best = self._best.get(per_token)
            self._best[per_token] = metric if best is None else min(best, metric)
            average = self._average.get(per_token)
            average = server if average is None else (1 - _EWMA_WEIGHT) * average + _EWMA_WEIGHT * server
            self._average[per_token] = average
            if average > self.latency_factor * self._best[per_token] and slot.started >= self._last_decrease:
                if self._decrease(slot, "latency"):
                    return
        if slot.started < self._last_decrease:
            return  # sent before the last decrease: it says nothing about the new limit
        self._successes += 1
        if self._successes >= self.increase_after and self._limit < self.maximum:
            self._set(self._limit + 1, "successes")
