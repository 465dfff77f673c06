"""Scoring runs against gold annotations, through the task's own matcher.

How records are matched and which fields are compared is the task's business
(`TaskViews.evaluate`; the built-in task's rule is in
`llm_extract.tasks.security_events.views.evaluate`). A task that gives no evaluator cannot
be scored: that is a `ConfigError`, never an empty score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract.core.registry import load_task
from llm_extract.errors import ConfigError, StoreError
from llm_extract.runs.outputs import STORE_FILE

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.table import Table

    from llm_extract.core.task import Task

__all__ = ["evaluate_runs", "task_of_runs"]


def task_of_runs(run_dirs: Sequence[Path]) -> Task[Any, Any]:
    """The task that wrote these output directories (they must agree)."""
    from llm_extract.runs.store import EventStore

    names: set[str] = set()
    for run_dir in run_dirs:
        if (Path(run_dir) / STORE_FILE).exists():
            with EventStore(Path(run_dir) / STORE_FILE, create=False) as store:
                if store.task:
                    names.add(store.task)
    if len(names) > 1:
        raise StoreError(f"the runs were written by different tasks ({', '.join(sorted(names))}): score them apart")
    return load_task(names.pop() if names else None)


def evaluate_runs(
    gold_dir: Path, run_dirs: Sequence[Path], *, task: Task[Any, Any] | None = None
) -> tuple[BaseModel, list[Table], list[str]]:
    """Score `run_dirs` against the gold files in `gold_dir`: a report model, tables, warnings."""
    task = task or task_of_runs(run_dirs)
    hook = task.view("evaluate")
    if hook is None:
        raise ConfigError(f"the task {task.name!r} gives no evaluator (TaskViews.evaluate): its runs cannot be scored")
    report, tables, warnings = hook(Path(gold_dir), list(run_dirs))
    return report, list(tables), list(warnings)
