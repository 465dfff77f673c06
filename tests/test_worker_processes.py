"""Worker processes (`llm_extract.runs.engines.processes`): the same records as one process,
a killed child replaced and its articles redone once, children that exit with their parent,
resume, the response cache, and summaries that match the calls log. Real processes; no
timing is asserted."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, start_server

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="finds child processes through /proc")

#: runs one batch: `run_batch(..., workers=N)` (or the engine's stand-in while run_batch has no
#: `workers`), in a process of its own, so that it can be killed; prints its summary as JSON
DRIVER = """
import asyncio, inspect, json, logging, sys
from pathlib import Path
from llm_extract import Extractor, ExtractorSettings, iter_articles, run_batch
from llm_extract.runs.engines import run_batch_in_processes

args = json.loads(sys.argv[1])
logging.basicConfig(level=logging.WARNING, format="%(message)s")
overrides = {"mode": args["mode"], "replay_dir": args.get("replay"), "base_url": args.get("base_url"),
             "api_key": args.get("key"), "concurrency": args["c"]}
extractor = Extractor(settings=ExtractorSettings.resolve(overrides, environ={}), task=args.get("task"))
items = iter_articles([Path(args["articles"])])
options = {"concurrency": args["c"], "force": args.get("force", False)}
if args["workers"] == 1:
    run = run_batch(extractor, items, Path(args["out"]), **options)
elif "workers" in inspect.signature(run_batch).parameters:
    run = run_batch(extractor, items, Path(args["out"]), workers=args["workers"], **options)
else:
    run = run_batch_in_processes(extractor, items, Path(args["out"]), workers=args["workers"], **options)
s = asyncio.run(run)
print(json.dumps({"extracted": s.extracted, "skipped": s.skipped, "failed": s.failed, "calls": s.calls,
                  "cached_calls": s.cached_calls, "input_tokens": s.input_tokens, "output_tokens": s.output_tokens,
                  "cost_usd": s.cost_usd, "failures": [f.model_dump(mode="json") for f in s.failures]}))
"""

#: a task that kills its own process on the article named in $POISON (a native crash, the OOM killer)
POISON_TASK = """
import dataclasses, os, signal
from llm_extract.core.registry import load_task

_base = load_task("security_events")

def _build(answer, context):
    if os.environ.get("POISON") and os.environ["POISON"] in context.article.source:
        os.kill(os.getpid(), signal.SIGKILL)
    return _base.build(answer, context)

TASK = dataclasses.replace(_base, build=_build, spec="poison_task:TASK")
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("corpus")
    synthetic_corpus(60, root / "articles", root / "replay")
    return root / "articles", root / "replay"


def driver(tmp_path: Path, **args: Any) -> list[str]:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    return [sys.executable, str(script), json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in args.items()})]


def run_driver(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    summary["stderr"] = done.stderr
    return summary


def keys(out: Path) -> list[str]:
    return [json.loads(line)["article"]["sha256"] for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]


def records_without_timing(out: Path) -> set[str]:
    found = set()
    for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["run"]["latency_s"] = 0  # the one field that is the clock's, not the extraction's
        found.add(json.dumps(record, sort_keys=True))
    return found


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited (its reaper may be slow)


def wait_for_records(out: Path, n: int, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    records = out / "records.jsonl"
    while time.monotonic() < deadline and process.poll() is None:
        if records.exists() and records.read_text(encoding="utf-8").count("\n") >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"{n} records not written (driver exit code {process.poll()})")


def assert_summary_matches_the_calls_log(summary: dict[str, Any], out: Path) -> None:
    from llm_extract.core.pricing import PriceTable
    from llm_extract.core.results import Usage

    db = sqlite3.connect(out / "extract.db")
    calls, tokens_in, tokens_out, cached_in = db.execute(
        "select count(*), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens) from calls"
    ).fetchone()
    db.close()
    assert (summary["calls"], summary["input_tokens"], summary["output_tokens"]) == (calls, tokens_in, tokens_out)
    usage = Usage(input_tokens=tokens_in, output_tokens=tokens_out, cached_input_tokens=cached_in)
    assert summary["cost_usd"] == pytest.approx(PriceTable.load(None).cost("gpt-4o-mini", usage))


def test_workers_resolve_and_share_the_concurrency() -> None:
    from llm_extract.errors import ConfigError
    from llm_extract.runs.engines import available_cores, resolve_workers
    from llm_extract.runs.engines.processes import shares

    assert resolve_workers(None) == 1 and resolve_workers("3") == 3 and resolve_workers(2) == 2
    assert resolve_workers("auto") == available_cores() >= 1
    for bad in ("0", "-1", "two", "1.5", 0):
        with pytest.raises(ConfigError, match="workers"):
            resolve_workers(bad)
    assert shares(8, 2) == [4, 4] and shares(9, 2) == [5, 4] and shares(64, 3) == [22, 21, 21]
    assert shares(1, 4) == [1]  # never more children than slots


def test_what_cannot_cross_processes_is_refused_before_anything_starts(tmp_path: Path) -> None:
    import httpx2

    from llm_extract import Extractor
    from llm_extract.core.registry import load_task
    from llm_extract.errors import ConfigError
    from llm_extract.runs.engines.processes import ProcessWorker

    unnamed = dataclasses.replace(load_task("security_events"), spec=None)
    with pytest.raises(ConfigError, match="given as an object"):
        ProcessWorker(Extractor(mode="replay", replay_dir=tmp_path, task=unnamed), workers=2)
    transport = httpx2.MockTransport(lambda request: httpx2.Response(500))
    with pytest.raises(ConfigError, match="transport"):
        ProcessWorker(Extractor(mode="live", base_url="http://x/v1", api_key="k", transport=transport), workers=2)


def test_errors_cross_as_the_same_class_message_and_attributes() -> None:
    from llm_extract.errors import ReplayMissError, ValidationFailedError
    from llm_extract.runs.engines import error_state, rebuild_error

    invalid = ValidationFailedError("a.txt: still invalid", article="a.txt", attempts=3, last_output='{"x": 1}')
    again = rebuild_error(error_state(invalid))
    assert type(again) is ValidationFailedError and str(again) == str(invalid) and again.kind == "validation"
    assert (again.attempts, again.last_output, again.article) == (3, '{"x": 1}', "a.txt")
    assert type(rebuild_error(error_state(ReplayMissError("nothing recorded", article="b")))) is ReplayMissError

    class TaskError(ValidationFailedError):  # a task's own error: its nearest engine class, its kind
        kind = "task_check"

    mine = rebuild_error(error_state(TaskError("c: bad", article="c", attempts=1)))
    assert isinstance(mine, ValidationFailedError) and mine.kind == "task_check" and str(mine) == "c: bad"
    bug = rebuild_error(error_state(KeyError("missing")))
    assert type(bug) is KeyError and str(bug) == "'missing'" and "in a worker process" in bug.__notes__[0]


def test_two_workers_write_the_records_of_one(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    articles, replay = corpus
    one = run_driver(driver(tmp_path, mode="replay", replay=replay, articles=articles, out=tmp_path / "one", c=4, workers=1))
    two = run_driver(driver(tmp_path, mode="replay", replay=replay, articles=articles, out=tmp_path / "two", c=4, workers=2))
    assert len(keys(tmp_path / "two")) == 60 == len(set(keys(tmp_path / "two")))
    assert records_without_timing(tmp_path / "two") == records_without_timing(tmp_path / "one")
    for name in ("extracted", "failed", "calls", "input_tokens", "output_tokens"):
        assert one[name] == two[name], name
    assert two["cost_usd"] == pytest.approx(one["cost_usd"])
    assert_summary_matches_the_calls_log(two, tmp_path / "two")
    again = run_driver(driver(tmp_path, mode="replay", replay=replay, articles=articles, out=tmp_path / "two", c=4, workers=2))
    assert (again["extracted"], again["skipped"]) == (0, 60)  # resume: nothing sent to the children


def test_a_killed_child_is_replaced_and_its_articles_redone_once(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    articles, replay = corpus
    out = tmp_path / "out"
    with start_server(ServerConfig(fixtures=replay, latency_ms=80)) as server:
        command = driver(tmp_path, mode="live", base_url=server.base_url, key="sk-test-workers", articles=articles,
                         out=out, c=4, workers=2)  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_records(out, 10, process)  # type: ignore[arg-type]
            (first, *_) = pids = children(process.pid)
            assert len(pids) == 2
            os.kill(first, signal.SIGKILL)
            stdout, stderr = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, stderr
        requests = server.stats()["requests"]
    summary = json.loads(stdout.strip().splitlines()[-1])
    found = re.search(rf"pid {first}\) was killed by SIGKILL with (\d+) article\(s\) in flight", stderr)
    assert found, stderr
    in_flight = int(found.group(1))
    assert 0 <= in_flight <= 2  # its share of the 4 in flight
    assert len(keys(out)) == 60 == len(set(keys(out)))  # each article once, the killed child's ones included
    assert summary["failed"] == 0 and summary["extracted"] == 60
    assert 60 <= requests <= 60 + in_flight  # the dead child's articles were asked at most once more
    db = sqlite3.connect(out / "extract.db")
    assert db.execute("select count(*) from articles").fetchone() == (60,)
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    db.close()
    assert_summary_matches_the_calls_log(summary, out)


def test_children_exit_with_their_parent_and_a_rerun_resumes(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    articles, replay = corpus
    out = tmp_path / "out"
    with start_server(ServerConfig(fixtures=replay, latency_ms=80)) as server:
        command = driver(tmp_path, mode="live", base_url=server.base_url, key="sk-test-workers", articles=articles,
                         out=out, c=4, workers=2)  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_records(out, 10, process)
            pids = children(process.pid)
            assert len(pids) == 2 and all(alive(p) for p in pids)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.1)
        assert not [p for p in pids if alive(p)], "orphaned worker processes"
        before = len(keys(out))
        assert 10 <= before < 60
        summary = run_driver(command)
    assert len(keys(out)) == 60 == len(set(keys(out)))
    assert summary["skipped"] >= 10 and summary["extracted"] == 60 - summary["skipped"] and summary["failed"] == 0
    db = sqlite3.connect(out / "extract.db")
    assert db.execute("select count(*) from articles").fetchone() == (60,)
    db.close()


def test_an_article_whose_workers_die_twice_fails_and_the_run_goes_on(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    articles, replay = corpus
    subset = tmp_path / "in"
    subset.mkdir()
    chosen = sorted(articles.glob("*.txt"))[:6]
    for path in chosen:
        (subset / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "poison_task.py").write_text(POISON_TASK, encoding="utf-8")
    env = {**os.environ, "POISON": chosen[2].name, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    command = driver(tmp_path, mode="replay", replay=replay, articles=subset, out=tmp_path / "out", c=2, workers=2,
                     task="poison_task:TASK")  # fmt: skip
    summary = run_driver(command, env=env)
    assert summary["extracted"] == 5 and summary["failed"] == 1
    (failure,) = summary["failures"]
    assert failure["kind"] == "worker_died" and chosen[2].name in failure["source"]
    assert "died twice" in failure["message"] and "SIGKILL" in failure["message"]
    assert len(set(keys(tmp_path / "out"))) == 5 == len(keys(tmp_path / "out"))
    errors = (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in errors] == ["worker_died"]


def test_force_in_live_mode_is_answered_from_the_calls_log(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    articles, replay = corpus
    subset = tmp_path / "in"
    subset.mkdir()
    for path in sorted(articles.glob("*.txt"))[:6]:
        (subset / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    with start_server(ServerConfig(fixtures=replay)) as server:
        args = {"mode": "live", "base_url": server.base_url, "key": "sk-test-workers", "articles": subset, "out": out,
                "c": 4, "workers": 2}  # fmt: skip
        first = run_driver(driver(tmp_path, **args))
        before = server.stats()["requests"]
        forced = run_driver(driver(tmp_path, **args, force=True))
        assert server.stats()["requests"] == before  # every call answered from the calls log, in the children
    assert first["extracted"] == forced["extracted"] == 6
    assert forced["cached_calls"] == forced["calls"] == 6 and forced["cost_usd"] == 0
    assert "sk-test-workers" not in (out / "extract.db").read_bytes().decode("utf-8", "replace")


def test_combined_limits_sum_what_each_worker_last_said() -> None:
    from llm_extract.runs.engines import CombinedLimits

    limits = CombinedLimits()
    limits.start({0: 4, 1: 4})
    assert (limits.current_limit, limits.min_seen, limits.max_seen) == (8, 8, 8)
    limits.observe(0, 2)
    limits.observe(1, None)  # said nothing: unchanged
    limits.observe(7, 1)  # not a worker of this run: ignored
    assert (limits.current_limit, limits.min_seen, limits.max_seen) == (6, 6, 8)
    limits.observe(1, 1)
    limits.observe(0, 4)
    assert (limits.current_limit, limits.min_seen, limits.max_seen) == (5, 3, 8)


def test_the_workers_limits_adapt_to_a_one_slot_server_and_the_run_shows_them(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    import asyncio

    from llm_extract import Extractor, ExtractorSettings, iter_articles, run_batch
    from llm_extract.runs.engines import ProcessEngine

    articles, replay = corpus
    paths = sorted(articles.glob("*.txt"))[:16]
    with start_server(ServerConfig(fixtures=replay, latency_ms=300, slots=1)) as server:
        values = {"mode": "live", "base_url": server.base_url, "api_key": "sk-test-workers", "concurrency": 8}
        extractor = Extractor(settings=ExtractorSettings.resolve(values, environ={}))
        engine = ProcessEngine(2)
        summary = asyncio.run(run_batch(extractor, iter_articles(paths), tmp_path / "out", engine=engine))
        assert server.stats()["max_in_flight"] == 1
    assert (summary.extracted, summary.failed) == (16, 0)
    # each child halves its own limit when the queue shows in its latency: together under 8
    assert engine.limits.max_seen == 8 and engine.limits.min_seen < 8
