"""The store's schema history: migrations per component, applied in order, recorded.

`MIGRATIONS` is the engine's ordered list of SQL scripts (version 1, 2, ...); each task adds
its own list (`TaskTables.migrations`, with its own component name). The `migrations` table
records each one applied (component, version, name, applied_at). Opening a store applies,
in order, every migration it lacks, each in its own transaction together with its row in
`migrations`; so a newer version of the code opens an older store, and a store newer than
the code is refused. Never edit a released migration: append a new one.

Stores written by llm_extract 0.1 recorded one list for everything (the engine's tables
and the built-in task's): `adopt_legacy` rewrites that table per component once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from llm_extract.errors import StoreError

__all__ = [
    "LEGACY_OWNER",
    "MIGRATIONS",
    "Migration",
    "adopt_legacy",
    "apply_migrations",
    "schema_version",
    "schema_versions",
    "table_exists",
]


@dataclass(frozen=True)
class Migration:
    """One schema change: applied once, in order, recorded in the `migrations` table.

    `component` is `core` for the engine's tables, else the name of the task that owns it.
    """

    version: int
    name: str
    sql: str
    component: str = "core"


_CORE_V1 = """
CREATE TABLE articles (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order, never reused
    key                  TEXT NOT NULL UNIQUE,               -- sha256 of the article text
    id                   TEXT NOT NULL,
    source               TEXT NOT NULL,
    chars                INTEGER NOT NULL,
    published            TEXT,                               -- given by the caller (ISO)
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
    status               TEXT NOT NULL DEFAULT 'ok',
    extracted_at         TEXT NOT NULL,
    result_json          TEXT NOT NULL
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

_CORE_V2 = """
ALTER TABLE articles ADD COLUMN cached_calls INTEGER NOT NULL DEFAULT 0;
CREATE INDEX calls_by_request_hash ON calls(request_hash);
CREATE INDEX failures_by_article ON failures(article_key);
CREATE INDEX failures_by_source ON failures(source);
"""

_CORE_V3 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_CORE_V4 = """
CREATE TABLE article_texts (
    article_key TEXT PRIMARY KEY REFERENCES articles(key) ON DELETE CASCADE,
    text        TEXT NOT NULL   -- the article as extracted: spans are offsets into it
);
"""

#: The engine's schema changes, in order. Append only: a released migration is never edited.
#: (Versions 1-4 are the generic half of the single-list versions 1-4 of llm_extract 0.1.)
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "base tables: articles, failures, prompts, calls log", _CORE_V1),
    Migration(2, "response cache index; articles.cached_calls; lookup indexes", _CORE_V2),
    Migration(3, "meta: small key/value facts", _CORE_V3),
    Migration(4, "article texts (for reports: spans are offsets into them)", _CORE_V4),
)

_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS migrations (
    component  TEXT NOT NULL DEFAULT 'core',
    version    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
)
"""

#: Stores written before tasks had their own migrations recorded one list for everything;
#: `LEGACY_OWNER` is the task whose tables those versions also created, and the task's
#: `legacy_versions` map says how far its own migrations had got (see `adopt_legacy`).
LEGACY_OWNER = "security_events"


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


def _has_component_column(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "component" for row in conn.execute("PRAGMA table_info(migrations)"))


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def schema_versions(conn: sqlite3.Connection) -> dict[str, int]:
    """The highest migration applied, per component (empty for an empty database)."""
    if not table_exists(conn, "migrations"):
        return {}
    if not _has_component_column(conn):
        (version,) = conn.execute("SELECT coalesce(max(version), 0) FROM migrations").fetchone()
        return {"core": int(version), LEGACY_OWNER: int(version)} if version else {}
    rows = conn.execute("SELECT component, max(version) FROM migrations GROUP BY component").fetchall()
    return {str(c): int(v) for c, v in rows}


def schema_version(conn: sqlite3.Connection, component: str = "core") -> int:
    """The highest migration of `component` applied to this database (0 for none)."""
    return schema_versions(conn).get(component, 0)


def adopt_legacy(conn: sqlite3.Connection, legacy_versions: dict[int, int] | None) -> None:
    """Rewrite a single-list `migrations` table (llm_extract 0.1) as per-component rows.

    Legacy version N meant: the engine's versions 1..N, and the built-in task's versions
    1..legacy_versions[N] (its tables were created by the same scripts). Runs in one
    transaction; a store that is already per-component is left alone.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not table_exists(conn, "migrations") or _has_component_column(conn):
            conn.execute("COMMIT")
            return
        rows = conn.execute("SELECT version, name, applied_at FROM migrations ORDER BY version").fetchall()
        if legacy_versions is None:  # opened bare: the tables are the legacy owner's
            from llm_extract.core.registry import load_task

            legacy_versions = getattr(load_task(LEGACY_OWNER).tables, "legacy_versions", None)
        conn.execute("ALTER TABLE migrations RENAME TO migrations_legacy")
        conn.execute(_MIGRATIONS_TABLE)
        for version, name, at in rows:
            conn.execute("INSERT INTO migrations VALUES ('core', ?, ?, ?)", (version, name, at))
        top = max((v for v, _, _ in rows), default=0)
        owned = (legacy_versions or {}).get(top, 0)
        for version in range(1, owned + 1):
            conn.execute(
                "INSERT INTO migrations VALUES (?, ?, ?, ?)",
                (LEGACY_OWNER, version, f"adopted from the single-list schema v{top}", rows[-1][2]),
            )
        conn.execute("DROP TABLE migrations_legacy")
        if owned and table_exists(conn, "meta"):
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('task', ?)", (LEGACY_OWNER,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def apply_migrations(
    conn: sqlite3.Connection,
    *,
    upto: int | None = None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> list[int]:
    """Apply, in order, every migration newer than the database (up to `upto`).

    `migrations` are one component's (the engine's, or one task's). Each migration runs in
    its own `BEGIN IMMEDIATE` transaction with its row in the `migrations` table, so a crash
    never leaves one half-applied, and two processes opening the same store at once apply
    it once. `conn` must be in autocommit mode (`isolation_level=None`). Returns the
    versions applied. Raises `StoreError` when the database is newer than `migrations`.
    """
    conn.execute(_MIGRATIONS_TABLE)
    component = migrations[0].component if migrations else "core"
    known = max((m.version for m in migrations), default=0)
    current = schema_version(conn, component)
    if current > known:
        raise StoreError(
            f"the store has {component} schema version {current}, newer than this code ({known}): upgrade llm_extract"
            + ("" if component == "core" else f" or the task {component!r}")
        )
    applied: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if upto is not None and migration.version > upto:
            break
        if migration.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn, component) >= migration.version:  # another process got there first
                conn.execute("COMMIT")
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
                (component, migration.version, migration.name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
