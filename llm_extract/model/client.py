"""The model call: the openai client, wrapped by instructor, with tenacity transport retries.

One call per article fills the task's whole schema. Two kinds of retry, kept apart and
counted apart:

- validation reasks, by instructor: when the answer fails the schema's validators, the
  model is asked again with the error (`settings.max_reasks` times at most);
- transport retries, by tenacity (`llm_extract.retry`): 429, 5xx, timeouts and connection
  errors repeat the same HTTP request with backoff, below instructor, so they never become
  reask prompts. The openai client's own retries are off.

The first request of a call is also known without sending it: `first_request` is the body
`fill` sends first for some messages (instructor's own preparation of the same arguments),
which the Batch API submits in place of a live call (`Extractor.plan_requests`).

Heavy imports (openai, instructor) happen when a `ModelClient` is created (or a request is
planned), never at import time, so `llm-extract --help` stays fast.
"""

from __future__ import annotations

import asyncio
import re
import functools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from llm_extract.core.results import CallRecord, Usage
from llm_extract.errors import (
    LLMExtractError,
    ModelCallError,
    ReplayError,
    RequestRejectedError,
    TransportError,
    ValidationFailedError,
)
from llm_extract.model.replay import ARTICLE_HEADER, RecordingTransport, ReplayStore, ReplayTransport, request_hash
from llm_extract.model.retry import EmptyResponseError, transient_kind, transport_retrying

if TYPE_CHECKING:
    import httpx2

    from llm_extract.core.articles import Article
    from llm_extract.settings import ExtractorSettings

__all__ = ["CallStats", "ModelClient", "ResponseCache", "first_request", "instructor_kwargs", "raw_output"]

M = TypeVar("M", bound=BaseModel)


class ResponseCache(Protocol):
    """Earlier successful responses, by request hash (the SQLite calls log implements it)."""

    def cached_response(self, request_hash: str) -> dict[str, Any] | None: ...


#: Placeholder key for replay mode (no request leaves the process) and keyless local servers.
_NO_KEY = "no-key-needed"


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
        if other.log is not self.log:
            self.log.extend(other.log)


def raw_output(completion: Any) -> str | None:
    """The text the model produced in a chat completion: tool arguments, else the content."""
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return "\n".join(c.function.arguments or "" for c in calls)
    return getattr(message, "content", None)


# -- the request: what `fill` asks instructor for, and what instructor sends first --------------


def instructor_mode(settings: ExtractorSettings) -> Any:
    """Instructor's mode for the settings' call mode (`auto` is resolved before: see `model.servers`)."""
    import instructor

    return {
        "json": instructor.Mode.JSON,
        "json_schema": instructor.Mode.JSON_SCHEMA,
    }.get(settings.call_mode, instructor.Mode.TOOLS)


#: response model → the same model wrapped once as instructor's `ResponseSchema`
_PREPARED: dict[type[BaseModel], type[BaseModel]] = {}


def prepared_model(response_model: type[M]) -> type[M]:
    """The response model wrapped once as instructor's `ResponseSchema`.

    Given a plain pydantic class, instructor wraps it in a new class on every call, so its
    (lru-cached) tool schema is generated again each time: the largest cost per article
    by far. Wrapping once keeps the same tool name and schema, and the same validation.
    """
    prepared = _PREPARED.get(response_model)
    if prepared is None:
        import instructor

        prepared = _PREPARED[response_model] = instructor.response_schema(response_model)
    return prepared  # type: ignore[return-value]


def instructor_kwargs(settings: ExtractorSettings, messages: list[dict[str, str]]) -> dict[str, Any]:
    """The request arguments `fill` gives instructor (besides the response model and the
    reask limit): a copy of the messages, the model, and the temperature when it is set."""
    kwargs: dict[str, Any] = {"messages": [dict(m) for m in messages], "model": settings.model}
    if settings.temperature is not None:
        kwargs["temperature"] = settings.temperature
    if settings.max_tokens is not None:
        kwargs[token_cap_parameter(settings.model)] = settings.max_tokens
    return kwargs


def token_cap_parameter(model: str) -> str:
    """The name the API reads the answer's token cap under, for `model`.

    OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...) refuse `max_tokens` and read
    `max_completion_tokens`; every other model, at OpenAI and on the servers people run
    themselves (llama.cpp, vLLM, Ollama), reads `max_tokens`. Decided by the model, not the
    server, so that a recording replays the same through `llm-extract serve`.
    """
    name = model.rsplit("/", 1)[-1].casefold()
    return "max_completion_tokens" if re.match(r"(o\d|gpt-5)", name) else "max_tokens"


def first_request(
    settings: ExtractorSettings, response_model: type[BaseModel], messages: list[dict[str, str]]
) -> dict[str, Any]:
    """The JSON body of the first chat-completions request `ModelClient.fill` sends for `messages`.

    Instructor's `handle_response_model` turns the arguments `fill` gives it
    (`instructor_kwargs`, for the same wrapped response model and call mode) into the
    request, as its patched `create` does before the first call: `tools` and `tool_choice`
    in tools mode, `response_format` and the schema in the system prompt in json mode. The
    body is that request as `fill` hashes it for the calls log and the response cache
    (`_canonical_request`), its keys in the order the openai client writes them, so that
    its compact JSON is the body the live path sends, byte for byte. Nothing is sent.
    """
    from instructor.processing import handle_response_model

    _, kwargs = handle_response_model(
        prepared_model(response_model), mode=instructor_mode(settings), **instructor_kwargs(settings, messages)
    )
    return _wire_order(_canonical_request(kwargs))


@functools.cache
def _wire_keys() -> dict[str, int]:
    """The openai client's order of the body's keys: that of `chat.completions.create`'s parameters."""
    import inspect

    from openai.resources.chat.completions import AsyncCompletions

    return {name: i for i, name in enumerate(inspect.signature(AsyncCompletions.create).parameters)}


def _wire_order(body: dict[str, Any]) -> dict[str, Any]:
    order = _wire_keys()
    return dict(sorted(body.items(), key=lambda item: order.get(item[0], len(order))))


class ModelClient:
    """An openai `AsyncOpenAI` client bound to one event loop, with replay/record wiring."""

    def __init__(
        self,
        settings: ExtractorSettings,
        *,
        store: ReplayStore | None,
        transport: httpx2.AsyncBaseTransport | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        import httpx2
        import instructor
        import openai

        self.settings = settings
        mode = settings.resolved_mode
        # only live runs use the cache: replay is free already, and --record must really
        # call the model so that every response is saved to the replay directory
        self._cache = cache if mode == "live" else None
        # replayed answers are logged apart, so that the cache never serves them to a live run
        self._ok = "ok (replayed)" if mode == "replay" else "ok"
        secret = settings.api_key.get_secret_value() if settings.api_key else None
        if mode == "replay":
            if store is None:
                raise LLMExtractError("replay mode needs a replay store")
            wire: httpx2.AsyncBaseTransport = ReplayTransport(store)
        else:
            inner = transport or httpx2.AsyncHTTPTransport()
            wire = RecordingTransport(inner, store if mode == "record" else None)
        self._http = httpx2.AsyncClient(transport=wire, timeout=settings.timeout_s)
        self._openai = openai.AsyncOpenAI(
            api_key=secret or _NO_KEY,
            base_url=settings.base_url,
            max_retries=0,
            timeout=settings.timeout_s,
            http_client=self._http,
        )
        self._instructor_mode = instructor_mode(settings)
        self._instructor = instructor
        # model calls in flight on this loop (chunks of one article count separately)
        self._slots = asyncio.Semaphore(settings.concurrency)

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
        headers = {ARTICLE_HEADER: article.sha256}
        create_completion = self._openai.chat.completions.create

        async def create(**kwargs: Any) -> Any:
            from openai.types import chat

            stats.turns += 1
            turn = stats.turns
            canonical = _canonical_request(kwargs)
            key = request_hash("chat/completions", canonical)
            body = _loggable(canonical, prompt_version)
            if self._cache is not None and (hit := self._cache.cached_response(key)) is not None:
                completion = chat.ChatCompletion.model_validate(hit)
                stats.calls += 1
                stats.cached_calls += 1
                stats.log.append(self._record(article, prompt_version, turn, 1, "ok (cached)", key, body, hit, 0.0))
                stats.last_output = raw_output(completion)
                return completion
            async for attempt in transport_retrying(settings):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    stats.calls += 1
                    if number > 1:
                        stats.retries += 1
                    began = time.perf_counter()
                    try:
                        completion = await create_completion(**kwargs, extra_headers=headers)
                        if not getattr(completion, "choices", None):
                            raise EmptyResponseError("the server answered 200 with an empty 'choices' list")
                    except Exception as exc:
                        stats.log.append(
                            self._record(
                                article, prompt_version, turn, number, transient_kind(exc) or _error_kind(exc),
                                key, body, None, time.perf_counter() - began, error=exc,
                            )
                        )
                        raise
                    stats.log.append(
                        self._record(
                            article, prompt_version, turn, number, self._ok, key, body,
                            completion.model_dump(mode="json", exclude_unset=True), time.perf_counter() - began,
                        )
                    )
            usage = getattr(completion, "usage", None)
            if usage is not None:
                stats.usage.input_tokens += usage.prompt_tokens or 0
                stats.usage.output_tokens += usage.completion_tokens or 0
                details = getattr(usage, "prompt_tokens_details", None)
                stats.usage.cached_input_tokens += getattr(details, "cached_tokens", 0) or 0
            stats.last_output = raw_output(completion)
            return completion

        # `create` is async, so instructor's patched one is a coroutine function (its stubs say otherwise)
        patch: Callable[..., Callable[..., Awaitable[Any]]] = self._instructor.patch
        patched = patch(create=create, mode=self._instructor_mode)
        started = time.perf_counter()
        try:
            async with self._slots:
                # the same arguments as `first_request`'s, so the first request is the one planned
                result: M = await patched(
                    response_model=prepared_model(response_model),
                    max_retries=settings.max_reasks,
                    **instructor_kwargs(settings, messages),
                )
        except InstructorRetryException as exc:
            stats.latency_s = time.perf_counter() - started
            raise _classify(exc.__cause__ or exc, exc, article, stats) from None
        except IncompleteOutputException as exc:
            stats.latency_s = time.perf_counter() - started
            raise ValidationFailedError(
                f"{article.source}: the model's output was cut off at the token cap (finish_reason=length, "
                f"max tokens {settings.max_tokens or 'the server’s'}) after {stats.calls} call(s); not re-asked, as "
                "the answer would not fit again: raise --max-tokens, or the model repeats itself (try another model)",
                article=article.source,
                attempts=stats.calls,
                last_output=stats.last_output,
            ) from exc
        stats.latency_s = time.perf_counter() - started
        return result, stats

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
        error: BaseException | None = None,
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
            error=_short(error) if error is not None else None,
        )


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.model_dump() if hasattr(o, "model_dump") else str(o)))


def _canonical_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What identifies a request for the response cache: the body that would be sent."""
    return _jsonable({k: v for k, v in kwargs.items() if k != "extra_headers"})


def _loggable(canonical: dict[str, Any], prompt_version: str) -> dict[str, Any]:
    """The request for the calls log, the (long, fixed) system prompt replaced by a reference."""
    body = dict(canonical)
    messages = body.get("messages") or []
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system" and prompt_version:
        body["messages"] = [{"role": "system", "content": {"$prompt": prompt_version}}, *messages[1:]]
    return body


def _error_kind(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    return f"http_{status}" if isinstance(status, int) else type(exc).__name__


def _classify(cause: BaseException, wrapper: Any, article: Article, stats: CallStats) -> LLMExtractError:
    """Turn what instructor raised into our error for this article."""
    seen: BaseException | None = cause
    while seen is not None:
        if isinstance(seen, ReplayError):
            return seen
        seen = seen.__cause__ or seen.__context__
    last_output = stats.last_output
    completion = getattr(wrapper, "last_completion", None)
    if completion is not None:
        last_output = raw_output(completion) or last_output
    status = getattr(cause, "status_code", None)
    kind = transient_kind(cause)
    if kind is not None:
        return TransportError(
            f"{article.source}: {kind.replace('_', ' ')} ({_short(cause)}) persisted after "
            f"{stats.calls} HTTP attempt(s); transport retries exhausted",
            article=article.source,
            attempts=stats.calls,
            last_output=last_output,
            status_code=status if isinstance(status, int) else None,
        )
    if isinstance(status, int):
        return RequestRejectedError(
            f"{article.source}: the server rejected the request with HTTP {status} "
            f"({_short(cause)}); not retried",
            article=article.source,
            attempts=stats.calls,
            last_output=last_output,
            status_code=status,
        )
    if stats.turns and last_output is not None or _is_validation(cause):
        return ValidationFailedError(
            f"{article.source}: the model's output failed validation on all {stats.turns} "
            f"answer(s) ({stats.reasks} reask(s)); last error: {_short(cause)}",
            article=article.source,
            attempts=stats.calls,
            last_output=last_output,
        )
    return ModelCallError(
        f"{article.source}: the model call failed: {_short(cause)}",
        article=article.source,
        attempts=stats.calls,
        last_output=last_output,
    )


def _is_validation(exc: BaseException) -> bool:
    import json

    from pydantic import ValidationError

    return isinstance(exc, (ValidationError, json.JSONDecodeError))


def _short(exc: BaseException, limit: int = 400) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
