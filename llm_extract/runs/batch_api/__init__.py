"""Extraction through the OpenAI Batch API: submit, status, collect (and resubmit).

The Batch API answers chat-completion requests within 24 hours at half the price. This module
puts it behind the same pipeline as the live path, so that a record made through a batch is
the record a live run makes:

- **submit** builds one request per article (per chunk for a long article) with *exactly*
  the body the live path sends for its first call. It does not rebuild that body: it runs the
  live path itself (`ModelClient.fill`: instructor in the task's call mode, the openai client,
  the replay-aware transports) down to a capturing transport, which keeps the JSON body from
  the wire and answers with a cut-off completion (`finish_reason: length`) so that the call
  ends at once, with no retry, no reask and no log line. Whatever instructor and the openai
  client put in a request (messages, tools, tool_choice, temperature, model, and anything a
  later version adds) is therefore in the batch request, byte for byte the same JSON; its
  request hash is kept beside it. Requests are written to JSONL input files in the Batch API
  format, split under the provider's limits (`max_requests`, `max_bytes` per file; an
  article's chunks stay in one file), uploaded (`files.create`, purpose `batch`) and run as
  batch jobs (`batches.create`, `/v1/chat/completions`, `24h`).
- **status** retrieves every job and reports its progress.
- **collect** downloads output and error files, then runs every article whose requests are
  all answered through `Extractor.aextract`, with a transport that answers each first
  request from the batch output (matched by its request hash, so a prompt, schema, model or
  settings change since submit is refused, never silently paid for live). Validation,
  reasks, chunk combination, grounding, normalisation and result building are thus the
  live path's own code. A batch answer that fails validation continues as the live path
  would: instructor re-asks the model, live, with the error (`live_fallback=False` lists the
  article instead). Results go to the store and `records.jsonl` as `run_batch` writes them;
  collecting twice changes nothing. Requests that failed, expired or were cancelled are
  listed; `resubmit` sends them again.

Cost: the Batch API bills half the list price, so `run.cost_usd` of a collected article is
50 % of the price-table cost of its batch-answered calls plus the full cost of any live reask.

Files in OUT_DIR (besides `records.jsonl`, `errors.jsonl` and `extract.db`):

```
batch_jobs.json                    the state: parts, their jobs (batch and file ids, status,
                                   request counts, times), rewritten atomically at each change
batch/part-00001.jsonl             the uploaded input (Batch API request lines)
batch/part-00001.map.jsonl         one line per article: id, source, sha256, published, url,
                                   title, text, and its requests (custom_id, chunk, of, start,
                                   end, request hash)
batch/part-00001.retry1.jsonl      a resubmission of the part's failed requests
batch/<batch_id>.output.jsonl      downloaded output / error files
batch/<batch_id>.errors.jsonl
batch/part-00001.collected         sha256 of every article collected from the part
```

`custom_id` is the article id when it is safe (`[A-Za-z0-9._-]`, at most 64 characters) and
not used by another article in OUT_DIR, else a sanitised id with 12 hex digits of the
article's sha256; a chunk of a long article is `<id>#chunk<k>` (k from 1).

Python API (each has an `a...` coroutine twin):

```python
from llm_extract import Extractor
from llm_extract.runs.batch_api import submit, status, collect, resubmit

ex = Extractor(mode="live")                       # OPENAI_API_KEY / OPENAI_BASE_URL
submit(["articles/"], Path("out"), extractor=ex)  # -> SubmitSummary
status(Path("out"), extractor=ex)                 # -> list[JobStatus]
collect(Path("out"), extractor=ex)                # -> CollectSummary (when jobs are done)
resubmit(Path("out"), extractor=ex)               # failed / expired requests, again
```
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, get_args
from urllib.parse import urlsplit, urlunsplit

import httpx2
from pydantic import BaseModel, Field

from llm_extract.core.articles import Article, iter_articles
from llm_extract.runs.runner import (
    ERRORS_FILE,
    RECORDS_FILE,
    STORE_FILE,
    BatchSummary,
    JsonlAppender,
    failure_of,
    now_iso,
    restore_records,
    unexpected_failure,
)
from llm_extract.core.chunking import chunk_text
from llm_extract.errors import BatchError, ConfigError, InputError, LLMExtractError, ModelCallError
from llm_extract.core.results import CallRecord, Failure, RunMeta, Usage
from llm_extract.model.replay import request_hash

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.settings import ExtractorSettings
    from llm_extract.runs.store import EventStore

__all__ = [
    "BATCH_DIR",
    "BATCH_DISCOUNT",
    "BATCH_ENDPOINT",
    "JOBS_FILE",
    "MAX_FILE_BYTES",
    "MAX_FILE_REQUESTS",
    "BatchError",
    "BatchRequest",
    "BatchState",
    "CollectSummary",
    "FailedRequest",
    "JobStatus",
    "SubmitSummary",
    "acollect",
    "aresubmit",
    "astatus",
    "asubmit",
    "build_requests",
    "collect",
    "extractor_for",
    "load_state",
    "resubmit",
    "status",
    "submit",
]

log = logging.getLogger(__name__)

FORMAT = "llm-extract-batch/1"
JOBS_FILE = "batch_jobs.json"
BATCH_DIR = "batch"
BATCH_ENDPOINT = "/v1/chat/completions"
#: The provider's limits per input file: 50,000 requests and 200 MB (kept under 200 MiB too).
MAX_FILE_REQUESTS = 50_000
MAX_FILE_BYTES = 200_000_000
#: The Batch API bills this fraction of the list price.
BATCH_DISCOUNT = 0.5
#: Batch statuses after which nothing changes any more.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
#: `RunMeta.mode` of a collected result: "batch" once records.Mode allows it, else "live".
RUN_MODE: Any = "batch" if "batch" in get_args(RunMeta.model_fields["mode"].annotation) else "live"
#: The calls log's outcome of a call answered from a batch output.
BATCH_OUTCOME = "ok (batch)"

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

T = TypeVar("T")


# -- the state in OUT_DIR ------------------------------------------------------------------------


class JobRecord(BaseModel):
    """One batch job: its input file here and there, and what the provider last said of it."""

    input: str = Field(description="The input file, relative to OUT_DIR.")
    requests: int
    bytes: int
    input_file_id: str | None = None
    batch_id: str | None = None
    status: str | None = None
    request_counts: dict[str, int] = Field(default_factory=dict)
    created_at: int | None = None
    expires_at: int | None = None
    completed_at: int | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    output: str | None = Field(default=None, description="The downloaded output file, relative to OUT_DIR.")
    error_output: str | None = Field(default=None, description="The downloaded error file, relative to OUT_DIR.")

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def downloaded(self) -> bool:
        return (self.output_file_id is None or self.output is not None) and (
            self.error_file_id is None or self.error_output is not None
        )


class Part(BaseModel):
    """One input file's worth of articles, and the jobs run for it (the first, then resubmissions)."""

    name: str
    map: str
    articles: int
    model: str
    prompt_version: str
    task: str
    force: bool = False
    jobs: list[JobRecord] = Field(default_factory=list)


class BatchState(BaseModel):
    """`OUT_DIR/batch_jobs.json`."""

    format: str = FORMAT
    endpoint: str = BATCH_ENDPOINT
    base_url: str | None = None
    parts: list[Part] = Field(default_factory=list)

    def jobs(self) -> Iterator[tuple[Part, JobRecord]]:
        for part in self.parts:
            for job in part.jobs:
                yield part, job


def load_state(out_dir: Path) -> BatchState | None:
    """The batch state saved in `out_dir`, or None when nothing was submitted there."""
    path = Path(out_dir) / JOBS_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        state = BatchState.model_validate_json(raw)
    except ValueError as exc:
        raise BatchError(f"{path}: not a batch state file: {exc}") from exc
    if state.format != FORMAT:
        raise BatchError(f"{path}: format {state.format!r}, expected {FORMAT!r}")
    return state


def _require_state(out_dir: Path) -> BatchState:
    state = load_state(out_dir)
    if state is None:
        raise BatchError(f"no batch jobs in {out_dir} (no {JOBS_FILE}): run `llm-extract batch submit` first")
    return state


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_state(out_dir: Path, state: BatchState) -> None:
    _write_atomic(out_dir / JOBS_FILE, (state.model_dump_json(indent=2) + "\n").encode("utf-8"))


def _public_url(url: str | None) -> str | None:
    """The base URL without any user:password part (never saved)."""
    if not url:
        return None
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# -- requests ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchRequest:
    """One request of an article: its place in the article and the exact body to send."""

    custom_id: str
    chunk: int
    of: int
    start: int
    end: int
    body: dict[str, Any]

    @property
    def hash(self) -> str:
        return request_hash("chat/completions", self.body)

    def line(self) -> bytes:
        obj = {"custom_id": self.custom_id, "method": "POST", "url": BATCH_ENDPOINT, "body": self.body}
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

    def mapping(self) -> dict[str, Any]:
        return {
            "custom_id": self.custom_id, "chunk": self.chunk, "of": self.of,
            "start": self.start, "end": self.end, "hash": self.hash,
        }  # fmt: skip


def _cut_off(request: httpx2.Request) -> httpx2.Response:
    """A completion cut off by the token limit: instructor stops at once, no reask, no log."""
    body = {
        "id": "chatcmpl-capture",
        "object": "chat.completion",
        "created": 0,
        "model": "capture",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": "", "tool_calls": None},
            }
        ],
    }
    return httpx2.Response(200, json=body, request=request)


class _CaptureTransport(httpx2.AsyncBaseTransport):
    """Keeps the JSON body of the request the live path sends, and sends nothing anywhere."""

    def __init__(self) -> None:
        self.body: dict[str, Any] | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        self.body = json.loads(request.content)
        return _cut_off(request)


class _RequestBuilder:
    """The first request of each article (or chunk), made by the live path itself."""

    def __init__(self, extractor: Extractor[Any]) -> None:
        from llm_extract.model.client import ModelClient

        self.extractor = extractor
        # one attempt, no reask: the capture answers once and the call ends there
        settings = extractor.settings.model_copy(update={"mode": "live", "max_attempts": 1, "max_reasks": 0})
        self._capture = _CaptureTransport()
        self._client = ModelClient(settings, store=None, transport=self._capture)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def body(self, article: Article, messages: list[dict[str, str]]) -> dict[str, Any]:
        self._capture.body = None
        try:
            await self._client.fill(
                response_model=self.extractor.task.response_model,
                messages=messages,
                article=article,
                prompt_version=self.extractor.prompts.version,
            )
        except LLMExtractError:
            pass  # expected: the capture's answer is cut off
        if self._capture.body is None:
            raise BatchError(f"{article.source}: the live path sent no request to capture")
        return self._capture.body

    async def requests(self, article: Article, custom_id: str) -> list[BatchRequest]:
        """What `Extractor.aextract` would send first for `article`, one request per chunk."""
        settings = self.extractor.settings
        prompts = self.extractor.prompts
        chunks = chunk_text(article.text, max_chars=settings.chunk_chars, overlap=settings.chunk_overlap)
        if len(chunks) == 1:
            messages = prompts.messages(article.text, published=article.published)
            body = await self.body(article, messages)
            return [BatchRequest(custom_id, 1, 1, 0, len(article.text), body)]
        out = []
        for chunk in chunks:
            part = (chunk.index + 1, len(chunks))
            messages = prompts.messages(chunk.text, published=article.published, part=part)
            body = await self.body(article, messages)
            out.append(BatchRequest(f"{custom_id}#chunk{part[0]}", part[0], part[1], chunk.start, chunk.end, body))
        return out


async def abuild_requests(
    article: Article, *, extractor: Extractor[Any], custom_id: str | None = None
) -> list[BatchRequest]:
    """The batch requests of one article (what `submit` writes), without any network."""
    builder = _RequestBuilder(extractor)
    try:
        return await builder.requests(extractor.article(article), custom_id or _safe_custom_id(article, {}))
    finally:
        await builder.aclose()


def build_requests(article: Article, *, extractor: Extractor[Any], custom_id: str | None = None) -> list[BatchRequest]:
    """Blocking `abuild_requests`."""
    return _run(abuild_requests(article, extractor=extractor, custom_id=custom_id))


def _safe_custom_id(article: Article, used: dict[str, str]) -> str:
    """The article id when it is safe and free; else a sanitised id made unique by the sha256."""
    candidate = article.id
    if _SAFE_ID.fullmatch(candidate) and used.get(candidate, article.sha256) == article.sha256:
        return candidate
    base = _UNSAFE.sub("_", candidate).strip("_")[:40] or "article"
    for digits in (12, 24, 64):
        candidate = f"{base}-{article.sha256[:digits]}"
        if used.get(candidate, article.sha256) == article.sha256:
            return candidate
    raise BatchError(f"{article.source}: no free custom_id")  # pragma: no cover (sha256 collision)


# -- the API client ----------------------------------------------------------------------------------


def _require_server(settings: ExtractorSettings) -> None:
    if settings.api_key is None and settings.base_url is None:
        raise ConfigError(
            "the Batch API needs a server: set OPENAI_API_KEY (OpenAI) or --base-url (an OpenAI-compatible "
            "server with /v1/files and /v1/batches, such as `llm-extract serve`)"
        )


def _api_client(settings: ExtractorSettings, transport: httpx2.AsyncBaseTransport | None) -> Any:
    """An `openai.AsyncOpenAI` for files and batches (its own retries on: these calls are few)."""
    import openai

    http = httpx2.AsyncClient(
        transport=_Borrowed(transport) if transport is not None else httpx2.AsyncHTTPTransport(),
        timeout=httpx2.Timeout(settings.timeout_s, write=max(settings.timeout_s, 600.0)),
    )
    secret = settings.api_key.get_secret_value() if settings.api_key else None
    return openai.AsyncOpenAI(
        api_key=secret or "no-key-needed",
        base_url=settings.base_url,
        max_retries=max(settings.max_attempts - 1, 0),
        timeout=settings.timeout_s,
        http_client=http,
    )


def _api_error(exc: Exception, what: str) -> BatchError:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return BatchError(f"{what}: the server answered HTTP {exc.status_code}: {exc.message}")
    return BatchError(f"{what}: {type(exc).__name__}: {exc}")


def _update_job(job: JobRecord, batch: Any) -> None:
    job.batch_id = batch.id
    job.status = batch.status
    counts = getattr(batch, "request_counts", None)
    if counts is not None:
        job.request_counts = {"total": counts.total, "completed": counts.completed, "failed": counts.failed}
    job.created_at = batch.created_at
    job.expires_at = batch.expires_at
    job.completed_at = batch.completed_at or batch.expired_at or batch.cancelled_at or batch.failed_at
    job.output_file_id = batch.output_file_id
    job.error_file_id = batch.error_file_id
    errors = getattr(batch, "errors", None)
    data = getattr(errors, "data", None) if errors is not None else None
    job.errors = [e.model_dump(mode="json") for e in data] if data else None


async def _find_batch(client: Any, input_file_id: str) -> Any | None:
    """A batch already created for this input file (a run killed after creating it)."""
    page = await client.batches.list(limit=100)
    for batch in page.data:
        if batch.input_file_id == input_file_id:
            return batch
    return None


async def _launch(
    client: Any, out_dir: Path, state: BatchState, part: Part, job: JobRecord, settings: ExtractorSettings,
    metadata: dict[str, str] | None,
) -> None:  # fmt: skip
    """Upload the job's input file and create its batch, saving the state after each step."""
    import openai

    if job.input_file_id is None:
        path = out_dir / job.input
        try:
            with path.open("rb") as fh:
                uploaded = await client.files.create(file=(path.name, fh, "application/jsonl"), purpose="batch")
        except openai.APIError as exc:
            raise _api_error(exc, f"uploading {path}") from exc
        job.input_file_id = uploaded.id
        _save_state(out_dir, state)
    if job.batch_id is None:
        tags = {"llm_extract_part": part.name, "llm_extract_prompt": part.prompt_version, **(metadata or {})}
        batch = None
        attempts = max(settings.max_attempts, 1)
        for attempt in range(1, attempts + 1):
            try:
                batch = await _find_batch(client, job.input_file_id) if attempt > 1 else None
                if batch is None:
                    batch = await client.with_options(max_retries=0).batches.create(
                        input_file_id=job.input_file_id,
                        endpoint=BATCH_ENDPOINT,
                        completion_window="24h",
                        metadata=tags,
                    )
                break
            except (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError) as exc:
                # the job may exist even so: the next attempt looks for it before creating one
                if attempt == attempts:
                    raise _api_error(exc, f"creating the batch for {job.input}") from exc
                await asyncio.sleep(min(settings.retry_initial_wait_s * 2 ** (attempt - 1), settings.retry_max_wait_s))
            except openai.APIError as exc:
                raise _api_error(exc, f"creating the batch for {job.input}") from exc
        assert batch is not None
        _update_job(job, batch)
        _save_state(out_dir, state)
        log.info("%s: batch %s created (%d requests)", part.name, job.batch_id, job.requests)


# -- submit --------------------------------------------------------------------------------------------


@dataclass
class SubmitSummary:
    """What `submit` did."""

    articles: int = 0
    submitted: int = 0
    requests: int = 0
    skipped_done: int = 0
    skipped_submitted: int = 0
    jobs: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    resumed_jobs: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class _PartWriter:
    """The input and map files of the part being filled."""

    def __init__(self, out_dir: Path, name: str) -> None:
        self.name = name
        self.input_rel = f"{BATCH_DIR}/{name}.jsonl"
        self.map_rel = f"{BATCH_DIR}/{name}.map.jsonl"
        self._input: IO[bytes] = (out_dir / self.input_rel).open("wb")
        self._map: IO[bytes] = (out_dir / self.map_rel).open("wb")
        self.requests = 0
        self.bytes = 0
        self.articles = 0

    def add(self, article: Article, requests: list[BatchRequest], lines: list[bytes]) -> None:
        for line in lines:
            self._input.write(line)
        entry = {
            "sha256": article.sha256,
            "id": article.id,
            "source": article.source,
            "published": article.published.isoformat() if article.published else None,
            "url": article.url,
            "title": article.title,
            "chars": len(article.text),
            "requests": [r.mapping() for r in requests],
            "text": article.text,
        }
        self._map.write(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
        self.requests += len(lines)
        self.bytes += sum(len(line) for line in lines)
        self.articles += 1

    def close(self) -> None:
        for fh in (self._input, self._map):
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()


def _iter_map(out_dir: Path, part: Part) -> Iterator[dict[str, Any]]:
    with (out_dir / part.map).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


async def asubmit(
    items: Iterable[Article | InputError],
    out_dir: Path,
    *,
    extractor: Extractor[Any],
    force: bool = False,
    resubmit_failed: bool = False,
    max_requests: int = MAX_FILE_REQUESTS,
    max_bytes: int = MAX_FILE_BYTES,
    metadata: dict[str, str] | None = None,
) -> SubmitSummary:
    """Submit every article of `items` as batch jobs; see `submit`."""
    from llm_extract.runs.store import EventStore

    if max_requests < 1 or max_bytes < 1:
        raise ConfigError("max_requests and max_bytes must be >= 1")
    settings = extractor.settings
    _require_server(settings)
    out_dir = Path(out_dir)
    (out_dir / BATCH_DIR).mkdir(parents=True, exist_ok=True)
    state = load_state(out_dir) or BatchState(base_url=_public_url(settings.base_url))
    if state.parts and state.base_url != _public_url(settings.base_url):
        raise BatchError(
            f"{out_dir} holds jobs of {state.base_url or 'the OpenAI API'}, not of "
            f"{_public_url(settings.base_url) or 'the OpenAI API'}: one output directory per server"
        )
    summary = SubmitSummary()
    store = EventStore(out_dir / STORE_FILE, tables=extractor.task.tables, task=extractor.task.name)
    client = _api_client(settings, _transport_of(extractor))
    builder = _RequestBuilder(extractor)
    errors: JsonlAppender | None = None  # opened at the first failure: errors.jsonl lists this run's
    model, version = settings.model, extractor.prompts.version
    try:
        if extractor.prompts.system:
            store.save_prompt(version, extractor.prompts.system)
        # jobs a killed run left half-made (file uploaded, or batch not recorded)
        for part, job in list(state.jobs()):
            if job.batch_id is None:
                await _launch(client, out_dir, state, part, job, settings, metadata)
                summary.resumed_jobs.append(job.batch_id or "")
        if resubmit_failed:
            await _refresh(client, out_dir, state, every=False)
            await _download(client, out_dir, state)
            summary.jobs.extend(await _resubmit(client, out_dir, state, store, settings, metadata))
        done = set() if force else store.done_keys()
        submitted: set[str] = set()
        used: dict[str, str] = {}  # custom_id → sha256, across OUT_DIR
        for part in state.parts:
            same = part.model == model and part.prompt_version == version
            for entry in _iter_map(out_dir, part):
                used.setdefault(entry["requests"][0]["custom_id"].split("#chunk")[0], entry["sha256"])
                if same:
                    submitted.add(entry["sha256"])
        if force:
            submitted.clear()
        taken: set[str] = set()
        writer: _PartWriter | None = None
        number = len(state.parts)

        async def seal(current: _PartWriter) -> None:
            current.close()
            part = Part(
                name=current.name, map=current.map_rel, articles=current.articles, model=model,
                prompt_version=version, task=extractor.task.name, force=force,
                jobs=[JobRecord(input=current.input_rel, requests=current.requests, bytes=current.bytes)],
            )  # fmt: skip
            state.parts.append(part)
            _save_state(out_dir, state)
            await _launch(client, out_dir, state, part, part.jobs[0], settings, metadata)
            summary.jobs.append(part.jobs[0].batch_id or "")
            summary.files.append(current.input_rel)

        def fail(failure: Failure) -> None:
            nonlocal errors
            summary.failures.append(failure)
            store.add_failure(failure, at=now_iso())
            if errors is None:
                errors = JsonlAppender(out_dir / ERRORS_FILE, truncate=True)
            errors.write(failure.model_dump(mode="json"))

        for item in items:
            summary.articles += 1
            if isinstance(item, InputError):
                fail(failure_of(item, item))
                continue
            try:
                article = extractor.article(item)
            except InputError as exc:
                fail(failure_of(item, exc))
                continue
            if article.sha256 in done:
                summary.skipped_done += 1
                continue
            if article.sha256 in submitted or article.sha256 in taken:
                summary.skipped_submitted += 1
                continue
            custom_id = _safe_custom_id(article, used)
            try:
                requests = await builder.requests(article, custom_id)
            except LLMExtractError as exc:
                fail(failure_of(article, exc))
                continue
            lines = [r.line() for r in requests]
            size = sum(len(line) for line in lines)
            if len(lines) > max_requests or size > max_bytes:
                fail(failure_of(article, BatchError(
                    f"{article.source}: its {len(lines)} request(s) ({size:,} bytes) do not fit in one batch file "
                    f"(at most {max_requests:,} requests and {max_bytes:,} bytes)"
                )))  # fmt: skip
                continue
            if writer is not None and (writer.requests + len(lines) > max_requests or writer.bytes + size > max_bytes):
                await seal(writer)
                writer = None
            if writer is None:
                number += 1
                writer = _PartWriter(out_dir, f"part-{number:05d}")
            writer.add(article, requests, lines)
            used[custom_id] = article.sha256
            taken.add(article.sha256)
            summary.submitted += 1
            summary.requests += len(lines)
        if writer is not None:
            if writer.articles:
                await seal(writer)
            else:  # pragma: no cover (a writer is only made for an article)
                writer.close()
    finally:
        if errors is not None:
            errors.close()
        await builder.aclose()
        await client.close()
        store.close()
    return summary


def submit(
    paths: Sequence[str | Path] | str | Path,
    out_dir: Path,
    *,
    extractor: Extractor[Any],
    force: bool = False,
    resubmit_failed: bool = False,
    max_requests: int = MAX_FILE_REQUESTS,
    max_bytes: int = MAX_FILE_BYTES,
    metadata: dict[str, str] | None = None,
) -> SubmitSummary:
    """Build, split, upload and run as batch jobs the articles under `paths` (blocking).

    Articles already extracted in OUT_DIR's store, or already submitted there with the same
    model and prompt version, are skipped (`force=True` submits them again). A run killed
    half-way is completed by running it again: an input file uploaded but without its job
    gets its job (an existing job for it is found first, never created twice), and articles
    of a part that was never sealed are submitted anew. `resubmit_failed` first resubmits
    the failed, expired or cancelled requests of earlier jobs. Raises `ConfigError` without a
    server, `BatchError` when the server refuses an upload or a job (the state so far is saved).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return _run(
        asubmit(
            iter_articles(paths), out_dir, extractor=extractor, force=force, resubmit_failed=resubmit_failed,
            max_requests=max_requests, max_bytes=max_bytes, metadata=metadata,
        )
    )  # fmt: skip


# -- status --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStatus:
    """One job as the provider last described it."""

    part: str
    batch_id: str
    status: str
    total: int
    completed: int
    failed: int
    created_at: int | None
    expires_at: int | None
    completed_at: int | None
    output_file_id: str | None
    error_file_id: str | None
    input: str
    errors: list[dict[str, Any]] | None = None


async def _refresh(client: Any, out_dir: Path, state: BatchState, *, every: bool) -> None:
    """Retrieve jobs (every one, or those not finished) and save what changed."""
    import openai

    changed = False
    for _, job in state.jobs():
        if job.batch_id is None or (job.terminal and not every):
            continue
        try:
            batch = await client.batches.retrieve(job.batch_id)
        except openai.APIError as exc:
            raise _api_error(exc, f"retrieving batch {job.batch_id}") from exc
        before = job.model_dump()
        _update_job(job, batch)
        changed = changed or job.model_dump() != before
    if changed:
        _save_state(out_dir, state)


def _statuses(state: BatchState) -> list[JobStatus]:
    return [
        JobStatus(
            part=part.name,
            batch_id=job.batch_id or "",
            status=job.status or "not created",
            total=job.request_counts.get("total", job.requests),
            completed=job.request_counts.get("completed", 0),
            failed=job.request_counts.get("failed", 0),
            created_at=job.created_at,
            expires_at=job.expires_at,
            completed_at=job.completed_at,
            output_file_id=job.output_file_id,
            error_file_id=job.error_file_id,
            input=job.input,
            errors=job.errors,
        )
        for part, job in state.jobs()
    ]


async def astatus(
    out_dir: Path, *, extractor: Extractor[Any] | None = None, settings: ExtractorSettings | None = None
) -> list[JobStatus]:
    """Retrieve every job saved in `out_dir`; see `status`."""
    out_dir = Path(out_dir)
    state = _require_state(out_dir)
    settings = extractor.settings if extractor is not None else settings or _settings_for(state)
    _require_server(settings)
    client = _api_client(settings, _transport_of(extractor) if extractor is not None else None)
    try:
        await _refresh(client, out_dir, state, every=True)
    finally:
        await client.close()
    return _statuses(state)


def status(
    out_dir: Path, *, extractor: Extractor[Any] | None = None, settings: ExtractorSettings | None = None
) -> list[JobStatus]:
    """Progress of every job in `out_dir` (blocking): status, request counts, times, file ids.

    The job ids come from `OUT_DIR/batch_jobs.json`, so this works from any process. Without
    an extractor or settings, the server is the one saved at submit (`base_url`) with
    `OPENAI_API_KEY` from the environment.
    """
    return _run(astatus(out_dir, extractor=extractor, settings=settings))


def _settings_for(state: BatchState, **overrides: Any) -> ExtractorSettings:
    from llm_extract.settings import ExtractorSettings

    models = sorted({p.model for p in state.parts})
    values: dict[str, Any] = {
        "mode": "live",
        "base_url": state.base_url,
        "model": models[0] if len(models) == 1 else None,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return ExtractorSettings.resolve(values)


def extractor_for(out_dir: Path, **overrides: Any) -> Extractor[Any]:
    """A live `Extractor` for collecting `out_dir`: its model and server as saved at submit.

    `overrides` are `ExtractorSettings` fields (None: unset), e.g. `api_key`, `base_url`,
    `prices_file`, `keep_ungrounded`, `concurrency`, `max_reasks`.
    """
    from llm_extract.core.pipeline import Extractor

    state = _require_state(Path(out_dir))
    tasks = sorted({p.task for p in state.parts})
    if len(tasks) > 1:
        raise BatchError(f"{out_dir} holds jobs of several tasks ({', '.join(tasks)}): collect them into separate directories")
    return Extractor(settings=_settings_for(state, **overrides), task=tasks[0] if tasks else None)


# -- collect -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedRequest:
    """A request the batch did not answer: failed, expired, cancelled or refused."""

    part: str
    custom_id: str
    sha256: str
    source: str
    code: str
    message: str
    batch_id: str | None


@dataclass
class CollectSummary:
    """What `collect` did. `batch` counts like a `run` (extracted, skipped, failures, tokens, cost)."""

    batch: BatchSummary = field(default_factory=BatchSummary)
    pending: int = 0
    pending_jobs: list[str] = field(default_factory=list)
    failed_requests: list[FailedRequest] = field(default_factory=list)
    invalid_answers: int = 0
    live_fallbacks: int = 0
    live_calls: int = 0
    batch_cost_usd: float = 0.0
    live_cost_usd: float = 0.0
    list_price_usd: float = 0.0
    skipped_parts: list[str] = field(default_factory=list)

    @property
    def savings_usd(self) -> float:
        return max(self.list_price_usd - self.batch_cost_usd - self.live_cost_usd, 0.0)


@dataclass
class _Answers:
    """One article's batch answers, by request hash, and those already served."""

    pending: dict[str, dict[str, Any]]
    served: set[str] = field(default_factory=set)


#: The answers of the article being extracted in this task (its chunks' tasks inherit it).
_ANSWERS: ContextVar[_Answers | None] = ContextVar("llm_extract_batch_answers", default=None)


class _AnswerTransport(httpx2.AsyncBaseTransport):
    """Answers first requests from batch outputs; reasks (and retries) go live, or are refused.

    The answers are those of the article extracted in the calling task (`_ANSWERS`, set by
    `acollect` around each extraction), so concurrent articles never see each other's, even
    when two of them send an identical request. A request that is neither one of the
    article's first requests nor a follow-up of one (the prompt, schema or settings changed
    since submit) is refused with a 400 rather than paid for live.
    """

    def __init__(self, inner: httpx2.AsyncBaseTransport | None, *, live: bool) -> None:
        self._inner: httpx2.AsyncBaseTransport | None = _Borrowed(inner) if inner is not None else None
        self._live = live

    @staticmethod
    def _follows(answers: _Answers, body: Any) -> bool:
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
        answers = _ANSWERS.get()
        if answers is None:
            return _refusal(request, "batch_no_answers", "no batch answers for this request (not inside collect)")
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
            return _refusal(
                request, "batch_no_live", "the batch answer is not usable and live calls are off (--no-live)"
            )
        return _refusal(
            request,
            "batch_request_changed",
            "the request built now is not the one submitted (prompt, schema, model or settings changed since "
            "submit): collect with the same settings, or submit again",
        )

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def _refusal(request: httpx2.Request, code: str, message: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return httpx2.Response(400, json=body, request=request)


@dataclass
class _Outcome:
    """The batch's answer to every request of a part, merged over its jobs."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # custom_id → code, message, job
    #: a job of the part is not finished (or its files not downloaded yet)
    pending: bool = False
    #: every request of the part may still be answered (its first job is not finished)
    waiting_all: bool = False
    #: requests in resubmitted jobs that are not finished
    waiting: set[str] = field(default_factory=set)

    def is_waiting(self, custom_id: str) -> bool:
        return self.waiting_all or custom_id in self.waiting


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
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


def _custom_ids(path: Path) -> Iterator[str]:
    for obj in _read_lines(path):
        if isinstance(obj.get("custom_id"), str):
            yield obj["custom_id"]


def _outcome(out_dir: Path, part: Part) -> _Outcome:
    """What the part's jobs answered: later jobs (resubmissions) complete earlier ones."""
    outcome = _Outcome()

    def failed(custom_id: str, code: str, message: str, job: JobRecord) -> None:
        if custom_id not in outcome.answers:
            outcome.errors[custom_id] = (code, message, job.batch_id)

    for number, job in enumerate(part.jobs):
        if not job.terminal or not job.downloaded:
            outcome.pending = True
            if number == 0:
                outcome.waiting_all = True
            elif (out_dir / job.input).exists():
                outcome.waiting.update(_custom_ids(out_dir / job.input))
            continue
        seen: set[str] = set()
        for rel in (job.output, job.error_output):
            if rel is None:
                continue
            for line in _read_lines(out_dir / rel):
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
            what = {
                "failed": "the batch failed",
                "expired": "the batch expired",
                "cancelled": "the batch was cancelled",
            }
            reason = what.get(job.status or "", "the batch left the request unanswered")
            if job.errors:
                reason += ": " + "; ".join(str(e.get("message")) for e in job.errors[:3])
            code = f"batch_{job.status}" if job.status in what else "batch_unanswered"
            for custom_id in _custom_ids(out_dir / job.input):
                if custom_id not in seen:
                    failed(custom_id, code, reason, job)
    return outcome


async def _download(client: Any, out_dir: Path, state: BatchState) -> None:
    """Fetch the output and error files of finished jobs not fetched yet (atomically)."""
    import openai

    for _, job in state.jobs():
        if not job.terminal:
            continue
        for file_id, attr, suffix in (
            (job.output_file_id, "output", "output"),
            (job.error_file_id, "error_output", "errors"),
        ):
            if file_id is None or getattr(job, attr) is not None:
                continue
            rel = f"{BATCH_DIR}/{job.batch_id}.{suffix}.jsonl"
            path = out_dir / rel
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jsonl")
            try:
                with os.fdopen(fd, "wb") as fh:
                    async with client.files.with_streaming_response.content(file_id) as response:
                        async for chunk in response.iter_bytes():
                            fh.write(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except openai.APIError as exc:
                Path(tmp).unlink(missing_ok=True)
                raise _api_error(exc, f"downloading {file_id} of batch {job.batch_id}") from exc
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            setattr(job, attr, rel)
            _save_state(out_dir, state)


def _article(entry: dict[str, Any]) -> Article:
    published = entry.get("published")
    article = Article(
        text=entry["text"],
        source=entry["source"],
        id=entry["id"],
        published=date.fromisoformat(published) if published else None,
        url=entry.get("url"),
        title=entry.get("title"),
    )
    if article.sha256 != entry["sha256"]:
        raise BatchError(f"{entry['source']}: the text kept for collect does not match its sha256")
    return article


def _is_batch_call(call: CallRecord) -> bool:
    return call.kind == "first" and call.outcome == "ok"


def _usage(calls: Iterable[CallRecord]) -> Usage:
    usage = Usage()
    for c in calls:
        usage.input_tokens += c.input_tokens
        usage.output_tokens += c.output_tokens
        usage.cached_input_tokens += c.cached_input_tokens
    return usage


@dataclass
class _Costs:
    batch: float | None
    live: float | None
    list_price: float | None

    @property
    def total(self) -> float | None:
        if self.batch is None or self.live is None:
            return None
        return round(self.batch + self.live, 8)


def _costs(extractor: Extractor[Any], calls: list[CallRecord]) -> _Costs:
    """The batch calls at `BATCH_DISCOUNT` of the list price; live reasks and retries at full price."""
    model = extractor.settings.model
    batch_usage = _usage(c for c in calls if c.outcome == BATCH_OUTCOME)
    live_usage = _usage(c for c in calls if c.outcome != BATCH_OUTCOME)
    batch = extractor.prices.cost(model, batch_usage)
    live = extractor.prices.cost(model, live_usage)
    list_price = extractor.prices.cost(model, _usage(calls))
    return _Costs(None if batch is None else round(batch * BATCH_DISCOUNT, 8), live, list_price)


def _rewrite_records(store: EventStore, path: Path) -> None:
    """records.jsonl again from the store: one line per article (after results were replaced)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for text in store.iter_results():
                fh.write(text.strip() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class _Work:
    part: Part
    article: Article
    answers: dict[str, dict[str, Any]]


async def acollect(
    out_dir: Path,
    *,
    extractor: Extractor[Any],
    live_fallback: bool = True,
    concurrency: int | None = None,
    merge: bool = True,
) -> CollectSummary:
    """Collect every finished job of `out_dir`; see `collect`."""
    from llm_extract.core.pipeline import Extractor
    from llm_extract.settings import ExtractorSettings
    from llm_extract.runs.store import EventStore

    out_dir = Path(out_dir)
    state = _require_state(out_dir)
    settings = extractor.settings
    _require_server(settings)
    summary = CollectSummary()
    client = _api_client(settings, _transport_of(extractor))
    store = EventStore(out_dir / STORE_FILE, tables=extractor.task.tables, task=extractor.task.name)
    records_path = out_dir / RECORDS_FILE
    answers = _AnswerTransport(_transport_of(extractor), live=live_fallback)
    collect_settings = ExtractorSettings.resolve(
        {"mode": "live", "max_reasks": None if live_fallback else 0}, base=settings
    )
    collector: Extractor[Any] = Extractor(
        settings=collect_settings, task=extractor.task, transport=answers, cache=store
    )
    version = collector.prompts.version
    replaced = False
    records = errors = None
    try:
        await _refresh(client, out_dir, state, every=False)
        await _download(client, out_dir, state)
        if collector.prompts.system:
            store.save_prompt(version, collector.prompts.system)
        done = store.done_keys()
        restore_records(store, records_path, done)
        records = JsonlAppender(records_path)
        errors = JsonlAppender(out_dir / ERRORS_FILE, truncate=True)
        in_flight: set[str] = set()

        def fail(article: Article, failure: Failure, calls: list[CallRecord]) -> None:
            summary.batch.failures.append(failure)
            summary.batch.add_failed_calls(calls, lambda cs: _costs(collector, list(cs)).total)
            store.add_failure(failure, calls=calls, at=now_iso())
            errors.write(failure.model_dump(mode="json"))  # type: ignore[union-attr]

        def work() -> Iterator[_Work]:
            for part in state.parts:
                if part.model != settings.model or part.prompt_version != version or part.task != extractor.task.name:
                    log.warning(
                        "%s was submitted with model %s, prompt %s, task %s: not collected with model %s, prompt %s",
                        part.name,
                        part.model,
                        part.prompt_version,
                        part.task,
                        settings.model,
                        version,
                    )
                    summary.skipped_parts.append(part.name)
                    continue
                outcome = _outcome(out_dir, part)
                if outcome.pending:
                    summary.pending_jobs.extend(j.batch_id or j.input for j in part.jobs if not j.terminal)
                collected_path = out_dir / BATCH_DIR / f"{part.name}.collected"
                collected = (
                    set(collected_path.read_text(encoding="utf-8").split()) if collected_path.exists() else set()
                )
                for entry in _iter_map(out_dir, part):
                    sha = entry["sha256"]
                    summary.batch.articles += 1
                    if sha in collected or (sha in done and not part.force) or sha in in_flight:
                        summary.batch.skipped += 1
                        continue
                    ids = [r["custom_id"] for r in entry["requests"]]
                    if all(i in outcome.answers for i in ids):
                        article = _article(entry)
                        yield _Work(
                            part, article, {r["hash"]: outcome.answers[r["custom_id"]] for r in entry["requests"]}
                        )
                        continue
                    unanswered = [i for i in ids if i not in outcome.answers]
                    if any(outcome.is_waiting(i) or i not in outcome.errors for i in unanswered):
                        summary.pending += 1
                        continue
                    article = _article(entry)
                    for custom_id in unanswered:
                        code, message, batch_id = outcome.errors[custom_id]
                        summary.failed_requests.append(
                            FailedRequest(part.name, custom_id, sha, entry["source"], code, message, batch_id)
                        )
                    code, message, _ = outcome.errors[unanswered[0]]
                    failure = failure_of(article, BatchError(
                        f"{entry['source']}: {len(unanswered)} of {len(ids)} batch request(s) not answered "
                        f"({code}: {message}); resubmit them: llm-extract batch submit --resubmit-failed -o {out_dir}"
                    ))  # fmt: skip
                    kind = code if code in ("batch_expired", "batch_cancelled") else "batch_failed"
                    fail(article, failure.model_copy(update={"kind": kind}), [])

        items = work()
        limit = concurrency or settings.concurrency

        async def worker() -> None:
            nonlocal replaced
            for item in items:  # shared iterator: each article goes to exactly one worker
                article = item.article
                in_flight.add(article.sha256)
                calls: list[CallRecord] = []
                token = _ANSWERS.set(_Answers(dict(item.answers)))
                try:
                    result = await collector.aextract(article, calls=calls)
                except LLMExtractError as exc:
                    calls[:] = _relabel(calls)
                    summary.live_calls += sum(
                        1 for c in calls if c.outcome != BATCH_OUTCOME and c.outcome != "ok (cached)"
                    )
                    if isinstance(exc, ModelCallError) and exc.kind == "validation":
                        summary.invalid_answers += 1
                    fail(article, failure_of(article, exc), calls)
                except Exception as exc:  # a bug must not stop the collect or lose other results
                    log.exception("unexpected error on %s", article.source)
                    fail(article, unexpected_failure(article, exc), _relabel(calls))
                else:
                    calls[:] = _relabel(calls)
                    costs = _costs(collector, calls)
                    live = [c for c in calls if c.outcome != BATCH_OUTCOME and c.outcome != "ok (cached)"]
                    if live:
                        summary.live_fallbacks += 1
                        summary.live_calls += len(live)
                    if result.run.reasks:
                        summary.invalid_answers += 1
                    run = result.run.model_copy(update={"mode": RUN_MODE, "cost_usd": costs.total})
                    result = result.model_copy(update={"run": run})
                    replaced = replaced or article.sha256 in done
                    store.add_result(result, calls=calls, extracted_at=now_iso(), text=article.text)  # committed first,
                    records.write_line(result.model_dump_json())  # type: ignore[union-attr]  # then the JSONL line
                    with (out_dir / BATCH_DIR / f"{item.part.name}.collected").open("a", encoding="utf-8") as fh:
                        fh.write(article.sha256 + "\n")
                    done.add(article.sha256)
                    summary.batch.add_result(result, extractor.task.counts(result))
                    summary.batch_cost_usd += costs.batch or 0.0
                    summary.live_cost_usd += costs.live or 0.0
                    summary.list_price_usd += costs.list_price or 0.0
                finally:
                    _ANSWERS.reset(token)
                    in_flight.discard(article.sha256)

        async with asyncio.TaskGroup() as group:
            for _ in range(limit):
                group.create_task(worker())
        records.close()
        errors.close()
        records = errors = None
        if replaced:  # a forced part replaced results: records.jsonl keeps one line per article
            _rewrite_records(store, records_path)
        if merge and summary.batch.extracted:
            merge_hook = extractor.task.view("merge")
            if merge_hook is not None:
                summary.batch.canonical_events = merge_hook(store)
    finally:
        for appender in (records, errors):
            if appender is not None:
                appender.close()
        await collector.aclose()
        await answers.aclose()
        await client.close()
        store.close()
    return summary


def _relabel(calls: list[CallRecord]) -> list[CallRecord]:
    """Mark the calls answered from a batch output in the calls log (`ok (batch)`)."""
    return [c.model_copy(update={"outcome": BATCH_OUTCOME}) if _is_batch_call(c) else c for c in calls]


def collect(
    out_dir: Path,
    *,
    extractor: Extractor[Any],
    live_fallback: bool = True,
    concurrency: int | None = None,
    merge: bool = True,
) -> CollectSummary:
    """Download what finished jobs answered and extract every article whose requests are all in (blocking).

    Each answer goes through the live path's validation, grounding, normalisation and
    result building (`Extractor.aextract`), and each result to the store and
    `records.jsonl` as `run_batch` writes them. An answer that fails validation is re-asked
    live with the error, up to `max_reasks` times (`live_fallback=False`: the article is
    listed as failed instead). Articles with failed, expired or cancelled requests are
    listed (`failed_requests`, and `errors.jsonl`); `resubmit` sends those requests again.
    Articles already collected are skipped, so collecting twice changes nothing.
    `extractor` must have the model, prompts and settings used at submit
    (`extractor_for(out_dir)` makes one).
    """
    return _run(
        acollect(out_dir, extractor=extractor, live_fallback=live_fallback, concurrency=concurrency, merge=merge)
    )


# -- resubmit ---------------------------------------------------------------------------------------


async def _resubmit(
    client: Any, out_dir: Path, state: BatchState, store: EventStore, settings: ExtractorSettings,
    metadata: dict[str, str] | None,
) -> list[str]:  # fmt: skip
    """One new job per part whose finished jobs left requests unanswered."""
    done = store.done_keys()
    created: list[str] = []
    for part in list(state.parts):
        outcome = _outcome(out_dir, part)
        if outcome.pending or not outcome.errors:
            continue
        wanted: set[str] = set()
        for entry in _iter_map(out_dir, part):
            if entry["sha256"] in done and not part.force:
                continue
            wanted.update(r["custom_id"] for r in entry["requests"] if r["custom_id"] in outcome.errors)
        if not wanted:
            continue
        rel = f"{BATCH_DIR}/{part.name}.retry{len(part.jobs)}.jsonl"
        requests = size = 0
        with (out_dir / rel).open("wb") as out:
            written: set[str] = set()
            for job in part.jobs:
                with (out_dir / job.input).open("rb") as fh:
                    for raw in fh:
                        custom_id = json.loads(raw).get("custom_id")
                        if custom_id in wanted and custom_id not in written:
                            out.write(raw if raw.endswith(b"\n") else raw + b"\n")
                            written.add(custom_id)
                            requests += 1
                            size += len(raw)
            out.flush()
            os.fsync(out.fileno())
        job = JobRecord(input=rel, requests=requests, bytes=size)
        part.jobs.append(job)
        _save_state(out_dir, state)
        await _launch(client, out_dir, state, part, job, settings, metadata)
        created.append(job.batch_id or "")
    return created


async def aresubmit(out_dir: Path, *, extractor: Extractor[Any], metadata: dict[str, str] | None = None) -> list[str]:
    """Resubmit failed, expired and cancelled requests; see `resubmit`."""
    from llm_extract.runs.store import EventStore

    out_dir = Path(out_dir)
    state = _require_state(out_dir)
    _require_server(extractor.settings)
    client = _api_client(extractor.settings, _transport_of(extractor))
    store = EventStore(out_dir / STORE_FILE, tables=extractor.task.tables, task=extractor.task.name)
    try:
        await _refresh(client, out_dir, state, every=False)
        await _download(client, out_dir, state)
        return await _resubmit(client, out_dir, state, store, extractor.settings, metadata)
    finally:
        await client.close()
        store.close()


def resubmit(out_dir: Path, *, extractor: Extractor[Any], metadata: dict[str, str] | None = None) -> list[str]:
    """Send again, as new jobs (one per part), every request that failed, expired or was cancelled (blocking).

    Only finished jobs count (their output and error files are downloaded first); requests
    of articles already extracted are left out. The same request lines are sent as before,
    so the answers are collected like the first ones. Returns the new batch ids.
    """
    return _run(aresubmit(out_dir, extractor=extractor, metadata=metadata))


# -- helpers -------------------------------------------------------------------------------------------


class _Borrowed(httpx2.AsyncBaseTransport):
    """The extractor's own transport, used here but left open (its owner closes it)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        pass


def _transport_of(extractor: Extractor[Any]) -> httpx2.AsyncBaseTransport | None:
    """The HTTP transport the extractor was given (tests, proxies), if any."""
    transport: httpx2.AsyncBaseTransport | None = getattr(extractor, "_transport", None)
    return transport


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
