"""The commands that read an output directory: merge, export, report, stats, eval.

Each reopens the task that wrote the directory (recorded in its store).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from llm_extract.cli.app import app
from llm_extract.cli.common import EXIT_USAGE, escape, no_store, open_output_or_exit

__all__ = ["eval_command", "export_command", "merge", "report_command", "stats"]


@app.command()
def merge(outdir: Annotated[Path, typer.Argument(help="An output directory of `llm-extract run`.")]) -> None:
    """Recompute the events merged across articles (run does this at its end)."""
    store, task = open_output_or_exit(outdir)
    with store:
        describe, merge_hook = task.view("merge_report"), task.view("merge")
        if describe is not None:
            typer.echo(describe(store))
        elif merge_hook is not None:
            typer.echo(f"{merge_hook(store):,} distinct events")
        else:
            typer.echo(f"the task {task.name!r} does not merge records across articles")


@app.command("export")
def export_command(
    outdir: Annotated[Path, typer.Argument(help="An output directory of `llm-extract run`.")],
    format: Annotated[str, typer.Option("--format", "-f", help="csv or jsonl.")] = "csv",
    to: Annotated[Optional[Path], typer.Option("--to", help="Where to write the tables. [default: OUTDIR/export]")] = None,
    excel: Annotated[bool, typer.Option("--excel", help="CSV for Excel: a UTF-8 BOM, and formulas escaped.")] = False,
) -> None:
    """Write flat tables (for the built-in task: agreements, seizures, events, articles, failures, rejected)."""
    from llm_extract.views.export import export

    if format not in ("csv", "jsonl"):
        raise typer.BadParameter("must be 'csv' or 'jsonl'", param_hint="--format")
    if excel and format != "csv":
        raise typer.BadParameter(
            "--excel is for CSV files (a UTF-8 BOM, formulas escaped); drop it for JSONL", param_hint="--excel"
        )
    store, task = open_output_or_exit(outdir)
    with store:
        paths = export(store, to or outdir / "export", format, task=task, excel_bom=excel, escape_formulas=excel)  # type: ignore[arg-type]
    for path in paths:
        typer.echo(str(path))


@app.command("report")
def report_command(
    outdir: Annotated[Path, typer.Argument(help="An output directory of `llm-extract run`.")],
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="The HTML file to write. [default: OUTDIR/report.html]")
    ] = None,
    articles_root: Annotated[
        Optional[Path],
        typer.Option("--articles-root", help="Where the articles are, for results stored without their text (stores before v4)."),
    ] = None,
) -> None:
    """Write one self-contained HTML page (opens offline): tables, charts, highlighted evidence."""

    from llm_extract.errors import StoreError
    from llm_extract.views.report import write_report

    try:
        path = write_report(outdir, output, articles_root=articles_root)
    except StoreError as exc:
        no_store(exc, outdir)
    typer.echo(str(path))


@app.command()
def stats(outdir: Annotated[Path, typer.Argument(help="An output directory of `llm-extract run`.")]) -> None:
    """Counts (for the built-in task: by country, drug group, year and agreement status)."""
    from rich.console import Console

    from llm_extract.views.stats import stats as compute_stats

    store, task = open_output_or_exit(outdir)
    with store:
        _, tables = compute_stats(store, task)
    console = Console()
    for table in tables:
        console.print(table)


@app.command("eval")
def eval_command(
    outdirs: Annotated[
        list[Path], typer.Argument(help="Output directories of `llm-extract run` (their records.jsonl), scored side by side.")
    ],
    gold: Annotated[Path, typer.Option("--gold", help="Directory of gold annotation files (format: fixtures/gold/README.md).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    task: Annotated[
        Optional[str], typer.Option("--task", help="The task whose scorer to use. [default: the one that wrote the runs]")
    ] = None,
) -> None:
    """Score runs against gold annotations: precision, recall, F1 and per-field accuracy."""
    from rich.console import Console

    from llm_extract.errors import LLMExtractError
    from llm_extract.views.evaluate import evaluate_runs

    err = Console(stderr=True)
    try:
        from llm_extract.core.registry import load_task

        report, tables, warnings = evaluate_runs(gold, outdirs, task=load_task(task) if task else None)
    except LLMExtractError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    for warning in warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    console = Console()
    for table in tables:
        console.print(table)
