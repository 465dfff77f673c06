"""`llm-extract batch submit | status | collect`: the provider Batch API (OpenAI's)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Optional

import typer

from llm_extract.cli.app import batch_app
from llm_extract.cli.common import (
    EXIT_FAILURES,
    EXIT_OK,
    escape,
    fail_usage,
    output_lock_or_exit,
    setup_logging,
    write_html_report,
)
from llm_extract.cli.run import call_mode_of, print_summary

__all__ = ["batch_collect", "batch_status", "batch_submit"]


@batch_app.command("submit")
def batch_submit(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(metavar="PATHS", help="Articles, as for `run`.", show_default=False)
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (job ids, then records).")] = Path("out"),
    task: Annotated[
        Optional[str], typer.Option("--task", help="What to extract (as for `run`). [default: security_events]")
    ] = None,
    model: Annotated[Optional[str], typer.Option(help="Model name. [default: gpt-4o-mini]", envvar="LLM_EXTRACT_MODEL")] = None,
    base_url: Annotated[
        Optional[str],
        typer.Option("--base-url", help="An OpenAI-compatible server with /v1/files and /v1/batches. Env OPENAI_BASE_URL."),
    ] = None,
    call_mode: Annotated[str, typer.Option("--call-mode", help="auto, tools, json or json_schema (as for `run`).")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Submit articles already extracted or submitted in OUT again.")] = False,
    resubmit_failed: Annotated[
        bool, typer.Option("--resubmit-failed", help="First resubmit the failed, expired or cancelled requests of earlier jobs.")
    ] = False,
    max_requests: Annotated[
        int, typer.Option("--max-requests", min=1, help="Requests per input file (provider limit).")
    ] = 50_000,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, help="Bytes per input file (provider limit: 200 MB).")
    ] = 200_000_000,
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
    setup_logging(console, quiet=quiet, verbose=verbose)
    if call_mode not in ("auto", "tools", "json", "json_schema"):
        raise typer.BadParameter("must be auto, tools, json or json_schema", param_hint="--call-mode")
    if not paths and not resubmit_failed:
        raise typer.BadParameter("give articles to submit, or --resubmit-failed", param_hint="PATHS")
    paths = paths or []
    missing = [str(p) for p in paths if str(p) != "-" and not p.exists()]
    if missing:
        fail_usage(console, FileNotFoundError(f"no such file or directory: {', '.join(missing)}"))

    import os

    from llm_extract.core.articles import iter_articles
    from llm_extract.core.pipeline import Extractor
    from llm_extract.runs.batch_api import asubmit, load_state
    from llm_extract.settings import ExtractorSettings

    try:
        state = load_state(out)
        if base_url is None and not os.environ.get("OPENAI_BASE_URL") and state is not None:
            base_url = state.base_url  # the server the earlier jobs of OUT went to
        settings = ExtractorSettings.resolve(
            {"model": model, "mode": "live", "base_url": base_url, "call_mode": call_mode_of(call_mode)}
        )
        extractor = Extractor(settings=settings, task=task)
    except (ConfigError, PromptError, LLMExtractError) as exc:
        fail_usage(console, exc)
    try:
        summary = asyncio.run(
            asubmit(
                iter_articles(paths), out, extractor=extractor, force=force, resubmit_failed=resubmit_failed,
                max_requests=max_requests, max_bytes=max_bytes,
            )
        )  # fmt: skip
    except ConfigError as exc:
        fail_usage(console, exc)
    except LLMExtractError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        console.print(f"what was submitted is saved in {escape(str(out))}/batch_jobs.json; run the same command again to go on")
        raise typer.Exit(EXIT_FAILURES) from None
    for failure in summary.failures:
        console.print(
            f"[red]failed[/red] {escape(f'[{failure.kind}]')} {escape(failure.message)}", highlight=False, soft_wrap=True
        )
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
            f"job ids saved in {escape(str(out))}/batch_jobs.json; progress: llm-extract batch status {escape(str(out))}",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_FAILURES if summary.failures else EXIT_OK)


def utc_time(seconds: int | None) -> str:
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

    from llm_extract.errors import BatchError, ConfigError, LLMExtractError
    from llm_extract.runs.batch_api import astatus, extractor_for

    err = Console(stderr=True)
    try:
        jobs = asyncio.run(astatus(outdir, extractor=extractor_for(outdir, base_url=base_url)))
    except (BatchError, ConfigError) as exc:
        fail_usage(err, exc)
    except LLMExtractError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILURES) from None
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(j) for j in jobs], indent=2))
        return
    table = Table(title=f"batch jobs in {escape(str(outdir))}")
    for column in ("part", "batch", "status", "done", "failed", "total", "created (UTC)", "expires (UTC)"):
        table.add_column(column, justify="right" if column in ("done", "failed", "total") else "left")
    for j in jobs:
        table.add_row(
            j.part, j.batch_id, j.status, f"{j.completed:,}", f"{j.failed:,}", f"{j.total:,}", utc_time(j.created_at),
            utc_time(j.expires_at),
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
    max_reasks: Annotated[
        Optional[int], typer.Option("--max-reasks", min=0, max=10, help="Live reasks per answer. [default: 2]")
    ] = None,
    keep_ungrounded: Annotated[
        bool, typer.Option("--keep-ungrounded", help="Keep records whose evidence is not in the article.")
    ] = False,
    prices: Annotated[Optional[Path], typer.Option("--prices", help="JSON price table (USD per 1M tokens).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write OUTDIR/report.html.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="If another process is writing OUTDIR, wait for it to finish.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-v info, -vv debug).")] = 0,
) -> None:
    """Download finished jobs and extract their answers into OUTDIR (records.jsonl, extract.db).

    Every answer goes through the live path's validation, grounding and normalisation; one
    that fails validation is re-asked live (unless --no-live). Collecting twice changes nothing.
    """
    from rich.console import Console

    from llm_extract.errors import BatchError, ConfigError, LLMExtractError, PromptError
    from llm_extract.runs.batch_api import BATCH_DISCOUNT, acollect, extractor_for

    console = Console(stderr=True)
    setup_logging(console, quiet=quiet, verbose=verbose)
    try:
        extractor = extractor_for(
            outdir, model=model, base_url=base_url, concurrency=concurrency, max_reasks=max_reasks,
            keep_ungrounded=keep_ungrounded or None, prices_file=prices,
        )  # fmt: skip
        with output_lock_or_exit(console, outdir, wait=wait, quiet=quiet):  # one writer per directory
            summary = asyncio.run(acollect(outdir, extractor=extractor, live_fallback=not no_live))
    except (BatchError, ConfigError, PromptError) as exc:
        fail_usage(console, exc)
    except LLMExtractError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILURES) from None
    print_summary(console, summary.batch, outdir, quiet=quiet, mode="batch", task=extractor.task)
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
                f"[yellow]not collected:[/yellow] {escape(', '.join(summary.skipped_parts))} "
                "(submitted with another model or prompt)"
            )
    if summary.failed_requests:
        console.print(
            f"{len(summary.failed_requests):,} request(s) failed, expired or were cancelled; send them again: "
            f"llm-extract batch submit --resubmit-failed -o {escape(str(outdir))} (or the Python resubmit())",
            highlight=False,
            soft_wrap=True,
        )
    if not no_report and summary.batch.extracted:
        write_html_report(console, outdir, quiet=quiet)
    raise typer.Exit(EXIT_FAILURES if summary.batch.failures else EXIT_OK)
