"""The SQLite event store: schema, migrations, one transaction per article, calls log, crash safety."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import AT, ROOT

from llm_extract import ArticleExtraction
from llm_extract.core.results import ArticleInfo, CallRecord, Failure
from llm_extract.runs.store import MIGRATIONS, EventStore, StoreError, redact_secrets
from llm_extract.tasks.security_events.tables import MIGRATIONS as TASK_MIGRATIONS
from llm_extract.tasks.security_events.tables import SecurityEventsTables


@pytest.fixture
def store(tmp_path: Path):
    with EventStore(tmp_path / "extract.db") as s:
        yield s


def _renamed(result: ArticleExtraction, tag: str) -> ArticleExtraction:
    """The same result for another article (another text, so another sha256)."""
    sha = hashlib.sha256(f"{result.article.sha256}:{tag}".encode()).hexdigest()
    info = result.article.model_copy(update={"sha256": sha, "id": sha[:16], "source": f"{tag}.txt"})
    return result.model_copy(update={"article": info}, deep=True)


def _call(key: str, *, hash_: str = "h1", outcome: str = "ok", response: dict | None = None, **extra) -> CallRecord:
    return CallRecord(
        article_sha256=key,
        model="gpt-4o-mini",
        prompt_version="v1",
        turn=1,
        attempt=1,
        kind="first",
        outcome=outcome,
        status_code=200 if outcome == "ok" else 429,
        input_tokens=100,
        output_tokens=20,
        request_hash=hash_,
        request={"model": "gpt-4o-mini", "messages": [{"role": "system", "content": {"$prompt": "v1"}}]},
        response=response,
        **extra,
    )


# -- schema and migrations ---------------------------------------------------------------------
def test_new_store_has_every_table_wal_and_recorded_migrations(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "extract.db", tables=SecurityEventsTables(), task="security_events")
    db = store.connection
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "articles", "agreements", "agreement_parties", "officials", "seizures", "seizure_items", "spans",
        "rejected", "failures", "prompts", "calls", "canonical_events", "event_mentions", "meta", "migrations",
    } <= tables  # fmt: skip
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    rows = db.execute("SELECT component, version, name, applied_at FROM migrations ORDER BY component, version").fetchall()
    core = [r[1] for r in rows if r[0] == "core"]
    task = [r[1] for r in rows if r[0] == "security_events"]
    assert core == [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert task == [m.version for m in TASK_MIGRATIONS]
    assert all(r[2] and r[3] for r in rows)
    assert store.schema_version == 4
    assert store.schema_versions() == {"core": 4, "security_events": 4}
    assert store.task == "security_events"


def _legacy_store(path: Path) -> None:
    """A store as llm_extract 0.1 wrote it after its migration 1: one migration list for everything."""
    db = sqlite3.connect(path, isolation_level=None)
    for script in (MIGRATIONS[0].sql, TASK_MIGRATIONS[0].sql):
        db.executescript(script)
    db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    db.execute("INSERT INTO migrations VALUES (1, 'base tables: articles, records, spans, failures, prompts, calls log', ?)", (AT,))
    db.close()


def test_an_old_single_list_v1_store_opens_with_the_current_code(tmp_path: Path, seeds) -> None:
    path = tmp_path / "old.db"
    _legacy_store(path)
    with sqlite3.connect(path) as old:
        assert "cached_calls" not in {r[1] for r in old.execute("PRAGMA table_info(articles)")}
        old.execute(
            "INSERT INTO articles (key, id, source, chars, task, model, prompt_version, mode, calls, reasks,"
            " retries, input_tokens, output_tokens, cached_input_tokens, latency_s, extracted_at, result_json)"
            " VALUES ('k-old', 'old', 'old.txt', 10, 'security_events', 'm', 'p', 'replay', 1, 0, 0, 5, 5, 0,"
            " 0.1, ?, '{}')",
            (AT,),
        )
    with EventStore(path) as new:  # adopts the old list, then applies what it lacks, for engine and task
        assert new.schema_versions() == {"core": 4, "security_events": 4}
        assert new.task == "security_events"
        assert new.done_keys() == {"k-old"}
        assert new.connection.execute("SELECT cached_calls FROM articles WHERE key = 'k-old'").fetchone() == (0,)
        new.add_result(seeds["003"], extracted_at=AT)  # the new code writes into the migrated store
        assert new.done_keys() == {"k-old", seeds["003"].article.sha256}
        assert new.connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with EventStore(path) as again:  # nothing applied twice
        count = again.connection.execute("SELECT count(*) FROM migrations").fetchone()[0]
        assert count == len(MIGRATIONS) + len(TASK_MIGRATIONS)


def test_a_store_written_by_v4_of_the_single_list_is_adopted_and_migrated(tmp_path: Path, seeds) -> None:
    from llm_extract.runs.migrations import apply_migrations

    path = tmp_path / "v4.db"
    db = sqlite3.connect(path, isolation_level=None)  # what 0.1's version 4 had: engine 1-4, task 1-3
    apply_migrations(db)
    apply_migrations(db, migrations=TASK_MIGRATIONS, upto=3)
    db.execute("DROP TABLE migrations")
    db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for v in (1, 2, 3, 4):
        db.execute("INSERT INTO migrations VALUES (?, 'old', ?)", (v, AT))
    db.close()
    with EventStore(path) as s:
        assert s.schema_versions() == {"core": 4, "security_events": 4}
        s.add_result(seeds["003"], extracted_at=AT)
        assert s.connection.execute("SELECT count(*) FROM value_spans").fetchone()[0] > 0


@pytest.mark.parametrize("component", ["core", "security_events"])
def test_a_store_newer_than_the_code_is_refused(tmp_path: Path, seeds, component: str) -> None:
    path = tmp_path / "future.db"
    with EventStore(path) as s:
        s.add_result(seeds["003"], extracted_at=AT)
        s.connection.execute("INSERT INTO migrations VALUES (?, 99, 'from the future', ?)", (component, AT))
    with pytest.raises(StoreError, match="newer") as caught:
        EventStore(path)
    assert component in str(caught.value)


def test_create_false_refuses_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store"):
        EventStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


# -- results ---------------------------------------------------------------------------------------
def test_results_are_stored_normalised_and_re_emitted_exactly(store: EventStore, seeds) -> None:
    for result in seeds.values():
        store.add_result(result, extracted_at=AT)
    counts = store.counts()
    results = list(seeds.values())
    assert counts["articles"] == 5
    assert counts["agreements"] == sum(len(r.agreements) for r in results) == 14
    assert counts["agreement_parties"] == sum(len(a.parties) for r in results for a in r.agreements)
    assert counts["officials"] == sum(len(a.officials) for r in results for a in r.agreements)
    assert counts["seizures"] == 1 and counts["seizure_items"] == 1
    assert counts["spans"] == sum(len(x.spans) for r in results for x in [*r.agreements, *r.seizures])
    assert store.done_keys() == {r.article.sha256 for r in results}
    for r in results:
        assert store.result_json(r.article.sha256) == r.model_dump_json()
        assert ArticleExtraction.model_validate_json(store.result_json(r.article.sha256)) == r
    assert [json.loads(t)["article"]["sha256"] for t in store.iter_results()] == [r.article.sha256 for r in results]
    assert store.result_json("nope") is None

    db = store.connection
    key = seeds["000"].article.sha256
    mou = db.execute(
        "SELECT instrument_type, status, date, date_iso, date_precision, is_background, countries"
        " FROM agreements WHERE article_key = ? AND date_iso = '2010-12'",
        (key,),
    ).fetchone()
    assert mou == ("mou", "signed", "In December 2010", "2010-12", "month", 1, '["IRN","RUS"]')
    seizure = db.execute(
        "SELECT s.country, s.total_kg, s.date_iso, i.drug, i.drug_name, i.drug_group, i.kg, i.unit_kind"
        " FROM seizures s JOIN seizure_items i USING (article_key, record_id)"
    ).fetchone()
    assert seizure == ("IRN", 2400.0, "2024-09-10", "methamphetamine", "methamphetamine", "ats", 2400.0, "mass")
    spans = db.execute(
        "SELECT ordinal, char_start, char_end FROM spans WHERE record_kind = 'seizure' ORDER BY ordinal"
    ).fetchall()
    assert [s[0] for s in spans] == [0, 1] and spans[0][1:] == (3145, 3238)
    article = db.execute(
        "SELECT id, published_iso, published_source, calls, reasks, input_tokens, status FROM articles WHERE key = ?",
        (seeds["003"].article.sha256,),
    ).fetchone()
    run = seeds["003"].run
    assert article == ("6b19569f743a790d", "2025-01-12", "dateline", run.calls, run.reasks, run.usage.input_tokens, "ok")


def test_re_extraction_replaces_every_row_of_the_article(store: EventStore, seeds) -> None:
    first, second = seeds["000"], seeds["003"]
    store.add_result(first, extracted_at=AT)
    store.add_result(second, extracted_at=AT)
    before = store.counts()
    store.add_result(first, extracted_at=AT)  # --force: the same article again
    assert store.counts() == before
    smaller = first.model_copy(update={"agreements": first.agreements[:1]}, deep=True)
    store.add_result(smaller, extracted_at=AT)
    db = store.connection
    key = first.article.sha256
    assert db.execute("SELECT count(*) FROM agreements WHERE article_key = ?", (key,)).fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM agreement_parties WHERE article_key = ?", (key,)).fetchone() == (2,)
    assert db.execute("SELECT count(*) FROM spans WHERE article_key = ?", (key,)).fetchone() == (1,)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # a re-extracted article moves to the end of the insertion order
    assert [json.loads(t)["article"]["sha256"] for t in store.iter_results()] == [second.article.sha256, key]


def test_failures_are_replaced_and_cleared_by_a_later_success(store: EventStore, seeds) -> None:
    result = seeds["002"]
    failure = Failure(article=result.article, source=result.article.source, kind="transport", message="429", attempts=5)
    store.add_failure(failure, at=AT)
    store.add_failure(failure.model_copy(update={"message": "500"}), at=AT)
    assert store.connection.execute("SELECT message FROM failures").fetchall() == [("500",)]
    unreadable = Failure(source="bad.bin", kind="input", message="binary")
    store.add_failure(unreadable, at=AT)
    store.add_failure(unreadable, at=AT)
    assert store.counts()["failures"] == 2
    store.add_result(result, extracted_at=AT)
    assert store.connection.execute("SELECT source FROM failures").fetchall() == [("bad.bin",)]
    # a failed --force rerun keeps the earlier result
    store.add_failure(failure, at=AT)
    assert result.article.sha256 in store.done_keys()


# -- calls log, response cache, prompts ------------------------------------------------------------
def test_calls_log_and_response_cache(store: EventStore, seeds) -> None:
    result = seeds["003"]
    key = result.article.sha256
    body = {"choices": [{"message": {"role": "assistant", "tool_calls": [{"function": {"arguments": "{\"a\": 1}"}}]}}]}
    newer = {"choices": [{"message": {"role": "assistant", "content": "second"}}]}
    calls = [
        _call(key, hash_="h1", outcome="rate_limit", error="429 Too Many Requests"),
        _call(key, hash_="h1", response=body),
        _call(key, hash_="h2", outcome="server_error"),
    ]
    store.add_result(result, calls=calls, extracted_at=AT)
    assert store.counts()["calls"] == 3
    assert store.cached_response("h1") == body
    assert store.cached_response("h2") is None  # only failures logged for it
    assert store.cached_response("unknown") is None
    store.add_calls([_call(key, hash_="h1", response=newer, outcome="ok (cached)")], at=AT)
    assert store.cached_response("h1") == newer  # the latest
    row = store.connection.execute(
        "SELECT kind, outcome, input_tokens, response_text, at FROM calls WHERE request_hash = 'h1' ORDER BY id"
    ).fetchall()
    assert row[1] == ("first", "ok", 100, '{"a": 1}', AT)
    assert row[2][3] == "second"
    # the log is history: re-extracting the article keeps it
    store.add_result(result, extracted_at=AT)
    assert store.counts()["calls"] == 4


def test_failed_calls_are_logged_with_the_failure(store: EventStore) -> None:
    info = ArticleInfo(id="x", source="x.txt", sha256="f" * 64, chars=3)
    store.add_failure(
        Failure(article=info, source="x.txt", kind="transport", message="gave up"),
        calls=[_call("f" * 64, outcome="timeout")],
        at=AT,
    )
    assert store.connection.execute("SELECT outcome, at FROM calls").fetchall() == [("timeout", AT)]


def test_nothing_that_looks_like_a_key_is_stored(store: EventStore) -> None:
    secret = "sk-proj-ABCDEFGHIJKLMNOPQRSTUV0123"
    call = _call(
        "a" * 64,
        response={"echo": f"Authorization: Bearer {secret}"},
        error=f"401: invalid key {secret}",
    )
    call.request["note"] = "Bearer abcdefghijklmnop"
    store.add_calls([call], at=AT)
    dump = "\n".join(store.connection.iterdump())
    assert secret not in dump and "abcdefghijklmnop" not in dump
    assert "<redacted>" in dump
    assert redact_secrets("Minsk-based agency; task-force") == "Minsk-based agency; task-force"


def test_prompts_are_stored_once(store: EventStore) -> None:
    store.save_prompt("v1", "You extract.")
    store.save_prompt("v1", "You extract.")
    store.save_prompt("v2", "You extract better.")
    assert store.counts()["prompts"] == 2
    assert store.prompt("v1") == "You extract." and store.prompt("v3") is None


# -- speed, threads, crashes -----------------------------------------------------------------------------
def test_inserting_an_article_is_fast(store: EventStore, seeds) -> None:
    results = [_renamed(r, f"copy{i}") for i in range(40) for r in seeds.values()]
    started = time.perf_counter()
    for result in results:
        store.add_result(result, extracted_at=AT)
    per_article = (time.perf_counter() - started) / len(results)
    assert per_article < 0.005, f"{per_article * 1000:.2f} ms per article"
    assert store.counts()["articles"] == 200


def test_threads_can_share_a_store(store: EventStore, seeds) -> None:
    results = [_renamed(r, f"t{i}") for i in range(10) for r in seeds.values()]

    def add(chunk: list[ArticleExtraction]) -> None:
        for r in chunk:
            store.add_result(r, extracted_at=AT)
            store.cached_response("h")

    threads = [threading.Thread(target=add, args=(results[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.counts()["articles"] == 50


_WRITER = """
import hashlib, sys
from pathlib import Path
from llm_extract import ArticleExtraction
from llm_extract.runs.store import EventStore

seeds = [ArticleExtraction.model_validate_json(line) for line in Path(sys.argv[2]).read_text().splitlines()]
store = EventStore(Path(sys.argv[1]))
n = 0
while True:
    for result in seeds:
        sha = hashlib.sha256(f"{result.article.sha256}:{n}".encode()).hexdigest()
        info = result.article.model_copy(update={"sha256": sha, "id": sha[:16]})
        store.add_result(result.model_copy(update={"article": info}), extracted_at="t")
        n += 1
        if n == 50:
            print("ready", flush=True)
"""


def test_a_writer_killed_with_sigkill_leaves_a_consistent_store(tmp_path: Path, seeds) -> None:
    lines = tmp_path / "seeds.jsonl"
    lines.write_text("\n".join(r.model_dump_json() for r in seeds.values()), encoding="utf-8")
    path = tmp_path / "extract.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(lines)], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.2)  # in the middle of writing
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with EventStore(path) as store:
        db = store.connection
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        n = store.counts()["articles"]
        assert n >= 50
        # every article is whole: its rows match its stored result
        for key, n_agreements, n_seizures, text in db.execute(
            "SELECT key, n_agreements, n_seizures, result_json FROM articles"
        ).fetchall():
            result = json.loads(text)
            assert result["article"]["sha256"] == key
            assert db.execute("SELECT count(*) FROM agreements WHERE article_key = ?", (key,)).fetchone()[0] == n_agreements
            assert db.execute("SELECT count(*) FROM seizures WHERE article_key = ?", (key,)).fetchone()[0] == n_seizures
            assert n_agreements == len(result["agreements"])


def test_the_schema_is_plain_sqlite(tmp_path: Path, seeds) -> None:
    """An analyst can query the store with the sqlite3 module alone."""
    path = tmp_path / "extract.db"
    with EventStore(path) as store:
        for r in seeds.values():
            store.add_result(r, extracted_at=AT)
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT p.iso3, count(DISTINCT a.article_key || a.record_id) FROM agreements a"
            " JOIN agreement_parties p USING (article_key, record_id) WHERE p.iso3 IS NOT NULL"
            " GROUP BY p.iso3 ORDER BY 2 DESC, 1"
        ).fetchall()
    assert rows[0] == ("IRN", 14) and ("RUS", 6) in rows


def test_the_article_text_is_kept_beside_its_result(tmp_path: Path, seeds) -> None:
    text = "An article text, with spans into it."
    with EventStore(tmp_path / "t.db") as store:
        store.add_result(seeds["003"], extracted_at=AT, text=text)
        assert store.article_text(seeds["003"].article.sha256) == text
        store.add_result(seeds["003"], extracted_at=AT, text=text + " Again.")  # --force replaces it
        assert store.article_text(seeds["003"].article.sha256) == text + " Again."
        assert store.article_text("missing") is None
