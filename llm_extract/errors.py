"""Every error llm_extract raises on purpose, in one place.

```
LLMExtractError
├── ConfigError                 bad settings (unknown mode, live mode without a key, ...)
├── InputError                  an article that cannot be read (names the file and the problem)
├── PromptError                 a template that does not render
├── StoreError                  the SQLite store cannot be used (missing, or newer than this code)
├── BatchError                  the Batch API refused a file or a job, or OUT_DIR has no batch state
├── WorkerDiedError             a worker process or Ray actor died twice under an article
├── ReplayError                 replay mode could not serve a request
│   ├── ReplayMissError         nothing recorded for this article
│   └── StaleRecordingError     a recording exists but the request changed since
└── ModelCallError              the model call for one article failed for good
    ├── TransportError          429 / 5xx / timeout / connection error, retries exhausted
    ├── RequestRejectedError    the server refused the request (4xx other than 408/409/429): not retried
    └── ValidationFailedError   the model's output stayed invalid after every reask
```

A `ModelCallError` names the article, the kind of failure and the attempts made, and keeps
the last raw model output (`last_output`) when there was one, so nothing the model said is
lost when retries run out.
"""

from __future__ import annotations

__all__ = [
    "BatchError",
    "ConfigError",
    "InputError",
    "LLMExtractError",
    "ModelCallError",
    "PromptError",
    "ReplayError",
    "ReplayMissError",
    "RequestRejectedError",
    "StaleRecordingError",
    "StoreError",
    "TransportError",
    "ValidationFailedError",
    "WorkerDiedError",
]


class LLMExtractError(Exception):
    """Base class of every error raised by llm_extract on purpose."""

    #: A short machine-readable name of the failure, used in summaries and errors.jsonl.
    kind: str = "error"


class ConfigError(LLMExtractError):
    """Settings that cannot work (an unknown mode, live mode without an API key, ...)."""

    kind = "config"


class InputError(LLMExtractError):
    """An article that cannot be read or used; the message names the file and the problem."""

    kind = "input"

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class PromptError(LLMExtractError):
    """A prompt template that is missing or does not render."""

    kind = "prompt"


class StoreError(LLMExtractError):
    """The SQLite event store cannot be used: missing, or its schema is newer than this code."""

    kind = "store"


class BatchError(LLMExtractError):
    """The Batch API refused a file or a job, or OUT_DIR holds no usable batch state."""

    kind = "batch"


class ReplayError(LLMExtractError):
    """Replay mode could not serve a model request."""

    kind = "replay"

    def __init__(self, message: str, *, article: str | None = None) -> None:
        self.article = article
        super().__init__(message)


class ReplayMissError(ReplayError):
    """Nothing is recorded for this request; the message says how to record it."""

    kind = "replay_miss"


class StaleRecordingError(ReplayError):
    """A recording exists for the article, but the request that would be sent differs.

    `changes` lists what differs (model, system prompt, schema, ...), so that replay never
    serves output that was recorded for another prompt.
    """

    kind = "stale_recording"

    def __init__(self, message: str, *, article: str | None = None, changes: list[str]) -> None:
        self.changes = changes
        super().__init__(message, article=article)


class ModelCallError(LLMExtractError):
    """The model call for one article failed after every retry or reask it was allowed."""

    kind = "model_call"

    def __init__(
        self,
        message: str,
        *,
        article: str,
        attempts: int,
        last_output: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.article = article
        self.attempts = attempts
        self.last_output = last_output
        self.status_code = status_code
        super().__init__(message)


class TransportError(ModelCallError):
    """Transient failures (429, 5xx, timeouts, connection errors) outlasted the retries."""

    kind = "transport"


class RequestRejectedError(ModelCallError):
    """The server refused the request (400, 401, 403, 404, 422...); retrying would not help."""

    kind = "rejected"


class ValidationFailedError(ModelCallError):
    """The model's output failed validation on the first try and on every reask."""

    kind = "validation"


class WorkerDiedError(LLMExtractError):
    """The worker (a process of `--workers`, a Ray actor of `--engine ray`) extracting an
    article died, and so did the one it was sent to again; or none is left. A rerun retries it."""

    kind = "worker_died"
