"""The SQLite event store (`OUTDIR/extract.db`): every result, failure and model call.

One normalised database an analyst can query with `sqlite3` (no ORM), written one
transaction per article, so that a batch killed at any moment (SIGKILL included) leaves a
consistent store: an article is there with all its records, or not at all.

Tables (`EventStore.counts()` counts them):

==================== ======================================================================
`articles`           one row per extracted article, key = sha256 of its text; id, source,
                     chars, dates, title, task, model, prompt version, mode, calls, reasks,
                     retries, cached calls, tokens, `cost_usd`, `latency_s`, `status` ('ok'),
                     `extracted_at`, and `result_json`: the whole `ArticleExtraction` as
                     written to `records.jsonl`, so that results can be re-emitted exactly
`agreements`         one row per agreement record (`article_key`, `record_id`, ...), with
                     `countries`, `domains` and `flags` as JSON lists
`agreement_parties`  the parties of each agreement (name, kind, iso3), in order
`officials`          the officials named for each agreement (name, title, organisation)
`seizures`           one row per seizure record (country, place, date, agency, total_kg, ...)
`seizure_items`      the drug items of each seizure: as written and normalised (kg, ...)
`spans`              every evidence span of every record (`record_kind`, `record_id`,
                     `ordinal` 0 = the record's own evidence, `char_start`, `char_end`,
                     `status`, `score`): `text[char_start:char_end]`
`rejected`           records whose evidence was not found, with the reason and the record
`failures`           articles that could not be extracted (one row per article or source)
`prompts`            each prompt version's system prompt, stored once
`calls`              the calls log: one row per model call (see `CallRecord`) with the
                     request and response JSON, tokens, latency and outcome
`canonical_events`,  the same event across articles (written by `llm_extract.merge`)
`event_mentions`
`meta`               small key/value facts (e.g. the state the merge was computed on)
`migrations`         the schema versions applied to this file, and when
==================== ======================================================================

Child tables reference `articles(key)` with `ON DELETE CASCADE`: re-extracting an article
(`--force`) deletes its old rows and inserts the new ones in the same transaction. The calls
log is append-only: it is history, and it doubles as the response cache
(`EventStore.cached_response`).

**Migrations.** `MIGRATIONS` is an ordered list of SQL scripts (version 1, 2, ...); the
`migrations` table records each one applied (version, name, applied_at). Opening a store
applies, in order, every migration it lacks, each in its own transaction together with its
row in `migrations`; so a newer version of the code opens an older store, and a store newer
than the code is refused. Never edit a released migration: append a new one.

**Crash safety.** WAL journal, `synchronous=NORMAL`: a transaction is committed once its
frames are written to the WAL file, which the operating system keeps when the process is
killed, so a SIGKILL never loses a committed article and never leaves a torn one (SQLite
rolls back an unfinished transaction on the next open). Only an operating-system crash or
a power cut can lose the last few commits (never corrupt the file): those articles are
simply extracted again on the next run. `synchronous="FULL"` (an fsync per commit, a few
milliseconds each) makes commits survive power cuts too.

**Secrets.** A `CallRecord` never holds a header, so the API key never reaches the store.
As a second line of defence, anything in a call's request, response or error text, or in a
failure's last output, that looks like a bearer token or an OpenAI-style key (`Bearer
...`, `sk-...`) is replaced by `<redacted>` before it is written.

Timestamps (`extracted_at`, `at`) are passed in by the caller; nothing here reads the
clock except the record of when a migration was applied.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from llm_extract.errors import StoreError
from llm_extract.core.results import ArticleResult, CallRecord, Failure

__all__ = [
    "MIGRATIONS",
    "EventStore",
    "Migration",
    "StoreError",
    "apply_migrations",
    "redact_secrets",
    "schema_version",
]


@dataclass(frozen=True)
class Migration:
    """One schema change: applied once, in order, recorded in the `migrations` table."""

    version: int
    name: str
    sql: str


_V1_BASE = """
CREATE TABLE articles (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order, never reused
    key                  TEXT NOT NULL UNIQUE,               -- sha256 of the article text
    id                   TEXT NOT NULL,
    source               TEXT NOT NULL,
    chars                INTEGER NOT NULL,
    published            TEXT,                               -- given by the caller (ISO)
    published_iso        TEXT,                               -- the anchor of relative dates
    published_source     TEXT,                               -- caller / dateline / model
    published_as_written TEXT,
    title                TEXT,
    chunks               INTEGER NOT NULL DEFAULT 1,
    task                 TEXT NOT NULL,
    model                TEXT NOT NULL,
    prompt_version       TEXT NOT NULL,
    mode                 TEXT NOT NULL,
    calls                INTEGER NOT NULL,
    reasks               INTEGER NOT NULL,
    retries              INTEGER NOT NULL,
    input_tokens         INTEGER NOT NULL,
    output_tokens        INTEGER NOT NULL,
    cached_input_tokens  INTEGER NOT NULL,
    cost_usd             REAL,
    latency_s            REAL NOT NULL,
    n_agreements         INTEGER NOT NULL DEFAULT 0,
    n_seizures           INTEGER NOT NULL DEFAULT 0,
    n_rejected           INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL DEFAULT 'ok',
    extracted_at         TEXT NOT NULL,
    result_json          TEXT NOT NULL
);

CREATE TABLE agreements (
    article_key     TEXT NOT NULL REFERENCES articles(key) ON DELETE CASCADE,
    record_id       TEXT NOT NULL,
    ordinal         INTEGER NOT NULL,
    instrument_type TEXT NOT NULL,
    status          TEXT NOT NULL,
    date            TEXT,
    date_iso        TEXT,
    date_precision  TEXT,
    is_background   INTEGER NOT NULL,
    place           TEXT,
    evidence        TEXT NOT NULL,
    grounding       TEXT NOT NULL,
    countries       TEXT NOT NULL,   -- JSON list of ISO3
    domains         TEXT NOT NULL,   -- JSON list
    flags           TEXT NOT NULL,   -- JSON list
    PRIMARY KEY (article_key, record_id)
);

CREATE TABLE agreement_parties (
    article_key TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    ordinal     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    iso3        TEXT,
    PRIMARY KEY (article_key, record_id, ordinal),
    FOREIGN KEY (article_key, record_id) REFERENCES agreements(article_key, record_id) ON DELETE CASCADE
);

CREATE TABLE officials (
    article_key  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    ordinal      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    title        TEXT,
    organisation TEXT,
    PRIMARY KEY (article_key, record_id, ordinal),
    FOREIGN KEY (article_key, record_id) REFERENCES agreements(article_key, record_id) ON DELETE CASCADE
);

CREATE TABLE seizures (
    article_key    TEXT NOT NULL REFERENCES articles(key) ON DELETE CASCADE,
    record_id      TEXT NOT NULL,
    ordinal        INTEGER NOT NULL,
    place          TEXT,
    country        TEXT,
    date           TEXT,
    date_iso       TEXT,
    date_precision TEXT,
    seizing_agency TEXT,
    arrested       INTEGER,
    origin         TEXT,
    destination    TEXT,
    total_kg       REAL,
    evidence       TEXT NOT NULL,
    grounding      TEXT NOT NULL,
    flags          TEXT NOT NULL,   -- JSON list
    PRIMARY KEY (article_key, record_id)
);

CREATE TABLE seizure_items (
    article_key    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    ordinal        INTEGER NOT NULL,
    drug           TEXT NOT NULL,   -- as written
    quantity       REAL,
    unit           TEXT,
    drug_name      TEXT,
    drug_group     TEXT,
    drug_ambiguous INTEGER NOT NULL,
    unit_kind      TEXT NOT NULL,
    kg             REAL,
    litres         REAL,
    count          REAL,
    PRIMARY KEY (article_key, record_id, ordinal),
    FOREIGN KEY (article_key, record_id) REFERENCES seizures(article_key, record_id) ON DELETE CASCADE
);

CREATE TABLE spans (
    article_key TEXT NOT NULL REFERENCES articles(key) ON DELETE CASCADE,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('agreement', 'seizure')),
    record_id   TEXT NOT NULL,
    ordinal     INTEGER NOT NULL,   -- 0: the record's own evidence; 1+: further mentions
    char_start  INTEGER NOT NULL,
    char_end    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    score       REAL NOT NULL,
    PRIMARY KEY (article_key, record_kind, record_id, ordinal)
);

CREATE TABLE rejected (
    article_key TEXT NOT NULL REFERENCES articles(key) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    record_json TEXT NOT NULL,
    PRIMARY KEY (article_key, ordinal)
);

CREATE TABLE failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    article_key TEXT,                -- NULL when the input could not even be read
    article_id  TEXT,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    attempts    INTEGER,
    last_output TEXT,
    at          TEXT NOT NULL
);

CREATE TABLE prompts (
    version     TEXT PRIMARY KEY,
    system_text TEXT NOT NULL
);

CREATE TABLE calls (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    article_key         TEXT NOT NULL,
    model               TEXT NOT NULL,
    prompt_version      TEXT NOT NULL,
    turn                INTEGER NOT NULL,
    attempt             INTEGER NOT NULL,
    kind                TEXT NOT NULL,   -- first / reask / retry
    outcome             TEXT NOT NULL,   -- ok, ok (cached), rate_limit, server_error, ...
    status_code         INTEGER,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    latency_s           REAL NOT NULL,
    request_hash        TEXT NOT NULL,
    request_json        TEXT NOT NULL,
    response_json       TEXT,
    response_text       TEXT,            -- what the model wrote (tool arguments or content)
    error               TEXT,
    at                  TEXT NOT NULL
);
CREATE INDEX calls_by_article ON calls(article_key);
"""

_V2_CACHE = """
ALTER TABLE articles ADD COLUMN cached_calls INTEGER NOT NULL DEFAULT 0;
CREATE INDEX calls_by_request_hash ON calls(request_hash);
CREATE INDEX failures_by_article ON failures(article_key);
CREATE INDEX failures_by_source ON failures(source);
CREATE INDEX seizures_by_country ON seizures(country);
CREATE INDEX agreement_parties_by_iso3 ON agreement_parties(iso3);
"""

_V3_CANONICAL = """
CREATE TABLE canonical_events (
    id                  TEXT PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('agreement', 'seizure')),
    rep_article_key     TEXT NOT NULL,   -- the representative mention
    rep_record_id       TEXT NOT NULL,
    date_iso            TEXT,            -- the representative's date (the most precise)
    date_precision      TEXT,
    first_date_iso      TEXT,            -- the earliest date any mention gives
    first_published_iso TEXT,
    last_published_iso  TEXT,
    countries           TEXT NOT NULL,   -- JSON list (ISO3)
    parties             TEXT,            -- JSON list of the representative's party names
    instrument_type     TEXT,
    status              TEXT,
    status_family       TEXT,            -- concluded / intent
    drugs               TEXT,            -- JSON list of drug names
    total_kg            REAL,
    n_mentions          INTEGER NOT NULL,
    n_articles          INTEGER NOT NULL,
    n_background        INTEGER NOT NULL,
    summary             TEXT NOT NULL
);
CREATE TABLE event_mentions (
    canonical_id  TEXT NOT NULL REFERENCES canonical_events(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    article_key   TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    is_background INTEGER NOT NULL,
    link          TEXT NOT NULL,   -- representative / matched / attached
    PRIMARY KEY (kind, article_key, record_id)
);
CREATE INDEX event_mentions_by_event ON event_mentions(canonical_id);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_V4_TEXTS = """
CREATE TABLE article_texts (
    article_key TEXT PRIMARY KEY REFERENCES articles(key) ON DELETE CASCADE,
    text        TEXT NOT NULL   -- the article as extracted: spans are offsets into it
);
"""

#: Every schema change, in order. Append only: a released migration is never edited.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "base tables: articles, records, spans, failures, prompts, calls log", _V1_BASE),
    Migration(2, "response cache index; articles.cached_calls; lookup indexes", _V2_CACHE),
    Migration(3, "canonical events across articles", _V3_CANONICAL),
    Migration(4, "article texts (for reports: spans are offsets into them)", _V4_TEXTS),
)

_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


def _statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (a `;` inside a string or trigger is kept)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        yield buffer


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied to this database (0 for an empty one)."""
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    ).fetchone()
    if row is None:
        return 0
    (version,) = conn.execute("SELECT coalesce(max(version), 0) FROM migrations").fetchone()
    return int(version)


def apply_migrations(
    conn: sqlite3.Connection,
    *,
    upto: int | None = None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> list[int]:
    """Apply, in order, every migration newer than the database (up to `upto`).

    Each migration runs in its own `BEGIN IMMEDIATE` transaction with its row in the
    `migrations` table, so a crash never leaves one half-applied, and two processes opening
    the same store at once apply it once. `conn` must be in autocommit mode
    (`isolation_level=None`). Returns the versions applied. Raises `StoreError` when the
    database is newer than `migrations`.
    """
    conn.execute(_MIGRATIONS_TABLE)
    known = max((m.version for m in migrations), default=0)
    current = schema_version(conn)
    if current > known:
        raise StoreError(f"the store has schema version {current}, newer than this code ({known}): upgrade llm_extract")
    applied: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if upto is not None and migration.version > upto:
            break
        if migration.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) >= migration.version:  # another process got there first
                conn.execute("COMMIT")
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied


_SECRET = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\bsk-[A-Za-z0-9_-]{16,}")


def redact_secrets(text: str | None) -> str | None:
    """`text` with anything that looks like a bearer token or an API key replaced.

    >>> redact_secrets('{"h": "Bearer abcdefghijkl", "k": "sk-proj-0123456789abcdefXYZ"}')
    '{"h": "Bearer <redacted>", "k": "<redacted>"}'
    """
    if not text:
        return text
    return _SECRET.sub(lambda m: f"{m[1]}<redacted>" if m[1] else "<redacted>", text)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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


_INSERT_ARTICLE = """
INSERT INTO articles (key, id, source, chars, published, published_iso, published_source,
    published_as_written, title, chunks, task, model, prompt_version, mode, calls, reasks,
    retries, cached_calls, input_tokens, output_tokens, cached_input_tokens, cost_usd, latency_s,
    n_agreements, n_seizures, n_rejected, status, extracted_at, result_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?)
"""
_INSERT_AGREEMENT = """
INSERT INTO agreements (article_key, record_id, ordinal, instrument_type, status, date, date_iso,
    date_precision, is_background, place, evidence, grounding, countries, domains, flags)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_PARTY = "INSERT INTO agreement_parties VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_OFFICIAL = "INSERT INTO officials VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_SEIZURE = """
INSERT INTO seizures (article_key, record_id, ordinal, place, country, date, date_iso, date_precision,
    seizing_agency, arrested, origin, destination, total_kg, evidence, grounding, flags)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_ITEM = "INSERT INTO seizure_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_SPAN = "INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_REJECTED = "INSERT INTO rejected VALUES (?, ?, ?, ?, ?)"
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

_COUNTED = (
    "articles",
    "agreements",
    "agreement_parties",
    "officials",
    "seizures",
    "seizure_items",
    "spans",
    "rejected",
    "failures",
    "prompts",
    "calls",
    "canonical_events",
    "event_mentions",
)


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
    ) -> None:
        """Open the store at `path` (`":memory:"` for a throwaway one).

        `create=False` raises `StoreError` when there is no store there (for read-only
        commands such as `export` and `stats`). `migrate_upto` stops the migrations at a
        version (tests that build an old store); leave it unset otherwise.
        """
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None and not create and not self.path.exists():
            raise StoreError(f"no store at {self.path}")
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self._lock = threading.RLock()
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
            apply_migrations(self._conn, upto=migrate_upto)
        except BaseException:
            self._conn.close()
            raise

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
        """The highest migration applied."""
        with self._lock:
            return schema_version(self._conn)

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
        self, result: ArticleResult, *, calls: Sequence[CallRecord] = (), extracted_at: str, text: str | None = None
    ) -> None:
        """Store one article's result, its records, its calls and its text in one transaction.

        Any earlier rows of the same article (same sha256) are replaced, and so is any
        failure recorded for it; the calls log is appended to, never replaced.
        """
        info, run = result.article, result.run
        key = info.sha256
        agreements = list(getattr(result, "agreements", None) or ())
        seizures = list(getattr(result, "seizures", None) or ())
        rejected = list(getattr(result, "rejected", None) or ())
        article_row = (
            key,
            info.id,
            info.source,
            info.chars,
            info.published,
            getattr(result, "published_iso", None),
            getattr(result, "published_source", None),
            getattr(result, "published_as_written", None),
            getattr(result, "title", None),
            getattr(result, "chunks", 1),
            run.task,
            run.model,
            run.prompt_version,
            run.mode,
            run.calls,
            run.reasks,
            run.retries,
            getattr(run, "cached_calls", 0),
            run.usage.input_tokens,
            run.usage.output_tokens,
            run.usage.cached_input_tokens,
            run.cost_usd,
            run.latency_s,
            len(agreements),
            len(seizures),
            len(rejected),
            extracted_at,
            result.model_dump_json(),
        )
        agreement_rows, party_rows, official_rows, span_rows = [], [], [], []
        for n, a in enumerate(agreements):
            agreement_rows.append(
                (
                    key, a.id, n, _text(a.instrument_type), _text(a.status), a.date, a.date_iso,
                    a.date_precision, int(a.is_background), a.place, a.evidence, a.grounding,
                    _json(a.countries), _json([_text(d) for d in a.domains]), _json(a.flags),
                )
            )  # fmt: skip
            party_rows.extend((key, a.id, i, p.name, _text(p.kind), p.iso3) for i, p in enumerate(a.parties))
            official_rows.extend(
                (key, a.id, i, o.name, o.title, o.organisation) for i, o in enumerate(a.officials)
            )
            span_rows.extend(
                (key, "agreement", a.id, i, s.start, s.end, s.status, s.score) for i, s in enumerate(a.spans)
            )
        seizure_rows, item_rows = [], []
        for n, s in enumerate(seizures):
            seizure_rows.append(
                (
                    key, s.id, n, s.place, s.country, s.date, s.date_iso, s.date_precision,
                    s.seizing_agency, s.arrested, s.origin, s.destination, s.total_kg, s.evidence,
                    s.grounding, _json(s.flags),
                )
            )  # fmt: skip
            item_rows.extend(
                (
                    key, s.id, i, it.drug, it.quantity, it.unit, it.drug_name, it.drug_group,
                    int(it.drug_ambiguous), it.unit_kind, it.kg, it.litres, it.count,
                )
                for i, it in enumerate(s.items)
            )  # fmt: skip
            span_rows.extend(
                (key, "seizure", s.id, i, sp.start, sp.end, sp.status, sp.score) for i, sp in enumerate(s.spans)
            )
        rejected_rows = [
            (key, i, r.kind, r.reason, _json(r.record)) for i, r in enumerate(rejected)
        ]
        call_rows = [self._call_row(c, extracted_at) for c in calls]
        with self.transaction() as db:
            db.execute("DELETE FROM articles WHERE key = ?", (key,))  # cascades to its records
            db.execute(
                "DELETE FROM failures WHERE article_key = ? OR (article_key IS NULL AND source = ?)", (key, info.source)
            )
            db.execute(_INSERT_ARTICLE, article_row)
            if agreement_rows:
                db.executemany(_INSERT_AGREEMENT, agreement_rows)
                db.executemany(_INSERT_PARTY, party_rows)
                db.executemany(_INSERT_OFFICIAL, official_rows)
            if seizure_rows:
                db.executemany(_INSERT_SEIZURE, seizure_rows)
                db.executemany(_INSERT_ITEM, item_rows)
            if span_rows:
                db.executemany(_INSERT_SPAN, span_rows)
            if rejected_rows:
                db.executemany(_INSERT_REJECTED, rejected_rows)
            if call_rows:
                db.executemany(_INSERT_CALL, call_rows)
            if text is not None:
                db.execute("INSERT INTO article_texts (article_key, text) VALUES (?, ?)", (key, text))

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
            failure.message,
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
            for seq, text in rows:
                yield text
            last = rows[-1][0]

    def cached_response(self, request_hash: str) -> dict[str, Any] | None:
        """The latest successful response body logged for this exact request, if any.

        The response cache: a rerun never pays twice for the same request. Answers served
        by replay (outcome 'ok (replayed)') are never returned: they were not paid for, and a
        live run must not be served hand-made recordings.
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT response_json FROM calls WHERE request_hash = ? AND response_json IS NOT NULL"
                " AND outcome IN ('ok', 'ok (cached)') ORDER BY id DESC LIMIT 1",
                (request_hash,),
            ).fetchone()
        return json.loads(row[0]) if row else None

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
                for table in _COUNTED
            }
