"""The built-in task's tables in the event store, with their own migrations.

The engine's `articles` table gets the task's columns (`published_iso`, `published_source`,
`published_as_written`, `n_agreements`, `n_seizures`, `n_rejected`); the task adds:

==================== ======================================================================
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
`value_spans`        where the article says each value of each record (`field`, `value` as
                     written, `location` evidence / nearby / article / missing, `char_start`,
                     `char_end`)
`canonical_events`,  the same event across articles (written by `merge.merge_events`)
`event_mentions`
==================== ======================================================================

Every table references `articles(key)` with `ON DELETE CASCADE` (directly or through its
parent record), so re-extracting an article replaces its rows in the same transaction.
Migrations are recorded under the component name `security_events`; never edit a released
one, append a new one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from enum import Enum
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from llm_extract.runs.store import Migration

from .records import ArticleExtraction

__all__ = ["MIGRATIONS", "SecurityEventsTables"]

_V1_RECORDS = """
ALTER TABLE articles ADD COLUMN published_iso TEXT;
ALTER TABLE articles ADD COLUMN published_source TEXT;
ALTER TABLE articles ADD COLUMN published_as_written TEXT;
ALTER TABLE articles ADD COLUMN n_agreements INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN n_seizures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN n_rejected INTEGER NOT NULL DEFAULT 0;

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
"""

_V2_INDEXES = """
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
"""

_V4_CHECKS = """
ALTER TABLE seizures ADD COLUMN is_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE seizures ADD COLUMN total_reason TEXT;
ALTER TABLE seizures ADD COLUMN country_source TEXT;
ALTER TABLE seizures ADD COLUMN region TEXT;
ALTER TABLE seizures ADD COLUMN region_name TEXT;
ALTER TABLE seizures ADD COLUMN lat REAL;
ALTER TABLE seizures ADD COLUMN lon REAL;
ALTER TABLE seizures ADD COLUMN geo_precision TEXT;
ALTER TABLE seizures ADD COLUMN date_start TEXT;
ALTER TABLE seizures ADD COLUMN date_end TEXT;
ALTER TABLE seizures ADD COLUMN confidence REAL;
ALTER TABLE agreements ADD COLUMN date_start TEXT;
ALTER TABLE agreements ADD COLUMN date_end TEXT;
ALTER TABLE agreements ADD COLUMN confidence REAL;
CREATE TABLE value_spans (
    article_key TEXT NOT NULL REFERENCES articles(key) ON DELETE CASCADE,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('agreement', 'seizure')),
    record_id   TEXT NOT NULL,
    ordinal     INTEGER NOT NULL,
    field       TEXT NOT NULL,   -- quantity[0], drug[0], date, place, agency, party[1], official[0]
    value       TEXT NOT NULL,   -- as the model wrote it
    location    TEXT NOT NULL,   -- evidence / nearby / article / missing
    char_start  INTEGER,         -- text[char_start:char_end], NULL when missing
    char_end    INTEGER,
    PRIMARY KEY (article_key, record_kind, record_id, ordinal)
);
CREATE INDEX seizures_by_total ON seizures(is_total);
"""

_C = "security_events"
#: The task's schema changes, in order. Append only.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "agreements, seizures, their parts, spans, rejected records", _V1_RECORDS, _C),
    Migration(2, "lookup indexes by country", _V2_INDEXES, _C),
    Migration(3, "canonical events across articles", _V3_CANONICAL, _C),
    Migration(4, "totals, places (region, coordinates, precision), date ranges, confidence, value spans", _V4_CHECKS, _C),
)

_INSERT_AGREEMENT = """
INSERT INTO agreements (article_key, record_id, ordinal, instrument_type, status, date, date_iso,
    date_precision, is_background, place, evidence, grounding, countries, domains, flags, date_start, date_end,
    confidence)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_PARTY = "INSERT INTO agreement_parties VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_OFFICIAL = "INSERT INTO officials VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_SEIZURE = """
INSERT INTO seizures (article_key, record_id, ordinal, place, country, date, date_iso, date_precision,
    seizing_agency, arrested, origin, destination, total_kg, evidence, grounding, flags, is_total, total_reason,
    country_source, region, region_name, lat, lon, geo_precision, date_start, date_end, confidence)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_VALUE_SPAN = "INSERT INTO value_spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_ITEM = "INSERT INTO seizure_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_SPAN = "INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_REJECTED = "INSERT INTO rejected VALUES (?, ?, ?, ?, ?)"


#: `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`, the encoder made once
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(value: Any) -> str:
    """`value` as compact JSON (`_dumps`); a list of plain strings (most of them: countries,
    domains, flags) written directly, to the same text."""
    if type(value) is list and all(type(item) is str for item in value):
        return "[" + ",".join(map(encode_basestring, value)) + "]"
    return _dumps(value)


def _text(value: Any) -> Any:
    return value._value_ if isinstance(value, Enum) else value  # a StrEnum member → its value


class SecurityEventsTables:
    """The `TaskTables` of the built-in task."""

    migrations: Sequence[Migration] = MIGRATIONS
    tables: Sequence[str] = (
        "agreements", "agreement_parties", "officials", "seizures", "seizure_items", "spans", "rejected",
        "canonical_events", "event_mentions", "value_spans",
    )  # fmt: skip
    #: stores of llm_extract 0.1 (one migration list): its version N → this task's version
    legacy_versions: Mapping[int, int] = {1: 1, 2: 2, 3: 3, 4: 3}

    def article_columns(self, result: ArticleExtraction) -> Mapping[str, Any]:
        return {
            "published_iso": result.published_iso,
            "published_source": result.published_source,
            "published_as_written": result.published_as_written,
            "title": result.title,
            "chunks": result.chunks,
            "n_agreements": len(result.agreements),
            "n_seizures": len(result.seizures),
            "n_rejected": len(result.rejected),
        }

    def write(self, db: sqlite3.Connection, key: str, result: ArticleExtraction) -> None:
        agreements, seizures, rejected = result.agreements, result.seizures, result.rejected
        value_rows: list[tuple[Any, ...]] = []
        agreement_rows: list[tuple[Any, ...]] = []
        party_rows: list[tuple[Any, ...]] = []
        official_rows: list[tuple[Any, ...]] = []
        span_rows: list[tuple[Any, ...]] = []
        for n, a in enumerate(agreements):
            agreement_rows.append(
                (
                    key, a.id, n, _text(a.instrument_type), _text(a.status), a.date, a.date_iso,
                    a.date_precision, int(a.is_background), a.place, a.evidence, a.grounding,
                    _json(a.countries), _json([_text(d) for d in a.domains]), _json(a.flags), a.date_start,
                    a.date_end, a.confidence,
                )
            )  # fmt: skip
            value_rows.extend(
                (key, "agreement", a.id, i, v.field, v.value, v.where, v.start, v.end) for i, v in enumerate(a.value_spans)
            )
            party_rows.extend((key, a.id, i, p.name, _text(p.kind), p.iso3) for i, p in enumerate(a.parties))
            official_rows.extend((key, a.id, i, o.name, o.title, o.organisation) for i, o in enumerate(a.officials))
            span_rows.extend((key, "agreement", a.id, i, s.start, s.end, s.status, s.score) for i, s in enumerate(a.spans))
        seizure_rows: list[tuple[Any, ...]] = []
        item_rows: list[tuple[Any, ...]] = []
        for n, s in enumerate(seizures):
            seizure_rows.append(
                (
                    key, s.id, n, s.place, s.country, s.date, s.date_iso, s.date_precision,
                    s.seizing_agency, s.arrested, s.origin, s.destination, s.total_kg, s.evidence,
                    s.grounding, _json(s.flags), int(s.is_total), s.total_reason, s.country_source, s.region,
                    s.region_name, s.lat, s.lon, s.geo_precision, s.date_start, s.date_end, s.confidence,
                )
            )  # fmt: skip
            value_rows.extend(
                (key, "seizure", s.id, i, v.field, v.value, v.where, v.start, v.end) for i, v in enumerate(s.value_spans)
            )
            item_rows.extend(
                (
                    key, s.id, i, it.drug, it.quantity, it.unit, it.drug_name, it.drug_group,
                    int(it.drug_ambiguous), it.unit_kind, it.kg, it.litres, it.count,
                )
                for i, it in enumerate(s.items)
            )  # fmt: skip
            span_rows.extend((key, "seizure", s.id, i, sp.start, sp.end, sp.status, sp.score) for i, sp in enumerate(s.spans))
        rejected_rows = [(key, i, r.kind, r.reason, _json(r.record)) for i, r in enumerate(rejected)]
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
        if value_rows:
            db.executemany(_INSERT_VALUE_SPAN, value_rows)


def ensure_tables(store: Any) -> None:
    """Make sure `store` (an `EventStore`) has this task's tables (a store opened bare, or
    an empty one that names no task yet)."""
    if not isinstance(store.tables, SecurityEventsTables):
        store.attach_tables(SecurityEventsTables())
