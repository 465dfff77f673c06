"""Batch runs: resume after SIGKILL, no duplicates, inputs, store, cache, cost budget, exports."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ARTICLES, REPLAY
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, start_server

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("corpus")
    synthetic_corpus(60, root / "articles", root / "replay")
    return root / "articles", root / "replay"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def keys(path: Path) -> list[str]:
    return [r["article"]["sha256"] for r in lines(path)]


def test_rerun_resumes_and_force_redoes(tmp_path):
    out = tmp_path / "out"
    first = runner.invoke(app, ["run", str(ARTICLES), "--replay-dir", str(REPLAY), "-o", str(out)])
    assert first.exit_code == 0
    again = runner.invoke(app, ["run", str(ARTICLES), "--replay-dir", str(REPLAY), "-o", str(out)])
    assert again.exit_code == 0 and "skipped (already done)" in again.output
    assert len(keys(out / "records.jsonl")) == 5 == len(set(keys(out / "records.jsonl")))
    forced = runner.invoke(app, ["run", str(ARTICLES), "--replay-dir", str(REPLAY), "-o", str(out), "--force"])
    assert forced.exit_code == 0
    assert len(keys(out / "records.jsonl")) == 5
    db = sqlite3.connect(out / "extract.db")
    assert db.execute("select count(*) from articles").fetchone() == (5,)
    assert db.execute("select count(*) from calls").fetchone() == (12,)  # 6 calls per run, logged twice
    assert db.execute("select count(*) from prompts").fetchone() == (1,)


def test_a_torn_line_is_cut_and_a_missing_line_restored_from_the_store(tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(ARTICLES), "--replay-dir", str(REPLAY), "-o", str(out)]).exit_code == 0
    records = out / "records.jsonl"
    content = records.read_text(encoding="utf-8").splitlines(keepends=True)
    # as if killed: the last line lost, and the one before it half-written
    records.write_text("".join(content[:3]) + content[3][:50], encoding="utf-8")
    result = runner.invoke(app, ["run", str(ARTICLES), "--replay-dir", str(REPLAY), "-o", str(out)])
    assert result.exit_code == 0
    assert sorted(keys(records)) == sorted(json.loads(line)["article"]["sha256"] for line in content)


def test_sigkill_in_the_middle_then_resume(corpus, tmp_path):
    articles, replay = corpus
    out = tmp_path / "out"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-kill"}
    with start_server(ServerConfig(fixtures=replay, latency_ms=60)) as server:
        command = [sys.executable, "-m", "llm_extract", "run", str(articles), "--live", "--base-url", server.base_url,
                   "-o", str(out), "-c", "4", "-q"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                records = out / "records.jsonl"
                if records.exists() and records.read_text(encoding="utf-8").count("\n") >= 10:
                    break
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        done_before = len(keys(out / "records.jsonl"))
        assert 10 <= done_before < 60
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert finished.returncode == 0, finished.stderr
    final = keys(out / "records.jsonl")
    assert len(final) == 60 == len(set(final))
    db = sqlite3.connect(out / "extract.db")
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    assert db.execute("select count(*) from articles").fetchone() == (60,)
    assert db.execute("select count(*) from seizures").fetchone() == (60,)


def test_jsonl_html_and_stdin_inputs(tmp_path):
    text = (ARTICLES / "003_fac0c62c7962788c.txt").read_text(encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "irna-003", "text": text, "url": "https://example.org/3"}) + "\nnot json\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(feed), "--replay-dir", str(REPLAY), "-o", str(out)])
    assert result.exit_code == 1  # the bad line is reported
    (record,) = lines(out / "records.jsonl")
    assert record["article"]["id"] == "irna-003" and record["article"]["url"] == "https://example.org/3"
    (error,) = lines(out / "errors.jsonl")
    assert error["source"] == f"{feed}:2" and error["kind"] == "input"

    stdin_out = tmp_path / "stdin"
    result = runner.invoke(app, ["run", "-", "--replay-dir", str(REPLAY), "-o", str(stdin_out)], input=text)
    assert result.exit_code == 0, result.output
    (record,) = lines(stdin_out / "records.jsonl")
    assert record["article"]["source"] == "<stdin>" and record["seizures"][0]["total_kg"] == 2400.0

    page = tmp_path / "page.html"
    page.write_text("<html><body><article><p>" + "</p><p>".join(text.split("\n\n")) + "</p></article></body></html>", encoding="utf-8")
    html_out = tmp_path / "html"
    result = runner.invoke(app, ["run", str(page), "--replay-dir", str(REPLAY), "-o", str(html_out)])
    assert result.exit_code == 1 and "replay_miss" in result.output  # extracted text differs: not recorded
    assert "llm-extract run" in (html_out / "errors.jsonl").read_text(encoding="utf-8")


def test_force_in_live_mode_is_answered_from_the_cache(corpus, tmp_path):
    articles, replay = corpus
    subset = tmp_path / "in"
    subset.mkdir()
    for path in sorted(articles.glob("*.txt"))[:5]:
        (subset / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    env = {"OPENAI_API_KEY": "sk-test-cache"}
    with start_server(ServerConfig(fixtures=replay)) as server:
        args = ["run", str(subset), "--live", "--base-url", server.base_url, "-o", str(out)]
        assert runner.invoke(app, args, env=env).exit_code == 0
        before = server.stats()["requests"]
        again = runner.invoke(app, [*args, "--force"], env=env)
        assert again.exit_code == 0
        assert server.stats()["requests"] == before  # nothing sent: every call answered from the calls log
    assert "answered from cache" in again.output
    run = lines(out / "records.jsonl")[0]["run"]
    assert run["cached_calls"] == 1 and run["usage"]["input_tokens"] == 0 and run["cost_usd"] == 0


def test_max_cost_does_not_stop_a_replay_run(corpus, tmp_path):
    # replayed answers are not paid: the budget counts live and --record spending only
    # (the live case: tests/test_first_hour.py::test_max_cost_stops_a_live_run_and_the_next_run_continues)
    articles, replay = corpus
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(articles), "--replay-dir", str(replay), "-o", str(out), "-c", "2", "--max-cost", "0.002"])
    assert result.exit_code == 0 and "stopped early" not in result.output
    assert len(keys(out / "records.jsonl")) == 60


def test_cross_article_merge_export_and_stats(tmp_path):
    out = tmp_path / "out"
    articles = tmp_path / "in"
    articles.mkdir()
    for path in ARTICLES.glob("*.txt"):
        (articles / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert runner.invoke(app, ["run", str(articles), "--replay-dir", str(REPLAY), "-o", str(out)]).exit_code == 0
    merged = runner.invoke(app, ["merge", str(out)])
    assert merged.exit_code == 0 and "15 distinct events" in merged.output  # no two seed records are the same event

    exported = runner.invoke(app, ["export", str(out), "--format", "csv"])
    assert exported.exit_code == 0
    import csv

    with (out / "export" / "seizures.csv").open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["drug_name"], row["kg"], row["country"], row["date_iso"]) == ("methamphetamine", "2400.0", "IRN", "2024-09-10")
    assert runner.invoke(app, ["export", str(out), "--format", "jsonl"]).exit_code == 0
    assert (out / "export" / "agreements.jsonl").read_text(encoding="utf-8").count("\n") == 14

    shown = runner.invoke(app, ["stats", str(out)])
    assert shown.exit_code == 0 and "IRN" in shown.output and "ats" in shown.output
    missing = runner.invoke(app, ["stats", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no store" in " ".join(missing.output.split())


def test_one_worker_loop_extracts_each_article_once_and_records_every_outcome(tmp_path: Path) -> None:
    """`process`, the loop under `run` and Batch API collect: every item counted, each article
    extracted once (a duplicate in flight or done is skipped), results to the store then
    records.jsonl, failures (before or during extraction) to the store and errors.jsonl."""
    import asyncio

    from llm_extract import Extractor
    from llm_extract.core.articles import Article, read_article
    from llm_extract.core.results import ArticleResult, CallRecord
    from llm_extract.errors import BatchError
    from llm_extract.runs.runner import Failed, RunSink, Skipped, Waiting, Worker, failure_of, list_price, process
    from llm_extract.runs.store import EventStore

    out = tmp_path / "out"
    out.mkdir()
    extractor = Extractor(mode="replay", replay_dir=REPLAY)
    first, second, third = (read_article(p) for p in sorted(ARTICLES.glob("*.txt"))[:3])
    unrecorded = Article.from_text("Nothing was recorded for this article about a seizure.", source="unrecorded")
    committed: list[str] = []

    class Tracking(Worker[Article]):
        def committed(self, item: Article, result: ArticleResult, calls: list[CallRecord]) -> None:
            assert item.sha256 in sink.done and calls  # in the store already, with its calls
            committed.append(item.sha256)

    store = EventStore(out / "extract.db", tables=extractor.task.tables, task=extractor.task.name)
    sink = RunSink(store, out, extractor.task, cost=list_price(extractor))
    not_answered = Failed(failure_of(second, BatchError("not answered")))
    items: list[Article | Skipped | Waiting | Failed] = [first, first, Skipped(), Waiting(), not_answered, third, unrecorded]

    async def main() -> None:
        try:
            await process(items, Tracking(extractor), sink, concurrency=3)
        finally:
            await extractor.aclose()

    try:
        asyncio.run(main())
        sink.close()
        summary = sink.summary
        assert (summary.articles, summary.extracted, summary.skipped, summary.failed) == (7, 2, 2, 2)
        assert sorted(committed) == sorted([first.sha256, third.sha256]) and sink.replaced == 0
        assert sorted(f.kind for f in summary.failures) == ["batch", "replay_miss"]
        assert sorted(keys(out / "records.jsonl")) == sorted(committed)
        assert sorted(e["kind"] for e in lines(out / "errors.jsonl")) == ["batch", "replay_miss"]
        assert store.done_keys() == set(committed)
        db = sqlite3.connect(out / "extract.db")
        assert db.execute("select count(*) from failures").fetchone() == (2,)
    finally:
        store.close()


@pytest.mark.parametrize("swallow", ["as_error", "as_result"])
def test_a_cancellation_a_library_swallows_still_stops_the_loop(tmp_path: Path, swallow: str) -> None:
    """Ctrl-C cancels the run; a library that turns the cancellation into its own error (or
    returns as if nothing happened) must not make the loop record a failure or take the next
    article: it stops, what finished is kept, the rest is left for the rerun."""
    import asyncio

    from llm_extract import Extractor
    from llm_extract.core.articles import Article, read_article
    from llm_extract.core.results import ArticleResult, CallRecord
    from llm_extract.errors import TransportError
    from llm_extract.runs.runner import RunSink, Worker, list_price, process
    from llm_extract.runs.store import EventStore
    from llm_extract.testing import synthetic_corpus

    synthetic_corpus(12, tmp_path / "articles", tmp_path / "replay")
    out = tmp_path / "out"
    out.mkdir()
    extractor = Extractor(mode="replay", replay_dir=tmp_path / "replay")
    items = [read_article(p) for p in sorted((tmp_path / "articles").glob("*.txt"))]
    started: list[str] = []
    swallowed: list[str] = []

    class Swallowing(Worker[Article]):
        async def extract(self, item: Article, calls: list[CallRecord]) -> ArticleResult:
            started.append(item.source)
            result = await super().extract(item, calls)
            if len(started) == 3:  # the third article's call "hangs" until cancelled
                try:
                    await asyncio.sleep(30)
                except asyncio.CancelledError:
                    swallowed.append(item.source)
                    if swallow == "as_error":
                        raise TransportError(f"{item.source}: connection closed", article=item.source) from None
            return result

    store = EventStore(out / "extract.db", tables=extractor.task.tables, task=extractor.task.name)
    sink = RunSink(store, out, extractor.task, cost=list_price(extractor))

    async def main() -> None:
        run = asyncio.ensure_future(process(items, Swallowing(extractor), sink, concurrency=1))
        while len(started) < 3:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        run.cancel()
        try:
            with pytest.raises(asyncio.CancelledError):
                await run
        finally:
            await extractor.aclose()

    try:
        asyncio.run(main())
        sink.close()
        assert len(swallowed) == 1 and len(started) == 3  # the loop took no article after the cancel
        assert sink.summary.failed == 0 and not (out / "errors.jsonl").read_text(encoding="utf-8")
        # what finished is kept: the two before, and the third when its result came back whole
        assert len(keys(out / "records.jsonl")) == (3 if swallow == "as_result" else 2)
    finally:
        store.close()
