"""The Batch API state in OUT_DIR: `batch_jobs.json` (parts and their jobs), the parts' map files.

A *part* is one input file's worth of articles; a *job* is one provider batch job run for
it (the first, then each resubmission of its failed requests). The state is rewritten
atomically at every change, so a killed submit or collect leaves it whole.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field

from llm_extract.errors import BatchError

__all__ = [
    "BATCH_DIR",
    "BATCH_DISCOUNT",
    "BATCH_ENDPOINT",
    "FORMAT",
    "JOBS_FILE",
    "MAX_FILE_BYTES",
    "MAX_FILE_REQUESTS",
    "TERMINAL",
    "BatchState",
    "JobRecord",
    "Part",
    "iter_map",
    "load_state",
    "public_url",
    "require_state",
    "save_state",
    "write_atomic",
]

FORMAT = "llm-extract-batch/1"
JOBS_FILE = "batch_jobs.json"
BATCH_DIR = "batch"
BATCH_ENDPOINT = "/v1/chat/completions"
#: The provider's limits per input file: 50,000 requests and 200 MB (kept under 200 MiB too).
MAX_FILE_REQUESTS = 50_000
MAX_FILE_BYTES = 200_000_000
#: The Batch API bills this fraction of the list price.
BATCH_DISCOUNT = 0.5
#: Batch job statuses after which nothing changes any more.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


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


def require_state(out_dir: Path) -> BatchState:
    """The batch state of `out_dir`; a `BatchError` when nothing was submitted there."""
    state = load_state(out_dir)
    if state is None:
        raise BatchError(f"no batch jobs in {out_dir} (no {JOBS_FILE}): run `llm-extract batch submit` first")
    return state


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all (a temporary file, fsync'ed, then renamed)."""
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


def save_state(out_dir: Path, state: BatchState) -> None:
    write_atomic(out_dir / JOBS_FILE, (state.model_dump_json(indent=2) + "\n").encode("utf-8"))


def public_url(url: str | None) -> str | None:
    """The base URL without any user:password part (never saved)."""
    if not url:
        return None
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def iter_map(out_dir: Path, part: Part) -> Iterator[dict[str, Any]]:
    """The entries of a part's map file: one per article (its text, sha256 and requests)."""
    with (out_dir / part.map).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
