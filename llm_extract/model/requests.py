"""The request `ModelClient.fill` sends: instructor's arguments, the first request's body, hashing.

The first request of a call is known without sending it: `first_request` is the body `fill`
sends first for some messages (instructor's own preparation of the same arguments), which
the Batch API submits in place of a live call (`Extractor.plan_requests`). `canonical_request`
is what identifies a request for the response cache and the calls log (the body that would
be sent); `loggable` is that body for the calls log, the long system prompt replaced by a
reference to its prompt version.
"""

from __future__ import annotations

import functools
import json
import re
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


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.model_dump() if hasattr(o, "model_dump") else str(o)))


def canonical_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What identifies a request for the response cache: the body that would be sent."""
    return _jsonable({k: v for k, v in kwargs.items() if k != "extra_headers"})


def loggable(canonical: dict[str, Any], prompt_version: str) -> dict[str, Any]:
    """The request for the calls log, the (long, fixed) system prompt replaced by a reference."""
    body = dict(canonical)
    messages = body.get("messages") or []
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system" and prompt_version:
        body["messages"] = [{"role": "system", "content": {"$prompt": prompt_version}}, *messages[1:]]
    return body
