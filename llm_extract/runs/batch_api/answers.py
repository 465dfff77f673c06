"""What batch jobs answered, and the transport that gives those answers to the live path.

`part_answers` merges the downloaded output and error files of a part's jobs (later jobs,
resubmissions, complete earlier ones). `AnswerTransport` sits under the collecting
extractor's openai client: it answers each first request from the batch output of the
article being collected (matched by request hash), lets instructor's reasks and retries of
those go live (or refuses them), and refuses any other request (one changed since submit).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from llm_extract.model.replay import request_hash
from llm_extract.runs.batch_api.client import Borrowed
from llm_extract.runs.batch_api.state import JobRecord, Part

__all__ = ["ARTICLE_ANSWERS", "AnswerTransport", "ArticleAnswers", "PartAnswers", "part_answers"]

log = logging.getLogger(__name__)


# -- the answers of a part's jobs ---------------------------------------------------------------------


@dataclass
class PartAnswers:
    """The batch jobs' answer to every request of a part, merged over its jobs."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom_id → response body
    errors: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # custom_id → code, message, job
    #: a job of the part is not finished (or its files not downloaded yet)
    pending: bool = False
    #: every request of the part may still be answered (its first job is not finished)
    waiting_all: bool = False
    #: requests in resubmitted jobs that are not finished
    waiting: set[str] = field(default_factory=set)

    def is_waiting(self, custom_id: str) -> bool:
        return self.waiting_all or custom_id in self.waiting


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s: a line that is not JSON, ignored", path)
                continue
            if isinstance(obj, dict):
                yield obj


def custom_ids(path: Path) -> Iterator[str]:
    for obj in read_lines(path):
        if isinstance(obj.get("custom_id"), str):
            yield obj["custom_id"]


_UNANSWERED = {
    "failed": "the batch failed",
    "expired": "the batch expired",
    "cancelled": "the batch was cancelled",
}


def part_answers(out_dir: Path, part: Part) -> PartAnswers:
    """What the part's jobs answered: later jobs (resubmissions) complete earlier ones."""
    outcome = PartAnswers()

    def failed(custom_id: str, code: str, message: str, job: JobRecord) -> None:
        if custom_id not in outcome.answers:
            outcome.errors[custom_id] = (code, message, job.batch_id)

    for number, job in enumerate(part.jobs):
        if not job.terminal or not job.downloaded:
            outcome.pending = True
            if number == 0:
                outcome.waiting_all = True
            elif (out_dir / job.input).exists():
                outcome.waiting.update(custom_ids(out_dir / job.input))
            continue
        seen: set[str] = set()
        for rel in (job.output, job.error_output):
            if rel is None:
                continue
            for line in read_lines(out_dir / rel):
                custom_id = line.get("custom_id")
                if not isinstance(custom_id, str):
                    continue
                seen.add(custom_id)
                response = line.get("response") or {}
                error = line.get("error")
                body = response.get("body") if isinstance(response, dict) else None
                if response.get("status_code") == 200 and not error and isinstance(body, dict):
                    outcome.answers[custom_id] = body
                    outcome.errors.pop(custom_id, None)
                    continue
                code, message = "batch_request_failed", "the request failed"
                if isinstance(error, dict):
                    code, message = str(error.get("code") or code), str(error.get("message") or message)
                elif isinstance(body, dict) and isinstance(body.get("error"), dict):
                    code = str(body["error"].get("code") or f"http_{response.get('status_code')}")
                    message = str(body["error"].get("message") or message)
                failed(custom_id, code, f"HTTP {response.get('status_code')}: {message}" if response else message, job)
        if len(seen) < job.requests and (out_dir / job.input).exists():  # requests with no line at all
            reason = _UNANSWERED.get(job.status or "", "the batch left the request unanswered")
            if job.errors:
                reason += ": " + "; ".join(str(e.get("message")) for e in job.errors[:3])
            code = f"batch_{job.status}" if job.status in _UNANSWERED else "batch_unanswered"
            for custom_id in custom_ids(out_dir / job.input):
                if custom_id not in seen:
                    failed(custom_id, code, reason, job)
    return outcome


# -- answering the live path from them ----------------------------------------------------------------


@dataclass
class ArticleAnswers:
    """One article's batch answers, by request hash, and those already served."""

    pending: dict[str, dict[str, Any]]
    served: set[str] = field(default_factory=set)


#: The answers of the article being collected in this task (its chunks' tasks inherit it).
ARTICLE_ANSWERS: ContextVar[ArticleAnswers | None] = ContextVar("llm_extract_batch_answers", default=None)


class AnswerTransport(httpx2.AsyncBaseTransport):
    """Answers first requests from batch outputs; reasks (and retries) go live, or are refused.

    The answers are those of the article extracted in the calling task (`ARTICLE_ANSWERS`,
    set by collect around each extraction), so concurrent articles never see each other's,
    even when two of them send an identical request. A request that is neither one of the
    article's first requests nor a follow-up of one (the prompt, schema or settings changed
    since submit) is refused with a 400 rather than paid for live.
    """

    def __init__(self, inner: httpx2.AsyncBaseTransport | None, *, live: bool) -> None:
        self._inner: httpx2.AsyncBaseTransport | None = Borrowed(inner) if inner is not None else None
        self._live = live

    @staticmethod
    def _follows(answers: ArticleAnswers, body: Any) -> bool:
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            return False
        return any(
            request_hash("chat/completions", {**body, "messages": messages[:size]}) in answers.served
            for size in range(len(messages) - 1, 0, -1)
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        try:
            body = json.loads(request.content)
        except json.JSONDecodeError:
            body = None
        answers = ARTICLE_ANSWERS.get()
        if answers is None:
            return refusal(request, "batch_no_answers", "no batch answers for this request (not inside collect)")
        key = request_hash("chat/completions", body)
        answer = answers.pending.pop(key, None)
        if answer is not None:
            answers.served.add(key)
            return httpx2.Response(200, json=answer, headers={"x-llm-extract-batch": "1"}, request=request)
        if key in answers.served or self._follows(answers, body):  # a retry after an unusable answer, or a reask
            if self._live:
                if self._inner is None:
                    self._inner = httpx2.AsyncHTTPTransport()
                return await self._inner.handle_async_request(request)
            return refusal(request, "batch_no_live", "the batch answer is not usable and live calls are off (--no-live)")
        return refusal(
            request,
            "batch_request_changed",
            "the request built now is not the one submitted (prompt, schema, model or settings changed since "
            "submit): collect with the same settings, or submit again",
        )

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def refusal(request: httpx2.Request, code: str, message: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return httpx2.Response(400, json=body, request=request)
