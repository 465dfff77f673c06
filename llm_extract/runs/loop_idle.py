"""How long an event loop sat idle: the part of a call's latency that can only be the server's.

A model call's latency, timed around `await`, is the server's time *plus* the time the event
loop was busy with other work before it came back to this call: other answers being parsed
and validated, grounding, a blocking call somewhere. Under CPU load (several worker
processes on few cores, many calls in flight) that second part grows with the load, and a
limiter that reads it as the server's queue halves its concurrency although the server is
fine.

Timing the call lower down (an httpx event hook, a transport wrapper, from the request sent to
the response headers) does not take that part out: the transport's own `await` also resumes
only when the loop gets round to it, so it sees the same lag. Sampling the loop's lag with a
sleeping probe and subtracting it is a guess (one sample of a lag that changes from one loop
pass to the next, and a call waits for several passes: headers, body, the pool's checkpoints).

What is exact is the time the loop sat **idle**, blocked in its selector waiting for I/O or a
timer, while the call was in flight: the loop only blocks when nothing is ready to run, so the
call's answer had not come yet; that time can only be the server's (and the network's). When
the loop is never busy it is the whole latency; when the loop is saturated it is close to
none, however late the answer is read. It is a lower bound on the server's time, which is what
a limiter needs: it never mistakes our CPU for the server's queue, and a server that queues
calls (a one-slot server, a provider near its limit) leaves the loop idle while it does, so
that one still shows.

`idle_clock(loop)` gives a function returning the seconds `loop` has sat idle so far; the
difference of two readings is the idle time between them. It is measured by wrapping the
loop's selector (asyncio's own loops, selector and proactor, keep it as `loop._selector`),
once per loop, timing each blocking `select`: two clock reads per loop pass. A loop without
one (uvloop, another implementation) falls back to the wall time the loop's thread did not
spend on the CPU (`time.thread_time`), which also counts as idle the time that thread waited
for the GIL or for a core.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

__all__ = ["idle_clock"]


class _IdleTimingSelector:
    """A loop's selector, forwarded to as it is, whose blocking `select`s are timed."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.idle_s = 0.0

    def select(self, timeout: float | None = None) -> Any:
        if timeout is not None and timeout <= 0:  # a poll: the loop has work ready, it is not idle
            return self._inner.select(timeout)
        began = time.perf_counter()
        try:
            return self._inner.select(timeout)
        finally:
            self.idle_s += time.perf_counter() - began

    def read(self) -> float:
        return self.idle_s

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _not_on_cpu() -> float:
    return time.perf_counter() - time.thread_time()


def idle_clock(loop: asyncio.AbstractEventLoop | None = None) -> Callable[[], float]:
    """Seconds `loop` (default: the running one) has sat idle, as a function to read from its thread."""
    loop = loop or asyncio.get_running_loop()
    selector = getattr(loop, "_selector", None)
    if isinstance(selector, _IdleTimingSelector):
        return selector.read
    if selector is None or not callable(getattr(selector, "select", None)):
        return _not_on_cpu
    timed = _IdleTimingSelector(selector)
    loop._selector = timed  # type: ignore[attr-defined]
    return timed.read
