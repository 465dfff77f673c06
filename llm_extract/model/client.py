"""The model call: the openai client, wrapped by instructor, with tenacity transport retries.

One call per article fills the task's whole schema. Two kinds of retry, kept apart and
counted apart:

- validation reasks, by instructor: when the answer fails the schema's validators, the
  model is asked again with the error (`settings.max_reasks` times at most);
- transport retries, by tenacity (`llm_extract.retry`): 429, 5xx, timeouts and connection
  errors repeat the same HTTP request with backoff, below instructor, so they never become
  reask prompts. The openai client's own retries are off.

Bounds. Each HTTP call has a deadline from connecting to the last byte of the answer
(`timeout_s`, plus `timeout_per_output_token_s` per token of `max_tokens`): a server that
sends its answer a byte at a time is cut off like one that sends nothing. Each `fill` (an
article, or one chunk of a long one) has a deadline for all its calls, reasks and retries
included (`article_timeout_s`, default 10 times one call's), counted from its first request.
An answer over `max_response_bytes` is refused while it is read (`model.transport`).

Calls in flight are limited by an `AdaptiveLimiter` (`llm_extract.runs.concurrency`): at most
`concurrency`, halved on a 429, a timeout or a rising latency, raised again after successes
(`ModelClient.limiter`). A slot is held for one HTTP call, not across backoff waits; the
calls of a fill already under way (reasks, retries) go before the first call of a new one.

The calls log and the response cache. One `CallRecord` per call. An answer that failed
validation (the model was re-asked, or the reasks ran out) keeps outcome `ok` (the HTTP call
succeeded) and gets `error = "invalid answer: ..."`; the store's response cache serves only
answers without an error, and a cached answer is checked against the response model before
it is served, so an answer that failed once is never served again (`--force` and reruns ask
the model anew).

Secrets (`llm_extract.model.secrets`): the API key and a base URL's credentials are
registered when the client is made, and redacted from the model's answer before it is
parsed (so from the result, `last_output` and reask prompts), from error messages, from
every `CallRecord` and from every log line. Credentials in a base URL are taken out of it:
never sent as Basic auth, the password used as the key when no key is set.

Heavy imports (openai, instructor) happen when a `ModelClient` is created (or a request is
planned), never at import time, so `llm-extract --help` stays fast.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from llm_extract.core.results import CallRecord, Usage
from llm_extract.errors import LLMExtractError, TransportError, ValidationFailedError
from llm_extract.model.failures import classify, error_kind, short
from llm_extract.model.replay import ARTICLE_HEADER, RecordingTransport, ReplayStore, ReplayTransport, request_hash
from llm_extract.model.requests import (
    canonical_request,
    first_request,
    instructor_kwargs,
    instructor_mode,
    loggable,
    prepared_model,
    raw_output,
)
from llm_extract.model.retry import CallTimeoutError, EmptyResponseError, transient_kind, transport_retrying
from llm_extract.model.secrets import redact, redact_json, register_secrets, split_credentials
from llm_extract.runs.concurrency import AdaptiveLimiter

if TYPE_CHECKING:
    import httpx2

    from llm_extract.core.articles import Article
    from llm_extract.settings import ExtractorSettings

__all__ = [
    "CallStats",
    "ModelClient",
    "ResponseCache",
    "call_timeout_s",
    "first_request",
    "instructor_kwargs",
    "raw_output",
]

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)


class ResponseCache(Protocol):
    """Earlier successful responses, by request hash (the SQLite calls log implements it)."""

    def cached_response(self, request_hash: str) -> dict[str, Any] | None: ...


#: Placeholder key for replay mode (no request leaves the process) and keyless local servers.
_NO_KEY = "no-key-needed"
#: Prefix of `CallRecord.error` for a 200 answer that failed validation.
INVALID = "invalid answer: "


@dataclass
class CallStats:
    """What one article's model call cost: HTTP calls, turns, retries, tokens, time."""

    calls: int = 0
    turns: int = 0
    retries: int = 0
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    last_output: str | None = None
    #: how many `fill` calls (chunks) these stats cover; each has one first turn
    fills: int = 1
    #: calls answered from the response cache (no request sent, nothing paid)
    cached_calls: int = 0
    #: one entry per call, for the calls log
    log: list[CallRecord] = field(default_factory=list)
    #: the limit on calls in flight when the call ended (`ModelClient.limiter.current_limit`)
    concurrency_limit: int | None = None

    @property
    def reasks(self) -> int:
        return max(self.turns - self.fills, 0)

    def add(self, other: CallStats) -> None:
        """Fold another chunk's stats into these (latency is set by the caller)."""
        self.calls += other.calls
        self.turns += other.turns
        self.retries += other.retries
        self.fills += other.fills
        self.usage.input_tokens += other.usage.input_tokens
        self.usage.output_tokens += other.usage.output_tokens
        self.usage.cached_input_tokens += other.usage.cached_input_tokens
        self.last_output = other.last_output or self.last_output
        self.cached_calls += other.cached_calls
        self.concurrency_limit = other.concurrency_limit or self.concurrency_limit
        if other.log is not self.log:
            self.log.extend(other.log)


def call_timeout_s(settings: ExtractorSettings) -> float:
    """One HTTP call's deadline: `timeout_s` + `timeout_per_output_token_s` × `max_tokens`."""
    return settings.timeout_s + settings.timeout_per_output_token_s * (settings.max_tokens or 0)


# -- instructor's own error logs: every failure is reported once, by us -------------------------------

#: set while `fill` runs: instructor's "API call failed" / "Max retries exceeded" records are dropped
_IN_FILL: contextvars.ContextVar[bool] = contextvars.ContextVar("llm_extract_in_fill", default=False)
_INSTRUCTOR_LOGGERS = ("instructor.v2.retry", "instructor.v2", "instructor")


class _ReportedByUs(logging.Filter):
    """Drops instructor's error lines about a call `fill` reports itself (a replay miss, a 429...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _IN_FILL.get() or record.levelno < logging.WARNING:
            return True
        return not str(record.msg).startswith(("API call failed", "Max retries exceeded"))


_FILTER = _ReportedByUs()


def _quiet_instructor() -> None:
    for name in _INSTRUCTOR_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@dataclass
class _Fill:
    """What one `fill` keeps between its turns."""

    started: bool = False
    #: the record of each turn's answer (a 200), in turn order
    answers: list[CallRecord] = field(default_factory=list)
    deadline: asyncio.Timeout | None = None


def _mark_invalid(record: CallRecord, reason: str) -> None:
    if record.error is None:
        record.error = INVALID + short(reason, 300)


def _reask_reason(kwargs: dict[str, Any]) -> str:
    """The validation error instructor put in its reask (the last message), else a generic line."""
    messages = kwargs.get("messages") or []
    content = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else None
    if isinstance(content, list):
        content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content) if content else "the answer failed validation; re-asked"


class ModelClient:
    """An openai `AsyncOpenAI` client bound to one event loop, with replay/record wiring.

    `limiter` (an `AdaptiveLimiter`) limits the calls in flight; give one to share it between
    clients or keep it after `aclose`, else the client makes its own (`ModelClient.limiter`).
    """

    def __init__(
        self,
        settings: ExtractorSettings,
        *,
        store: ReplayStore | None,
        transport: httpx2.AsyncBaseTransport | None = None,
        cache: ResponseCache | None = None,
        limiter: AdaptiveLimiter | None = None,
    ) -> None:
        import httpx2
        import instructor
        import openai

        from llm_extract.model.transport import GuardedTransport

        self.settings = settings
        mode = settings.resolved_mode
        # only live runs use the cache: replay is free already, and --record must really
        # call the model so that every response is saved to the replay directory
        self._cache = cache if mode == "live" else None
        # replayed answers are logged apart, so that the cache never serves them to a live run
        self._ok = "ok (replayed)" if mode == "replay" else "ok"
        secret = settings.api_key.get_secret_value() if settings.api_key else None
        base_url, user, password = split_credentials(settings.base_url)
        register_secrets(secret, user=user, password=password)
        _quiet_instructor()
        if mode == "replay":
            if store is None:
                raise LLMExtractError("replay mode needs a replay store")
            store.require_directory()
            wire: httpx2.AsyncBaseTransport = ReplayTransport(store)
        else:
            guarded = GuardedTransport(transport or httpx2.AsyncHTTPTransport(), max_bytes=settings.max_response_bytes)
            wire = RecordingTransport(guarded, store if mode == "record" else None)
        self.call_timeout_s = call_timeout_s(settings)
        self.article_timeout_s = settings.article_timeout_s or 10 * self.call_timeout_s
        self._http = httpx2.AsyncClient(transport=wire, timeout=self.call_timeout_s)
        self._openai = openai.AsyncOpenAI(
            api_key=secret or password or _NO_KEY,
            base_url=base_url,
            max_retries=0,
            timeout=self.call_timeout_s,
            http_client=self._http,
        )
        self._instructor_mode = instructor_mode(settings)
        self._instructor = instructor
        #: model calls in flight on this loop (chunks of one article count separately)
        self.limiter = limiter or AdaptiveLimiter.for_settings(settings)

    async def aclose(self) -> None:
        await self._openai.close()

    async def fill(
        self,
        *,
        response_model: type[M],
        messages: list[dict[str, str]],
        article: Article,
        prompt_version: str = "",
        log: list[CallRecord] | None = None,
    ) -> tuple[M, CallStats]:
        """Ask the model to fill `response_model` for one article.

        Returns the validated object and what it cost. Raises a `ModelCallError` child
        naming the article, or a `ReplayError`, when retries or reasks run out.
        """
        from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

        settings = self.settings
        stats = CallStats()
        if log is not None:
            stats.log = log  # filled as calls happen, so failed calls are logged too
        prepared = prepared_model(response_model)
        state = _Fill()
        create = self._creator(article, prompt_version, prepared, stats, state)
        # `create` is async, so instructor's patched one is a coroutine function (its stubs say otherwise)
        patch: Callable[..., Callable[..., Awaitable[Any]]] = self._instructor.patch
        patched = patch(create=create, mode=self._instructor_mode)
        started = time.perf_counter()
        token = _IN_FILL.set(True)
        try:
            async with asyncio.timeout(None) as deadline:
                state.deadline = deadline
                # the same arguments as `first_request`'s, so the first request is the one planned
                result: M = await patched(
                    response_model=prepared, max_retries=settings.max_reasks, **instructor_kwargs(settings, messages)
                )
        except InstructorRetryException as exc:
            cause = exc.__cause__ or exc
            if state.answers and state.answers[-1].turn == stats.turns:  # the last answer came, yet failed
                _mark_invalid(state.answers[-1], short(cause))
            raise self._failed(classify(cause, exc, article, stats), stats, started) from None
        except IncompleteOutputException as exc:
            if state.answers:
                _mark_invalid(state.answers[-1], "cut off at the token cap (finish_reason=length)")
            raise self._failed(
                ValidationFailedError(
                    f"{article.source}: the model's output was cut off at the token cap (finish_reason=length, "
                    f"max tokens {settings.max_tokens or 'the server’s'}) after {stats.calls} call(s); not re-asked, "
                    "as the answer would not fit again: raise --max-tokens, or the model repeats itself (try another "
                    "model)",
                    article=article.source,
                    attempts=stats.calls,
                    last_output=redact(stats.last_output) if stats.last_output else None,
                ),
                stats,
                started,
            ) from exc
        except TimeoutError:
            if state.deadline is None or not state.deadline.expired():
                raise
            raise self._failed(
                TransportError(
                    f"{article.source}: no valid answer within the article's deadline of {self.article_timeout_s:g} s "
                    f"(article_timeout_s) after {stats.calls} HTTP call(s) and {stats.turns} answer(s); not retried",
                    article=article.source,
                    attempts=stats.calls,
                    last_output=redact(stats.last_output) if stats.last_output else None,
                ),
                stats,
                started,
            ) from None
        finally:
            _IN_FILL.reset(token)
        stats.latency_s = time.perf_counter() - started
        stats.concurrency_limit = self.limiter.current_limit
        return result, stats

    def _failed(self, error: LLMExtractError, stats: CallStats, started: float) -> LLMExtractError:
        stats.latency_s = time.perf_counter() - started
        stats.concurrency_limit = self.limiter.current_limit
        return error

    def _creator(
        self, article: Article, prompt_version: str, prepared: type[BaseModel], stats: CallStats, state: _Fill
    ) -> Callable[..., Awaitable[Any]]:
        """The `create` instructor calls for each turn: cache, transport retries, the calls log."""
        settings = self.settings
        headers = {ARTICLE_HEADER: article.sha256}

        async def create(**kwargs: Any) -> Any:
            from openai.types import chat

            stats.turns += 1
            turn = stats.turns
            if turn > 1 and state.answers:  # instructor re-asks: the last answer failed validation
                _mark_invalid(state.answers[-1], _reask_reason(kwargs))
            canonical = canonical_request(kwargs)
            key = request_hash("chat/completions", canonical)
            body = redact_json(loggable(canonical, prompt_version))
            if self._cache is not None and (hit := self._cache.cached_response(key)) is not None:
                completion = chat.ChatCompletion.model_validate(hit)
                if self._validates(prepared, completion):
                    stats.calls += 1
                    stats.cached_calls += 1
                    record = self._record(article, prompt_version, turn, 1, "ok (cached)", key, body, hit, 0.0)
                    stats.log.append(record)
                    state.answers.append(record)
                    stats.last_output = raw_output(completion)
                    return completion
                log.debug("%s: a cached answer fails validation now; asking the model", article.source)
            async for attempt in transport_retrying(settings, timeout_s=self.call_timeout_s):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    stats.calls += 1
                    if number > 1:
                        stats.retries += 1
                    completion = await self._attempt(
                        article, prompt_version, turn, number, key, body, kwargs, headers, stats, state
                    )
            usage = getattr(completion, "usage", None)
            if usage is not None:
                stats.usage.input_tokens += usage.prompt_tokens or 0
                stats.usage.output_tokens += usage.completion_tokens or 0
                details = getattr(usage, "prompt_tokens_details", None)
                stats.usage.cached_input_tokens += getattr(details, "cached_tokens", 0) or 0
            stats.last_output = raw_output(completion)
            return completion

        return create

    async def _attempt(
        self,
        article: Article,
        prompt_version: str,
        turn: int,
        number: int,
        key: str,
        body: dict[str, Any],
        kwargs: dict[str, Any],
        headers: dict[str, str],
        stats: CallStats,
        state: _Fill,
    ) -> Any:
        """One HTTP call, in a slot of the limiter, logged; returns the (redacted) completion."""
        from openai.types import chat

        async with self.limiter.slot(0 if state.started else 1) as slot:
            if not state.started:
                state.started = True
                if state.deadline is not None:  # the article's clock starts with its first request
                    state.deadline.reschedule(asyncio.get_running_loop().time() + self.article_timeout_s)
            began = time.perf_counter()
            try:
                completion = await self._send(kwargs, headers)
                if not getattr(completion, "choices", None):
                    raise EmptyResponseError("the server answered 200 with an empty 'choices' list")
            except asyncio.CancelledError:
                record = self._record(
                    article, prompt_version, turn, number, "cancelled", key, body, None, time.perf_counter() - began,
                    error="cancelled: the article's deadline passed, or the run stopped",
                )  # fmt: skip
                stats.log.append(record)
                raise
            except Exception as exc:
                kind = transient_kind(exc)
                if kind == "rate_limit":
                    slot.overload("rate_limit")
                elif kind == "timeout":
                    slot.overload("timeout")
                    if number < self.settings.max_attempts:
                        log.warning(
                            "%s: timed out after %gs; the server may still be generating: retrying with concurrency %d",
                            article.source, self.call_timeout_s, self.limiter.current_limit,
                        )  # fmt: skip
                stats.log.append(
                    self._record(
                        article, prompt_version, turn, number, kind or error_kind(exc), key, body, None,
                        time.perf_counter() - began, error=exc,
                    )
                )  # fmt: skip
                raise
            latency = time.perf_counter() - began
            usage = getattr(completion, "usage", None)
            slot.success(latency, getattr(usage, "completion_tokens", None))
        dumped = completion.model_dump(mode="json", exclude_unset=True)
        clean = redact_json(dumped)
        if clean is not dumped:  # the server echoed a secret: the model layer never returns it
            completion = chat.ChatCompletion.model_validate(clean)
        record = self._record(article, prompt_version, turn, number, self._ok, key, body, clean, latency)
        stats.log.append(record)
        state.answers.append(record)
        return completion

    async def _send(self, kwargs: dict[str, Any], headers: dict[str, str]) -> Any:
        """The openai call, bounded from connecting to the last byte of the body."""
        timeout = self.call_timeout_s
        try:
            async with asyncio.timeout(timeout):
                return await self._openai.chat.completions.create(**kwargs, extra_headers=headers, timeout=timeout)
        except TimeoutError as exc:
            raise CallTimeoutError(timeout) from exc

    def _validates(self, prepared: type[BaseModel], completion: Any) -> bool:
        """Whether a cached answer passes the response model (answers logged before validation
        was recorded may not)."""
        try:
            prepared.from_response(completion, mode=self._instructor_mode, strict=True)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - any failure: not served from the cache
            return False
        return True

    def _record(
        self,
        article: Article,
        prompt_version: str,
        turn: int,
        attempt: int,
        outcome: str,
        key: str,
        body: dict[str, Any],
        response: dict[str, Any] | None,
        latency: float,
        *,
        error: BaseException | str | None = None,
    ) -> CallRecord:
        usage = (response or {}).get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        status = getattr(error, "status_code", None)
        return CallRecord(
            article_sha256=article.sha256,
            model=self.settings.model,
            prompt_version=prompt_version,
            turn=turn,
            attempt=attempt,
            kind="retry" if attempt > 1 else "reask" if turn > 1 else "first",
            outcome=outcome,
            status_code=status if isinstance(status, int) else (200 if response is not None else None),
            input_tokens=0 if outcome == "ok (cached)" else usage.get("prompt_tokens") or 0,
            output_tokens=0 if outcome == "ok (cached)" else usage.get("completion_tokens") or 0,
            cached_input_tokens=details.get("cached_tokens") or 0,
            latency_s=round(latency, 4),
            request_hash=key,
            request=body,
            response=response,
            error=short(error) if error is not None else None,
        )
