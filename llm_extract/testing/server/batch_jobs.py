"""The Batch API's state: stored files, batch jobs, and the runner that answers a job's requests.

A batch goes `validating` → `in_progress` (its input file checked) → `completed` once
`batch_delay_s` seconds have passed since it was created, as seen by the next request that
reads it (`BatchRunner.advance`; nothing runs in the background). Each request line is then
answered like `POST /v1/chat/completions` into an output file (misses into an error file),
with seeded batch faults (`batch_fail_rate`, `batch_schema_rate`) and `batch_expire`.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from llm_extract.model.replay import request_hash
from llm_extract.testing.server.config import ServerConfig
from llm_extract.testing.server.mutations import answer_schema, violate_schema
from llm_extract.testing.server.recordings import CHAT_ENDPOINT, CorruptedAnswers, RecordingIndex
from llm_extract.testing.server.responses import error_body
from llm_extract.testing.server.stats import Counters

__all__ = ["TERMINAL", "BatchJob", "BatchRunner", "FileStore", "StoredFile", "new_id"]

BATCH_WINDOW_S = 24 * 3600
#: The statuses a batch never leaves.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


@dataclass
class StoredFile:
    """One uploaded (or generated) file, kept in memory."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: float

    def object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": int(self.created_at),
            "expires_at": None,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


class FileStore:
    """The files, by id, for the server's lifetime (`POST /_reset` keeps them). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}

    def add(self, filename: str, purpose: str, data: bytes, *, created_at: float | None = None) -> StoredFile:
        stored = StoredFile(
            id=new_id("file-"),
            filename=filename,
            purpose=purpose,
            data=data,
            created_at=time.time() if created_at is None else created_at,
        )
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def delete(self, file_id: str) -> None:
        with self._lock:
            self._files.pop(file_id, None)

    def list(self, purpose: str | None = None) -> list[StoredFile]:
        """The files in upload order, those of `purpose` only if given."""
        with self._lock:
            return [f for f in self._files.values() if purpose is None or f.purpose == purpose]


@dataclass
class BatchJob:
    """One batch job: the OpenAI batch object, and its parsed input once validated."""

    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    created: float
    status: str = "validating"
    model: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)  # in_progress_at, completed_at, ...
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})

    def object(self) -> dict[str, Any]:
        def at(name: str) -> int | None:
            value = self.times.get(name)
            return int(value) if value is not None else None

        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created),
            "in_progress_at": at("in_progress_at"),
            "expires_at": int(self.created + BATCH_WINDOW_S),
            "finalizing_at": at("finalizing_at"),
            "completed_at": at("completed_at"),
            "failed_at": at("failed_at"),
            "expired_at": at("expired_at"),
            "cancelling_at": at("cancelling_at"),
            "cancelled_at": at("cancelled_at"),
            "request_counts": dict(self.counts),
            "metadata": self.metadata,
        }


def _jsonl_lines(objects: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(o, ensure_ascii=False).encode("utf-8") + b"\n" for o in objects)


class BatchRunner:
    """Moves batch jobs along their clock and answers their requests from the recordings.

    Batch faults are drawn per answered request line from `random.Random(f"batch:{seed}")`.
    """

    def __init__(
        self,
        config: ServerConfig,
        index: RecordingIndex,
        files: FileStore,
        counters: Counters,
        corrupted: CorruptedAnswers,
    ) -> None:
        self.config = config
        self.index = index
        self.files = files
        self.counters = counters
        self.corrupted = corrupted
        self._lock = threading.Lock()
        self._rng = random.Random(f"batch:{config.seed}")

    def reset(self, config: ServerConfig, seed: int) -> None:
        """New batch settings (`config`), and the batch faults started over from `seed`."""
        with self._lock:
            self.config = config
            self._rng = random.Random(f"batch:{seed}")

    def advance(self, job: BatchJob, now: float | None = None) -> None:
        """Move a batch along its clock: validate, then answer every request at the deadline."""
        now = time.time() if now is None else now
        with self._lock:  # one reader advances a job at a time; the others see the result
            if job.status == "validating":
                self._validate(job, now)
            if job.status == "in_progress" and now >= job.created + self.config.batch_delay_s:
                job.times["finalizing_at"] = now
                if self.config.batch_expire:
                    self._finish(job, now, answered=len(job.lines) // 2, rest="batch_expired")
                    job.status = "expired"
                    job.times["expired_at"] = now
                else:
                    self._finish(job, now, answered=len(job.lines), rest="batch_expired")
                    job.status = "completed"
                    job.times["completed_at"] = now
                self.counters.count_batch(job.status)
            elif job.status == "cancelling":
                self._finish(job, now, answered=0, rest="batch_cancelled")
                job.status = "cancelled"
                job.times["cancelled_at"] = now
                self.counters.count_batch("cancelled")

    def _validate(self, job: BatchJob, now: float) -> None:
        """Parse the input file; `failed` with the errors OpenAI would list, else `in_progress`."""
        stored = self.files.get(job.input_file_id)
        errors: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()

        def error(code: str, message: str, line: int | None = None, param: str | None = None) -> None:
            errors.append({"code": code, "message": message, "param": param, "line": line})

        if stored is None:
            error("file_not_found", f"The input file {job.input_file_id} was deleted.")
        else:
            for number, raw in enumerate(stored.data.splitlines(), 1):
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    error("invalid_json_line", "This line is not parseable as valid JSON.", number)
                    continue
                if not isinstance(line, dict):
                    error("invalid_request", "Each line must be a JSON object.", number)
                    continue
                custom_id = line.get("custom_id")
                if not isinstance(custom_id, str) or not custom_id:
                    error("missing_required_parameter", "Missing 'custom_id'.", number, "custom_id")
                elif custom_id in seen:
                    error(
                        "duplicate_custom_id",
                        f"The custom_id {custom_id!r} is used more than once.",
                        number,
                        "custom_id",
                    )
                if line.get("method") != "POST":
                    error("invalid_method", "The 'method' must be 'POST'.", number, "method")
                if line.get("url") != job.endpoint:
                    error("mismatched_url", f"The 'url' must match the batch endpoint {job.endpoint}.", number, "url")
                body = line.get("body")
                if not isinstance(body, dict):
                    error("invalid_request", "The 'body' must be a JSON object.", number, "body")
                else:
                    models.add(str(body.get("model")))
                if isinstance(custom_id, str):
                    seen.add(custom_id)
                lines.append(line)
            if len(lines) > self.config.batch_max_requests:
                error(
                    "too_many_requests",
                    f"The input file holds {len(lines):,} requests; a batch may hold at most "
                    f"{self.config.batch_max_requests:,}.",
                )
            if len(models) > 1:
                error("mismatched_model", f"Every request of a batch must use the same model, not {sorted(models)}.")
            if not lines and not errors:
                error("empty_file", "The input file holds no request.")
        if errors:
            job.status = "failed"
            job.errors = errors[:100]
            job.times["failed_at"] = now
            self.counters.count_batch("failed")
            return
        job.lines = lines
        job.model = models.pop() if models else None
        job.counts["total"] = len(lines)
        job.status = "in_progress"
        job.times["in_progress_at"] = now

    def _finish(self, job: BatchJob, now: float, *, answered: int, rest: str) -> None:
        """Answer the first `answered` requests from the recordings; the rest get `rest` errors."""
        outputs: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for index, line in enumerate(job.lines):
            self.counters.count_batch("requests")
            if index >= answered:
                failures.append(self._unanswered(line, rest))
                continue
            result, ok = self._answer(line)
            (outputs if ok else failures).append(result)
        self.counters.count_batch("answered", len(outputs))
        self.counters.count_batch("errors", len(failures))
        job.counts.update(completed=len(outputs), failed=len(failures))
        for kind, objects in (("output", outputs), ("error", failures)):
            if not objects:
                continue
            stored = self.files.add(f"{job.id}_{kind}.jsonl", "batch_output", _jsonl_lines(objects), created_at=now)
            setattr(job, f"{kind}_file_id", stored.id)
        job.lines = []  # answered: the input stays in its file

    @staticmethod
    def _unanswered(line: dict[str, Any], rest: str) -> dict[str, Any]:
        """The error line of a request the batch did not run (`batch_expired`, `batch_cancelled`)."""
        message = (
            "This request could not be executed before the completion window expired."
            if rest == "batch_expired"
            else "This request was not executed because the batch was cancelled."
        )
        return {
            "id": new_id("batch_req_"),
            "custom_id": line["custom_id"],
            "response": None,
            "error": {"code": rest, "message": message},
        }

    def _answer(self, line: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """One request line answered: (its output line, True), or (its error line, False)."""
        custom_id = line["custom_id"]
        line_id = new_id("batch_req_")
        request_id = new_id("req_")
        rates = (self.config.batch_fail_rate, self.config.batch_schema_rate)
        draw = self._rng.random() if any(rates) else 1.0
        if draw < rates[0]:
            message = "The server had an error while processing your request. Sorry about that!"
            body = error_body(message, "server_error")
            return {
                "id": line_id,
                "custom_id": custom_id,
                "response": {"status_code": 500, "request_id": request_id, "body": body},
                "error": {"code": "server_error", "message": body["error"]["message"]},
            }, False
        body = line["body"]
        key = request_hash(CHAT_ENDPOINT, body)
        recording = self.index.get(key)
        if recording is None or body.get("stream"):
            message = (
                "streaming is not supported in a batch"
                if recording is not None
                else f"llm-extract replay server: no recording matches this request (hash {key[:16]}): "
                f"{self.index.explain_miss(body)}"
            )
            code = "streaming_unsupported" if recording is not None else "replay_miss"
            self.counters.count("misses")
            return {
                "id": line_id,
                "custom_id": custom_id,
                "response": {
                    "status_code": 400,
                    "request_id": request_id,
                    "body": error_body(message, "invalid_request_error", code=code),
                },
                "error": {"code": code, "message": message},
            }, False
        answer = recording.response
        if draw < rates[0] + rates[1]:
            answer = violate_schema(answer, answer_schema(recording.request, answer))
            self.corrupted.add(recording.request_hash)  # the client's reask gets the recorded answer
            self.counters.count_batch("schema")
        return {
            "id": line_id,
            "custom_id": custom_id,
            "response": {"status_code": recording.status, "request_id": request_id, "body": answer},
            "error": None,
        }, True
