"""An output directory of `llm-extract run`: its files, and the task that wrote it.

`OUTDIR/extract.db` (the event store, the source of truth), `OUTDIR/records.jsonl` (one
result per line), `OUTDIR/errors.jsonl` (one failure per line), `OUTDIR/report.html`. The
store records the task that wrote it (`meta.task`), so every view of a directory (report,
export, stats, eval, merge, batch collect) reopens that task, never a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_extract.core.registry import load_recorded, load_task
from llm_extract.core.task import Task
from llm_extract.errors import StoreError
from llm_extract.runs.store import EventStore

__all__ = ["ERRORS_FILE", "RECORDS_FILE", "REPORT_FILE", "STORE_FILE", "open_output"]

RECORDS_FILE = "records.jsonl"
ERRORS_FILE = "errors.jsonl"
STORE_FILE = "extract.db"
REPORT_FILE = "report.html"


def open_output(out_dir: Path, *, task: Task[Any, Any] | str | None = None) -> tuple[EventStore, Task[Any, Any]]:
    """Open the store of `out_dir` (which must exist) with the task that wrote it.

    `task` overrides the recorded one (a `Task` or a name); a store that names no task (an
    empty one) gets the default. Raises `StoreError` when there is no store, `ConfigError`
    when the recorded task cannot be loaded (a plugin that is not installed).
    """
    store = EventStore(Path(out_dir) / STORE_FILE, create=False)
    try:
        recorded = store.task
        if isinstance(task, Task):
            chosen = task
        elif task:
            chosen = load_task(task)
        else:
            chosen = load_recorded(recorded, store.get_meta("task_spec"))
        if recorded is not None and chosen.name != recorded:
            raise StoreError(f"{out_dir} was written by the task {recorded!r}, not {chosen.name!r}")
        store.attach_tables(chosen.tables)
    except BaseException:
        store.close()
        raise
    return store, chosen
