"""The `llm-extract` command line (typer + rich).

Exit codes: 0 every article extracted; 1 some articles failed (each listed with its
reason, and in OUTDIR/errors.jsonl); 2 usage or configuration error.

Start-up stays fast: the pipeline (and with it openai and instructor) is imported only
when a command runs, never for `--help`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from .batch import BatchSummary
    from .settings import CallMode, Mode

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
    keep_ungrounded: Annotated[
        bool,
        typer.Option("--keep-ungrounded", help="Keep records whose evidence is not in the article (flagged), besides listing them as rejected."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Extract agreements and seizures from articles into OUT/records.jsonl."""
    from rich.console import Console

    from .errors import ConfigError, PromptError

    console = Console(stderr=True)
    if call_mode not in ("tools", "json"):
        raise typer.BadParameter("must be 'tools' or 'json'", param_hint="--call-mode")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        console.print(f"[red]error:[/red] no such file or directory: {', '.join(missing)}")
        raise typer.Exit(EXIT_USAGE)

    from .articles import iter_articles
    from .batch import run_batch
    from .pipeline import Extractor
    from .settings import ExtractorSettings

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
                "keep_ungrounded": keep_ungrounded or None,
            }
        )
        extractor = Extractor(settings=settings)
    except (ConfigError, PromptError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from None

    items = iter_articles(paths)
    first = next(items, None)
    if first is None:
        console.print(f"[red]error:[/red] no .txt or .md articles under {', '.join(map(str, paths))}")
        raise typer.Exit(EXIT_USAGE)

    def chain():  # type: ignore[no-untyped-def]
        yield first
        yield from items

    if not quiet:
        console.print(
            f"llm-extract: mode [bold]{extractor.mode}[/bold], model {settings.model}, "
            f"prompt {extractor.prompts.version}, concurrency {settings.concurrency} → {out}/"
        )
    summary = asyncio.run(run_batch(extractor, chain(), out, concurrency=settings.concurrency))
    _report(console, summary, out, quiet=quiet)
    raise typer.Exit(EXIT_FAILURES if summary.failed else EXIT_OK)


def _call_mode(value: str) -> CallMode:
    return "json" if value == "json" else "tools"


def _report(console: Console, summary: BatchSummary, out: Path, *, quiet: bool) -> None:
    from rich.table import Table

    for failure in summary.failures:
        console.print(f"[red]failed[/red] [{failure.kind}] {failure.message}", markup=True, highlight=False)
    if quiet:
        return
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("articles", summary.articles),
        ("extracted", summary.extracted),
        ("failed", summary.failed),
        ("agreements", summary.agreements),
        ("seizures", summary.seizures),
        ("rejected records (evidence not found)", summary.rejected),
        ("flagged records", summary.flagged),
        ("model calls", summary.calls),
        ("reasks", summary.reasks),
        ("transport retries", summary.retries),
        ("tokens in", summary.input_tokens),
        ("tokens out", summary.output_tokens),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:,}")
    from rich.console import Console as _Console

    _Console().print(table)
    console.print(f"records: {out}/records.jsonl")
    if summary.failures:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(summary.failures_by_kind().items()))
        console.print(f"failures by kind: {kinds} (details in {out}/errors.jsonl)")


def main() -> None:
    """Entry point of the `llm-extract` script."""
    app()


if __name__ == "__main__":
    main()
