"""The SQLite event store (`OUTDIR/extract.db`): every result, failure and model call.

One normalised database an analyst can query with `sqlite3` (no ORM), written one
transaction per article, so that a batch killed at any moment (SIGKILL included) leaves a
consistent store: an article is there with all its records, or not at all.

The engine's tables (`EventStore.counts()` counts them, with the task's):

==================== ======================================================================
`articles`           one row per extracted article, key = sha256 of its text; id, source,
                     chars, published, title, chunks, task, model, prompt version, mode,
                     calls, reasks, retries, cached calls, tokens, `cost_usd`, `latency_s`,
                     `status` ('ok'), `extracted_at`, and `result_json`: the task's whole
                     result as written to `records.jsonl`, so results can be re-emitted
                     exactly (a task's migrations may add columns, e.g. `n_seizures`)
`failures`           articles that could not be extracted (one row per article or source)
`prompts`            each prompt version's system prompt, stored once
`calls`              the calls log: one row per model call (see `CallRecord`) with the
                     request and response JSON, tokens, latency and outcome
`article_texts`      the text of each extracted article (spans are offsets into it)
`meta`               small key/value facts: `task` (the task that wrote the store), the
                     state a task's merge was computed on, ...
`migrations`         the schema versions applied to this file, per component, and when
==================== ======================================================================

A task adds its own tables (`TaskTables`: the built-in task's agreements, seizures, spans,
canonical events, ... are listed in `llm_extract.tasks.security_events.tables`), created by
its own migrations, and writes their rows in the same transaction as the article's.

Child tables reference `articles(key)` with `ON DELETE CASCADE`: re-extracting an article
(`--force`) deletes its old rows and inserts the new ones in the same transaction. The calls
log is append-only: it is history, and it doubles as the response cache
(`EventStore.cached_response`).

**Migrations** (`llm_extract.runs.migrations`): ordered SQL scripts per component (`core`,
then the task's), each applied once in its own transaction and recorded; a store newer than
the code is refused.

**Crash safety.** WAL journal, `synchronous=NORMAL`: a transaction is committed once its
frames are written to the WAL file, which the operating system keeps when the process is
killed, so a SIGKILL never loses a committed article and never leaves a torn one (SQLite
rolls back an unfinished transaction on the next open). Only an operating-system crash or
a power cut can lose the last few commits (never corrupt the file): those articles are
simply extracted again on the next run. `synchronous="FULL"` (an fsync per commit, a few
milliseconds each) makes commits survive power cuts too.

**Secrets.** A `CallRecord` never holds a header, and the model layer redacts the run's
secrets (the API key, a base URL's credentials: `llm_extract.model.secrets`) from every
body and message before it leaves it, so they never reach the store. As a second line of
defence, a call's request, response and error text, and a failure's message and last output,
are redacted again before they are written: every secret registered in this process, exactly
(whatever its shape), and anything that looks like a bearer token or an OpenAI-style key
(`Bearer ...`, `sk-...`) become `<redacted>`.

**The response cache** serves only answers that passed validation: an answer the model was
re-asked about (or that failed for good) is logged with `error = "invalid answer: ..."`,
and never served again, so a rerun or `--force` asks the model anew.

Timestamps (`extracted_at`, `at`) are passed in by the caller; nothing here reads the
clock except the record of when a migration was applied.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from llm_extract.core.results import ArticleResult, CallRecord, Failure
from llm_extract.errors import StoreError
from llm_extract.runs.migrations import (
    MIGRATIONS,
    Migration,
    adopt_legacy,
    apply_migrations,
    schema_version,
    schema_versions,
    table_exists,
)

if TYPE_CHECKING:
    from llm_extract.core.task import TaskTables

__all__ = [
    "MIGRATIONS",
    "EventStore",
    "Migration",
    "StoreError",
    "apply_migrations",
    "redact_secrets",
    "schema_version",
    "schema_versions",
]


_SECRET = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\bsk-[A-Za-z0-9_-]{16,}")


def _may_hold_token(text: str) -> bool:
    """Whether `_SECRET` can match `text` at all: it holds `bearer` or `sk-` in any case (a
    quick test, several times faster than the pattern's scan). Under IGNORECASE the pattern's
    letters match their own upper and lower case, and `s` matches `ſ` (U+017F) too, which
    `str.lower` leaves as it is: a text holding one is always scanned."""
    lowered = text.lower()
    return "sk-" in lowered or "bearer" in lowered or "\u017f" in text


def redact_secrets(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """`text` with the secrets replaced: each of `secrets` and every secret registered in this
    process (`llm_extract.model.secrets`), exactly, then anything that looks like a bearer
    token or an API key.

    >>> redact_secrets('{"h": "Bearer abcdefghijkl", "k": "sk-proj-0123456789abcdefXYZ"}')
    '{"h": "Bearer <redacted>", "k": "<redacted>"}'
    >>> redact_secrets("the key was localkey123", ["localkey123"])
    'the key was <redacted>'
    """
    from llm_extract.model.secrets import redact

    if not text:
        return text
    text = redact(text, secrets)
    if not _may_hold_token(text):
        return text
    return _SECRET.sub(lambda m: f"{m[1]}<redacted>" if m[1] else "<redacted>", text)


#: `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`, the encoder made once
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _text(value: Any) -> str:
    return getattr(value, "value", value)  # a StrEnum member → its value


def _response_text(response: dict[str, object] | None) -> str | None:
    """What the model wrote in a chat completion body: tool arguments, else the content."""
    try:
        message = response["choices"][0]["message"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None
    tool_calls = message.get("tool_calls") or []
    if tool_calls:
        return "\n".join((c.get("function") or {}).get("arguments") or "" for c in tool_calls)
    content = message.get("content")
    return content if isinstance(content, str) else None


_ARTICLE_COLUMNS = (
    "key", "id", "source", "chars", "published", "title", "chunks", "task", "model", "prompt_version", "mode",
    "calls", "reasks", "retries", "cached_calls", "input_tokens", "output_tokens", "cached_input_tokens",
    "cost_usd", "latency_s", "extracted_at", "result_json",
)  # fmt: skip
_INSERT_FAILURE = """
INSERT INTO failures (article_key, article_id, source, kind, message, attempts, last_output, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_CALL = """
INSERT INTO calls (article_key, model, prompt_version, turn, attempt, kind, outcome, status_code,
    input_tokens, output_tokens, cached_input_tokens, latency_s, request_hash, request_json,
    response_json, response_text, error, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_CORE_TABLES = ("articles", "failures", "prompts", "calls")

class _Unset:
    """The `tables` argument not given (None means: a task without tables)."""


UNSET = _Unset()


class EventStore:
    """The SQLite event store: results, failures, the calls log, canonical events.

    `EventStore(path)` opens (creating it, unless `create=False`) and migrates the database.
    Every write method is one transaction. The store may be shared by the tasks of one
    event loop and by worker threads: calls are serialised by a per-store lock.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        create: bool = True,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        migrate_upto: int | None = None,
        tables: TaskTables | None | _Unset = UNSET,
        task: str | None = None,
        task_spec: str | None = None,
    ) -> None:
        """Open the store at `path` (`":memory:"` for a throwaway one).

        `create=False` raises `StoreError` when there is no store there (for read-only
        commands such as `export` and `stats`). `migrate_upto` stops the migrations at a
        version (tests that build an old store); leave it unset otherwise. `tables` are the
        task's own tables (their migrations are applied too, and `add_result` writes their
        rows); `task` names the task, recorded in `meta` the first time.
        """
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None and not create and not self.path.exists():
            raise StoreError(f"no store at {self.path}")
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self._lock = threading.RLock()
        #: opened without saying the task's tables: they are found from the task it recorded
        self._bare = isinstance(tables, _Unset)
        self.tables: TaskTables | None = None if isinstance(tables, _Unset) else tables
        self._columns: set[str] | None = None
        #: the task the store records, once it records one (it never changes then)
        self._recorded_task: str | None = None
        self._conn = sqlite3.connect(
            str(self.path) if self.path is not None else ":memory:",
            isolation_level=None,  # autocommit; transactions are explicit (BEGIN IMMEDIATE)
            check_same_thread=False,
            timeout=30.0,
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self._conn.execute("PRAGMA foreign_keys=ON")
            adopt_legacy(self._conn, getattr(tables, "legacy_versions", None))
            apply_migrations(self._conn, upto=migrate_upto)
            if self.tables is not None and self.tables.migrations:
                apply_migrations(self._conn, upto=migrate_upto, migrations=self.tables.migrations)
            if task is not None and (migrate_upto is None or migrate_upto >= 3):
                self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('task', ?)", (task,))
                if task_spec:
                    self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('task_spec', ?)", (task_spec,))
            if self._bare and migrate_upto is None and self.task is not None:
                self._attach_task(self.task)  # the store reopens the task that wrote it
        except BaseException:
            self._conn.close()
            raise

    def attach_tables(self, tables: TaskTables | None) -> None:
        """Use a task's tables from now on (applying their migrations): for a store opened
        before its task was known (`llm_extract.runs.outputs.open_output`)."""
        with self._lock:
            self.tables = tables
            if tables is not None and tables.migrations:
                adopt_legacy(self._conn, getattr(tables, "legacy_versions", None))
                apply_migrations(self._conn, migrations=tables.migrations)
            self._columns = None

    def _attach_task(self, name: str) -> None:
        from llm_extract.core.registry import load_recorded

        spec = self.get_meta("task_spec") if table_exists(self._conn, "meta") else None
        self.attach_tables(load_recorded(name, spec).tables)
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('task', ?)", (name,))

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection, for reading (merge, export). Write through methods."""
        return self._conn

    @property
    def schema_version(self) -> int:
        """The highest engine migration applied (`schema_versions()` has every component's)."""
        with self._lock:
            return schema_version(self._conn)

    def schema_versions(self) -> dict[str, int]:
        """The highest migration applied, per component (`core` and the task's name)."""
        with self._lock:
            return schema_versions(self._conn)

    @property
    def task(self) -> str | None:
        """The name of the task that wrote this store (None for an empty old store)."""
        with self._lock:
            if not table_exists(self._conn, "meta"):
                return None
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'task'").fetchone()
            if row is None:
                row = self._conn.execute("SELECT task FROM articles ORDER BY seq LIMIT 1").fetchone()
        return str(row[0]) if row else None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (`BEGIN IMMEDIATE` ... `COMMIT`, `ROLLBACK` on error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same state of the store."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    # -- writing -----------------------------------------------------------------------------
    def add_result(
        self, result: ArticleResult, *, calls: Sequence[CallRecord] = (), extracted_at: str, text: str | None = None,
        result_json: str | None = None,
    ) -> None:  # fmt: skip
        """Store one article's result, its task rows, its calls and its text in one transaction
        (`result_json`: `result.model_dump_json()`, when the caller has it already).

        Any earlier rows of the same article (same sha256) are replaced, and so is any
        failure recorded for it; the calls log is appended to, never replaced. Only generic
        fields of the result are read here; the task's own rows come from its `tables`.
        """
        info, run = result.article, result.run
        key = info.sha256
        recorded = self._recorded_task or self.task
        self._recorded_task = recorded
        if recorded is not None and recorded != run.task:
            raise StoreError(f"this store holds results of the task {recorded!r}, not {run.task!r}")
        if self._bare and self.tables is None and recorded is None:
            self._attach_task(run.task)  # a new store opened bare takes the task of its first result
        row: dict[str, Any] = {
            "key": key, "id": info.id, "source": info.source, "chars": info.chars, "published": info.published,
            "title": info.title, "chunks": 1, "task": run.task, "model": run.model,
            "prompt_version": run.prompt_version, "mode": run.mode, "calls": run.calls, "reasks": run.reasks,
            "retries": run.retries, "cached_calls": run.cached_calls, "input_tokens": run.usage.input_tokens,
            "output_tokens": run.usage.output_tokens, "cached_input_tokens": run.usage.cached_input_tokens,
            "cost_usd": run.cost_usd, "latency_s": run.latency_s, "extracted_at": extracted_at,
            "result_json": result_json if result_json is not None else result.model_dump_json(),
        }  # fmt: skip
        if self.tables is not None:
            extra = dict(self.tables.article_columns(result))
            unknown = set(extra) - self._article_columns()
            if unknown:
                raise StoreError(f"the task's article columns {sorted(unknown)} are not in the articles table")
            row.update(extra)
        columns = list(row)
        insert = f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        call_rows = [self._call_row(c, extracted_at) for c in calls]
        with self.transaction() as db:
            db.execute("DELETE FROM articles WHERE key = ?", (key,))  # cascades to its records
            db.execute(
                "DELETE FROM failures WHERE article_key = ? OR (article_key IS NULL AND source = ?)", (key, info.source)
            )
            db.execute(insert, [row[c] for c in columns])
            if self.tables is not None:
                self.tables.write(db, key, result)
            if call_rows:
                db.executemany(_INSERT_CALL, call_rows)
            if text is not None:
                db.execute("INSERT INTO article_texts (article_key, text) VALUES (?, ?)", (key, text))

    def _article_columns(self) -> set[str]:
        if self._columns is None:
            self._columns = {r[1] for r in self._conn.execute("PRAGMA table_info(articles)")}
        return self._columns

    def article_text(self, key: str) -> str | None:
        """The text of an extracted article (by sha256), when the batch stored it."""
        with self._lock:
            row = self._conn.execute("SELECT text FROM article_texts WHERE article_key = ?", (key,)).fetchone()
        return row[0] if row else None

    def add_failure(self, failure: Failure, *, calls: Sequence[CallRecord] = (), at: str) -> None:
        """Record an article that could not be extracted (replacing an earlier failure of it).

        The failure is keyed on the article's sha256 when it was read, else on its source.
        An article already extracted keeps its result (a failed `--force` rerun does not
        erase it).
        """
        key = failure.article.sha256 if failure.article is not None else None
        row = (
            key,
            failure.article.id if failure.article is not None else None,
            failure.source,
            failure.kind,
            redact_secrets(failure.message) or "",
            failure.attempts,
            redact_secrets(failure.last_output),
            at,
        )
        call_rows = [self._call_row(c, at) for c in calls]
        with self.transaction() as db:
            if key is not None:
                db.execute("DELETE FROM failures WHERE article_key = ?", (key,))
            else:
                db.execute("DELETE FROM failures WHERE article_key IS NULL AND source = ?", (failure.source,))
            db.execute(_INSERT_FAILURE, row)
            if call_rows:
                db.executemany(_INSERT_CALL, call_rows)

    def add_calls(self, calls: Sequence[CallRecord], *, at: str) -> None:
        """Append calls to the log on their own (e.g. as they happen), in one transaction."""
        rows = [self._call_row(c, at) for c in calls]
        if rows:
            with self.transaction() as db:
                db.executemany(_INSERT_CALL, rows)

    @staticmethod
    def _call_row(call: CallRecord, at: str) -> tuple[Any, ...]:
        response = call.response
        return (
            call.article_sha256,
            call.model,
            call.prompt_version,
            call.turn,
            call.attempt,
            call.kind,
            call.outcome,
            call.status_code,
            call.input_tokens,
            call.output_tokens,
            call.cached_input_tokens,
            call.latency_s,
            call.request_hash,
            redact_secrets(_json(call.request)),
            redact_secrets(_json(response)) if response is not None else None,
            redact_secrets(_response_text(response)),
            redact_secrets(call.error),
            at,
        )

    def save_prompt(self, version: str, system_text: str) -> None:
        """Store a prompt version's system prompt (once; a known version is left as is)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO prompts (version, system_text) VALUES (?, ?)", (version, system_text))

    def set_meta(self, key: str, value: str) -> None:
        """Set a small key/value fact in the `meta` table."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- reading -------------------------------------------------------------------------------
    def done_keys(self) -> set[str]:
        """The sha256 of every article with a stored (ok) result."""
        with self._lock:
            return {k for (k,) in self._conn.execute("SELECT key FROM articles WHERE status = 'ok'")}

    def result_json(self, key: str) -> str | None:
        """The stored `ArticleExtraction` JSON of an article (by sha256), exactly as written."""
        with self._lock:
            row = self._conn.execute("SELECT result_json FROM articles WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def iter_results(self) -> Iterator[str]:
        """Every stored result JSON, in insertion order (a re-extracted article moves last).

        Streams in pages, so memory stays flat however large the store.
        """
        last = 0
        while True:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT seq, result_json FROM articles WHERE seq > ? ORDER BY seq LIMIT 500", (last,)
                ).fetchall()
            if not rows:
                return
            for _seq, text in rows:
                yield text
            last = rows[-1][0]

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        """The latest validated response body logged for this exact request, if any.

        The response cache: a rerun never pays twice for the same request. Only an answer that
        passed validation is returned (an invalid one is logged with an `error`), and only when
        the latest answer to the request did, so an article that failed on invalid answers is
        asked again. Answers served by replay
        (outcome 'ok (replayed)') are never returned: they were not paid for, and a live run
        must not be served hand-made recordings.
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT response_json, error FROM calls WHERE request_hash = ? AND response_json IS NOT NULL"
                " AND outcome IN ('ok', 'ok (cached)') ORDER BY id DESC LIMIT 1",
                (request_hash,),
            ).fetchone()
        return json.loads(row[0]) if row and row[1] is None else None  # the latest answer's verdict stands

    def prompt(self, version: str) -> str | None:
        """The system prompt stored for a prompt version."""
        with self._lock:
            row = self._conn.execute("SELECT system_text FROM prompts WHERE version = ?", (version,)).fetchone()
        return row[0] if row else None

    def get_meta(self, key: str) -> str | None:
        """A value from the `meta` table."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def data_state(self) -> str:
        """A token that changes whenever an article is added, replaced or removed.

        (`articles.seq` is AUTOINCREMENT, never reused.) The merge stores it, so that
        `llm_extract.merge.merge_is_current` can tell whether canonical events are stale.
        """
        with self._lock:
            (count,) = self._conn.execute("SELECT count(*) FROM articles").fetchone()
            (high,) = self._conn.execute(
                "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'articles'), 0)"
            ).fetchone()
        return f"{count}:{high}"

    def counts(self) -> dict[str, int]:
        """Rows per table (articles, agreements, seizures, calls, failures, ...)."""
        with self._lock:
            return {
                table: self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
                for table in (*_CORE_TABLES, *(self.tables.tables if self.tables is not None else ()))
            }
