"""An output directory of `llm-extract run`: its files, the task that wrote it, and keeping
its `records.jsonl` true to its store.

`OUTDIR/extract.db` (the event store, the source of truth), `OUTDIR/records.jsonl` (one
result per line), `OUTDIR/errors.jsonl` (one failure per line), `OUTDIR/report.html`,
`OUTDIR/.lock` (`llm_extract.runs.lock`: one writer at a time). The store records the task
that wrote it (`meta.task`), so every view of a directory (report, export, stats, eval,
merge, batch collect) reopens that task, never a default.

`records.jsonl` is read as bytes, never trusted: on resume (`restore_records`) a torn last
line is cut, and a line that is not UTF-8, not JSON, not a result, of an article the store
does not hold, or a second line of one article, makes the whole file be rewritten from the
store (atomically: a temporary file, fsync, rename); results the store holds and the file
lacks are appended. A store that is missing or empty beside a `records.jsonl` is rebuilt
from it (`rebuild_store`), so those articles are never extracted, nor paid, again.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from llm_extract.core.registry import load_recorded, load_task
from llm_extract.core.task import Task
from llm_extract.errors import StoreError
from llm_extract.runs.store import EventStore

__all__ = [
    "ERRORS_FILE",
    "RECORDS_FILE",
    "REPORT_FILE",
    "STORE_FILE",
    "JsonlAppender",
    "RecordsScan",
    "RecordsUnreadableError",
    "cut_torn_line",
    "keys_in",
    "open_output",
    "rebuild_store",
    "restore_records",
    "rewrite_records",
    "scan_records",
]

log = logging.getLogger(__name__)

RECORDS_FILE = "records.jsonl"
ERRORS_FILE = "errors.jsonl"
STORE_FILE = "extract.db"
REPORT_FILE = "report.html"

Note = Callable[[str], None]


class RecordsUnreadableError(StoreError):
    """A records.jsonl that cannot be read back into a missing store: refused, rather than
    extracting (and paying for) every article again."""


def open_output(out_dir: Path, *, task: Task[Any, Any] | str | None = None) -> tuple[EventStore, Task[Any, Any]]:
    """Open the store of `out_dir` (which must exist) with the task that wrote it.

    `task` overrides the recorded one (a `Task` or a name); a store that names no task (an
    empty one) gets the default. Raises `StoreError` when there is no store, `ConfigError`
    when the recorded task cannot be loaded (a plugin that is not installed).
    """
    store = EventStore(Path(out_dir) / STORE_FILE, create=False)
    try:
        recorded = store.task
        if isinstance(task, Task):
            chosen = task
        elif task:
            chosen = load_task(task)
        else:
            chosen = load_recorded(recorded, store.get_meta("task_spec"))
        if recorded is not None and chosen.name != recorded:
            raise StoreError(f"{out_dir} was written by the task {recorded!r}, not {chosen.name!r}")
        store.attach_tables(chosen.tables)
    except BaseException:
        store.close()
        raise
    return store, chosen


# -- writing lines -----------------------------------------------------------------------------


class JsonlAppender:
    """Appends whole lines and flushes each one, so a finished result is on disk at once."""

    def __init__(self, path: Path, *, truncate: bool = False) -> None:
        if not truncate:
            cut_torn_line(path)
        self._fh: IO[str] = path.open("w" if truncate else "a", encoding="utf-8")

    def write_line(self, line: str) -> None:
        self._fh.write(line + "\n")
        self._fh.flush()

    def write(self, obj: Any) -> None:
        self.write_line(json.dumps(obj, ensure_ascii=False))

    def close(self) -> None:
        self._fh.close()


def cut_torn_line(path: Path) -> int:
    """Cut a last line left unfinished by a kill (everything after the last newline); the bytes cut."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with path.open("rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return 0
        step = 1 << 16
        position = size
        while position > 0:
            start = max(position - step, 0)
            fh.seek(start)
            chunk = fh.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                fh.truncate(start + newline + 1)
                return size - start - newline - 1
            position = start
        fh.truncate(0)
    return size


def rewrite_records(store: EventStore, path: Path) -> int:
    """`path` again from the store, one line per stored result, atomically (a temporary file in
    the same directory, fsync, rename, fsync of the directory). Returns the lines written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jsonl")
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for text in store.iter_results():
                fh.write(text.strip() + "\n")
                written += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory file descriptors
        return written
    try:
        os.fsync(directory)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(directory)
    return written


# -- reading lines -----------------------------------------------------------------------------


@dataclass
class RecordsScan:
    """What a records.jsonl holds: the article of each sound line, and what is wrong with the others."""

    keys: set[str] = field(default_factory=set)
    #: why lines are damaged ("not UTF-8", "not JSON", "not a result", "not in the store", "duplicate") → how many
    damaged: Counter[str] = field(default_factory=Counter)
    #: bytes after the last newline (a line torn by a kill)
    torn: int = 0

    @property
    def damaged_lines(self) -> int:
        return sum(self.damaged.values())

    def describe_damage(self) -> str:
        return ", ".join(f"{n} {why}" for why, n in sorted(self.damaged.items(), key=lambda item: (-item[1], item[0])))


def _line_key(raw: bytes) -> tuple[str | None, str | None]:
    """The article sha256 of one line (without its newline), or why it has none."""
    if not raw.strip():
        return None, "blank"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return None, "not JSON"
    try:
        key = obj["article"]["sha256"]
    except (KeyError, TypeError):
        return None, "not a result"
    return (key, None) if isinstance(key, str) and key else (None, "not a result")


def scan_records(path: Path, done: set[str] | None = None) -> RecordsScan:
    """Read `path` as bytes, line by line (memory: one line and the set of keys).

    With `done` (the articles in the store), a line of an article not in it is damaged too.
    """
    scan = RecordsScan()
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return scan
    with fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                scan.torn = len(raw)
                break
            key, why = _line_key(raw[:-1])
            if key is None:
                scan.damaged[why or "not a result"] += 1
            elif done is not None and key not in done:
                scan.damaged["not in the store"] += 1
            elif key in scan.keys:
                scan.damaged["duplicate"] += 1
            else:
                scan.keys.add(key)
    return scan


def keys_in(path: Path) -> set[str]:
    """The article sha256 of every sound line of a records.jsonl."""
    return scan_records(path).keys


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def restore_records(store: EventStore, records_path: Path, done: set[str], *, note: Note | None = None) -> int:
    """Make `records.jsonl` hold exactly the results in the store, one line each.

    A torn last line is cut; results the store holds and the file lacks (a kill between the
    two writes) are appended; any damaged line (see `scan_records`) makes the file be
    rewritten from the store, atomically. Each repair is told to `note` in one line.
    Returns how many lines were restored or rewritten.
    """
    tell = note or log.warning
    scan = scan_records(records_path, done)
    if scan.damaged:
        rewrite_records(store, records_path)
        n = scan.damaged_lines
        tell(
            f"{RECORDS_FILE}: {_plural(n, 'damaged line')} ({scan.describe_damage()}) rewritten from the store"
            + (f", and a torn last line of {_plural(scan.torn, 'byte')} cut" if scan.torn else "")
        )
        return n + len(done - scan.keys)
    if scan.torn:
        cut_torn_line(records_path)
        tell(f"{RECORDS_FILE}: cut a torn last line ({_plural(scan.torn, 'byte')}) left by an interrupted run")
    missing = done - scan.keys
    if missing:
        with records_path.open("a", encoding="utf-8") as fh:
            for key in sorted(missing):
                text = store.result_json(key)
                if text:
                    fh.write(text.strip() + "\n")
        restored = _plural(len(missing), "result")
        tell(f"{RECORDS_FILE}: {restored} committed to the store but not written restored from it")
    return len(missing)


# -- a lost store, rebuilt -----------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def rebuild_store(store: EventStore, records_path: Path, task: Task[Any, Any], *, note: Note | None = None) -> int:
    """Fill an empty store from `records.jsonl`: each sound line parsed back with the task's
    `result_model` and stored (without its text), so that its article is skipped, never
    extracted or paid again. Returns how many results were stored.

    A line that is not UTF-8 or not JSON is left out (its article is extracted again, and
    said); a JSON line that is not a result of this task (another task, another version of
    its schema) refuses the whole file with `RecordsUnreadableError`, before anything is
    written, rather than paying twice for every article.
    """
    tell = note or log.warning
    where = records_path.parent

    def results() -> Any:
        with records_path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                if not raw.endswith(b"\n"):
                    return  # torn: cut by restore_records
                key, why = _line_key(raw[:-1])
                if why in ("blank", "not UTF-8", "not JSON"):
                    yield number, None
                    continue
                try:
                    result = task.result_model.model_validate_json(raw)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    field_name = ".".join(str(p) for p in first["loc"]) or "the line"
                    raise RecordsUnreadableError(
                        f"{where}/{STORE_FILE} is missing or empty, and line {number} of {records_path} cannot be "
                        f"read back as a result of the task {task.name!r} ({field_name}: {first['msg']}): restore "
                        f"{STORE_FILE}, or move {RECORDS_FILE} away (or use --force) to extract every article again"
                    ) from None
                if result.run.task != task.name:
                    raise RecordsUnreadableError(
                        f"{records_path} holds results of the task {result.run.task!r} (line {number}), not "
                        f"{task.name!r}: run with --task {result.run.task}, or use another output directory"
                    )
                yield number, result

    skipped = sum(1 for _, result in results() if result is None)  # every line checked before writing any
    keys: set[str] = set()
    at = _now()
    for _, result in results():
        if result is not None:
            store.add_result(result, extracted_at=at, text=None)  # a second line of an article replaces the first
            keys.add(result.article.sha256)
    stored = len(keys)
    if stored or skipped:
        tell(
            f"{STORE_FILE} was missing or empty: rebuilt from {RECORDS_FILE} ({_plural(stored, 'result')}; "
            "those articles are skipped, not extracted or paid again)"
            + (f"; {_plural(skipped, 'damaged line')} left out: their articles are extracted again" if skipped else "")
        )
    return stored
