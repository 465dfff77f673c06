"""The request `ModelClient.fill` sends: instructor's arguments, the first request's body, hashing.

The first request of a call is known without sending it: `first_request` is the body `fill`
sends first for some messages (instructor's own preparation of the same arguments), which
the Batch API submits in place of a live call (`Extractor.plan_requests`). `canonical_request`
is what identifies a request for the response cache and the calls log (the body that would
be sent); `loggable` is that body for the calls log, the long system prompt replaced by a
reference to its prompt version.

Hashing once. `request_hash` is the key a request is logged, recorded and replayed under.
`canonical_request` also keeps, for the task that calls it (a context variable), the bytes
the openai client will send for that body (compact JSON, its keys in the client's order),
and `request_hash` remembers the hash it computes of that very body; so the replay
transport, given a request whose bytes are exactly those (`sent_request_hash`), reuses the
hash instead of parsing and hashing the request again. Any other request is parsed and
hashed as before, so what is matched is always the request as sent.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from llm_extract.settings import ExtractorSettings

__all__ = [
    "canonical_request",
    "first_request",
    "instructor_kwargs",
    "instructor_mode",
    "loggable",
    "prepared_model",
    "raw_output",
    "request_hash",
    "sent_request_hash",
    "token_cap_parameter",
]

M = TypeVar("M", bound=BaseModel)


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
    (`canonical_request`), its keys in the order the openai client writes them, so that
    its compact JSON is the body the live path sends, byte for byte. Nothing is sent.
    """
    from instructor.processing import handle_response_model

    _, kwargs = handle_response_model(
        prepared_model(response_model), mode=instructor_mode(settings), **instructor_kwargs(settings, messages)
    )
    return _wire_order(canonical_request(kwargs))


@functools.cache
def _wire_keys() -> dict[str, int]:
    """The openai client's order of the body's keys: that of `chat.completions.create`'s parameters."""
    import inspect

    from openai.resources.chat.completions import AsyncCompletions

    return {name: i for i, name in enumerate(inspect.signature(AsyncCompletions.create).parameters)}


def _wire_order(body: dict[str, Any]) -> dict[str, Any]:
    order = _wire_keys()
    return dict(sorted(body.items(), key=lambda item: order.get(item[0], len(order))))


def _default(obj: Any) -> Any:
    return obj.model_dump() if hasattr(obj, "model_dump") else str(obj)


#: compact JSON as the openai client writes a body (`openapi_dumps`), non-finite floats allowed
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default).encode


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=_default))


@dataclass(eq=False)
class _Sent:
    """The last body `canonical_request` made in this context, the bytes the openai client
    sends for it, and the hashes `request_hash` computed of it (by endpoint)."""

    body: dict[str, Any]
    wire: bytes
    hashes: dict[str, str] = field(default_factory=dict)


_SENT: contextvars.ContextVar[_Sent | None] = contextvars.ContextVar("llm_extract_sent_request", default=None)


def canonical_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What identifies a request for the response cache: the body that would be sent.

    The result must not be changed: its hash is remembered for the transport (see the
    module docstring).
    """
    items = [(k, v) for k, v in kwargs.items() if k != "extra_headers"]
    _SENT.set(None)
    if not all(isinstance(k, str) for k, _ in items):
        return _jsonable(dict(items))  # type: ignore[no-any-return]
    pieces = {k: f"{_encode(k)}:{_encode(v)}" for k, v in items}
    order = _wire_keys()
    wire = ",".join(pieces[k] for k in sorted(pieces, key=lambda k: order.get(k, len(order))))
    try:
        sent = ("{" + wire + "}").encode()
    except UnicodeEncodeError:  # lone surrogates, which only escaped JSON (the round trip's) pairs up
        return _jsonable(dict(items))  # type: ignore[no-any-return]
    body: dict[str, Any] = json.loads("{" + ",".join(pieces.values()) + "}")
    _SENT.set(_Sent(body, sent))
    return body


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(endpoint: str, body: Any) -> str:
    return hashlib.sha256(f"{endpoint}\n{_canonical(body)}".encode()).hexdigest()


def request_hash(endpoint: str, body: Any) -> str:
    """The key a request is recorded and replayed under: sha256 of endpoint + canonical body."""
    digest = _digest(endpoint, body)
    sent = _SENT.get()
    if sent is not None and sent.body is body:
        sent.hashes[endpoint] = digest
    return digest


def sent_request_hash(content: bytes, endpoint: str) -> str | None:
    """`request_hash` of the request whose bytes are `content`, when it is the body last made
    by `canonical_request` in this context and already hashed for `endpoint`; else None."""
    sent = _SENT.get()
    if sent is None or content != sent.wire:
        return None
    return sent.hashes.get(endpoint)


def loggable(canonical: dict[str, Any], prompt_version: str) -> dict[str, Any]:
    """The request for the calls log, the (long, fixed) system prompt replaced by a reference."""
    body = dict(canonical)
    messages = body.get("messages") or []
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system" and prompt_version:
        body["messages"] = [{"role": "system", "content": {"$prompt": prompt_version}}, *messages[1:]]
    return body
