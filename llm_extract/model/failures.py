"""What a failed model call becomes: our error for the article, its message, the calls log's kind.

`classify` turns what instructor raised (after tenacity's transport retries and instructor's
reasks) into a `ModelCallError` child naming the article, or the `ReplayError` underneath.
Every message goes through `short`, which also redacts the run's secrets
(`llm_extract.model.secrets`): a server may echo the API key in an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llm_extract.errors import (
    LLMExtractError,
    ModelCallError,
    ReplayError,
    RequestRejectedError,
    TransportError,
    ValidationFailedError,
)
from llm_extract.model.requests import raw_output
from llm_extract.model.retry import find_cause, transient_kind
from llm_extract.model.secrets import redact

if TYPE_CHECKING:
    from llm_extract.core.articles import Article
    from llm_extract.model.client import CallStats

__all__ = ["classify", "error_kind", "short"]


def short(exc: BaseException | str, limit: int = 400) -> str:
    """One line of at most `limit` characters, secrets redacted."""
    text = exc if isinstance(exc, str) else (" ".join(str(exc).split()) or type(exc).__name__)
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_kind(exc: BaseException) -> str:
    """The calls log's outcome of a failed call that is not transient: `http_400`, `html_page`,
    `too_large`, or the exception's type."""
    from llm_extract.model.transport import HTMLPageError, ResponseTooLargeError

    if isinstance(exc, HTMLPageError):
        return "html_page"
    if find_cause(exc, ResponseTooLargeError) is not None:
        return "too_large"
    status = getattr(exc, "status_code", None)
    return f"http_{status}" if isinstance(status, int) else type(exc).__name__


def _is_validation(exc: BaseException) -> bool:
    import json

    from pydantic import ValidationError

    return isinstance(exc, (ValidationError, json.JSONDecodeError))


def classify(cause: BaseException, wrapper: Any, article: Article, stats: CallStats) -> LLMExtractError:
    """Turn what instructor raised into our error for this article."""
    from llm_extract.model.transport import HTMLPageError, ResponseTooLargeError

    replay = find_cause(cause, ReplayError)
    if replay is not None:
        return replay
    last_output = stats.last_output
    completion = getattr(wrapper, "last_completion", None)
    if completion is not None:
        last_output = raw_output(completion) or last_output
    last_output = redact(last_output) if last_output else last_output
    status = getattr(cause, "status_code", None)
    kind = transient_kind(cause)
    common: dict[str, Any] = {"article": article.source, "attempts": stats.calls, "last_output": last_output}
    too_large = find_cause(cause, ResponseTooLargeError)
    if too_large is not None:
        return TransportError(f"{article.source}: {short(too_large)}; not retried", **common)
    if kind is not None:
        what = "timeout" if kind == "timeout" else kind.replace("_", " ")
        return TransportError(
            f"{article.source}: {what} ({short(cause)}) persisted after "
            f"{stats.calls} HTTP attempt(s); transport retries exhausted",
            status_code=status if isinstance(status, int) else None,
            **common,
        )
    if isinstance(cause, HTMLPageError):
        return RequestRejectedError(f"{article.source}: {short(cause)}; not retried", status_code=status, **common)
    if isinstance(status, int):
        return RequestRejectedError(
            f"{article.source}: the server rejected the request with HTTP {status} ({short(cause)}); not retried",
            status_code=status,
            **common,
        )
    if stats.turns and last_output is not None or _is_validation(cause):
        return ValidationFailedError(
            f"{article.source}: the model's output failed validation on all {stats.turns} "
            f"answer(s) ({stats.reasks} reask(s)); last error: {short(cause)}",
            **common,
        )
    return ModelCallError(f"{article.source}: the model call failed: {short(cause)}", **common)
