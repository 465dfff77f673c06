"""The OpenAI Batch API path, offline over real HTTP: submit → status → collect (→ resubmit).

The local server (`llm_extract.server`) runs the Files and Batches endpoints over the seed
recordings; batches complete after `batch_delay_s`, and can fail requests, answer with
bodies that violate the schema, or expire. Collected records are compared with a live run's
against the same recordings.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from helpers import ARTICLES, REPLAY, completion, seed

from llm_extract.core.articles import Article, iter_articles, read_article
from llm_extract.core.pipeline import Extractor
from llm_extract.model.replay import request_hash
from llm_extract.runs import batch_api
from llm_extract.runs.batch_api import BatchError, collect, resubmit, status, submit
from llm_extract.runs.runner import run_batch
from llm_extract.settings import ExtractorSettings
from llm_extract.testing import synthetic_article
from llm_extract.testing.server import ServerConfig, ServerHandle, parse_multipart, start_server

DELAY = 0.2


def settings(**overrides: Any) -> ExtractorSettings:
    values = {"retry_initial_wait_s": 0, "retry_max_wait_s": 0, "retry_after_max_s": 0.05, "timeout_s": 10}
    return ExtractorSettings.resolve({**values, **overrides}, environ={})


def extractor(url: str, transport: httpx2.AsyncBaseTransport | None = None, **overrides: Any) -> Extractor[Any]:
    return Extractor(settings=settings(**overrides), mode="live", base_url=url, api_key="sk-test", transport=transport)


def records(out: Path) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    by_sha = {r["article"]["sha256"]: r for r in lines}
    assert len(by_sha) == len(lines), "records.jsonl holds an article twice"
    return by_sha


def without_run(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its run metadata (and its source path: tests copy seeds elsewhere)."""
    article = {k: v for k, v in record["article"].items() if k != "source"}
    return {**{k: v for k, v in record.items() if k != "run"}, "article": article}


def chat_requests(server: ServerHandle) -> int:
    return int(server.stats()["endpoints"].get("chat/completions", 0))


def wait_finished(out: Path, ex: Extractor[Any], timeout: float = 10.0) -> list[batch_api.JobStatus]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = status(out, extractor=ex)
        if all(j.status in batch_api.TERMINAL for j in jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.05)


@pytest.fixture
def server() -> Iterator[ServerHandle]:
    with start_server(ServerConfig(fixtures=REPLAY, batch_delay_s=DELAY)) as handle:
        yield handle


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The seeds extracted live (one call at a time through the server), by sha256."""
    out = tmp_path_factory.mktemp("live")
    with start_server(ServerConfig(fixtures=REPLAY)) as handle:
        summary = asyncio.run(run_batch(extractor(handle.base_url), iter_articles([ARTICLES]), out))
    assert summary.extracted == 5
    return records(out)


def seeds(tmp_path: Path, *prefixes: str) -> Path:
    """A directory with a copy of some seed articles."""
    folder = tmp_path / "in"
    folder.mkdir()
    for prefix in prefixes:
        path = seed(prefix)
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


# -- the whole flow -----------------------------------------------------------------------------------


def test_submit_status_collect_gives_the_live_records(server: ServerHandle, live, tmp_path: Path) -> None:
    server.reset(batch={"batch_delay_s": 1.0})  # time to see the job in progress, even on a slow machine
    out = tmp_path / "out"
    ex = extractor(server.base_url)
    summary = submit([ARTICLES], out, extractor=ex)
    assert (summary.submitted, summary.requests, len(summary.jobs)) == (5, 5, 1)
    assert server.stats()["batches"]["created"] == 1 and chat_requests(server) == 0

    state = json.loads((out / "batch_jobs.json").read_text(encoding="utf-8"))
    (part,) = state["parts"]
    (job,) = part["jobs"]
    assert job["batch_id"] == summary.jobs[0] and job["input_file_id"].startswith("file-")
    assert state["base_url"] == server.base_url and "sk-test" not in json.dumps(state)
    uploaded = openai.OpenAI(base_url=server.base_url, api_key="sk-test").files.content(job["input_file_id"]).content
    assert uploaded == (out / job["input"]).read_bytes()

    # every request is, byte for byte, the first request the live path sends (as recorded)
    lines = [json.loads(line) for line in uploaded.splitlines()]
    recorded = {
        json.loads(p.read_text(encoding="utf-8"))["interactions"][0]["request_hash"] for p in REPLAY.glob("*.json")
    }
    assert {request_hash("chat/completions", line["body"]) for line in lines} == recorded
    assert all(line["method"] == "POST" and line["url"] == "/v1/chat/completions" for line in lines)
    assert set(lines[0]["body"]) == {"model", "messages", "tools", "tool_choice", "temperature", "max_tokens"}
    ids = {line["custom_id"] for line in lines}
    assert ids == {read_article(p).id for p in ARTICLES.glob("*.txt")}
    mapping = [json.loads(line) for line in (out / part["map"]).read_text(encoding="utf-8").splitlines()]
    assert {m["requests"][0]["custom_id"]: m["sha256"] for m in mapping} == {
        read_article(p).id: read_article(p).sha256 for p in ARTICLES.glob("*.txt")
    }

    (progress,) = status(out, extractor=ex)
    assert progress.status in ("validating", "in_progress") and progress.total == 5
    early = collect(out, extractor=ex)
    assert early.pending == 5 and early.batch.extracted == 0 and not (out / "records.jsonl").read_text()

    (finished,) = wait_finished(out, ex)
    assert (finished.status, finished.completed, finished.failed, finished.total) == ("completed", 5, 0, 5)
    assert finished.output_file_id and finished.error_file_id is None
    assert finished.expires_at is not None and finished.created_at is not None
    assert finished.expires_at - finished.created_at == 24 * 3600

    result = collect(out, extractor=ex)
    assert (result.batch.extracted, result.batch.failed, result.pending) == (5, 0, 0)
    assert result.batch.canonical_events == 15
    # seed 003's recorded first answer writes the quantity "2,400": invalid, so collect re-asks
    # live with the error, and the recorded reask answers, exactly as in the live run
    assert (result.invalid_answers, result.live_fallbacks, result.live_calls) == (1, 1, 1)
    assert chat_requests(server) == 1
    got = records(out)
    assert set(got) == set(live)
    for sha, record in got.items():
        assert without_run(record) == without_run(live[sha])
        run, live_run = record["run"], live[sha]["run"]
        assert run["mode"] == batch_api.RUN_MODE
        assert (run["calls"], run["reasks"], run["usage"]) == (live_run["calls"], live_run["reasks"], live_run["usage"])
    seed3 = read_article(seed("003")).sha256
    assert (got[seed3]["run"]["calls"], got[seed3]["run"]["reasks"]) == (2, 1)

    # half price for what the batch answered, full price for the live reask
    for sha, record in got.items():
        if sha != seed3:
            assert record["run"]["cost_usd"] == pytest.approx(live[sha]["run"]["cost_usd"] / 2, abs=1e-8)
    assert live[seed3]["run"]["cost_usd"] / 2 < got[seed3]["run"]["cost_usd"] < live[seed3]["run"]["cost_usd"]
    assert result.batch.cost_usd == pytest.approx(result.batch_cost_usd + result.live_cost_usd)
    assert result.list_price_usd == pytest.approx(sum(r["run"]["cost_usd"] for r in live.values()))
    assert result.savings_usd > 0

    db = sqlite3.connect(out / "extract.db")
    outcomes = dict(db.execute("select outcome, count(*) from calls group by outcome").fetchall())
    assert outcomes == {"ok (batch)": 5, "ok": 1}
    assert db.execute("select count(*) from articles").fetchone() == (5,)
    assert {m for (m,) in db.execute("select mode from articles")} == {batch_api.RUN_MODE}

    # collecting twice changes nothing
    before = (out / "records.jsonl").read_bytes(), db.execute("select count(*) from calls").fetchone()
    again = collect(out, extractor=ex)
    assert (again.batch.extracted, again.batch.skipped, again.batch.failed) == (0, 5, 0)
    assert ((out / "records.jsonl").read_bytes(), db.execute("select count(*) from calls").fetchone()) == before
    assert chat_requests(server) == 1


def test_job_ids_survive_the_process(server: ServerHandle, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = submit([seeds(tmp_path, "000")], out, extractor=extractor(server.base_url))
    code = (
        "import dataclasses, json, sys; from pathlib import Path; from llm_extract.runs.batch_api import status; "
        "print(json.dumps([dataclasses.asdict(s) for s in status(Path(sys.argv[1]))]))"
    )
    time.sleep(DELAY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_EXTRACT_"))}
    shown = subprocess.run(
        [sys.executable, "-c", code, str(out)], check=False, env={**env, "OPENAI_API_KEY": "sk-other-process"},
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    (job,) = json.loads(shown.stdout)
    assert (job["batch_id"], job["status"], job["completed"]) == (summary.jobs[0], "completed", 1)
    state = batch_api.load_state(out)
    assert state is not None and state.parts[0].jobs[0].status == "completed"  # saved by the other process
    with pytest.raises(BatchError, match="no batch jobs"):
        status(tmp_path / "nothing", extractor=extractor(server.base_url))


# -- idempotence -------------------------------------------------------------------------------------


def test_submit_twice_submits_once_and_force_resubmits(server: ServerHandle, live, tmp_path: Path) -> None:
    out = tmp_path / "out"
    folder = seeds(tmp_path, "000", "001")
    ex = extractor(server.base_url)
    first = submit([folder], out, extractor=ex)
    second = submit([folder], out, extractor=ex)
    assert (first.submitted, second.submitted, second.skipped_submitted, second.jobs) == (2, 0, 2, [])
    assert server.stats()["batches"]["created"] == 1
    wait_finished(out, ex)
    assert collect(out, extractor=ex).batch.extracted == 2
    third = submit([folder], out, extractor=ex)
    assert (third.submitted, third.skipped_done, third.jobs) == (0, 2, [])

    forced = submit([folder], out, extractor=ex, force=True)
    assert (forced.submitted, len(forced.jobs)) == (2, 1)
    assert server.stats()["batches"]["created"] == 2
    wait_finished(out, ex)
    redone = collect(out, extractor=ex)
    assert (redone.batch.extracted, redone.batch.skipped) == (2, 2)  # the old part: skipped
    got = records(out)  # one line per article, the new result
    assert len(got) == 2 and all(without_run(r) == without_run(live[sha]) for sha, r in got.items())
    db = sqlite3.connect(out / "extract.db")
    assert db.execute("select count(*) from articles").fetchone() == (2,)
    assert collect(out, extractor=ex).batch.extracted == 0


def test_a_killed_submit_is_completed_without_a_second_upload_or_job(server: ServerHandle, tmp_path: Path) -> None:
    class Flaky(httpx2.AsyncBaseTransport):
        """Loses the first POST /batches: before it is sent ('refuse') or its answer ('lose')."""

        def __init__(self, how: str) -> None:
            self.inner = httpx2.AsyncHTTPTransport()
            self.how = how
            self.tripped = False

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            if request.method == "POST" and request.url.path.endswith("/batches") and not self.tripped:
                self.tripped = True
                if self.how == "refuse":
                    raise httpx2.ConnectError("connection refused", request=request)
                response = await self.inner.handle_async_request(request)
                await response.aread()
                raise httpx2.ReadError("connection lost before the answer", request=request)
            return await self.inner.handle_async_request(request)

    folder = seeds(tmp_path, "000")
    out = tmp_path / "refused"
    with pytest.raises(BatchError, match="creating the batch"):
        submit([folder], out, extractor=extractor(server.base_url, Flaky("refuse"), max_attempts=1))
    state = batch_api.load_state(out)
    assert state is not None
    (job,) = [job for _, job in state.jobs()]
    assert job.input_file_id is not None and job.batch_id is None  # uploaded, then the terminal closed
    resumed = submit([folder], out, extractor=extractor(server.base_url))
    assert (resumed.submitted, resumed.skipped_submitted, len(resumed.resumed_jobs)) == (0, 1, 1)
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
    assert len(client.files.list(purpose="batch").data) == 1

    lost = submit([folder], tmp_path / "lost", extractor=extractor(server.base_url, Flaky("lose"), max_attempts=3))
    assert len(lost.jobs) == 1 and lost.jobs[0].startswith("batch_")
    assert server.stats()["batches"]["created"] == 2  # one per output directory: the lost answer's job was found


# -- failures: requests, validation, expiry, changed settings -----------------------------------------


def test_failed_requests_are_listed_then_resubmitted(server: ServerHandle, live, tmp_path: Path) -> None:
    server.reset(batch={"batch_fail_rate": 0.5}, seed=3)
    out = tmp_path / "out"
    ex = extractor(server.base_url)
    submit([ARTICLES], out, extractor=ex)
    (job,) = wait_finished(out, ex)
    assert job.failed > 0 and job.error_file_id and job.completed + job.failed == 5
    result = collect(out, extractor=ex)
    assert result.batch.extracted == job.completed and len(result.failed_requests) == job.failed
    assert {f.code for f in result.failed_requests} == {"server_error"}
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(e["article"]["sha256"] for e in errors) == sorted(f.sha256 for f in result.failed_requests)
    assert {e["kind"] for e in errors} == {"batch_failed"} and "resubmit" in errors[0]["message"]
    db = sqlite3.connect(out / "extract.db")
    assert db.execute("select count(*) from failures").fetchone() == (job.failed,)

    server.reset(batch={"batch_fail_rate": 0.0})
    created = resubmit(out, extractor=ex)
    assert len(created) == 1 and resubmit(out, extractor=ex) == []  # still running: not sent twice
    wait_finished(out, ex)
    state = batch_api.load_state(out)
    assert state is not None and state.parts[0].jobs[1].requests == job.failed
    done = collect(out, extractor=ex)
    assert (done.batch.extracted, done.batch.skipped, done.failed_requests) == (job.failed, job.completed, [])
    assert set(records(out)) == set(live)
    assert db.execute("select count(*) from failures").fetchone() == (0,)
    assert (out / "errors.jsonl").read_text(encoding="utf-8") == ""


def test_an_expired_batch_lists_what_was_not_done_and_submit_resubmits_it(server: ServerHandle, tmp_path: Path) -> None:
    server.reset(batch={"batch_expire": True})
    out = tmp_path / "out"
    ex = extractor(server.base_url)
    folder = seeds(tmp_path, "000", "001", "002", "004")
    submit([folder], out, extractor=ex)
    (job,) = wait_finished(out, ex)
    assert (job.status, job.completed, job.failed) == ("expired", 2, 2)
    result = collect(out, extractor=ex)
    assert result.batch.extracted == 2 and {f.code for f in result.failed_requests} == {"batch_expired"}
    assert {f.kind for f in result.batch.failures} == {"batch_expired"}
    server.reset(batch={"batch_expire": False})
    again = submit([folder], out, extractor=ex, resubmit_failed=True)
    assert (again.submitted, again.skipped_done, again.skipped_submitted, len(again.jobs)) == (0, 2, 2, 1)
    wait_finished(out, ex)
    assert collect(out, extractor=ex).batch.extracted == 2 and len(records(out)) == 4


def test_a_cancelled_batch_is_resubmitted(server: ServerHandle, tmp_path: Path) -> None:
    server.reset(batch={"batch_delay_s": 30.0})
    out = tmp_path / "out"
    ex = extractor(server.base_url)
    summary = submit([seeds(tmp_path, "000")], out, extractor=ex)
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
    assert client.batches.cancel(summary.jobs[0]).status == "cancelling"
    (job,) = wait_finished(out, ex)
    assert job.status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.batches.cancel(summary.jobs[0])
    assert [f.code for f in collect(out, extractor=ex).failed_requests] == ["batch_cancelled"]
    server.reset(batch={"batch_delay_s": 0.0})
    assert len(resubmit(out, extractor=ex)) == 1
    wait_finished(out, ex)
    assert collect(out, extractor=ex).batch.extracted == 1


def test_an_invalid_batch_answer_goes_live_or_is_listed_with_no_live(
    server: ServerHandle, live, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    ex = extractor(server.base_url)
    submit([seeds(tmp_path, "003", "004")], out, extractor=ex)
    wait_finished(out, ex)
    listed = collect(out, extractor=ex, live_fallback=False)
    assert (listed.batch.extracted, listed.invalid_answers, chat_requests(server)) == (1, 1, 0)
    (failure,) = listed.batch.failures
    assert failure.kind == "validation" and '"2,400"' in (failure.last_output or "")
    assert "0 reask(s)" in failure.message
    assert json.loads((out / "errors.jsonl").read_text(encoding="utf-8"))["kind"] == "validation"

    fallback = collect(out, extractor=ex)  # the same answer, re-asked live this time
    assert (fallback.batch.extracted, fallback.batch.skipped, fallback.live_fallbacks) == (1, 1, 1)
    assert chat_requests(server) == 1
    sha = read_article(seed("003")).sha256
    assert without_run(records(out)[sha]) == without_run(live[sha])
    db = sqlite3.connect(out / "extract.db")
    kinds = db.execute("select kind, outcome from calls where article_key = ? order by id", (sha,)).fetchall()
    assert kinds == [("first", "ok (batch)"), ("first", "ok (batch)"), ("reask", "ok")]  # the --no-live try is logged


def test_schema_violating_batch_answers_are_reasked_live(server: ServerHandle, live, tmp_path: Path) -> None:
    server.reset(batch={"batch_schema_rate": 1.0})
    out = tmp_path / "out"
    ex = extractor(server.base_url)
    submit([seeds(tmp_path, "000", "001")], out, extractor=ex)
    wait_finished(out, ex)
    assert server.stats()["batches"]["schema"] == 2
    result = collect(out, extractor=ex)
    assert (result.batch.extracted, result.batch.reasks, result.live_fallbacks, result.invalid_answers) == (2, 2, 2, 2)
    assert server.stats()["recovered"] == 2  # each reask answered with the recorded answer
    for sha, record in records(out).items():
        assert without_run(record) == without_run(live[sha])
        assert (record["run"]["calls"], record["run"]["reasks"]) == (2, 1)


def test_a_request_changed_since_submit_is_refused_not_paid_live(server: ServerHandle, tmp_path: Path) -> None:
    out = tmp_path / "out"
    submit([seeds(tmp_path, "000")], out, extractor=extractor(server.base_url))
    wait_finished(out, extractor(server.base_url))
    result = collect(out, extractor=extractor(server.base_url, temperature=0.7))
    (failure,) = result.batch.failures
    assert failure.kind == "rejected" and "changed since submit" in failure.message
    assert chat_requests(server) == 0
    other_model = collect(out, extractor=extractor(server.base_url, model="gpt-4o"))
    assert other_model.skipped_parts == ["part-00001"] and other_model.batch.articles == 0


# -- splitting, custom ids, chunks ---------------------------------------------------------------------


def test_files_are_split_under_the_request_and_byte_limits(server: ServerHandle, live, tmp_path: Path) -> None:
    server.reset(batch={"batch_delay_s": 0.0})
    ex = extractor(server.base_url)
    by_count = submit([ARTICLES], tmp_path / "count", extractor=ex, max_requests=2)
    assert len(by_count.jobs) == 3 and by_count.files == [f"batch/part-0000{i}.jsonl" for i in (1, 2, 3)]
    sizes = [len((tmp_path / "count" / f).read_text(encoding="utf-8").splitlines()) for f in by_count.files]
    assert sizes == [2, 2, 1]

    line_sizes = sorted(
        len(r.line())
        for p in sorted(ARTICLES.glob("*.txt"))
        for r in batch_api.build_requests(read_article(p), extractor=ex)
    )
    limit = line_sizes[-1] - 1  # the largest article alone does not fit; no two others do
    assert line_sizes[0] + line_sizes[1] > limit
    by_bytes = submit([ARTICLES], tmp_path / "bytes", extractor=ex, max_bytes=limit)
    assert (by_bytes.submitted, len(by_bytes.jobs)) == (4, 4)
    (too_big,) = by_bytes.failures
    assert too_big.kind == "batch" and "do not fit in one batch file" in too_big.message
    for name in by_bytes.files:
        assert (tmp_path / "bytes" / name).stat().st_size <= limit

    for out in (tmp_path / "count", tmp_path / "bytes"):
        jobs = wait_finished(out, ex)
        assert all(j.status == "completed" for j in jobs)
        collect(out, extractor=ex)
        assert all(without_run(r) == without_run(live[sha]) for sha, r in records(out).items())
    assert len(records(tmp_path / "count")) == 5 and len(records(tmp_path / "bytes")) == 4


def test_custom_ids_are_safe_and_unique(server: ServerHandle, tmp_path: Path) -> None:
    texts = [seed(p).read_text(encoding="utf-8") for p in ("000", "001", "002")]
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            json.dumps({"id": i, "text": t})
            # two ids that are one once made safe ("dup?" → "dup"); the same id twice with two texts is
            # an input error (a duplicate id), not two articles
            for i, t in (("dup", texts[0]), ("dup?", texts[1]), ("irna 003/ä#chunk1", texts[2]))
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    ex = extractor(server.base_url)
    submit([feed], out, extractor=ex)
    lines = [json.loads(line) for line in (out / "batch" / "part-00001.jsonl").read_text(encoding="utf-8").splitlines()]
    ids = [line["custom_id"] for line in lines]
    shas = [Article(text=t).sha256 for t in texts]
    assert ids == ["dup", f"dup-{shas[1][:12]}", f"irna_003_chunk1-{shas[2][:12]}"]
    wait_finished(out, ex)
    assert collect(out, extractor=ex).batch.extracted == 3
    assert sorted(r["article"]["id"] for r in records(out).values()) == ["dup", "dup?", "irna 003/ä#chunk1"]


def _chunked_corpus(root: Path, n: int, chunk: dict[str, Any]) -> tuple[Path, Path]:
    """`n` long articles (several chunks each) and recordings of every chunk's answer."""
    articles, replay = root / "articles", root / "replay"
    articles.mkdir(parents=True)
    filler = " ".join(f"Sentence {k} of the background section says nothing about seizures." for k in range(6))
    answers: dict[str, dict[str, Any]] = {}

    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        user = body["messages"][1]["content"]
        number = (
            user[user.index("(report ") + 8 : user.index(")", user.index("(report "))] if "(report " in user else None
        )
        full = answers[number] if number else {"agreements": [], "seizures": []}
        found = {
            "title": None,
            "published": None,
            "agreements": [a for a in full["agreements"] if a["evidence"] in user],
            "seizures": [s for s in full["seizures"] if s["evidence"] in user],
        }
        arguments = json.dumps(found)
        completion = {
            "id": "chatcmpl-chunk", "object": "chat.completion", "created": 1_767_225_600, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": None,
                "tool_calls": [{"id": "call_1", "type": "function", "function": {
                    "name": body["tools"][0]["function"]["name"], "arguments": arguments}}]}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
        }  # fmt: skip
        return httpx2.Response(200, json=completion)

    recorder = Extractor(
        settings=settings(**chunk), mode="record", api_key="sk-test", base_url="http://synthetic.invalid/v1",
        replay_dir=replay, transport=httpx2.MockTransport(answer),
    )  # fmt: skip

    async def record() -> None:
        for i in range(n):
            text, full = synthetic_article(i)
            answers[str(i)] = full
            text = f"{text}\n{filler}\n\n{filler}\n\nThe ministry repeated the figures (report {i}) later.\n"
            path = articles / f"long_{i}.txt"
            path.write_text(text, encoding="utf-8")
            await recorder.aextract(read_article(path))
        await recorder.aclose()

    asyncio.run(record())
    return articles, replay


def test_long_articles_are_collected_when_all_their_chunks_are_in(tmp_path: Path) -> None:
    chunk: dict[str, Any] = {"chunk_chars": 600, "chunk_overlap": 100}
    articles, replay = _chunked_corpus(tmp_path, 4, chunk)
    with start_server(ServerConfig(fixtures=replay, batch_delay_s=0.0, batch_fail_rate=0.25, seed=1)) as handle:
        ex = extractor(handle.base_url, **chunk)
        live_out = tmp_path / "live"
        asyncio.run(run_batch(extractor(handle.base_url, **chunk), iter_articles([articles]), live_out))
        out = tmp_path / "out"
        summary = submit([articles], out, extractor=ex)
        assert summary.submitted == 4 and summary.requests > 8
        ids = [
            json.loads(line)["custom_id"] for line in (out / summary.files[0]).read_text(encoding="utf-8").splitlines()
        ]
        assert all("#chunk" in i for i in ids) and len(set(ids)) == len(ids)
        wait_finished(out, ex)
        partial = collect(out, extractor=ex)
        broken = {f.sha256 for f in partial.failed_requests}
        assert broken and all("#chunk" in f.custom_id for f in partial.failed_requests)
        assert set(records(out)) == set(records(live_out)) - broken  # never collected with a chunk missing
        handle.reset(batch={"batch_fail_rate": 0.0})
        resubmit(out, extractor=ex)
        wait_finished(out, ex)
        collect(out, extractor=ex)
    got, expected = records(out), records(live_out)
    assert set(got) == set(expected)
    for sha, record in got.items():
        assert record["chunks"] > 1 and without_run(record) == without_run(expected[sha])
        assert record["run"]["calls"] == record["chunks"]


# -- the server's Files and Batches endpoints -----------------------------------------------------------


def test_files_and_batches_endpoints(server: ServerHandle) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    body = json.loads(next(REPLAY.glob("*.json")).read_text(encoding="utf-8"))["interactions"][0]["request"]["body"]
    good = json.dumps({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body})
    miss = json.dumps(
        {"custom_id": "b", "method": "POST", "url": "/v1/chat/completions", "body": {**body, "temperature": 1}}
    )
    data = f"{good}\n{miss}\n".encode()
    uploaded = client.files.create(file=("in.jsonl", io.BytesIO(data), "application/jsonl"), purpose="batch")
    assert (uploaded.purpose, uploaded.bytes, uploaded.filename) == ("batch", len(data), "in.jsonl")
    assert client.files.retrieve(uploaded.id).id == uploaded.id
    assert client.files.content(uploaded.id).content == data

    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert batch.status == "validating" and batch.object == "batch"
    assert [b.id for b in client.batches.list(limit=10)] == [batch.id]
    time.sleep(DELAY)
    done = client.batches.retrieve(batch.id)
    assert done.request_counts is not None
    assert (done.status, done.request_counts.completed, done.request_counts.failed) == ("completed", 1, 1)
    assert done.completed_at and done.in_progress_at and done.output_file_id and done.error_file_id
    (output,) = [json.loads(line) for line in client.files.content(done.output_file_id).text.splitlines()]
    assert output["custom_id"] == "a" and output["id"].startswith("batch_req_") and output["error"] is None
    assert output["response"]["status_code"] == 200 and output["response"]["body"]["object"] == "chat.completion"
    (error,) = [json.loads(line) for line in client.files.content(done.error_file_id).text.splitlines()]
    assert error["custom_id"] == "b" and error["error"]["code"] == "replay_miss"
    assert error["response"]["status_code"] == 400 and "temperature" in error["error"]["message"]

    with pytest.raises(openai.BadRequestError, match="only"):
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")
    with pytest.raises(openai.BadRequestError, match="No such File"):
        client.batches.create(input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")
    with pytest.raises(openai.NotFoundError):
        client.files.content("file-nope")
    bad = client.files.create(
        file=("bad.jsonl", io.BytesIO(b'{"custom_id": "a"}\nnot json\n'), "application/jsonl"), purpose="batch"
    )
    failed = client.batches.create(input_file_id=bad.id, endpoint="/v1/chat/completions", completion_window="24h")
    failed = client.batches.retrieve(failed.id)
    assert failed.status == "failed" and failed.errors is not None and failed.errors.data is not None
    assert {e.code for e in failed.errors.data} >= {"invalid_json_line", "invalid_method"}
    assert client.files.delete(bad.id).deleted and len(client.files.list().data) == 3


def test_server_limits_and_reset_options(tmp_path: Path) -> None:
    with start_server(
        ServerConfig(fixtures=REPLAY, batch_max_requests=1, batch_max_bytes=200, batch_delay_s=0)
    ) as handle:
        client = openai.OpenAI(base_url=handle.base_url, api_key="sk-test", max_retries=0)
        with pytest.raises(openai.BadRequestError, match="too large"):
            client.files.create(file=("big.jsonl", io.BytesIO(b"x" * 201), "application/jsonl"), purpose="batch")
        lines = [
            json.dumps({"custom_id": c, "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}})
            for c in ("a", "b")
        ]
        two = client.files.create(
            file=("two.jsonl", io.BytesIO("\n".join(lines).encode()), "application/jsonl"), purpose="batch"
        )
        job = client.batches.create(input_file_id=two.id, endpoint="/v1/chat/completions", completion_window="24h")
        job = client.batches.retrieve(job.id)
        assert job.status == "failed" and job.errors is not None and job.errors.data is not None
        assert job.errors.data[0].code == "too_many_requests"
        refused = httpx2.post(handle.root_url + "/_reset", json={"batch_fail_rate": 2})
        assert refused.status_code == 400 and "probability" in refused.json()["error"]["message"]
        assert httpx2.post(handle.root_url + "/_reset", json={"batch_expire": "yes"}).status_code == 400
        assert httpx2.post(handle.root_url + "/_reset", json={"batch_schema_rate": 0.5}).status_code == 200
    with pytest.raises(Exception, match="batch_fail_rate"):
        ServerConfig(fixtures=REPLAY, batch_fail_rate=0.7, batch_schema_rate=0.7)


def test_multipart_parser() -> None:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a b.jsonl"\r\n'
        b"Content-Type: application/jsonl\r\n\r\nline 1\r\nline 2\n\r\n--XyZ--\r\n"
    )
    fields = parse_multipart(body, 'multipart/form-data; boundary="XyZ"')
    assert fields == {"purpose": (None, b"batch"), "file": ("a b.jsonl", b"line 1\r\nline 2\n")}
    with pytest.raises(ValueError):
        parse_multipart(body, "application/json")


def test_batch_needs_a_server(tmp_path: Path) -> None:
    from llm_extract.errors import ConfigError

    with pytest.raises(ConfigError, match="needs a server"):
        submit(
            [seed("000")], tmp_path / "out", extractor=Extractor(settings=settings(), mode="replay", replay_dir=REPLAY)
        )


def test_build_requests_is_offline_and_matches_the_recording() -> None:
    ex = Extractor(settings=settings(), mode="replay", replay_dir=REPLAY)
    article = read_article(seed("003"))
    (request,) = batch_api.build_requests(article, extractor=ex)
    recording = json.loads((REPLAY / f"{article.sha256[:16]}.json").read_text(encoding="utf-8"))
    assert request.body == recording["interactions"][0]["request"]["body"]
    assert (request.custom_id, request.chunk, request.of, request.end) == (article.id, 1, 1, len(article.text))
    assert dataclasses.asdict(request)["body"] == request.body


# -- the request planner: what submit sends is what the live path sends ------------------------------


class _Wire(httpx2.AsyncBaseTransport):
    """Keeps every request body the live path puts on the wire, and answers it with an empty
    valid answer (tool call or JSON content, as the request asks), so that no reask follows."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        content = await request.aread()
        self.bodies.append(content)
        body = json.loads(content)
        empty: dict[str, Any] = {"title": None, "published": None, "agreements": [], "seizures": []}
        if "tools" in body:
            answer = completion(empty, tool=body["tools"][0]["function"]["name"])
        else:
            answer = completion(empty)
            answer["choices"][0]["message"] = {"role": "assistant", "content": json.dumps(empty)}
        return httpx2.Response(200, json=answer, request=request)


@pytest.mark.parametrize("call_mode", ["tools", "json"])
@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunked"])
def test_the_planned_request_is_the_one_the_live_path_sends(call_mode: str, chunked: bool) -> None:
    chunking = {"chunk_chars": 900, "chunk_overlap": 100} if chunked else {}
    options = settings(call_mode=call_mode, temperature=0.3, **chunking)
    wire = _Wire()
    live = Extractor(
        settings=options, mode="live", base_url="http://planner.invalid/v1", api_key="sk-test", transport=wire
    )
    article = read_article(seed("003"))
    calls: list[Any] = []  # the calls log's records of the live extraction

    async def extract() -> None:
        try:
            await live.aextract(article, calls=calls)
        finally:
            await live.aclose()

    asyncio.run(extract())
    planner = Extractor(settings=options, mode="replay", replay_dir=REPLAY)  # planning needs no server, any mode
    planned = planner.plan_requests(article)
    assert len(planned) == len(wire.bodies) == len(calls) and (len(planned) > 1) == chunked
    assert [(p.prompt.chunk, p.prompt.of) for p in planned] == [(k, len(planned)) for k in range(1, len(planned) + 1)]
    # byte for byte the body sent (its keys in the wire's order), and the calls log's request hash
    compact = [json.dumps(p.body, ensure_ascii=False, separators=(",", ":")).encode() for p in planned]
    assert sorted(compact) == sorted(wire.bodies)
    assert sorted(p.hash for p in planned) == sorted(c.request_hash for c in calls)
    assert {c.kind for c in calls} == {"first"}
    if call_mode == "tools":
        assert list(planned[0].body) == ["messages", "model", "max_tokens", "temperature", "tool_choice", "tools"]
    else:
        assert list(planned[0].body) == ["messages", "model", "max_tokens", "response_format", "temperature"]
    # and the batch input line carries that body unchanged
    requests = batch_api.build_requests(article, extractor=planner)
    for request, body in zip(requests, compact, strict=True):
        line = request.line()
        assert body in line and json.loads(line)["body"] == request.body
        assert request.custom_id == (f"{article.id}#chunk{request.chunk}" if chunked else article.id)
