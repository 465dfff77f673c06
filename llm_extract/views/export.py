"""Flat tables for spreadsheets: the writer, the engine's tables, and the task's.

`export(store, out_dir, "csv")` writes one file per table: the task's tables
(`TaskViews.export_tables`: for the built-in task agreements, seizures, canonical events,
articles, failures and rejected records), or, for a task that gives none, the engine's own:

==================== =========================================================================
`articles`           one row per extracted article: ids, source, model, calls, tokens, cost
`results`            one row per article: its id and the task's whole result as JSON
`failures`           articles that could not be extracted, with the reason
==================== =========================================================================

CSV files are UTF-8 without a byte-order mark, comma-separated, every field that needs it
quoted (RFC 4180: commas, quotes and line breaks inside evidence survive a round trip
through any CSV reader). Lists inside a cell are joined with ";" (or the column's
separator). Empty cells are null values; booleans are `true` / `false`. `excel_bom=True`
adds a UTF-8 byte-order mark so that a double-click opens the file right in Excel;
`escape_formulas=True` prefixes a `'` to text starting with `=`, `+`, `-`, `@` (an article
is untrusted input; a spreadsheet must not run it). `"jsonl"` writes the same rows as JSON
objects, one per line, lists kept as lists. Files are written under a temporary name and
renamed when complete.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from llm_extract.core.task import Task
    from llm_extract.runs.store import EventStore

__all__ = [
    "ARTICLE_COLUMNS",
    "FAILURE_COLUMNS",
    "Column",
    "Format",
    "columns",
    "export",
    "failure_rows",
    "generic_tables",
    "query_rows",
    "write_tables",
]

Format = Literal["csv", "jsonl"]


@dataclass(frozen=True)
class Column:
    """One column of an exported table; `sep` joins a list value in CSV."""

    name: str
    sep: str | None = None


def columns(*names: str, lists: dict[str, str] | None = None) -> tuple[Column, ...]:
    """Columns by name; `lists` gives the CSV separator of list-valued columns."""
    lists = lists or {}
    return tuple(Column(n, lists.get(n)) for n in names)


ARTICLE_COLUMNS = columns(
    "article_id", "article_key", "source", "title", "chars", "published", "chunks", "task", "model", "mode",
    "prompt_version", "calls", "reasks", "retries", "cached_calls", "input_tokens", "output_tokens",
    "cached_input_tokens", "cost_usd", "latency_s", "extracted_at",
)  # fmt: skip
RESULT_COLUMNS = columns("article_id", "article_key", "result")
FAILURE_COLUMNS = columns("article_id", "article_key", "source", "kind", "message", "attempts", "last_output", "at")


def query_rows(store: EventStore, sql: str, names: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The rows of a query as dicts (read in one snapshot)."""
    keys = list(names)
    with store.snapshot() as db:
        rows = db.execute(sql).fetchall()
    for row in rows:
        yield dict(zip(keys, row, strict=True))


def failure_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    sql = "SELECT article_id, article_key, source, kind, message, attempts, last_output, at FROM failures ORDER BY id"
    return query_rows(store, sql, (c.name for c in FAILURE_COLUMNS))


def _generic_article_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    sql = (
        "SELECT id, key, source, title, chars, published, chunks, task, model, mode, prompt_version, calls, reasks,"
        " retries, cached_calls, input_tokens, output_tokens, cached_input_tokens, cost_usd, latency_s, extracted_at"
        " FROM articles ORDER BY seq"
    )
    return query_rows(store, sql, (c.name for c in ARTICLE_COLUMNS))


def _result_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    for row in query_rows(store, "SELECT id, key, result_json FROM articles ORDER BY seq", ("id", "key", "json")):
        yield {"article_id": row["id"], "article_key": row["key"], "result": json.loads(row["json"])}


def generic_tables(store: EventStore) -> dict[str, tuple[tuple[Column, ...], Iterable[dict[str, Any]]]]:
    """The engine's tables (articles, results, failures): what a task without tables of its
    own exports, and what a task's `export_tables` may add to its own."""
    return {
        "articles": (ARTICLE_COLUMNS, _generic_article_rows(store)),
        "results": (RESULT_COLUMNS, _result_rows(store)),
        "failures": (FAILURE_COLUMNS, failure_rows(store)),
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any, column: Column, escape_formulas: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = (column.sep or ";").join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if escape_formulas and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write(
    path: Path, cols: tuple[Column, ...], rows: Iterable[Mapping[str, Any]], fmt: Format, *, excel_bom: bool,
    escape_formulas: bool,
) -> int:  # fmt: skip
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    encoding = "utf-8-sig" if excel_bom and fmt == "csv" else "utf-8"
    with tmp.open("w", encoding=encoding, newline="") as fh:
        if fmt == "csv":
            writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            writer.writerow([c.name for c in cols])
            for row in rows:
                writer.writerow([_cell(row.get(c.name), c, escape_formulas) for c in cols])
                n += 1
        else:
            for row in rows:
                fh.write(json.dumps({c.name: row.get(c.name) for c in cols}, ensure_ascii=False) + "\n")
                n += 1
    os.replace(tmp, path)
    return n


def write_tables(
    tables: Mapping[str, tuple[tuple[Column, ...], Iterable[Mapping[str, Any]]]],
    out_dir: Path,
    fmt: Format = "csv",
    *,
    excel_bom: bool = False,
    escape_formulas: bool = False,
) -> list[Path]:
    """Write each table to `out_dir/<name>.<fmt>`; return the paths, in the tables' order."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}: csv or jsonl")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (cols, rows) in tables.items():
        path = out_dir / f"{name}.{fmt}"
        _write(path, tuple(cols), rows, fmt, excel_bom=excel_bom, escape_formulas=escape_formulas)
        paths.append(path)
    return paths


def export(
    store: EventStore,
    out_dir: Path,
    fmt: Format = "csv",
    *,
    task: Task[Any, Any] | None = None,
    excel_bom: bool = False,
    escape_formulas: bool = False,
) -> list[Path]:
    """Write the flat tables of `store` to `out_dir` as `<table>.csv` or `.jsonl`.

    `task` defaults to the one that wrote the store. Returns the paths written, in order.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}: csv or jsonl")
    if task is None:
        from llm_extract.core.registry import load_task

        task = load_task(store.task)
    hook = task.view("export_tables")
    tables = hook(store) if hook is not None else generic_tables(store)
    return write_tables(tables, out_dir, fmt, excel_bom=excel_bom, escape_formulas=escape_formulas)
