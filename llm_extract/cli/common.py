"""What the commands share: messages, logging, opening an output directory, the report."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from llm_extract.core.task import Task
    from llm_extract.runs.runner import ArticleOutcome
    from llm_extract.runs.store import EventStore

T = TypeVar("T")

__all__ = [
    "EXIT_FAILURES", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TERMINATED", "EXIT_USAGE", "LIBRARY_LOGGERS", "article_line",
    "article_printer", "disk_full", "escape", "fail_usage", "note_printer", "open_output_or_exit",
    "output_lock_or_exit", "run_stoppable", "setup_logging", "shown_source", "terminate_as_interrupt", "write_html_report",
]

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
#: stopped by Ctrl-C (SIGINT), by SIGTERM: 128 + the signal's number, as shells do
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x09), *range(0x0B, 0x20), 0x7F]} | {
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


#: the libraries whose debug logging only -vvv (or LLM_EXTRACT_LIBRARY_DEBUG=1) shows
LIBRARY_LOGGERS = ("openai", "httpx", "httpx2", "httpcore", "instructor")


class _SafeText:
    """A logging filter: control characters in a message (a file name, a model's output) are
    shown as `\\xNN`, never sent raw to the terminal."""

    def filter(self, record: Any) -> bool:
        message = record.getMessage()
        safe = message.translate(_CONTROL)
        if safe != message or record.args:
            record.msg, record.args = safe, ()
        return True


def setup_logging(console: Console, *, quiet: bool, verbose: int) -> None:
    """Logging on `console` (stderr). Nothing but warnings by default, errors only with -q;
    -v: our info messages (and the command prints one line per article); -vv: our debug
    logging; -vvv, or `LLM_EXTRACT_LIBRARY_DEBUG=1`: the libraries' (openai, httpx,
    instructor) debug logging too (`OPENAI_LOG=debug` keeps the openai client's own)."""
    import logging
    import os

    from rich.logging import RichHandler

    ours = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    libraries = os.environ.get("LLM_EXTRACT_LIBRARY_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
    libraries = libraries or verbose >= 3
    handler = RichHandler(console=console, show_path=False, show_time=verbose > 0)
    handler.addFilter(_SafeText())
    logging.basicConfig(
        level=logging.DEBUG if libraries else max(ours, logging.WARNING), format="%(message)s", handlers=[handler],
        force=True,
    )  # fmt: skip
    logging.getLogger("llm_extract").setLevel(ours)
    openai_debug = os.environ.get("OPENAI_LOG", "").strip().lower() == "debug"
    for name in LIBRARY_LOGGERS:
        if libraries or (openai_debug and name in ("openai", "httpx", "httpx2")):
            logging.getLogger(name).setLevel(logging.DEBUG)
        elif name == "instructor":
            # instructor logs every failed attempt at ERROR; we report each failure once, ourselves
            logging.getLogger(name).setLevel(logging.CRITICAL)
        else:
            logging.getLogger(name).setLevel(max(ours, logging.WARNING))


def write_html_report(console: Console, out: Path, *, quiet: bool) -> None:
    """OUT/report.html after a run; a failure to write it is a warning, never a lost run."""
    from llm_extract.errors import LLMExtractError
    from llm_extract.views.report import write_report

    try:
        path = write_report(out)
    except (LLMExtractError, OSError) as exc:
        warning = f"[yellow]warning:[/yellow] report not written: {escape(str(exc))}"
        console.print(warning, highlight=False, soft_wrap=True)
        return
    if not quiet:
        console.print(f"report: {escape(str(path))}", highlight=False, soft_wrap=True)




@contextmanager
def output_lock_or_exit(console: Console, out: Path, *, wait: bool = False, quiet: bool = False) -> Iterator[None]:
    """Hold OUT's lock (`llm_extract.runs.lock`) for the block: one writer per output directory.

    Another process writing OUT: one line naming it, exit 2; with `wait`, a line saying so
    and the block starts once it is done. A lock left by a dead process is taken over, said
    in one line. For `llm-extract run` and `llm-extract batch collect`.
    """
    from llm_extract.runs.lock import OutputBusyError, hold_output

    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = hold_output(out, wait=wait, say=note_printer(console, quiet=quiet))
        lock.__enter__()
    except OutputBusyError as exc:
        fail_usage(console, exc)
    except KeyboardInterrupt:  # Ctrl-C while waiting (--wait): nothing was written
        console.print(f"gave up waiting for {escape(str(out))}: nothing written", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except OSError as exc:
        console.print(
            f"[red]error:[/red] the batch stopped: cannot use {escape(str(out))} as the output directory "
            f"({escape(f'{type(exc).__name__}: {exc.strerror or exc}')}); fix the cause and run the same command.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILURES) from None
    try:
        yield
    except BaseException as exc:
        if not lock.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        lock.__exit__(None, None, None)


def note_printer(console: Console, *, quiet: bool = False) -> Callable[[str], None]:
    """How a command says what it repaired or took over: one line, escaped (nothing with -q)."""

    def note(message: str) -> None:
        if not quiet:
            console.print(f"[yellow]note:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)

    return note


def shown_source(source: str, roots: Iterable[Path]) -> str:
    """An article's source as printed: relative to the input directory it was found in."""
    for root in roots:
        prefix = str(root).rstrip("/") + "/"
        if str(root) not in ("", ".", "-") and source.startswith(prefix) and len(source) > len(prefix):
            return source[len(prefix) :]
    return source


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def article_line(outcome: ArticleOutcome, roots: Iterable[Path] = ()) -> str | None:
    """One line (rich markup, escaped) for `-v`: what happened to an article, its calls, reasks,
    retries and time. None for an item that names no article."""
    if outcome.source is None:
        return None
    name = escape(shown_source(outcome.source, roots))
    counts = outcome.counts
    parts = ((counts.reasks, "reask", None), (counts.retries, "retry", "retries"), (counts.cached, "cached", "cached"))
    details = [_plural(n, word, plural) for n, word, plural in parts if n]
    calls = _plural(counts.calls, "call") + (f" ({', '.join(details)})" if details else "")
    if outcome.status == "skipped":
        return f"[dim]skipped[/dim] {name}: already done"
    if outcome.status == "failed":
        assert outcome.failure is not None
        reason = outcome.failure.message
        prefix = f"{outcome.failure.source}: "
        reason = reason[len(prefix) :] if reason.startswith(prefix) else reason
        kind = escape(f"[{outcome.failure.kind}]")
        return f"[red]failed[/red] {name}: {escape(reason)} {kind}; {calls}, {outcome.seconds:.1f} s"
    found = ", ".join(f"{n} {label.replace('_', ' ')}" for label, n in outcome.found.items() if n)
    records = sum(n for label, n in outcome.found.items() if label not in ("rejected", "flagged"))
    what = _plural(records, "record") + (f" ({escape(found)})" if found else "")
    return f"[green]ok[/green] {name}: {what}, {calls}, {outcome.seconds:.1f} s"


def article_printer(console: Console, roots: Iterable[Path] = ()) -> Callable[[ArticleOutcome], None]:
    """`on_article` for `-v`: one line per article on `console`."""
    kept = tuple(roots)

    def show(outcome: ArticleOutcome) -> None:
        line = article_line(outcome, kept)
        if line is not None:
            console.print(line, highlight=False, soft_wrap=True)

    return show


@contextmanager
def terminate_as_interrupt() -> Iterator[dict[str, int]]:
    """SIGTERM handled like Ctrl-C for the block (the run stops cleanly, keeping what finished);
    the dict gets `signal` once one came. Only in the main thread (elsewhere: nothing)."""
    import signal
    import threading

    got: dict[str, int] = {}
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def on_term(signum: int, frame: Any) -> None:
        got["signal"] = signum
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):  # asyncio.run's own (cancels the run), or Python's (KeyboardInterrupt)
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_stoppable(coro: Coroutine[Any, Any, T], got: dict[str, int]) -> T:
    """`asyncio.run(coro)`, SIGTERM cancelling it as Ctrl-C does: the coroutine's own cleanup runs
    (the commits in flight end, records.jsonl is caught up), then `KeyboardInterrupt` is raised
    here and `got["signal"]` is set. Through the event loop, so it works whatever SIGINT's
    disposition: a run started in the background by a script ignores Ctrl-C, and a handler
    raising `KeyboardInterrupt` at any point would then escape as a traceback."""
    import asyncio
    import signal
    import threading

    async def main() -> T:
        task, loop = asyncio.current_task(), asyncio.get_running_loop()
        previous, installed = signal.getsignal(signal.SIGTERM), False

        def on_term() -> None:
            got["signal"] = signal.SIGTERM
            if task is not None:
                task.cancel()

        if threading.current_thread() is threading.main_thread():
            try:
                loop.add_signal_handler(signal.SIGTERM, on_term)
                installed = True
            except (NotImplementedError, RuntimeError, ValueError):  # no signals through this loop (Windows)
                installed = False
        try:
            return await coro
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGTERM)
                signal.signal(signal.SIGTERM, previous)  # the caller's again (`terminate_as_interrupt`)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if got.get("signal") == signal.SIGTERM:
            raise KeyboardInterrupt from None
        raise


def disk_full(exc: BaseException) -> bool:
    """Whether an error is a full disk (or quota): OSError ENOSPC/EDQUOT, SQLite's SQLITE_FULL."""
    import errno
    import sqlite3

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)
