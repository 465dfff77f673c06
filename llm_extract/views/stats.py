"""Statistics of an output directory: the task's, or the engine's run totals.

`stats(store, task)` returns a pydantic model (printed as JSON by `llm-extract stats --json`)
and rich tables. A task that gives statistics (`TaskViews.stats`: the built-in task counts
records and events by country, drug group, year and status) supplies both; otherwise the
engine's `RunTotals` are all there is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from rich.table import Table

    from llm_extract.core.task import Task
    from llm_extract.runs.store import EventStore

__all__ = ["RunTotals", "run_totals", "stats"]


class RunTotals(BaseModel):
    """What any run of any task adds up to."""

    task: str | None
    articles: int
    failures: int
    calls: int
    reasks: int
    retries: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


def run_totals(store: EventStore) -> RunTotals:
    with store.snapshot() as db:
        row = db.execute(
            "SELECT count(*), coalesce(sum(calls), 0), coalesce(sum(reasks), 0), coalesce(sum(retries), 0),"
            " coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0) FROM articles"
        ).fetchone()
        (failures,) = db.execute("SELECT count(*) FROM failures").fetchone()
    return RunTotals(
        task=store.task, articles=row[0], failures=failures, calls=row[1], reasks=row[2], retries=row[3],
        input_tokens=row[4], output_tokens=row[5], cost_usd=round(float(row[6]), 6),
    )  # fmt: skip


def _totals_table(totals: RunTotals) -> Table:
    from rich.table import Table

    table = Table(title="run totals", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in totals.model_dump().items():
        table.add_row(name.replace("_", " "), f"{value:,.4f}" if isinstance(value, float) else f"{value}")
    return table


def stats(store: EventStore, task: Task[Any, Any]) -> tuple[BaseModel, list[Table]]:
    """The statistics of `store`: the task's when it gives them, else the run totals."""
    hook = task.view("stats")
    if hook is not None:
        model, tables = hook(store)
        return model, list(tables)
    totals = run_totals(store)
    return totals, [_totals_table(totals)]
