"""Submit: every article's planned requests, written to input files, uploaded, run as batch jobs;
and resubmit: the requests that failed, expired or were cancelled, as new jobs.

An article's requests are its first requests on the live path, planned without sending
anything (`Extractor.plan_requests`: the same chunking, messages and request body as
`aextract`), so the Batch API is asked exactly what a live run would ask first.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from llm_extract.core.articles import Article, iter_articles
from llm_extract.core.results import Failure
from llm_extract.errors import BatchError, ConfigError, InputError, LLMExtractError
from llm_extract.model.replay import request_hash
from llm_extract.runs.batch_api.answers import part_answers
from llm_extract.runs.batch_api.client import (
    batch_api_client,
    download_outputs,
    launch_job,
    refresh_jobs,
    require_server,
    run_sync,
)
from llm_extract.runs.batch_api.state import (
    BATCH_DIR,
    BATCH_ENDPOINT,
    MAX_FILE_BYTES,
    MAX_FILE_REQUESTS,
    BatchState,
    JobRecord,
    Part,
    iter_map,
    load_state,
    public_url,
    require_state,
    save_state,
)
from llm_extract.runs.runner import ERRORS_FILE, STORE_FILE, JsonlAppender, failure_of, now_iso

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor, PlannedRequest
    from llm_extract.runs.store import EventStore
    from llm_extract.settings import ExtractorSettings

__all__ = [
    "BatchRequest",
    "SubmitSummary",
    "abuild_requests",
    "aresubmit",
    "asubmit",
    "build_requests",
    "resubmit",
    "safe_custom_id",
    "submit",
]

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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

    @classmethod
    def planned(cls, custom_id: str, planned: PlannedRequest) -> BatchRequest:
        """The batch request of a planned one: `custom_id`, or `<custom_id>#chunk<k>` for a chunk."""
        prompt = planned.prompt
        if prompt.of > 1:
            custom_id = f"{custom_id}#chunk{prompt.chunk}"
        return cls(custom_id, prompt.chunk, prompt.of, prompt.start, prompt.end, planned.body)

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


def build_requests(article: Article, *, extractor: Extractor[Any], custom_id: str | None = None) -> list[BatchRequest]:
    """The batch requests of one article (what `submit` writes): one per chunk, without any network."""
    custom_id = custom_id or safe_custom_id(article, {})
    return [BatchRequest.planned(custom_id, planned) for planned in extractor.plan_requests(article)]


async def abuild_requests(article: Article, *, extractor: Extractor[Any], custom_id: str | None = None) -> list[BatchRequest]:
    """`build_requests`, for async callers (planning sends nothing: it never awaits)."""
    return build_requests(article, extractor=extractor, custom_id=custom_id)


def safe_custom_id(article: Article, used: dict[str, str]) -> str:
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
    require_server(settings)
    out_dir = Path(out_dir)
    (out_dir / BATCH_DIR).mkdir(parents=True, exist_ok=True)
    state = load_state(out_dir) or BatchState(base_url=public_url(settings.base_url))
    if state.parts and state.base_url != public_url(settings.base_url):
        raise BatchError(
            f"{out_dir} holds jobs of {state.base_url or 'the OpenAI API'}, not of "
            f"{public_url(settings.base_url) or 'the OpenAI API'}: one output directory per server"
        )
    summary = SubmitSummary()
    store = EventStore(
        out_dir / STORE_FILE, tables=extractor.task.tables, task=extractor.task.name, task_spec=extractor.task.spec
    )
    client = batch_api_client(settings, extractor.transport)
    errors: JsonlAppender | None = None  # opened at the first failure: errors.jsonl lists this run's
    model, version = settings.model, extractor.prompts.version
    try:
        if extractor.prompts.system:
            store.save_prompt(version, extractor.prompts.system)
        # jobs a killed run left half-made (file uploaded, or batch not recorded)
        for part, job in list(state.jobs()):
            if job.batch_id is None:
                await launch_job(client, out_dir, state, part, job, settings, metadata)
                summary.resumed_jobs.append(job.batch_id or "")
        if resubmit_failed:
            await refresh_jobs(client, out_dir, state, every=False)
            await download_outputs(client, out_dir, state)
            summary.jobs.extend(await resubmit_unanswered(client, out_dir, state, store, settings, metadata))
        done = set() if force else store.done_keys()
        submitted: set[str] = set()
        used: dict[str, str] = {}  # custom_id → sha256, across OUT_DIR
        for part in state.parts:
            same = part.model == model and part.prompt_version == version
            for entry in iter_map(out_dir, part):
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
            save_state(out_dir, state)
            await launch_job(client, out_dir, state, part, part.jobs[0], settings, metadata)
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
            custom_id = safe_custom_id(article, used)
            try:
                requests = build_requests(article, extractor=extractor, custom_id=custom_id)
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
    return run_sync(
        asubmit(
            iter_articles(paths), out_dir, extractor=extractor, force=force, resubmit_failed=resubmit_failed,
            max_requests=max_requests, max_bytes=max_bytes, metadata=metadata,
        )
    )  # fmt: skip


# -- resubmit ---------------------------------------------------------------------------------------


async def resubmit_unanswered(
    client: Any, out_dir: Path, state: BatchState, store: EventStore, settings: ExtractorSettings,
    metadata: dict[str, str] | None,
) -> list[str]:  # fmt: skip
    """One new job per part whose finished jobs left requests unanswered; returns their batch ids."""
    done = store.done_keys()
    created: list[str] = []
    for part in list(state.parts):
        outcome = part_answers(out_dir, part)
        if outcome.pending or not outcome.errors:
            continue
        wanted: set[str] = set()
        for entry in iter_map(out_dir, part):
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
        save_state(out_dir, state)
        await launch_job(client, out_dir, state, part, job, settings, metadata)
        created.append(job.batch_id or "")
    return created


async def aresubmit(out_dir: Path, *, extractor: Extractor[Any], metadata: dict[str, str] | None = None) -> list[str]:
    """Resubmit failed, expired and cancelled requests; see `resubmit`."""
    from llm_extract.runs.store import EventStore

    out_dir = Path(out_dir)
    state = require_state(out_dir)
    require_server(extractor.settings)
    client = batch_api_client(extractor.settings, extractor.transport)
    store = EventStore(
        out_dir / STORE_FILE, tables=extractor.task.tables, task=extractor.task.name, task_spec=extractor.task.spec
    )
    try:
        await refresh_jobs(client, out_dir, state, every=False)
        await download_outputs(client, out_dir, state)
        return await resubmit_unanswered(client, out_dir, state, store, extractor.settings, metadata)
    finally:
        await client.close()
        store.close()


def resubmit(out_dir: Path, *, extractor: Extractor[Any], metadata: dict[str, str] | None = None) -> list[str]:
    """Send again, as new jobs (one per part), every request that failed, expired or was cancelled (blocking).

    Only finished jobs count (their output and error files are downloaded first); requests
    of articles already extracted are left out. The same request lines are sent as before,
    so the answers are collected like the first ones. Returns the new batch ids.
    """
    return run_sync(aresubmit(out_dir, extractor=extractor, metadata=metadata))
