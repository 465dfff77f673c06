"""A user's first hour with `llm-extract run`: the summary counts what happened to failed
articles too, --max-cost never stops a replay, -v says what happened to each article, and the
libraries' debug chatter waits for -vvv. Through the command line (typer's CliRunner), against
recordings or the local server in this process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx2
import pytest
from helpers import ARTICLES, REPLAY, seed
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.core.results import CallRecord
from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, start_server

runner = CliRunner()
KEY = {"OPENAI_API_KEY": "sk-test-first-hour"}
FAST = ("--retry-wait", "0", "--retry-max-wait", "0")
UNRECORDED = "Police seized 3 kg of heroin; nothing was recorded for it.\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("corpus")
    synthetic_corpus(12, root / "articles", root / "replay")
    return root / "articles", root / "replay"


@pytest.fixture
def server(corpus: tuple[Path, Path]) -> Iterator[str]:
    with start_server(ServerConfig(fixtures=corpus[1])) as handle:
        yield handle.base_url


def faults(url: str, spec: str | None) -> None:
    """A new fault plan for the local server, its counters zeroed."""
    response = httpx2.post(url.removesuffix("/v1") + "/_reset", json={"faults": spec, "seed": 0})
    assert response.status_code == 200, response.text


def requests(url: str) -> int:
    return int(httpx2.get(url.removesuffix("/v1") + "/_stats").json()["requests"])


def table(output: str) -> dict[str, int]:
    """The counts of the summary table."""
    rows = re.finditer(r"│\s*([^│\n]+?)\s*│\s*\$?([\d,.]+)\s*(?:\(.*\))?\s*│", output)
    return {m[1]: int(float(m[2].replace(",", ""))) for m in rows}


def one_article(corpus: tuple[Path, Path], tmp_path: Path, index: int = 0) -> Path:
    folder = tmp_path / f"in{index}"
    folder.mkdir()
    source = sorted(corpus[0].glob("*.txt"))[index]
    (folder / source.name).write_bytes(source.read_bytes())
    return folder


def live(url: str, inputs: Path, out: Path, *extra: str) -> list[str]:
    return ["run", str(inputs), "--live", "--base-url", url, "-o", str(out), "-c", "1", "--no-report", *FAST, *extra]


# -- the summary counts failed articles' calls ---------------------------------------------------------


def test_a_failed_articles_transport_retries_are_counted(corpus, server, tmp_path) -> None:
    faults(server, "schedule:503,503")
    args = live(server, one_article(corpus, tmp_path), tmp_path / "out", "--max-attempts", "2")
    result = runner.invoke(app, args, env=KEY)
    assert result.exit_code == 1, result.output
    counts = table(result.output)
    assert (counts["failed"], counts["model calls"], counts["transport retries"], counts["reasks"]) == (1, 2, 1, 0)
    assert requests(server) == 2


def test_a_failed_articles_reasks_are_counted(corpus, server, tmp_path) -> None:
    faults(server, "schedule:schema,schema,schema")  # three answers that violate the schema
    args = live(server, one_article(corpus, tmp_path), tmp_path / "out", "--max-reasks", "2")
    result = runner.invoke(app, args, env=KEY)
    assert result.exit_code == 1, result.output
    counts = table(result.output)
    assert (counts["failed"], counts["model calls"], counts["reasks"], counts["transport retries"]) == (1, 3, 2, 0)
    assert counts["tokens in"] > 0 and requests(server) == 3


def call(kind: Literal["first", "reask", "retry"], outcome: str, *, turn: int = 1, attempt: int = 1,
         response: bool = True, tokens: int = 100) -> CallRecord:  # fmt: skip

    return CallRecord(
        article_sha256="a" * 64, model="gpt-4o-mini", prompt_version="p", turn=turn, attempt=attempt, kind=kind,
        outcome=outcome, status_code=200 if response else None, input_tokens=tokens if response else 0,
        request_hash="h", request={}, response={"id": "x"} if response else None,
    )  # fmt: skip


def test_the_calls_of_a_failed_article_count_as_a_results_do() -> None:
    """Calls, cache hits, reasks, retries and tokens from the failure's CallRecords; a request
    replay could not answer made no call; replayed and cached answers are not paid."""
    from llm_extract.runs.runner import BatchSummary

    def price(calls):
        return sum(c.input_tokens for c in calls) / 1e6

    summary = BatchSummary()
    live = [
        call("first", "ok (cached)", tokens=0), call("reask", "server_error", turn=2, response=False),
        call("retry", "ok", turn=2, attempt=2), call("reask", "ok", turn=3),
    ]  # fmt: skip
    counted = summary.add_failed_calls(live, price, kind="validation")
    assert (counted.calls, counted.cached, counted.reasks, counted.retries) == (4, 1, 2, 1)
    totals = (summary.calls, summary.cached_calls, summary.reasks, summary.retries, summary.input_tokens)
    assert totals == (4, 1, 2, 1, 200)
    assert summary.billed_usd == pytest.approx(200 / 1e6) == summary.cost_usd

    replayed = BatchSummary()
    misses = [call("first", "ok (replayed)"), call("reask", "APIConnectionError", turn=2, response=False)]
    counted = replayed.add_failed_calls(misses, price, kind="replay_miss")
    assert (counted.calls, counted.reasks, replayed.calls) == (1, 0, 1)  # the unanswered reask was never sent
    assert replayed.billed_usd == 0 and replayed.cost_usd == pytest.approx(100 / 1e6)  # replayed: not paid


def test_a_replay_miss_made_no_model_call(tmp_path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "unrecorded.txt").write_text(UNRECORDED, encoding="utf-8")
    (inputs / seed("000").name).write_bytes(seed("000").read_bytes())
    result = runner.invoke(app, ["run", str(inputs), "--replay-dir", str(REPLAY), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    counts = table(result.output)
    assert (counts["failed"], counts["extracted"], counts["model calls"]) == (1, 1, 1)  # seed 000's one call only


# -- --max-cost counts what is paid -------------------------------------------------------------------------


def test_max_cost_never_stops_a_replay_run(corpus, tmp_path) -> None:
    articles, replay = corpus
    out = tmp_path / "out"
    args = ["run", str(articles), "--replay-dir", str(replay), "-o", str(out), "-c", "2", "--max-cost", "0.0001"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "stopped early" not in result.output
    assert "this replay run is not limited by it" in " ".join(result.output.split())
    assert table(result.output)["extracted"] == 12


def test_max_cost_stops_a_live_run_and_the_next_run_continues(corpus, server, tmp_path) -> None:
    articles, _ = corpus
    out = tmp_path / "out"
    args = ["run", str(articles), "--live", "--base-url", server, "-o", str(out), "-c", "2", "--no-report"]
    result = runner.invoke(app, [*args, "--max-cost", "0.002"], env=KEY)  # each article costs ~$0.0005
    assert result.exit_code == 0 and "stopped early" in result.output
    done = table(result.output)["extracted"]
    assert 2 <= done < 12
    resumed = runner.invoke(app, args, env=KEY)
    assert resumed.exit_code == 0 and table(resumed.output)["extracted"] == 12 - done


def test_the_help_says_what_max_cost_and_verbose_count() -> None:
    shown = " ".join(runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "replayed answers (and answers from the cache) are not paid" in shown
    assert "-vvv" in shown and "LLM_EXTRACT_LIBRARY_DEBUG=1" in shown and "--wait" in shown


# -- -v, -vv, -vvv ----------------------------------------------------------------------------------------


def test_verbose_prints_one_line_per_article(tmp_path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in sorted(ARTICLES.glob("*.txt")):
        (inputs / path.name).write_bytes(path.read_bytes())
    (inputs / "unrecorded.txt").write_text(UNRECORDED, encoding="utf-8")
    args = ["run", str(inputs), "--replay-dir", str(REPLAY), "-o", str(tmp_path / "out"), "--no-report"]
    result = runner.invoke(app, [*args, "-v"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    (line,) = [line for line in lines if line.startswith("ok 003_fac0c62c7962788c.txt: ")]
    assert re.fullmatch(r"ok 003_fac0c62c7962788c\.txt: 3 records \(.*\), 2 calls \(1 reask\), \d+\.\d s", line), line
    assert len([line for line in lines if line.startswith("ok ")]) == 5
    (failed,) = [line for line in lines if line.startswith("failed unrecorded.txt: ")]
    assert "nothing recorded" in failed and "[replay_miss]" in failed
    assert re.search(r"; 0 calls, \d+\.\d s$", failed), failed
    again = runner.invoke(app, [*args, "-v"])
    skipped = [line for line in again.output.splitlines() if line.startswith("skipped ") and "already done" in line]
    assert len(skipped) == 5
    plain = runner.invoke(app, args)
    assert not [line for line in plain.output.splitlines() if line.startswith(("ok ", "skipped "))]


def test_library_debug_logging_waits_for_vvv(corpus, server, tmp_path) -> None:
    inputs = one_article(corpus, tmp_path)

    def run(out: str, *flags: str, env: dict[str, str] | None = None) -> str:
        result = runner.invoke(app, live(server, inputs, tmp_path / out, "--force", *flags), env={**KEY, **(env or {})})
        assert result.exit_code == 0, result.output
        return result.output

    ours = run("vv", "-vv")
    assert "DEBUG" in ours and "extracting" in ours  # our own debug logging
    assert "Request options" not in ours  # the openai client's is not
    assert "Request options" in run("vvv", "-vvv")
    assert "Request options" in run("env", "-v", env={"LLM_EXTRACT_LIBRARY_DEBUG": "1"})
    quiet = run("v", "-v")
    assert "DEBUG" not in quiet and "Request options" not in quiet
