"""`llm-extract run`: batch extraction into an output directory, with progress and a summary."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llm_extract.cli.app import app
from llm_extract.cli.common import (
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    article_printer,
    disk_full,
    escape,
    fail_usage,
    note_printer,
    output_lock_or_exit,
    run_stoppable,
    setup_logging,
    terminate_as_interrupt,
    write_html_report,
)

if TYPE_CHECKING:
    from rich.console import Console

    from llm_extract.core.pipeline import Extractor
    from llm_extract.core.task import Task
    from llm_extract.runs.runner import BatchSummary, Engine
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


_PATHS_HELP = "Articles: .txt, .md, .html, .htm and .jsonl files, directories of them, or - for standard input."
_TASK_HELP = "What to extract: a built-in or installed task name, or module:attribute. [default: security_events]"
_CALL_MODE_HELP = (
    "auto (json_schema for llama.cpp, vLLM, Ollama; else tools), tools (tool calling), json (JSON mode) "
    "or json_schema (the answer constrained to the schema by the server)."
)
_MAX_COST_HELP = (
    "Stop starting new articles once the estimated cost (USD) of what is paid for reaches this. Only live and "
    "--record calls count: replayed answers (and answers from the cache) are not paid, so a --replay run never "
    "stops for it."
)
_ENGINE_HELP = (
    "Where articles are extracted: local (this machine; --workers N processes) or ray (Ray actors on a cluster: "
    "pip install 'llm-extract[ray]'; --workers N actors). This process writes OUT either way."
)
_VERBOSE_HELP = (
    "-v: one line per article (what happened, calls, reasks, retries, time); -vv: llm_extract's debug logging; "
    "-vvv: the libraries' (openai, httpx, instructor) debug logging too, which the environment variable "
    "LLM_EXTRACT_LIBRARY_DEBUG=1 also turns on."
)


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(metavar="PATHS", help=_PATHS_HELP, show_default=False)],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output directory (records.jsonl, errors.jsonl, extract.db).")
    ] = Path("out"),
    task: Annotated[str | None, typer.Option("--task", help=_TASK_HELP)] = None,
    task_option: Annotated[
        list[str] | None,
        typer.Option("--task-option", help="A task option KEY=VALUE (repeatable; VALUE read as JSON when it parses)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model name. [default: gpt-4o-mini]", envvar="LLM_EXTRACT_MODEL")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="An OpenAI-compatible server (Ollama, vLLM, llama.cpp). Env OPENAI_BASE_URL."),
    ] = None,
    replay: Annotated[
        bool,
        typer.Option("--replay", help="Answer from recordings; no network, no key (default without OPENAI_API_KEY)."),
    ] = False,
    record: Annotated[bool, typer.Option("--record", help="Call the model and save its responses for replay.")] = False,
    live: Annotated[bool, typer.Option("--live", help="Call the model; save nothing.")] = False,
    replay_dir: Annotated[
        Path,
        typer.Option("--replay-dir", help="Where recordings are read and written.", envvar="LLM_EXTRACT_REPLAY_DIR"),
    ] = Path("recordings"),
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", "-c", min=1, max=1024,
            help="Articles in flight at once (a long article's chunks run together).",
        ),
    ] = 8,
    workers: Annotated[
        str | None,
        typer.Option(
            "--workers", metavar="N|auto",
            help="Processes (--engine ray: actors) extracting at once, --concurrency shared among them (auto: the "
            "cores); this one writes. [default: 1; ray: one per free CPU]",
        ),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", metavar="local|ray", help=_ENGINE_HELP)] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", metavar="ADDR", help="The Ray cluster (auto, HOST:6379). Env RAY_ADDRESS."),
    ] = None,
    call_mode: Annotated[str, typer.Option("--call-mode", help=_CALL_MODE_HELP)] = "auto",
    max_tokens: Annotated[
        int | None,
        typer.Option("--max-tokens", min=16, help="Cap on the answer's tokens. [default: 1536 for the built-in task]"),
    ] = None,
    max_reasks: Annotated[
        int | None, typer.Option("--max-reasks", min=0, max=10, help="Validation reasks. [default: 2]")
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option("--max-attempts", min=1, max=20, help="Transport attempts per call. [default: 5]")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.1, help="Seconds per HTTP call. [default: 120]")
    ] = None,
    retry_wait: Annotated[
        float | None,
        typer.Option(
            "--retry-wait", min=0, help="First transport-retry backoff in seconds; doubles, with jitter. [default: 1]"
        ),
    ] = None,
    retry_max_wait: Annotated[
        float | None,
        typer.Option(
            "--retry-max-wait", min=0,
            help="Cap on one backoff wait and on an honoured Retry-After. [default: 30 / 120]",
        ),
    ] = None,
    keep_ungrounded: Annotated[
        bool,
        typer.Option(
            "--keep-ungrounded",
            help="Keep records whose evidence is not in the article (flagged), besides listing them as rejected.",
        ),
    ] = False,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            "--min-confidence",
            min=0,
            max=1,
            help="Move records whose confidence is lower to `rejected`, with their flags as the reason "
            "(default: keep them, flagged).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-extract articles already done in OUT (default: resume).")
    ] = False,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0, help=_MAX_COST_HELP)] = None,
    prices: Annotated[
        Path | None, typer.Option("--prices", help="JSON price table (USD per 1M tokens) overriding the defaults.")
    ] = None,
    no_merge: Annotated[
        bool,
        typer.Option("--no-merge", help="Skip the cross-article merge at the end (run `llm-extract merge OUT` later)."),
    ] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write OUT/report.html.")] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If another run is writing OUT, wait for it to finish (default: refuse at once)."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help=_VERBOSE_HELP)] = 0,
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
        missing_text = escape(", ".join(missing))
        console.print(f"[red]error:[/red] no such file or directory: {missing_text}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)

    from llm_extract.core.articles import iter_articles
    from llm_extract.core.pipeline import Extractor
    from llm_extract.settings import ExtractorSettings

    try:
        chosen_engine, where_run = _engine(engine, workers, ray_address, note_printer(console, quiet=quiet))
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
                "min_confidence": min_confidence,
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
        console.print(
            f"[red]error:[/red] no articles (.txt, .md, .html, .jsonl) under {escape(', '.join(map(str, paths)))}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_USAGE)

    def chain():  # type: ignore[no-untyped-def]
        yield first
        yield from items

    with output_lock_or_exit(console, out, wait=wait, quiet=quiet):  # one writer per output directory
        if not quiet:
            console.print(
                f"llm-extract: task {escape(extractor.task.name)}, mode [bold]{extractor.mode}[/bold], model "
                f"{escape(settings.model)}, prompt {extractor.prompts.version}, concurrency {settings.concurrency}"
                f"{where_run} → "
                f"{escape(str(out))}/",
                highlight=False,
                soft_wrap=True,
            )
            if max_cost is not None and extractor.mode == "replay":
                console.print(
                    "[yellow]note:[/yellow] --max-cost counts only paid (live, --record) calls: this replay run is "
                    "not limited by it",
                    soft_wrap=True,
                )
        summary = _extract(console, extractor, chain(), paths, out, force=force, max_cost=max_cost, merge=not no_merge,
                           quiet=quiet, verbose=verbose, engine=chosen_engine)  # fmt: skip
        print_summary(
            console, summary, out, quiet=quiet, mode=extractor.mode, task=extractor.task,
            limiter=getattr(chosen_engine, "limits", None) or extractor.limiter,  # workers: their limits together
        )
        if not no_report:
            write_html_report(console, out, quiet=quiet)
    raise typer.Exit(EXIT_FAILURES if summary.failed else EXIT_OK)


def _extract(
    console: Console, extractor: Extractor[Any], items: Iterator[Any], paths: list[Path], out: Path, *, force: bool,
    max_cost: float | None, merge: bool, quiet: bool, verbose: int, engine: Engine | None = None,
) -> BatchSummary:  # fmt: skip
    """`run_batch` with progress, per-article lines (-v), notes, and one clear line when it stops early."""
    import sqlite3

    from llm_extract.errors import ConfigError, LLMExtractError, StoreError
    from llm_extract.runs.runner import BatchSummary, run_batch

    summary = BatchSummary()
    roots = [p for p in paths if str(p) != "-" and p.is_dir()]
    on_article = article_printer(console, roots) if verbose and not quiet else None
    where = escape(str(out))
    got: dict[str, int] = {}
    try:
        limiter = getattr(engine, "limits", None) or getattr(extractor, "limiter", None)
        with terminate_as_interrupt() as got, _progress(console, paths, quiet=quiet, limiter=limiter) as on_done:
            run_stoppable(
                run_batch(
                    extractor, items, out, concurrency=extractor.settings.concurrency, force=force,
                    max_cost_usd=max_cost, merge=merge, on_done=on_done, on_article=on_article,
                    note=note_printer(console, quiet=quiet), summary=summary, engine=engine,
                ),
                got,
            )  # fmt: skip
    except KeyboardInterrupt:
        by = "SIGTERM" if got.get("signal") == signal.SIGTERM else "Ctrl-C"
        console.print(
            f"interrupted ({by}): {summary.extracted:,} article(s) extracted in this run, and every one finished "
            f"before, are kept in {where} (records.jsonl, extract.db); run the same command to resume",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_TERMINATED if by == "SIGTERM" else EXIT_INTERRUPTED) from None
    except (StoreError, ConfigError) as exc:  # another task's directory, a lost store, workers that cannot start
        fail_usage(console, exc)
    except (OSError, sqlite3.Error, LLMExtractError) as exc:  # the output directory itself failed
        if disk_full(exc):
            what = escape(getattr(exc, "filename", None) or str(exc))
            console.print(
                f"[red]disk full:[/red] {what}: every finished article is kept in {where}; free space and run the "
                "same command to resume",
                highlight=False,
                soft_wrap=True,
            )
        else:
            console.print(
                f"[red]error:[/red] the batch stopped: {escape(f'{type(exc).__name__}: {exc}')}. Every article "
                f"finished before this is kept in {where}; fix the cause and run the same command to resume.",
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(EXIT_FAILURES) from None
    return summary


def _engine(
    name: str, workers: str | None, ray_address: str | None, note: Callable[[str], None]
) -> tuple[Engine | None, str]:
    """The engine `--engine`, `--workers` and `--ray-address` ask for (None: this process), and
    how the run's first line says it; `ConfigError` for what cannot work."""
    from llm_extract.errors import ConfigError
    from llm_extract.runs.engines import ProcessEngine, resolve_workers

    if name not in ("local", "ray"):
        raise ConfigError(f"--engine: expected local or ray, not {name!r}")
    if name == "local":
        if ray_address is not None:
            raise ConfigError("--ray-address is for --engine ray")
        processes = resolve_workers(workers)
        return (ProcessEngine(processes, note=note), f" over {processes} worker processes") if processes > 1 else (None, "")
    from llm_extract.runs.engines.ray import RayEngine, require_ray

    actors = resolve_workers(workers) if workers is not None else None
    require_ray()  # installed, or one line saying how
    where = ray_address or os.environ.get("RAY_ADDRESS") or "a local Ray"
    how_many = f"{actors} Ray actor(s)" if actors else "Ray actors (one per free CPU)"
    return RayEngine(ray_address, actors=actors), f" over {how_many} on {where}"


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
def _progress(
    console: Console, paths: list[Path], *, quiet: bool, limiter: Any = None
) -> Iterator[Callable[[BatchSummary], None] | None]:
    """A rich progress bar on a terminal (done / failed / total, calls, tokens, cost, ETA)."""
    if quiet or not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

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
            f"retries {summary.retries} · tokens {summary.input_tokens + summary.output_tokens:,} · "
            f"${summary.cost_usd:.4f}" + (f" · in flight ≤ {limiter.current_limit}" if limiter is not None else "")
        )
        progress.update(task, completed=summary.articles, stats=stats)

    with progress:
        yield on_done


def print_summary(
    console: Console,
    summary: BatchSummary,
    out: Path,
    *,
    quiet: bool,
    mode: str,
    task: Task[Any, Any],
    limiter: Any = None,
) -> None:
    from rich.table import Table

    for failure in summary.failures:
        line = f"[red]failed[/red] {escape(f'[{failure.kind}]')} {escape(failure.message)}"
        console.print(line, highlight=False, soft_wrap=True)
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
    if limiter is not None and getattr(limiter, "adaptive", True) and limiter.min_seen != limiter.max_seen:
        # the calls in flight adapted to the server (429s, timeouts, latency): say where they went
        table.add_row("calls in flight (adapted)", f"{limiter.min_seen}–{limiter.max_seen}, at the end {limiter.current_limit}")
    cost = f"${summary.cost_usd:,.4f}"
    if summary.unpriced:
        cost += f" (+{summary.unpriced} article(s) with no price)"
    table.add_row("estimated cost" + (" (replayed: not paid)" if mode == "replay" else ""), cost)
    from rich.console import Console as _Console

    _Console().print(table)
    console.print(f"records: {escape(str(out))}/records.jsonl", highlight=False, soft_wrap=True)
    if summary.budget_stopped:
        console.print("[yellow]stopped early:[/yellow] the estimated cost reached --max-cost; run again to continue")
    if summary.failures:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(summary.failures_by_kind().items()))
        details = f"failures by kind: {escape(kinds)} (details in {escape(str(out))}/errors.jsonl)"
        console.print(details, highlight=False, soft_wrap=True)
