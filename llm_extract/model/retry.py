"""Transport retries: which failures are retried, and how long to wait (tenacity).

Kept apart from validation reasks (instructor's job). A 429, a 5xx, a timeout or a dropped
connection is retried here, on the same request, with exponential backoff and full jitter, and
never turned into a reask prompt. `Retry-After` (or `retry-after-ms`) is honoured up to a
cap. Anything else (400, 401, 404, 422, a replay miss, an answer over `max_response_bytes`)
fails at once. The openai client's own retries are switched off (`max_retries=0`) so the
two never multiply.

A timeout is either the HTTP client's (no byte for `timeout` seconds) or the model layer's
total deadline of one call (`CallTimeoutError`: connect to the last byte of the body), which
bounds a server that sends its answer a byte at a time.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from typing import TYPE_CHECKING, Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_random_exponential

from llm_extract.errors import ReplayError

if TYPE_CHECKING:
    from llm_extract.settings import ExtractorSettings

__all__ = [
    "RETRYABLE_STATUS",
    "CallTimeoutError",
    "EmptyResponseError",
    "find_cause",
    "is_transient",
    "retry_after_seconds",
    "transient_kind",
    "transport_retrying",
]

#: HTTP statuses worth retrying: timeout, conflict, rate limit, server errors.
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class EmptyResponseError(Exception):
    """A 200 answer with no choice in it: a server glitch, retried like a 5xx."""


class CallTimeoutError(TimeoutError):
    """One HTTP call got no complete answer (connect to the last byte) within its deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no complete answer within {seconds:g} s (from connecting to the last byte of the body)")


E = TypeVar("E", bound=BaseException)


def find_cause(exc: BaseException | None, kind: type[E]) -> E | None:
    """`exc` or the first exception of type `kind` in its chain of causes and contexts."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def transient_kind(exc: BaseException) -> str | None:
    """'rate_limit', 'server_error', 'timeout', 'connection' for retryable failures, else None."""
    import openai

    from llm_extract.model.transport import ResponseTooLargeError

    if find_cause(exc, ReplayError) is not None or find_cause(exc, ResponseTooLargeError) is not None:
        return None
    if isinstance(exc, EmptyResponseError):
        return "empty_response"
    if isinstance(exc, (openai.APITimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    status = _status(exc)
    if isinstance(exc, openai.APIStatusError) and status in RETRYABLE_STATUS:
        return "rate_limit" if status == 429 else "server_error" if status >= 500 else "http_" + str(status)
    return None


def is_transient(exc: BaseException) -> bool:
    """True for failures a retry may cure: 408/409/429/5xx, timeouts, connection errors,
    and 200 answers with no choices."""
    return transient_kind(exc) is not None


def retry_after_seconds(exc: BaseException, *, now: float | None = None) -> float | None:
    """The wait a server asked for in `retry-after-ms` or `Retry-After` (seconds or a date)."""
    response: Any = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None  # a header we cannot read: fall back to backoff
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return max(parsed.timestamp() - (time.time() if now is None else now), 0.0)


class _WaitRetryAfterOrBackoff:
    """Wait what the server asked (capped), else exponential backoff with jitter."""

    def __init__(self, initial: float, maximum: float, retry_after_cap: float) -> None:
        self._backoff = wait_random_exponential(multiplier=initial, max=maximum)
        self._cap = retry_after_cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc) if exc is not None else None
        if asked is not None:
            return min(asked, self._cap)
        return float(self._backoff(state))


def transport_retrying(settings: ExtractorSettings, *, timeout_s: float | None = None) -> AsyncRetrying:
    """The tenacity policy for one model call (one HTTP request and its retries); `timeout_s`
    is one call's deadline (default `settings.timeout_s`)."""
    timeout = settings.timeout_s if timeout_s is None else timeout_s
    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(settings.max_attempts)
        | stop_after_delay(settings.max_attempts * (timeout + settings.retry_after_max_s)),
        wait=_WaitRetryAfterOrBackoff(
            settings.retry_initial_wait_s, settings.retry_max_wait_s, settings.retry_after_max_s
        ),
        reraise=True,
    )
