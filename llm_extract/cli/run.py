"""`llm-extract run`: batch extraction into an output directory, with progress and a summary."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from llm_extract.cli.app import app
from llm_extract.cli.common import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, escape, setup_logging, write_html_report

if TYPE_CHECKING:
    from rich.console import Console

    from llm_extract.core.task import Task
    from llm_extract.runs.runner import BatchSummary
    from llm_extract.settings import CallMode, Mode

__all__ = ["run"]


def _mode(replay: bool, record: bool, live: bool) -> Mode | None:
    chosen = [name for name, on in (("replay", replay), ("record", record), ("live", live)) if on]
    if len(chosen) > 1:
        raise typer.BadParameter("choose one of --replay, --record, --live", param_hint="mode")
    return chosen[0] if chosen else None  # type: ignore[return-value]


def chosen_task(spec: str | None, options: list[str] | None) -> Task[Any, Any]:
    """The task of `--task`, with its `--task-option KEY=VALUE` values validated by the task."""
    import json

    from llm_extract.core.registry import load_task
    from llm_extract.errors import ConfigError

    values: dict[str, Any] = {}
    for item in options or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--task-option {item!r}: expected KEY=VALUE")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return load_task(spec).configure(values)


def call_mode_of(value: str) -> CallMode:
    return value if value in ("auto", "tools", "json", "json_schema") else "auto"  # type: ignore[return-value]


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(
            metavar="PATHS",
            help="Articles: .txt, .md, .html, .htm and .jsonl files, directories of them, or - for standard input.",
            show_default=False,
        )],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (records.jsonl, errors.jsonl).")] = Path("out"),
    task: Annotated[
        Optional[str],
        typer.Option("--task", help="What to extract: a built-in or installed task name, or module:attribute. [default: security_events]"),
    ] = None,
    task_option: Annotated[
        Optional[list[str]],
        typer.Option("--task-option", help="A task option KEY=VALUE (repeatable; VALUE read as JSON when it parses)."),
    ] = None,
    model: Annotated[Optional[str], typer.Option(help="Model name. [default: gpt-4o-mini]", envvar="LLM_EXTRACT_MODEL")] = None,
    base_url: Annotated[
        Optional[str], typer.Option("--base-url", help="An OpenAI-compatible server (Ollama, vLLM, llama.cpp). Env OPENAI_BASE_URL.")
    ] = None,
    replay: Annotated[bool, typer.Option("--replay", help="Answer from recordings; no network, no key (default without OPENAI_API_KEY).")] = False,
    record: Annotated[bool, typer.Option("--record", help="Call the model and save its responses for replay.")] = False,
    live: Annotated[bool, typer.Option("--live", help="Call the model; save nothing.")] = False,
    replay_dir: Annotated[
        Path, typer.Option("--replay-dir", help="Where recordings are read and written.", envvar="LLM_EXTRACT_REPLAY_DIR")
    ] = Path("recordings"),
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=1024, help="Articles in flight at once (a long article's chunks run together).")] = 8,
    call_mode: Annotated[
        str,
        typer.Option(
            "--call-mode",
            help="auto (json_schema for llama.cpp, vLLM, Ollama; else tools), tools (tool calling), json (JSON mode) "
            "or json_schema (the answer constrained to the schema by the server).",
        ),
    ] = "auto",
    max_tokens: Annotated[
        Optional[int], typer.Option("--max-tokens", min=16, help="Cap on the answer's tokens. [default: 1536 for the built-in task]")
    ] = None,
    max_reasks: Annotated[Optional[int], typer.Option("--max-reasks", min=0, max=10, help="Validation reasks. [default: 2]")] = None,
    max_attempts: Annotated[
        Optional[int], typer.Option("--max-attempts", min=1, max=20, help="Transport attempts per call. [default: 5]")
    ] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", min=0.1, help="Seconds per HTTP call. [default: 120]")] = None,
    retry_wait: Annotated[
        Optional[float], typer.Option("--retry-wait", min=0, help="First transport-retry backoff in seconds; doubles, with jitter. [default: 1]")
    ] = None,
    retry_max_wait: Annotated[
        Optional[float], typer.Option("--retry-max-wait", min=0, help="Cap on one backoff wait and on an honoured Retry-After. [default: 30 / 120]")
    ] = None,
    keep_ungrounded: Annotated[
        bool,
        typer.Option("--keep-ungrounded", help="Keep records whose evidence is not in the article (flagged), besides listing them as rejected."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Re-extract articles already done in OUT (default: resume).")] = False,
    max_cost: Annotated[
        Optional[float], typer.Option("--max-cost", min=0, help="Stop starting new articles once the estimated cost (USD) reaches this.")
    ] = None,
    prices: Annotated[Optional[Path], typer.Option("--prices", help="JSON price table (USD per 1M tokens) overriding the defaults.")] = None,
    no_merge: Annotated[
        bool, typer.Option("--no-merge", help="Skip the cross-article merge at the end (run `llm-extract merge OUT` later).")
    ] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write OUT/report.html.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-v info, -vv debug).")] = 0,
) -> None:
    """Extract records from articles into OUT/ (records.jsonl, extract.db): agreements and seizures by default.

    Run the same command again to resume: finished articles are skipped.
    """
    from rich.console import Console

    from llm_extract.errors import ConfigError, PromptError

    console = Console(stderr=True)
    setup_logging(console, quiet=quiet, verbose=verbose)
    if call_mode not in ("auto", "tools", "json", "json_schema"):
        raise typer.BadParameter("must be auto, tools, json or json_schema", param_hint="--call-mode")
    missing = [str(p) for p in paths if str(p) != "-" and not p.exists()]
    if missing:
        console.print(f"[red]error:[/red] no such file or directory: {escape(', '.join(missing))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)

    from llm_extract.core.articles import iter_articles
    from llm_extract.runs.runner import run_batch
    from llm_extract.core.pipeline import Extractor
    from llm_extract.settings import ExtractorSettings

    try:
        settings = ExtractorSettings.resolve(
            {
                "model": model,
                "mode": _mode(replay, record, live),
                "base_url": base_url,
                "replay_dir": replay_dir,
                "concurrency": concurrency,
                "call_mode": call_mode_of(call_mode),
                "max_tokens": max_tokens,
                "max_reasks": max_reasks,
                "max_attempts": max_attempts,
                "timeout_s": timeout,
                "retry_initial_wait_s": retry_wait,
                "retry_max_wait_s": retry_max_wait,
                "retry_after_max_s": retry_max_wait,
                "keep_ungrounded": keep_ungrounded or None,
                "prices_file": prices,
            }
        )
        extractor = Extractor(settings=settings, task=chosen_task(task, task_option))
    except (ConfigError, PromptError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None

    items = iter_articles(paths)
    first = next(items, None)
    if first is None:
        console.print(f"[red]error:[/red] no articles (.txt, .md, .html, .jsonl) under {escape(', '.join(map(str, paths)))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)

    def chain():  # type: ignore[no-untyped-def]
        yield first
        yield from items

    if not quiet:
        console.print(
            f"llm-extract: task {extractor.task.name}, mode [bold]{extractor.mode}[/bold], model {settings.model}, "
            f"prompt {extractor.prompts.version}, concurrency {settings.concurrency} → {out}/"
        )
    import sqlite3

    from llm_extract.errors import LLMExtractError

    try:
        with _progress(console, paths, quiet=quiet) as on_done:
            summary = asyncio.run(
                run_batch(
                    extractor,
                    chain(),
                    out,
                    concurrency=settings.concurrency,
                    force=force,
                    max_cost_usd=max_cost,
                    merge=not no_merge,
                    on_done=on_done,
                )
            )
    except (OSError, sqlite3.Error, LLMExtractError) as exc:  # the output directory itself failed
        console.print(
            f"[red]error:[/red] the batch stopped: {escape(f'{type(exc).__name__}: {exc}')}. Every article "
            f"finished before this is kept in {escape(str(out))}; fix the cause and run the same command to resume.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILURES) from None
    except KeyboardInterrupt:
        console.print(f"interrupted: finished articles are kept in {escape(str(out))}; run the same command to resume")
        raise typer.Exit(130) from None
    print_summary(console, summary, out, quiet=quiet, mode=extractor.mode, task=extractor.task)
    if not no_report:
        write_html_report(console, out, quiet=quiet)
    raise typer.Exit(EXIT_FAILURES if summary.failed else EXIT_OK)


def _count_inputs(paths: list[Path]) -> int | None:
    """How many articles the inputs hold, when that is cheap to know (not JSONL, not stdin)."""
    from llm_extract.core.articles import JSONL_SUFFIXES, SUFFIXES

    total = 0
    for path in paths:
        if str(path) == "-" or path.suffix.lower() in JSONL_SUFFIXES:
            return None
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES]
            if any(p.suffix.lower() in JSONL_SUFFIXES for p in files):
                return None
            total += len(files)
        else:
            total += 1
    return total


@contextmanager
def _progress(console: Console, paths: list[Path], *, quiet: bool) -> Iterator[Callable[[BatchSummary], None] | None]:
    """A rich progress bar on a terminal (done / failed / total, calls, tokens, cost, ETA)."""
    if quiet or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[bold]extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task("extract", total=_count_inputs(paths), stats="")

    def on_done(summary: BatchSummary) -> None:
        stats = (
            f"failed {summary.failed} · calls {summary.calls} · reasks {summary.reasks} · "
            f"retries {summary.retries} · tokens {summary.input_tokens + summary.output_tokens:,} · ${summary.cost_usd:.4f}"
        )
        progress.update(task, completed=summary.articles, stats=stats)

    with progress:
        yield on_done

def print_summary(console: Console, summary: BatchSummary, out: Path, *, quiet: bool, mode: str, task: Task[Any, Any]) -> None:
    from rich.table import Table

    for failure in summary.failures:
        console.print(f"[red]failed[/red] {escape(f'[{failure.kind}]')} {escape(failure.message)}", highlight=False, soft_wrap=True)
    if quiet:
        return
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("articles", summary.articles),
        ("extracted", summary.extracted),
        ("skipped (already done)", summary.skipped),
        ("failed", summary.failed),
        *((task.count_labels.get(name, name.replace("_", " ")), n) for name, n in summary.counts.items()),
        ("model calls", summary.calls),
        ("  answered from cache", summary.cached_calls),
        ("reasks", summary.reasks),
        ("transport retries", summary.retries),
        ("tokens in", summary.input_tokens),
        ("tokens out", summary.output_tokens),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:,}")
    if summary.canonical_events is not None:
        table.add_row("distinct events (merged across articles)", f"{summary.canonical_events:,}")
    cost = f"${summary.cost_usd:,.4f}" + (f" (+{summary.unpriced} article(s) with no price)" if summary.unpriced else "")
    table.add_row("estimated cost" + (" (replayed: not paid)" if mode == "replay" else ""), cost)
    from rich.console import Console as _Console

    _Console().print(table)
    console.print(f"records: {out}/records.jsonl")
    if summary.budget_stopped:
        console.print("[yellow]stopped early:[/yellow] the estimated cost reached --max-cost; run again to continue")
    if summary.failures:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(summary.failures_by_kind().items()))
        console.print(f"failures by kind: {kinds} (details in {out}/errors.jsonl)")
