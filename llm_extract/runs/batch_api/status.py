"""Status: every batch job of OUT_DIR as the provider last described it; and the extractor
that collects OUT_DIR (its model, task and server as saved at submit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract.errors import BatchError
from llm_extract.runs.batch_api.client import batch_api_client, refresh_jobs, require_server, run_sync
from llm_extract.runs.batch_api.state import BatchState, require_state

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.settings import ExtractorSettings

__all__ = ["JobStatus", "astatus", "extractor_for", "settings_for", "status"]


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
    state = require_state(out_dir)
    settings = extractor.settings if extractor is not None else settings or settings_for(state)
    require_server(settings)
    client = batch_api_client(settings, extractor.transport if extractor is not None else None)
    try:
        await refresh_jobs(client, out_dir, state, every=True)
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
    return run_sync(astatus(out_dir, extractor=extractor, settings=settings))


def settings_for(state: BatchState, **overrides: Any) -> ExtractorSettings:
    """Live settings for the jobs of `state`: their server, and their model when they share one."""
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

    state = require_state(Path(out_dir))
    tasks = sorted({p.task for p in state.parts})
    if len(tasks) > 1:
        raise BatchError(f"{out_dir} holds jobs of several tasks ({', '.join(tasks)}): collect them into separate directories")
    return Extractor(settings=settings_for(state, **overrides), task=tasks[0] if tasks else None)
