"""The task's table in the event store (`OUTDIR/extract.db`), with its own migration.

The engine's `articles` table gets two columns (`n_people`, `n_rejected`); the task adds:

============ ==========================================================================
`people`     one row per kept person (`article_key`, `record_id` p1, p2, ...): name,
             `name_key`, role, organisation, evidence, grounding, `char_start` /
             `char_end` / `score` of the evidence span (`text[char_start:char_end]`),
             and `flags` as a JSON list
============ ==========================================================================

The table references `articles(key) ON DELETE CASCADE`, so re-extracting an article
(`--force`) replaces its rows in the same transaction. Rejected people stay in each
result's JSON (`articles.result_json`, `records.jsonl`). The migration is recorded in the
store's `migrations` table under the component `people_roles`; never edit a released
migration: append a new one (version 2, ...).

Query it with `sqlite3 OUTDIR/extract.db`, e.g. who is named in most articles::

    SELECT name_key, count(DISTINCT article_key) AS articles FROM people
    GROUP BY name_key ORDER BY articles DESC;
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from llm_extract.runs.store import Migration

from .records import PeopleExtraction

__all__ = ["COMPONENT", "MIGRATIONS", "PeopleTables"]

COMPONENT = "people_roles"

_V1_PEOPLE = """
ALTER TABLE articles ADD COLUMN n_people INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN n_rejected INTEGER NOT NULL DEFAULT 0;

CREATE TABLE people (
    article_key  TEXT NOT NULL REFERENCES articles(key) ON DELETE CASCADE,
    record_id    TEXT NOT NULL,               -- p1, p2, ... within the article
    ordinal      INTEGER NOT NULL,
    name         TEXT NOT NULL,               -- as written
    name_key     TEXT NOT NULL,               -- normalised: case-folded, whitespace collapsed
    role         TEXT NOT NULL,
    organisation TEXT,
    evidence     TEXT NOT NULL,
    grounding    TEXT NOT NULL,               -- exact / normalized / fuzzy / ungrounded
    char_start   INTEGER,                     -- the evidence span, NULL when ungrounded
    char_end     INTEGER,
    score        REAL,
    flags        TEXT NOT NULL,               -- JSON list
    PRIMARY KEY (article_key, record_id)
);
CREATE INDEX people_by_name ON people(name_key);
"""

#: The task's schema changes, in order. Append only.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "people, with their roles and evidence spans", _V1_PEOPLE, COMPONENT),
)

_INSERT_PERSON = "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


class PeopleTables:
    """The task's `TaskTables`: its migration, its table, and the rows of one result."""

    @property
    def migrations(self) -> Sequence[Migration]:
        return MIGRATIONS

    @property
    def tables(self) -> Sequence[str]:
        return ("people",)

    def article_columns(self, result: PeopleExtraction) -> Mapping[str, Any]:
        return {"chunks": result.chunks, "n_people": len(result.people), "n_rejected": len(result.rejected)}

    def write(self, db: sqlite3.Connection, key: str, result: PeopleExtraction) -> None:
        rows = [
            (
                key, p.id, n, p.name, p.name_key, p.role, p.organisation, p.evidence, p.grounding,
                p.span.start if p.span else None, p.span.end if p.span else None, p.span.score if p.span else None,
                json.dumps(p.flags, ensure_ascii=False),
            )
            for n, p in enumerate(result.people)
        ]  # fmt: skip
        if rows:
            db.executemany(_INSERT_PERSON, rows)
