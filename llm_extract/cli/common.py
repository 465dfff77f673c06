"""What the commands share: messages, logging, opening an output directory, the report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from llm_extract.core.task import Task
    from llm_extract.runs.store import EventStore

__all__ = ["EXIT_FAILURES", "EXIT_OK", "EXIT_USAGE", "escape", "fail_usage", "open_output_or_exit", "setup_logging", "write_html_report"]

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]} | {
    c: f"\\u{c:04x}" for c in (*range(0x80, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def escape(text: str) -> str:
    """Text from files, models and errors, made safe to print: rich markup escaped, and control
    characters (escape sequences, bidi overrides in a file name) shown as `\\xNN`, never sent
    raw to the terminal."""
    from rich.markup import escape as rich_escape

    return rich_escape(text.translate(_CONTROL))


def fail_usage(console: Console, exc: Exception) -> NoReturn:
    """One line naming the problem, exit code 2."""
    console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


def no_store(exc: Exception, outdir: Path) -> NoReturn:
    from rich.console import Console

    Console(stderr=True).print(
        f"[red]error:[/red] {escape(str(exc))} (is {escape(str(outdir))} an output directory of `llm-extract run`?)",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_USAGE)


def open_output_or_exit(outdir: Path, task: str | None = None) -> tuple[EventStore, Task[Any, Any]]:
    """The store of an output directory and the task that wrote it, or one clear line and exit 2."""
    from rich.console import Console

    from llm_extract.errors import ConfigError, StoreError
    from llm_extract.runs.outputs import open_output

    try:
        return open_output(outdir, task=task)
    except StoreError as exc:
        no_store(exc, outdir)
    except ConfigError as exc:
        fail_usage(Console(stderr=True), exc)


def setup_logging(console: Console, *, quiet: bool, verbose: int) -> None:
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


def write_html_report(console: Console, out: Path, *, quiet: bool) -> None:
    """OUT/report.html after a run; a failure to write it is a warning, never a lost run."""
    from llm_extract.errors import LLMExtractError
    from llm_extract.views.report import write_report

    try:
        path = write_report(out)
    except (LLMExtractError, OSError) as exc:
        console.print(f"[yellow]warning:[/yellow] report not written: {escape(str(exc))}", highlight=False, soft_wrap=True)
        return
    if not quiet:
        console.print(f"report: {escape(str(path))}", highlight=False, soft_wrap=True)


