"""Flat tables for spreadsheets, and statistics, from the event store.

`export(store, out_dir, "csv")` writes one file per table, one row per record (one per drug
item for seizures), each with the canonical event it belongs to:

==================== =========================================================================
`agreements`         one row per agreement record: article, record id, canonical id, parties
                     ("Iran; Russia"), countries ("IRN;RUS"), instrument, status, date as
                     written and ISO, domains, background flag, officials, evidence, its span,
                     grounding, flags
`seizures`           one row per drug item of a seizure: article, record id, canonical id,
                     country, place, date, drug as written and normalised, quantity, unit, kg /
                     count / litres, the seizure's total kg, agency, arrests, evidence, span,
                     grounding, flags
`canonical_events`   one row per event across articles (see `llm_extract.merge`), with the ids
                     of the articles that mention it
`articles`           one row per extracted article, with calls, tokens and estimated cost
`failures`           articles that could not be extracted, with the reason
`rejected`           records whose evidence was not found in the article
==================== =========================================================================

CSV files are UTF-8 without a byte-order mark, comma-separated, every field that needs it
quoted (RFC 4180: commas, quotes and line breaks inside evidence survive a round trip through
any CSV reader). Lists inside a cell are joined with ";" (parties and officials with "; ").
Empty cells are null values; booleans are `true` / `false`. Excel: open through *Data → From
Text/CSV* and choose *65001: Unicode (UTF-8)*, or export with `excel_bom=True` so that a
double-click opens it right. `escape_formulas=True` prefixes a `'` to text starting with
`=`, `+`, `-`, `@` (an article is untrusted input; a spreadsheet must not run it).
`"jsonl"` writes the same rows as JSON objects, one per line, lists kept as lists.

Files are written under a temporary name and renamed when complete.

`stats(store)` counts records and events by country, drug group, year and agreement status;
`render_stats` turns them into rich tables (the `llm-extract stats` command prints them).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from llm_extract.runs.store import EventStore
from llm_extract.views.export import FAILURE_COLUMNS, Column, Format, columns, failure_rows, query_rows

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

__all__ = [
    "CountRow",
    "DrugGroupRow",
    "EXPORT_TABLES",
    "Stats",
    "Totals",
    "YearRow",
    "export",
    "export_tables",
    "render_stats",
    "stats",
]


_AGREEMENT_COLUMNS = columns(
    "article_id", "article_key", "source", "published_iso", "record_id", "canonical_id", "parties",
    "party_kinds", "countries", "instrument_type", "status", "date", "date_iso", "date_precision", "domains",
    "is_background", "place", "officials", "evidence", "span_start", "span_end", "grounding", "flags",
    "date_start", "date_end", "confidence",
    lists={"parties": "; ", "party_kinds": ";", "countries": ";", "domains": ";", "officials": "; ", "flags": ";"},
)  # fmt: skip
_SEIZURE_COLUMNS = columns(
    "article_id", "article_key", "source", "published_iso", "record_id", "canonical_id", "item", "country",
    "place", "date", "date_iso", "date_precision", "drug", "drug_name", "drug_group", "drug_ambiguous",
    "quantity", "unit", "unit_kind", "kg", "count", "litres", "total_kg", "seizing_agency", "arrested",
    "origin", "destination", "evidence", "span_start", "span_end", "grounding", "flags",
    "is_total", "total_reason", "country_source", "region", "region_name", "lat", "lon", "geo_precision",
    "date_start", "date_end", "confidence",
    lists={"flags": ";"},
)  # fmt: skip
_EVENT_COLUMNS = columns(
    "canonical_id", "kind", "summary", "date_iso", "date_precision", "first_date_iso", "first_published_iso",
    "last_published_iso", "countries", "parties", "instrument_type", "status", "status_family", "drugs",
    "total_kg", "n_mentions", "n_articles", "n_background", "article_ids", "rep_article_key", "rep_record_id",
    lists={"countries": ";", "parties": "; ", "drugs": ";", "article_ids": ";"},
)  # fmt: skip
_ARTICLE_COLUMNS = columns(
    "article_id", "article_key", "source", "title", "chars", "published", "published_iso", "published_source",
    "chunks", "task", "model", "mode", "prompt_version", "calls", "reasks", "retries", "cached_calls",
    "input_tokens", "output_tokens", "cached_input_tokens", "cost_usd", "latency_s", "agreements", "seizures",
    "rejected", "extracted_at",
)  # fmt: skip
_REJECTED_COLUMNS = columns("article_id", "article_key", "source", "kind", "reason", "evidence", "record")

#: The tables `export` writes, in order, with their columns.
EXPORT_TABLES: dict[str, tuple[str, ...]] = {
    "agreements": tuple(c.name for c in _AGREEMENT_COLUMNS),
    "seizures": tuple(c.name for c in _SEIZURE_COLUMNS),
    "canonical_events": tuple(c.name for c in _EVENT_COLUMNS),
    "articles": tuple(c.name for c in _ARTICLE_COLUMNS),
    "failures": tuple(c.name for c in FAILURE_COLUMNS),
    "rejected": tuple(c.name for c in _REJECTED_COLUMNS),
}


# -- rows ----------------------------------------------------------------------------------------
def _results(store: EventStore) -> Iterator[dict[str, Any]]:
    for text in store.iter_results():
        yield json.loads(text)


def _links(store: EventStore) -> dict[tuple[str, str, str], str]:
    with store.snapshot() as db:
        return {
            (kind, key, rid): cid
            for cid, kind, key, rid in db.execute("SELECT canonical_id, kind, article_key, record_id FROM event_mentions")
        }


def _span(record: dict[str, Any]) -> tuple[int | None, int | None]:
    spans = record.get("spans") or []
    return (spans[0]["start"], spans[0]["end"]) if spans else (None, None)


def _official(o: dict[str, Any]) -> str:
    extra = ", ".join(x for x in (o.get("title"), o.get("organisation")) if x)
    return f"{o['name']} ({extra})" if extra else o["name"]


def _article_cells(result: dict[str, Any]) -> dict[str, Any]:
    article = result["article"]
    return {
        "article_id": article["id"],
        "article_key": article["sha256"],
        "source": article["source"],
        "published_iso": result.get("published_iso"),
    }


def _agreement_rows(store: EventStore, links: dict[tuple[str, str, str], str]) -> Iterator[dict[str, Any]]:
    for result in _results(store):
        head = _article_cells(result)
        for a in result.get("agreements") or []:
            start, end = _span(a)
            yield {
                **head,
                "record_id": a["id"],
                "canonical_id": links.get(("agreement", head["article_key"], a["id"])),
                "parties": [p["name"] for p in a["parties"]],
                "party_kinds": [p["kind"] for p in a["parties"]],
                "countries": a.get("countries") or [],
                "instrument_type": a["instrument_type"],
                "status": a["status"],
                "date": a.get("date"),
                "date_iso": a.get("date_iso"),
                "date_precision": a.get("date_precision"),
                "domains": a.get("domains") or [],
                "is_background": bool(a.get("is_background")),
                "place": a.get("place"),
                "officials": [_official(o) for o in a.get("officials") or []],
                "evidence": a["evidence"],
                "span_start": start,
                "span_end": end,
                "grounding": a.get("grounding"),
                "flags": a.get("flags") or [],
                "date_start": a.get("date_start"),
                "date_end": a.get("date_end"),
                "confidence": a.get("confidence"),
            }


_SEIZURE_PLACE_AND_CHECKS = (
    "total_reason", "country_source", "region", "region_name", "lat", "lon", "geo_precision", "date_start",
    "date_end", "confidence",
)  # fmt: skip


def _seizure_rows(store: EventStore, links: dict[tuple[str, str, str], str]) -> Iterator[dict[str, Any]]:
    for result in _results(store):
        head = _article_cells(result)
        for s in result.get("seizures") or []:
            start, end = _span(s)
            common = {
                **head,
                "record_id": s["id"],
                "canonical_id": links.get(("seizure", head["article_key"], s["id"])),
            }
            for n, item in enumerate(s["items"], 1):
                yield {
                    **common,
                    "item": n,
                    "country": s.get("country"),
                    "place": s.get("place"),
                    "date": s.get("date"),
                    "date_iso": s.get("date_iso"),
                    "date_precision": s.get("date_precision"),
                    "drug": item["drug"],
                    "drug_name": item.get("drug_name"),
                    "drug_group": item.get("drug_group"),
                    "drug_ambiguous": bool(item.get("drug_ambiguous")),
                    "quantity": item.get("quantity"),
                    "unit": item.get("unit"),
                    "unit_kind": item.get("unit_kind"),
                    "kg": item.get("kg"),
                    "count": item.get("count"),
                    "litres": item.get("litres"),
                    "total_kg": s.get("total_kg"),
                    "seizing_agency": s.get("seizing_agency"),
                    "arrested": s.get("arrested"),
                    "origin": s.get("origin"),
                    "destination": s.get("destination"),
                    "evidence": s["evidence"],
                    "span_start": start,
                    "span_end": end,
                    "grounding": s.get("grounding"),
                    "flags": s.get("flags") or [],
                    **{name: s.get(name) for name in _SEIZURE_PLACE_AND_CHECKS},
                    "is_total": bool(s.get("is_total")),
                }


def _rejected_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    for result in _results(store):
        head = _article_cells(result)
        for r in result.get("rejected") or []:
            record = r.get("record") or {}
            yield {
                "article_id": head["article_id"],
                "article_key": head["article_key"],
                "source": head["source"],
                "kind": r["kind"],
                "reason": r["reason"],
                "evidence": record.get("evidence"),
                "record": record,
            }


def _event_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    with store.snapshot() as db:
        articles: dict[str, list[str]] = defaultdict(list)
        for cid, article_id in db.execute(
            "SELECT DISTINCT m.canonical_id, a.id FROM event_mentions m JOIN articles a ON a.key = m.article_key"
            " ORDER BY m.canonical_id, a.published_iso IS NULL, a.published_iso, a.key"
        ):
            articles[cid].append(article_id)
        rows = db.execute(
            "SELECT id, kind, summary, date_iso, date_precision, first_date_iso, first_published_iso,"
            " last_published_iso, countries, parties, instrument_type, status, status_family, drugs, total_kg,"
            " n_mentions, n_articles, n_background, rep_article_key, rep_record_id FROM canonical_events"
            " ORDER BY kind, first_published_iso IS NULL, first_published_iso, id"
        ).fetchall()
    for row in rows:
        (cid, kind, summary, date_iso, precision, first_date, first_pub, last_pub, countries, parties,
         instrument, status, family, drugs, total_kg, n_mentions, n_articles, n_background, rep_key, rep_id) = row  # fmt: skip
        yield {
            "canonical_id": cid,
            "kind": kind,
            "summary": summary,
            "date_iso": date_iso,
            "date_precision": precision,
            "first_date_iso": first_date,
            "first_published_iso": first_pub,
            "last_published_iso": last_pub,
            "countries": json.loads(countries) if countries else [],
            "parties": json.loads(parties) if parties else [],
            "instrument_type": instrument,
            "status": status,
            "status_family": family,
            "drugs": json.loads(drugs) if drugs else [],
            "total_kg": total_kg,
            "n_mentions": n_mentions,
            "n_articles": n_articles,
            "n_background": n_background,
            "article_ids": articles.get(cid, []),
            "rep_article_key": rep_key,
            "rep_record_id": rep_id,
        }


def _article_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    sql = (
        "SELECT id, key, source, title, chars, published, published_iso, published_source, chunks, task, model,"
        " mode, prompt_version, calls, reasks, retries, cached_calls, input_tokens, output_tokens,"
        " cached_input_tokens, cost_usd, latency_s, n_agreements, n_seizures, n_rejected, extracted_at"
        " FROM articles ORDER BY seq"
    )
    return query_rows(store, sql, EXPORT_TABLES["articles"])


def export_tables(
    store: EventStore, *, update_merge: bool = True
) -> dict[str, tuple[tuple[Column, ...], Iterable[dict[str, Any]]]]:
    """The task's flat tables (`EXPORT_TABLES`), in order: name → (columns, rows).

    With `update_merge` (the default), canonical events are recomputed first when articles
    were added since the last merge, so that every row carries its current canonical id.
    """
    from llm_extract.tasks.security_events.merge import merge_events, merge_is_current
    from llm_extract.tasks.security_events.tables import ensure_tables

    ensure_tables(store)
    if update_merge and not merge_is_current(store):
        merge_events(store)
    links = _links(store)
    return {
        "agreements": (_AGREEMENT_COLUMNS, _agreement_rows(store, links)),
        "seizures": (_SEIZURE_COLUMNS, _seizure_rows(store, links)),
        "canonical_events": (_EVENT_COLUMNS, _event_rows(store)),
        "articles": (_ARTICLE_COLUMNS, _article_rows(store)),
        "failures": (FAILURE_COLUMNS, failure_rows(store)),
        "rejected": (_REJECTED_COLUMNS, _rejected_rows(store)),
    }


def export(
    store: EventStore,
    out_dir: Path,
    fmt: Format = "csv",
    *,
    update_merge: bool = True,
    excel_bom: bool = False,
    escape_formulas: bool = False,
) -> list[Path]:
    """Write the task's flat tables to `out_dir` (see `llm_extract.views.export.export`)."""
    from llm_extract.views.export import write_tables

    tables = export_tables(store, update_merge=update_merge)
    return write_tables(tables, out_dir, fmt, excel_bom=excel_bom, escape_formulas=escape_formulas)


# -- statistics ----------------------------------------------------------------------------------------
class CountRow(BaseModel):
    """Records (mentions) and events (canonical, each counted once) for one key."""

    key: str
    records: int
    events: int
    kg: float | None = None


class DrugGroupRow(BaseModel):
    """Drug items and seizures of one UNODC drug group; `kg` counts each event once."""

    group: str
    items: int
    seizures: int
    events: int
    kg: float


class YearRow(BaseModel):
    """Records and events per year of the event (its date, else the article's publication)."""

    year: str
    agreements: int
    agreement_events: int
    seizures: int
    seizure_events: int


class Totals(BaseModel):
    """Whole-store totals."""

    articles: int = 0
    failures: int = 0
    agreements: int = 0
    seizures: int = 0
    drug_items: int = 0
    rejected: int = 0
    agreement_events: int = 0
    seizure_events: int = 0
    #: figures that sum seizures over a period: kept and listed, never added to the seizures
    period_totals: int = 0
    calls: int = 0
    cached_calls: int = 0
    reasks: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_articles: int = 0
    merge_current: bool = True


class Stats(BaseModel):
    """What `llm-extract stats` prints. Event counts count each canonical event once."""

    totals: Totals
    agreements_by_country: list[CountRow]
    seizures_by_country: list[CountRow]
    by_drug_group: list[DrugGroupRow]
    by_year: list[YearRow]
    agreements_by_status: list[CountRow]
    failures_by_kind: dict[str, int]


# An event: its canonical id, else (before a merge) the record itself.
_EVENT_A = (
    "coalesce((SELECT m.canonical_id FROM event_mentions m WHERE m.kind = 'agreement'"
    " AND m.article_key = a.article_key AND m.record_id = a.record_id), a.article_key || '/' || a.record_id)"
)
_EVENT_S = (
    "coalesce((SELECT m.canonical_id FROM event_mentions m WHERE m.kind = 'seizure'"
    " AND m.article_key = s.article_key AND m.record_id = s.record_id), s.article_key || '/' || s.record_id)"
)
_REP_S = (
    "coalesce((SELECT m.link = 'representative' FROM event_mentions m WHERE m.kind = 'seizure'"
    " AND m.article_key = s.article_key AND m.record_id = s.record_id), 1)"
)


def _count_rows(rows: Iterable[tuple[Any, ...]]) -> list[CountRow]:
    out = [CountRow(key=k if k is not None else "unknown", records=r, events=e) for k, r, e in rows]
    return sorted(out, key=lambda row: (-row.records, row.key))


def stats(store: EventStore) -> Stats:
    """Counts by country, drug group, year and agreement status, and run totals.

    `records` count mentions (a seizure reported by three articles counts three times);
    `events` count canonical events once (as of the last merge; a record not yet merged is
    its own event). Masses (`kg`) count each event once, with its representative's values.
    """
    from llm_extract.tasks.security_events.tables import ensure_tables

    ensure_tables(store)
    from llm_extract.tasks.security_events.merge import merge_is_current

    with store.snapshot() as db:
        one = lambda sql: db.execute(sql).fetchone()  # noqa: E731
        (articles, calls, cached, reasks, retries, tin, tout, tcached, cost, unpriced) = one(
            "SELECT count(*), coalesce(sum(calls), 0), coalesce(sum(cached_calls), 0), coalesce(sum(reasks), 0),"
            " coalesce(sum(retries), 0), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
            " coalesce(sum(cached_input_tokens), 0), coalesce(sum(cost_usd), 0.0),"
            " coalesce(sum(cost_usd IS NULL), 0) FROM articles"
        )
        (a_records, a_events) = one(f"SELECT count(*), count(DISTINCT {_EVENT_A}) FROM agreements a")
        (s_records, s_events) = one(f"SELECT count(*), count(DISTINCT {_EVENT_S}) FROM seizures s WHERE NOT s.is_total")
        (period_totals,) = one("SELECT count(*) FROM seizures WHERE is_total")
        totals = Totals(
            articles=articles,
            failures=one("SELECT count(*) FROM failures")[0],
            agreements=a_records,
            seizures=s_records,
            period_totals=period_totals,
            drug_items=one(
                "SELECT count(*) FROM seizure_items i JOIN seizures s USING (article_key, record_id) WHERE NOT s.is_total"
            )[0],
            rejected=one("SELECT count(*) FROM rejected")[0],
            agreement_events=a_events,
            seizure_events=s_events,
            calls=calls,
            cached_calls=cached,
            reasks=reasks,
            retries=retries,
            input_tokens=tin,
            output_tokens=tout,
            cached_input_tokens=tcached,
            cost_usd=round(cost, 10),
            unpriced_articles=unpriced,
            merge_current=merge_is_current(store),
        )
        agreements_by_country = _count_rows(
            db.execute(
                f"SELECT c.value, count(*), count(DISTINCT {_EVENT_A}) FROM agreements a, json_each(a.countries) c"
                " GROUP BY c.value"
            )
        )
        seizures_by_country = []
        for country, records, events, kg in db.execute(
            f"SELECT country, count(*), count(DISTINCT {_EVENT_S}),"
            f" sum(CASE WHEN {_REP_S} THEN total_kg END) FROM seizures s WHERE NOT s.is_total GROUP BY country"
        ):
            seizures_by_country.append(
                CountRow(key=country or "unknown", records=records, events=events, kg=round(kg, 6) if kg is not None else None)
            )
        seizures_by_country.sort(key=lambda row: (-row.records, row.key))
        by_drug_group = [
            DrugGroupRow(group=group or "unrecognised", items=items, seizures=seizures, events=events, kg=round(kg or 0.0, 6))
            for group, items, seizures, events, kg in db.execute(
                "SELECT i.drug_group, count(*), count(DISTINCT s.article_key || '/' || s.record_id),"
                f" count(DISTINCT {_EVENT_S}), sum(CASE WHEN {_REP_S} THEN i.kg END)"
                " FROM seizure_items i JOIN seizures s ON s.article_key = i.article_key AND s.record_id = i.record_id"
                " WHERE NOT s.is_total GROUP BY i.drug_group"
            )
        ]
        by_drug_group.sort(key=lambda row: (-row.items, row.group))
        years: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        year_of = "coalesce(substr({t}.date_iso, 1, 4), substr(ar.published_iso, 1, 4))"
        for year, records, events in db.execute(
            f"SELECT {year_of.format(t='a')}, count(*), count(DISTINCT {_EVENT_A}) FROM agreements a"
            " JOIN articles ar ON ar.key = a.article_key GROUP BY 1"
        ):
            years[year or "unknown"][0:2] = [records, events]
        for year, records, events in db.execute(
            f"SELECT {year_of.format(t='s')}, count(*), count(DISTINCT {_EVENT_S}) FROM seizures s"
            " JOIN articles ar ON ar.key = s.article_key WHERE NOT s.is_total GROUP BY 1"
        ):
            years[year or "unknown"][2:4] = [records, events]
        by_year = [
            YearRow(year=y, agreements=v[0], agreement_events=v[1], seizures=v[2], seizure_events=v[3])
            for y, v in sorted(years.items(), key=lambda kv: (kv[0] == "unknown", kv[0]))
        ]
        agreements_by_status = _count_rows(
            db.execute(f"SELECT status, count(*), count(DISTINCT {_EVENT_A}) FROM agreements a GROUP BY status")
        )
        failures_by_kind = dict(db.execute("SELECT kind, count(*) FROM failures GROUP BY kind ORDER BY 2 DESC, 1"))
    return Stats(
        totals=totals,
        agreements_by_country=agreements_by_country,
        seizures_by_country=seizures_by_country,
        by_drug_group=by_drug_group,
        by_year=by_year,
        agreements_by_status=agreements_by_status,
        failures_by_kind=failures_by_kind,
    )


def _kg(value: float | None) -> str:
    return "" if value is None else f"{value:,.3f}".rstrip("0").rstrip(".")


def _cost(t: Totals) -> str:
    if t.articles and t.unpriced_articles == t.articles:
        return "unknown (no price for the model)"
    text = f"${t.cost_usd:,.4f}"
    return text + (f" ({t.unpriced_articles:,} articles unpriced)" if t.unpriced_articles else "")


def render_stats(stats: Stats) -> list[Table]:
    """The statistics as rich tables: totals, then each breakdown (print them with a Console)."""
    from rich.table import Table

    t = stats.totals
    totals = Table(title="Totals", show_header=False)
    totals.add_column("what")
    totals.add_column("value", justify="right")
    for label, value in (
        ("articles", f"{t.articles:,}"),
        ("failures", f"{t.failures:,}"),
        ("agreements (records / events)", f"{t.agreements:,} / {t.agreement_events:,}"),
        ("seizures (records / events)", f"{t.seizures:,} / {t.seizure_events:,}"),
        ("period totals (not added to seizures)", f"{t.period_totals:,}"),
        ("drug items", f"{t.drug_items:,}"),
        ("rejected records", f"{t.rejected:,}"),
        ("model calls (cached)", f"{t.calls:,} ({t.cached_calls:,})"),
        ("reasks / retries", f"{t.reasks:,} / {t.retries:,}"),
        ("tokens in / out (cached in)", f"{t.input_tokens:,} / {t.output_tokens:,} ({t.cached_input_tokens:,})"),
        ("estimated cost", _cost(t)),
    ):
        totals.add_row(label, value)
    if not t.merge_current:
        totals.caption = "canonical events are out of date: run `llm-extract merge`"
    tables = [totals]

    def counts(title: str, rows: list[CountRow], key: str, kg: bool = False) -> Table:
        table = Table(title=title)
        table.add_column(key)
        table.add_column("records", justify="right")
        table.add_column("events", justify="right")
        if kg:
            table.add_column("kg", justify="right")
        for row in rows:
            cells = [row.key, f"{row.records:,}", f"{row.events:,}"]
            if kg:
                cells.append(_kg(row.kg))
            table.add_row(*cells)
        return table

    tables.append(counts("Agreements by party country", stats.agreements_by_country, "country"))
    tables.append(counts("Seizures by country", stats.seizures_by_country, "country", kg=True))
    drugs = Table(title="Seizures by drug group")
    for name in ("group", "items", "seizures", "events", "kg"):
        drugs.add_column(name, justify="left" if name == "group" else "right")
    for row in stats.by_drug_group:
        drugs.add_row(row.group, f"{row.items:,}", f"{row.seizures:,}", f"{row.events:,}", _kg(row.kg))
    tables.append(drugs)
    years = Table(title="By year (event date, else publication)")
    for name in ("year", "agreements", "agreement events", "seizures", "seizure events"):
        years.add_column(name, justify="left" if name == "year" else "right")
    for y in stats.by_year:
        years.add_row(y.year, f"{y.agreements:,}", f"{y.agreement_events:,}", f"{y.seizures:,}", f"{y.seizure_events:,}")
    tables.append(years)
    tables.append(counts("Agreements by status", stats.agreements_by_status, "status"))
    if stats.failures_by_kind:
        failures = Table(title="Failures by kind")
        failures.add_column("kind")
        failures.add_column("articles", justify="right")
        for kind, n in stats.failures_by_kind.items():
            failures.add_row(kind, f"{n:,}")
        tables.append(failures)
    return tables
