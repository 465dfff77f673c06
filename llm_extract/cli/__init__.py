"""The `llm-extract` command line (typer + rich).

Exit codes: 0 every article extracted; 1 some articles failed (each listed with its
reason, and in OUTDIR/errors.jsonl); 2 usage or configuration error.

Start-up stays fast: the pipeline (and with it openai and instructor) is imported only
when a command runs, never for `--help`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from llm_extract.runs.runner import BatchSummary
    from llm_extract.settings import CallMode, Mode

__all__ = ["app", "main"]

app = typer.Typer(
    name="llm-extract",
    help="Extract grounded records of security agreements and drug seizures from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"llm-extract {version('llm-extract')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Extract grounded records of security agreements and drug seizures from news articles."""


def _mode(replay: bool, record: bool, live: bool) -> Mode | None:
    chosen = [name for name, on in (("replay", replay), ("record", record), ("live", live)) if on]
    if len(chosen) > 1:
        raise typer.BadParameter("choose one of --replay, --record, --live", param_hint="mode")
    return chosen[0] if chosen else None  # type: ignore[return-value]


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(help="Article files (.txt, .md) or directories of them.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (records.jsonl, errors.jsonl).")] = Path("out"),
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
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=1024, help="Articles in flight at once.")] = 8,
    call_mode: Annotated[
        str, typer.Option("--call-mode", help="tools (tool calling) or json (JSON mode, for servers without tools).")
    ] = "tools",
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
    """Extract agreements and seizures from articles into OUT/ (records.jsonl, extract.db).

    Run the same command again to resume: finished articles are skipped.
    """
    from rich.console import Console

    from llm_extract.errors import ConfigError, PromptError

    console = Console(stderr=True)
    _logging(console, quiet=quiet, verbose=verbose)
    if call_mode not in ("tools", "json"):
        raise typer.BadParameter("must be 'tools' or 'json'", param_hint="--call-mode")
    missing = [str(p) for p in paths if str(p) != "-" and not p.exists()]
    if missing:
        console.print(f"[red]error:[/red] no such file or directory: {_escape(', '.join(missing))}", highlight=False, soft_wrap=True)
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
                "call_mode": _call_mode(call_mode),
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
        extractor = Extractor(settings=settings)
    except (ConfigError, PromptError) as exc:
        console.print(f"[red]error:[/red] {_escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None

    items = iter_articles(paths)
    first = next(items, None)
    if first is None:
        console.print(f"[red]error:[/red] no articles (.txt, .md, .html, .jsonl) under {_escape(', '.join(map(str, paths)))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)

    def chain():  # type: ignore[no-untyped-def]
        yield first
        yield from items

    if not quiet:
        console.print(
            f"llm-extract: mode [bold]{extractor.mode}[/bold], model {settings.model}, "
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
            f"[red]error:[/red] the batch stopped: {_escape(f'{type(exc).__name__}: {exc}')}. Every article "
            f"finished before this is kept in {_escape(str(out))}; fix the cause and run the same command to resume.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILURES) from None
    except KeyboardInterrupt:
        console.print(f"interrupted: finished articles are kept in {_escape(str(out))}; run the same command to resume")
        raise typer.Exit(130) from None
    _report(console, summary, out, quiet=quiet, mode=extractor.mode)
    if not no_report:
        _write_html_report(console, out, quiet=quiet)
    raise typer.Exit(EXIT_FAILURES if summary.failed else EXIT_OK)


def _write_html_report(console: Console, out: Path, *, quiet: bool) -> None:
    """OUT/report.html after a run; a failure to write it is a warning, never a lost run."""
    from llm_extract.errors import LLMExtractError
    from llm_extract.tasks.security_events.views.report import write_report

    try:
        path = write_report(out)
    except (LLMExtractError, OSError) as exc:
        console.print(f"[yellow]warning:[/yellow] report not written: {_escape(str(exc))}", highlight=False, soft_wrap=True)
        return
    if not quiet:
        console.print(f"report: {_escape(str(path))}", highlight=False, soft_wrap=True)


def _logging(console: Console, *, quiet: bool, verbose: int) -> None:
    import logging

    from rich.logging import RichHandler

    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    handler = RichHandler(console=console, show_path=False, show_time=verbose > 0)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    if verbose < 2:  # the libraries' own chatter only at -vv
        for name in ("httpx", "httpx2", "openai"):
            logging.getLogger(name).setLevel(max(level, logging.WARNING))
        # instructor logs every failed attempt at ERROR; we report each failure once, ourselves
        logging.getLogger("instructor").setLevel(logging.CRITICAL)


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


def _no_store(exc: Exception, outdir: Path) -> NoReturn:
    from rich.console import Console

    Console(stderr=True).print(
        f"[red]error:[/red] {_escape(str(exc))} (is {_escape(str(outdir))} an output directory of `llm-extract run`?)",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_USAGE)


def _open_store(outdir: Path):  # type: ignore[no-untyped-def]

    from llm_extract.runs.runner import STORE_FILE
    from llm_extract.errors import StoreError
    from llm_extract.runs.store import EventStore

    try:
        return EventStore(outdir / STORE_FILE, create=False)
    except StoreError as exc:
        _no_store(exc, outdir)


@app.command()
def merge(outdir: Annotated[Path, typer.Argument(help="An output directory of `llm-extract run`.")]) -> None:
    """Recompute the events merged across articles (run does this at its end)."""
    from llm_extract.tasks.security_events.merge import merge_events

    with _open_store(outdir) as store:
        result = merge_events(store)
    typer.echo(
        f"{result.canonical:,} distinct events ({result.agreement_events:,} agreements, "
        f"{result.seizure_events:,} seizures) from {result.mentions:,} records; "
        f"{result.merged_events:,} reported by more than one article"
    )


@app.command("export")
def export_command(
    outdir: Annotated[Path, typer.Argument(help="An output directory of `llm-extract run`.")],
    format: Annotated[str, typer.Option("--format", "-f", help="csv or jsonl.")] = "csv",
    to: Annotated[Optional[Path], typer.Option("--to", help="Where to write the tables. [default: OUTDIR/export]")] = None,
    excel: Annotated[bool, typer.Option("--excel", help="CSV for Excel: a UTF-8 BOM, and formulas escaped.")] = False,
) -> None:
    """Write flat tables (agreements, seizures, events, articles, failures, rejected)."""
    from llm_extract.tasks.security_events.views.export import export

    if format not in ("csv", "jsonl"):
        raise typer.BadParameter("must be 'csv' or 'jsonl'", param_hint="--format")
    with _open_store(outdir) as store:
        paths = export(store, to or outdir / "export", format, excel_bom=excel, escape_formulas=excel)  # type: ignore[arg-type]
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
    from llm_extract.tasks.security_events.views.report import write_report

    try:
        path = write_report(outdir, output, articles_root=articles_root)
    except StoreError as exc:
        _no_store(exc, outdir)
    typer.echo(str(path))


@app.command()
def stats(outdir: Annotated[Path, typer.Argument(help="An output directory of `llm-extract run`.")]) -> None:
    """Counts by country, drug group, year and agreement status."""
    from rich.console import Console

    from llm_extract.tasks.security_events.views.export import render_stats
    from llm_extract.tasks.security_events.views.export import stats as compute_stats

    with _open_store(outdir) as store:
        tables = render_stats(compute_stats(store))
    console = Console()
    for table in tables:
        console.print(table)


@app.command()
def serve(
    fixtures: Annotated[Path, typer.Option("--fixtures", help="A replay directory to answer from.", exists=True, file_okay=False)],
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback only unless --allow-remote).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port, printed on start).")] = 8000,
    latency_ms: Annotated[float, typer.Option("--latency-ms", min=0, help="Delay before each answer.")] = 0.0,
    jitter_ms: Annotated[float, typer.Option("--jitter-ms", min=0, help="Random ± added to the latency (seeded).")] = 0.0,
    faults: Annotated[
        Optional[str],
        typer.Option(
            "--faults",
            help="Fault injection: rates '429=0.1,500=0.05,hang=0.01' or a schedule 'schedule:429,ok,500'. "
            "Kinds: 429[:s], 429_noretry, 500, 503, 400, hang[:s], reset, truncate, bad_json, schema, empty.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fault and jitter draws.")] = 0,
    hang_s: Annotated[float, typer.Option("--hang-s", min=0, help="How long a 'hang' fault hangs.")] = 30.0,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Allow binding a non-loopback address.")] = False,
    batch_delay: Annotated[float, typer.Option("--batch-delay-s", min=0, help="Seconds before a batch job completes.")] = 1.0,
    batch_fail_rate: Annotated[
        float, typer.Option("--batch-fail-rate", min=0, max=1, help="Share of batch requests that fail (500), seeded.")
    ] = 0.0,
    batch_schema_rate: Annotated[
        float, typer.Option("--batch-schema-rate", min=0, max=1, help="Share of batch answers that violate the schema, seeded.")
    ] = 0.0,
    batch_expire: Annotated[bool, typer.Option("--batch-expire", help="Batches expire with half their requests done.")] = False,
) -> None:
    """Serve recordings over the OpenAI API (chat completions, files, batches), with optional faults."""
    from rich.console import Console

    from llm_extract.errors import ConfigError
    from llm_extract.testing.server import ServerConfig
    from llm_extract.testing.server import serve as run_server

    try:
        config = ServerConfig(
            fixtures=fixtures,
            host=host,
            port=port,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            faults=faults,
            seed=seed,
            hang_s=hang_s,
            allow_remote=allow_remote,
            batch_delay_s=batch_delay,
            batch_fail_rate=batch_fail_rate,
            batch_schema_rate=batch_schema_rate,
            batch_expire=batch_expire,
        )
    except ConfigError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {_escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    run_server(config)


@app.command("eval")
def eval_command(
    outdirs: Annotated[list[Path], typer.Argument(help="Output directories of `llm-extract run` (their records.jsonl), scored side by side.")],
    gold: Annotated[Path, typer.Option("--gold", help="Directory of gold annotation files (format: fixtures/gold/README.md).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Score runs against gold annotations: precision, recall, F1 and per-field accuracy."""
    from rich.console import Console

    from llm_extract.errors import LLMExtractError
    from llm_extract.tasks.security_events.views.evaluate import evaluate, render_report

    err = Console(stderr=True)
    try:
        report = evaluate(gold, outdirs)
    except LLMExtractError as exc:
        err.print(f"[red]error:[/red] {_escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    for run_result in report.runs:
        for warning in run_result.warnings:
            err.print(f"[yellow]warning:[/yellow] {_escape(warning)}", highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    console = Console()
    for table in render_report(report):
        console.print(table)


def _escape(text: str) -> str:
    """Text from files, models and errors, made safe to print with rich markup on."""
    from rich.markup import escape

    return escape(text)


def _call_mode(value: str) -> CallMode:
    return "json" if value == "json" else "tools"


def _report(console: Console, summary: BatchSummary, out: Path, *, quiet: bool, mode: str) -> None:
    from rich.table import Table

    for failure in summary.failures:
        console.print(f"[red]failed[/red] {_escape(f'[{failure.kind}]')} {_escape(failure.message)}", highlight=False, soft_wrap=True)
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
        ("agreements", summary.agreements),
        ("seizures", summary.seizures),
        ("rejected records (evidence not found)", summary.rejected),
        ("flagged records", summary.flagged),
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


# -- llm-extract batch: the OpenAI Batch API ------------------------------------------------------

batch_app = typer.Typer(
    name="batch",
    help="Extract through the OpenAI Batch API: half the price, answers within 24 hours.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(batch_app, name="batch")


def _fail_usage(console: Console, exc: Exception) -> NoReturn:
    console.print(f"[red]error:[/red] {_escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


@batch_app.command("submit")
def batch_submit(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Article files or directories (as for `run`).", show_default=False)
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (job ids, then records).")] = Path("out"),
    model: Annotated[Optional[str], typer.Option(help="Model name. [default: gpt-4o-mini]", envvar="LLM_EXTRACT_MODEL")] = None,
    base_url: Annotated[
        Optional[str], typer.Option("--base-url", help="An OpenAI-compatible server with /v1/files and /v1/batches. Env OPENAI_BASE_URL.")
    ] = None,
    call_mode: Annotated[str, typer.Option("--call-mode", help="tools or json.")] = "tools",
    force: Annotated[bool, typer.Option("--force", help="Submit articles already extracted or submitted in OUT again.")] = False,
    resubmit_failed: Annotated[
        bool, typer.Option("--resubmit-failed", help="First resubmit the failed, expired or cancelled requests of earlier jobs.")
    ] = False,
    max_requests: Annotated[int, typer.Option("--max-requests", min=1, help="Requests per input file (provider limit).")] = 50_000,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Bytes per input file (provider limit: 200 MB).")] = 200_000_000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-v info, -vv debug).")] = 0,
) -> None:
    """Build the requests (as the live path would send them), upload them and create batch jobs.

    The job ids are saved in OUT/batch_jobs.json at once; run the same command again to
    finish a submit that was interrupted (nothing is submitted twice).
    """
    from rich.console import Console

    from llm_extract.errors import ConfigError, LLMExtractError, PromptError

    console = Console(stderr=True)
    _logging(console, quiet=quiet, verbose=verbose)
    if call_mode not in ("tools", "json"):
        raise typer.BadParameter("must be 'tools' or 'json'", param_hint="--call-mode")
    if not paths and not resubmit_failed:
        raise typer.BadParameter("give articles to submit, or --resubmit-failed", param_hint="PATHS")
    paths = paths or []
    missing = [str(p) for p in paths if str(p) != "-" and not p.exists()]
    if missing:
        _fail_usage(console, FileNotFoundError(f"no such file or directory: {', '.join(missing)}"))

    import os

    from llm_extract.core.articles import iter_articles
    from llm_extract.runs.batch_api import asubmit, load_state
    from llm_extract.core.pipeline import Extractor
    from llm_extract.settings import ExtractorSettings

    try:
        state = load_state(out)
        if base_url is None and not os.environ.get("OPENAI_BASE_URL") and state is not None:
            base_url = state.base_url  # the server the earlier jobs of OUT went to
        settings = ExtractorSettings.resolve(
            {"model": model, "mode": "live", "base_url": base_url, "call_mode": _call_mode(call_mode)}
        )
        extractor = Extractor(settings=settings)
    except (ConfigError, PromptError, LLMExtractError) as exc:
        _fail_usage(console, exc)
    try:
        summary = asyncio.run(
            asubmit(
                iter_articles(paths), out, extractor=extractor, force=force, resubmit_failed=resubmit_failed,
                max_requests=max_requests, max_bytes=max_bytes,
            )
        )  # fmt: skip
    except ConfigError as exc:
        _fail_usage(console, exc)
    except LLMExtractError as exc:
        console.print(f"[red]error:[/red] {_escape(str(exc))}", highlight=False, soft_wrap=True)
        console.print(f"what was submitted is saved in {_escape(str(out))}/batch_jobs.json; run the same command again to go on")
        raise typer.Exit(EXIT_FAILURES) from None
    for failure in summary.failures:
        console.print(f"[red]failed[/red] {_escape(f'[{failure.kind}]')} {_escape(failure.message)}", highlight=False, soft_wrap=True)
    if not quiet:
        console.print(
            f"submitted {summary.submitted:,} article(s) as {summary.requests:,} request(s); {len(summary.jobs)} new "
            f"job(s); skipped {summary.skipped_done:,} already extracted and {summary.skipped_submitted:,} already "
            f"submitted; {len(summary.failures)} failed",
            highlight=False,
        )
        for batch_id in summary.jobs:
            typer.echo(batch_id)
        console.print(
            f"job ids saved in {_escape(str(out))}/batch_jobs.json; progress: llm-extract batch status {_escape(str(out))}",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_FAILURES if summary.failures else EXIT_OK)


def _utc(seconds: int | None) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M") if seconds else "-"


@batch_app.command("status")
def batch_status(
    outdir: Annotated[Path, typer.Argument(help="The output directory of `llm-extract batch submit`.")],
    base_url: Annotated[
        Optional[str], typer.Option("--base-url", help="The server, if not the one saved at submit. Env OPENAI_BASE_URL.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the jobs as JSON.")] = False,
) -> None:
    """Progress of every batch job: status, requests done / failed / total, times (--json: file ids too)."""
    import dataclasses
    import json

    from rich.console import Console
    from rich.table import Table

    from llm_extract.runs.batch_api import astatus, extractor_for
    from llm_extract.errors import BatchError, ConfigError, LLMExtractError

    err = Console(stderr=True)
    try:
        jobs = asyncio.run(astatus(outdir, extractor=extractor_for(outdir, base_url=base_url)))
    except (BatchError, ConfigError) as exc:
        _fail_usage(err, exc)
    except LLMExtractError as exc:
        err.print(f"[red]error:[/red] {_escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILURES) from None
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(j) for j in jobs], indent=2))
        return
    table = Table(title=f"batch jobs in {_escape(str(outdir))}")
    for column in ("part", "batch", "status", "done", "failed", "total", "created (UTC)", "expires (UTC)"):
        table.add_column(column, justify="right" if column in ("done", "failed", "total") else "left")
    for j in jobs:
        table.add_row(
            j.part, j.batch_id, j.status, f"{j.completed:,}", f"{j.failed:,}", f"{j.total:,}", _utc(j.created_at),
            _utc(j.expires_at),
        )  # fmt: skip
    Console().print(table)
    finished = sum(1 for j in jobs if j.status in ("completed", "failed", "expired", "cancelled"))
    typer.echo(f"{finished} of {len(jobs)} job(s) finished; collect them: llm-extract batch collect {outdir}")


@batch_app.command("collect")
def batch_collect(
    outdir: Annotated[Path, typer.Argument(help="The output directory of `llm-extract batch submit`.")],
    model: Annotated[Optional[str], typer.Option(help="The model submitted with. [default: the one saved at submit]")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="The server, if not the one saved at submit.")] = None,
    no_live: Annotated[
        bool, typer.Option("--no-live", help="List answers that fail validation instead of re-asking the model live.")
    ] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=1024, help="Live reasks in flight at once.")] = 8,
    max_reasks: Annotated[Optional[int], typer.Option("--max-reasks", min=0, max=10, help="Live reasks per answer. [default: 2]")] = None,
    keep_ungrounded: Annotated[bool, typer.Option("--keep-ungrounded", help="Keep records whose evidence is not in the article.")] = False,
    prices: Annotated[Optional[Path], typer.Option("--prices", help="JSON price table (USD per 1M tokens).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write OUTDIR/report.html.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-v info, -vv debug).")] = 0,
) -> None:
    """Download finished jobs and extract their answers into OUTDIR (records.jsonl, extract.db).

    Every answer goes through the live path's validation, grounding and normalisation; one
    that fails validation is re-asked live (unless --no-live). Collecting twice changes nothing.
    """
    from rich.console import Console

    from llm_extract.runs.batch_api import BATCH_DISCOUNT, acollect, extractor_for
    from llm_extract.errors import BatchError, ConfigError, LLMExtractError, PromptError

    console = Console(stderr=True)
    _logging(console, quiet=quiet, verbose=verbose)
    try:
        extractor = extractor_for(
            outdir, model=model, base_url=base_url, concurrency=concurrency, max_reasks=max_reasks,
            keep_ungrounded=keep_ungrounded or None, prices_file=prices,
        )  # fmt: skip
        summary = asyncio.run(acollect(outdir, extractor=extractor, live_fallback=not no_live))
    except (BatchError, ConfigError, PromptError) as exc:
        _fail_usage(console, exc)
    except LLMExtractError as exc:
        console.print(f"[red]error:[/red] {_escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILURES) from None
    _report(console, summary.batch, outdir, quiet=quiet, mode="batch")
    if not quiet:
        console.print(
            f"cost: ${summary.batch_cost_usd:,.4f} for the batch answers ({BATCH_DISCOUNT:.0%} of the list price) + "
            f"${summary.live_cost_usd:,.4f} for {summary.live_calls} live call(s) ({summary.live_fallbacks} article(s) "
            f"re-asked live); ${summary.list_price_usd:,.4f} at list price",
            highlight=False,
        )
        if summary.pending:
            console.print(f"{summary.pending:,} article(s) still waiting for their jobs: collect again later", highlight=False)
        if summary.skipped_parts:
            console.print(
                f"[yellow]not collected:[/yellow] {_escape(', '.join(summary.skipped_parts))} (submitted with another model or prompt)"
            )
    if summary.failed_requests:
        console.print(
            f"{len(summary.failed_requests):,} request(s) failed, expired or were cancelled; send them again: "
            f"llm-extract batch submit --resubmit-failed -o {_escape(str(outdir))} (or the Python resubmit())",
            highlight=False,
            soft_wrap=True,
        )
    if not no_report and summary.batch.extracted:
        _write_html_report(console, outdir, quiet=quiet)
    raise typer.Exit(EXIT_FAILURES if summary.batch.failures else EXIT_OK)


def main() -> None:
    """Entry point of the `llm-extract` script."""
    app()


if __name__ == "__main__":
    main()
