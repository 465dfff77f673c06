"""The provider's Files and Batches endpoints: upload an input file, create, retrieve and
list batch jobs, download their output and error files (the openai client, its own retries on).

Every change is saved to the state at once (`save_state`), so that a run killed between two
calls never uploads a file twice or creates a second job for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2

from llm_extract.errors import BatchError, ConfigError
from llm_extract.runs.batch_api.state import BATCH_DIR, BATCH_ENDPOINT, BatchState, JobRecord, Part, save_state

if TYPE_CHECKING:
    from llm_extract.settings import ExtractorSettings

__all__ = [
    "Borrowed",
    "api_error",
    "batch_api_client",
    "download_outputs",
    "find_job",
    "launch_job",
    "refresh_jobs",
    "require_server",
    "run_sync",
    "update_job",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


def require_server(settings: ExtractorSettings) -> None:
    if settings.api_key is None and settings.base_url is None:
        raise ConfigError(
            "the Batch API needs a server: set OPENAI_API_KEY (OpenAI) or --base-url (an OpenAI-compatible "
            "server with /v1/files and /v1/batches, such as `llm-extract serve`)"
        )


class Borrowed(httpx2.AsyncBaseTransport):
    """The extractor's own transport, used here but left open (its owner closes it)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        pass


def batch_api_client(settings: ExtractorSettings, transport: httpx2.AsyncBaseTransport | None) -> Any:
    """An `openai.AsyncOpenAI` for files and batch jobs (its own retries on: these calls are few)."""
    import openai

    http = httpx2.AsyncClient(
        transport=Borrowed(transport) if transport is not None else httpx2.AsyncHTTPTransport(),
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


def api_error(exc: Exception, what: str) -> BatchError:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return BatchError(f"{what}: the server answered HTTP {exc.status_code}: {exc.message}")
    return BatchError(f"{what}: {type(exc).__name__}: {exc}")


def update_job(job: JobRecord, batch: Any) -> None:
    """Copy what the provider says of a batch job into its record."""
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


async def find_job(client: Any, input_file_id: str) -> Any | None:
    """A batch job already created for this input file (a run killed after creating it)."""
    page = await client.batches.list(limit=100)
    for batch in page.data:
        if batch.input_file_id == input_file_id:
            return batch
    return None


async def launch_job(
    client: Any, out_dir: Path, state: BatchState, part: Part, job: JobRecord, settings: ExtractorSettings,
    metadata: dict[str, str] | None,
) -> None:  # fmt: skip
    """Upload the job's input file and create its batch job, saving the state after each step."""
    import openai

    if job.input_file_id is None:
        path = out_dir / job.input
        try:
            with path.open("rb") as fh:
                uploaded = await client.files.create(file=(path.name, fh, "application/jsonl"), purpose="batch")
        except openai.APIError as exc:
            raise api_error(exc, f"uploading {path}") from exc
        job.input_file_id = uploaded.id
        save_state(out_dir, state)
    if job.batch_id is None:
        tags = {"llm_extract_part": part.name, "llm_extract_prompt": part.prompt_version, **(metadata or {})}
        batch = None
        attempts = max(settings.max_attempts, 1)
        for attempt in range(1, attempts + 1):
            try:
                batch = await find_job(client, job.input_file_id) if attempt > 1 else None
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
                    raise api_error(exc, f"creating the batch for {job.input}") from exc
                await asyncio.sleep(min(settings.retry_initial_wait_s * 2 ** (attempt - 1), settings.retry_max_wait_s))
            except openai.APIError as exc:
                raise api_error(exc, f"creating the batch for {job.input}") from exc
        assert batch is not None
        update_job(job, batch)
        save_state(out_dir, state)
        log.info("%s: batch %s created (%d requests)", part.name, job.batch_id, job.requests)


async def refresh_jobs(client: Any, out_dir: Path, state: BatchState, *, every: bool) -> None:
    """Retrieve batch jobs (every one, or those not finished) and save what changed."""
    import openai

    changed = False
    for _, job in state.jobs():
        if job.batch_id is None or (job.terminal and not every):
            continue
        try:
            batch = await client.batches.retrieve(job.batch_id)
        except openai.APIError as exc:
            raise api_error(exc, f"retrieving batch {job.batch_id}") from exc
        before = job.model_dump()
        update_job(job, batch)
        changed = changed or job.model_dump() != before
    if changed:
        save_state(out_dir, state)


async def download_outputs(client: Any, out_dir: Path, state: BatchState) -> None:
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
                raise api_error(exc, f"downloading {file_id} of batch {job.batch_id}") from exc
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            setattr(job, attr, rel)
            save_state(out_dir, state)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
