"""One writer per output directory: `OUTDIR/.lock`.

Two runs writing the same directory at once would extract the same articles twice (paid
twice) and interleave their lines in `records.jsonl`. So every writer of an output
directory (`llm-extract run`, `llm-extract batch collect`, `run_batch`) holds an exclusive
`fcntl.flock` on `OUTDIR/.lock` while it writes. The kernel releases that lock when its
process ends, however it ends (`kill -9` included), so a lock is never left behind by a
dead process.

What is *in* the file is only information for the next writer's message: the holder's
pid, host, command and start time (JSON), written once the lock is held and emptied when
it is released. Found non-empty by a process that got the lock, it was left by a holder
that died without releasing it (a stale lock): it is taken over, and said so.

The lock file itself is never deleted: unlinking a file others may be waiting on would let
two processes hold "the" lock on two different files.

Within one process the lock is re-entrant (`run_batch` called by `llm-extract run`, which
holds it already), keyed by the directory's real path.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from llm_extract.errors import LLMExtractError

__all__ = ["LOCK_FILE", "LockHolder", "OutputBusyError", "current_command", "hold_output", "lock_holder"]

LOCK_FILE = ".lock"


class OutputBusyError(LLMExtractError):
    """Another process is writing the output directory (`holder` says which, when known)."""

    kind = "busy"

    def __init__(self, message: str, *, holder: LockHolder | None) -> None:
        self.holder = holder
        super().__init__(message)


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) an output directory's lock, as written in its lock file."""

    pid: int
    host: str
    command: str
    started: str  # ISO 8601, local time with its offset

    def describe(self) -> str:
        """`pid 1234 (llm-extract run in/ -o out) since 10:02` (the date too when not today)."""
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{where} ({self.command}) since {_when(self.started)}"


def _when(started: str) -> str:
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return started or "an unknown time"
    local = moment.astimezone() if moment.tzinfo is not None else moment
    today = datetime.now(local.tzinfo).date()
    return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")


def current_command(limit: int = 160) -> str:
    """This process's command line, as a person typed it (`llm-extract run in -o out`), shortened."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program in ("__main__.py", "-m", "-c", ""):
        program = "llm-extract"
    text = " ".join([program, shlex.join(sys.argv[1:])]).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_holder(fd: int) -> LockHolder | None:
    """The holder written in an open lock file (None: empty, or not ours to read)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 65536)
        if not data.strip():
            return None
        raw = json.loads(data.decode("utf-8", errors="replace"))
        return LockHolder(
            pid=int(raw["pid"]), host=str(raw.get("host", "")), command=str(raw.get("command", "")),
            started=str(raw.get("started", "")),
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def lock_holder(out_dir: Path) -> LockHolder | None:
    """Who the lock file of `out_dir` names (the live holder, or a dead one's leftover), if anyone."""
    try:
        fd = os.open(Path(out_dir) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        return _read_holder(fd)
    finally:
        os.close(fd)


def _write_holder(fd: int, holder: LockHolder) -> None:
    data = json.dumps(
        {"pid": holder.pid, "host": holder.host, "command": holder.command, "started": holder.started},
        ensure_ascii=False,
    ).encode("utf-8")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data + b"\n")


@dataclass
class _Held:
    fd: int
    count: int


_held: dict[str, _Held] = {}
_held_guard = threading.Lock()


def _flock(fd: int, *, block: bool) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


@contextmanager
def hold_output(
    out_dir: Path,
    *,
    command: str | None = None,
    wait: bool = False,
    hint: str = "wait for it or use --wait",
    say: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold `out_dir`'s lock for the duration of the block (the directory must exist).

    Another process holding it: raise `OutputBusyError` with one line naming the holder
    ("OUT is being written by pid 1234 (llm-extract run ...) since 10:02; " + `hint`), or,
    with `wait=True`, say so (`say`) and wait until it is released. A lock left by a dead
    holder is taken over, and `say` is told. Re-entrant within a process.
    """
    key = os.path.realpath(out_dir)
    with _held_guard:
        held = _held.get(key)
        if held is not None:
            held.count += 1
    if held is not None:
        try:
            yield
        finally:
            with _held_guard:
                held.count -= 1
        return

    tell = say or (lambda _message: None)
    fd = os.open(Path(out_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _flock(fd, block=False):
            holder = _read_holder(fd)
            who = holder.describe() if holder is not None else "another process"
            if not wait:
                raise OutputBusyError(f"{out_dir} is being written by {who}; {hint}", holder=holder)
            tell(f"{out_dir} is being written by {who}: waiting for it to finish (Ctrl-C to give up)")
            _flock(fd, block=True)
        left = _read_holder(fd)
        if left is not None and left.pid != os.getpid():
            tell(
                f"{out_dir}: taking over the lock of {left.describe()}, which is no longer running "
                "(it stopped without releasing it)"
            )
        _write_holder(
            fd,
            LockHolder(
                pid=os.getpid(), host=socket.gethostname(), command=command or current_command(),
                started=datetime.now().astimezone().isoformat(timespec="seconds"),
            ),
        )  # fmt: skip
    except BaseException:
        os.close(fd)  # closing releases the lock, if it was taken
        raise
    with _held_guard:
        _held[key] = _Held(fd=fd, count=1)
    try:
        yield
    finally:
        with _held_guard:
            del _held[key]
        try:
            os.ftruncate(fd, 0)  # released normally: nothing stale for the next writer to report
        except OSError:
            pass
        os.close(fd)
