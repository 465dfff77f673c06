"""The Ray engine (`llm_extract.runs.engines.ray`): the same outputs as a local run, a killed
worker's articles redone once, resume, the cache, secrets.

On a local Ray cluster (one `ray.init` for the module, with the machine's CPUs), against the
local server. Without Ray installed these tests skip, saying why, unless
LLM_EXTRACT_REQUIRE_RAY=1 (then they fail); the tests of failures crossing the wire need no
Ray and always run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FAKE_KEY

from llm_extract import Extractor, ExtractorSettings, errors, iter_articles, run_batch
from llm_extract.core.articles import Article
from llm_extract.errors import (
    ConfigError,
    InputError,
    LLMExtractError,
    RequestRejectedError,
    StaleRecordingError,
    TransportError,
    ValidationFailedError,
    WorkerDiedError,
)
from llm_extract.runs.engines import error_state, rebuild_error
from llm_extract.runs.engines.ray import RayEngine
from llm_extract.runs.runner import failure_of
from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, start_server

REQUIRE = os.environ.get("LLM_EXTRACT_REQUIRE_RAY") == "1"
ROOT = Path(__file__).resolve().parent.parent


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def comparable(path: Path) -> list[dict[str, Any]]:
    """records.jsonl sorted by article, without the one field that is a timing."""
    records = lines(path)
    for record in records:
        record["run"].pop("latency_s")
    return sorted(records, key=lambda r: r["article"]["sha256"])


# -- no Ray needed ---------------------------------------------------------------------------
class _TaskError(ValidationFailedError):
    """A task's own error: it crosses as its nearest llm_extract class, with its kind."""

    kind = "task_specific"


@pytest.mark.parametrize(
    "error",
    [
        TransportError("a: 503 after 5 attempts", article="a", attempts=5, last_output=None, status_code=503),
        RequestRejectedError("a: 401", article="a", attempts=1, status_code=401),
        ValidationFailedError("a: invalid", article="a", attempts=3, last_output='{"x": 1}'),
        StaleRecordingError("a: stale", article="a", changes=["model", "schema"]),
        InputError("a.txt", "the article is empty"),
        ConfigError("bad"),
        _TaskError("a: too few", article="a", attempts=2, last_output="{}"),
        WorkerDiedError("a: died twice"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_failure_crosses_the_wire_as_itself(error: LLMExtractError) -> None:
    description = pickle.loads(pickle.dumps(error_state(error)))  # as Ray carries it
    rebuilt = rebuild_error(description)
    nearest = next(c for c in type(error).__mro__ if getattr(errors, c.__name__, None) is c)  # in llm_extract.errors
    assert type(rebuilt) is nearest
    assert (str(rebuilt), rebuilt.kind) == (str(error), error.kind)
    article = Article(text="Police seized 2 kg of heroin.", source="a")
    assert failure_of(article, rebuilt) == failure_of(article, error)  # errors.jsonl: the same line


def test_the_module_imports_without_ray_and_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "import llm_extract.runs.engines.ray as engine\n"
        "try:\n    engine.require_ray()\nexcept engine.ConfigError as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "pip install 'llm-extract[ray]'" in done.stdout


def test_the_cli_without_ray_says_how_to_install_it_in_one_line(tmp_path: Path) -> None:
    code = "import sys; sys.modules['ray'] = None\nfrom llm_extract.cli import main\nsys.argv[0] = 'llm-extract'\nmain()\n"
    args = [sys.executable, "-c", code, "run", str(ROOT / "fixtures" / "articles"), "--replay-dir",
            str(ROOT / "fixtures" / "replay"), "-o", str(tmp_path / "out"), "--engine", "ray"]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: the Ray engine needs Ray: pip install 'llm-extract[ray]'"
    assert not (tmp_path / "out").exists()  # refused before anything is written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ray-address", "127.0.0.1:6379"], "error: --ray-address is for --engine ray"),
        (["--engine", "spark"], "error: --engine: expected local or ray, not 'spark'"),
        (["--engine", "ray", "--workers", "0"], "error: workers: expected a whole number from 1, or auto, not '0'"),
    ],
)
def test_engine_options_that_cannot_work_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from llm_extract.cli import app

    command = ["run", str(ROOT / "fixtures" / "articles"), "--replay-dir", str(ROOT / "fixtures" / "replay"),
               "-o", str(tmp_path / "out"), *args]  # fmt: skip
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2 and result.output.strip() == message, result.output


def test_an_unreachable_cluster_is_a_config_error_at_once(tmp_path: Path) -> None:
    if not REQUIRE:
        pytest.importorskip("ray", reason="Ray is not installed (pip install 'llm-extract[ray]')")
    code = (
        "import asyncio, sys\n"
        "from llm_extract import Extractor\n"
        "from llm_extract import run_batch\n"
        "from llm_extract.runs.engines.ray import RayEngine\n"
        "try:\n"
        "    asyncio.run(run_batch(Extractor(mode='replay', replay_dir=sys.argv[1]), [], sys.argv[2],\n"
        "                          engine=RayEngine('127.0.0.1:1')))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )  # in its own process: this module's Ray is initialised, and then the address is not looked at
    args = [sys.executable, "-c", code, str(ROOT / "fixtures" / "replay"), str(tmp_path / "out")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("ConfigError cannot reach the Ray cluster at 127.0.0.1:1")


# -- on a local Ray cluster ------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray() -> Iterator[Any]:
    if REQUIRE:
        import ray
    else:
        ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'llm-extract[ray]')")
    handler = signal.getsignal(signal.SIGTERM)
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    signal.signal(signal.SIGTERM, handler)  # ray.init's own would end pytest at once
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ray_corpus")
    synthetic_corpus(40, root / "articles", root / "replay")
    return root / "articles", root / "replay"


def test_the_same_records_as_a_local_run(ray: Any, corpus: tuple[Path, Path], tmp_path: Path) -> None:
    articles, replay = corpus
    unrecorded = tmp_path / "unrecorded.txt"  # a replay miss: the same failure on both
    unrecorded.write_text("Customs officers seized 12 kg of cocaine at the port on Monday.", encoding="utf-8")
    inputs = [*sorted(articles.glob("*.txt"))[:16], unrecorded, tmp_path / "missing.txt"]

    def extractor() -> Extractor[Any]:
        return Extractor(mode="replay", replay_dir=replay, settings=ExtractorSettings(concurrency=4))

    local, remote = tmp_path / "local", tmp_path / "ray"
    expected = asyncio.run(run_batch(extractor(), iter_articles(inputs), local))
    engine = RayEngine(actors=2)
    got = asyncio.run(run_batch(extractor(), iter_articles(inputs), remote, engine=engine))

    assert (got.articles, got.extracted, got.failed) == (expected.articles, expected.extracted, expected.failed) == (18, 16, 2)
    assert (got.calls, got.input_tokens, got.counts) == (expected.calls, expected.input_tokens, expected.counts)
    assert comparable(remote / "records.jsonl") == comparable(local / "records.jsonl")
    key = lambda e: e["source"]  # noqa: E731
    assert sorted(lines(remote / "errors.jsonl"), key=key) == sorted(lines(local / "errors.jsonl"), key=key)
    assert {e["kind"] for e in lines(remote / "errors.jsonl")} == {"input", "replay_miss"}
    counts = [
        sqlite3.connect(db / "extract.db").execute(
            "select (select count(*) from articles), (select count(*) from calls), (select count(*) from failures)"
        ).fetchone()
        for db in (local, remote)
    ]
    assert counts[0] == counts[1] == (16, 17, 2)  # the replay miss's unanswered call is logged too
    assert engine.deaths == 0 and engine.redone == []
    assert len({w["pid"] for w in engine.workers}) == 2
    assert (engine.limits.current_limit, engine.limits.min_seen) == (4, 4)  # replay: not adapted, 2 + 2


def test_a_killed_worker_is_redone_once_and_a_rerun_skips_what_is_done(
    ray: Any, corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    articles, replay = corpus
    out = tmp_path / "out"
    paths = sorted(articles.glob("*.txt"))
    with start_server(ServerConfig(fixtures=replay, latency_ms=300)) as server:

        def extractor() -> Extractor[Any]:
            values = {"mode": "live", "base_url": server.base_url, "api_key": FAKE_KEY, "concurrency": 4}
            return Extractor(settings=ExtractorSettings.resolve(values, environ={}))

        engine = RayEngine(actors=2, keep=True)  # its actors serve the reruns too: the task's first build once
        killed: list[dict[str, Any]] = []
        finished = threading.Event()

        def kill_one_busy_worker() -> None:
            while not finished.is_set() and not killed:
                records = out / "records.jsonl"
                done = records.read_text(encoding="utf-8").count("\n") if records.exists() else 0
                busy = [w for w in engine.workers if w["in_flight"] and w["state"] == "up"]
                if done >= 8 and busy:
                    os.kill(busy[0]["pid"], signal.SIGKILL)
                    killed.append(busy[0])
                finished.wait(0.02)

        killer = threading.Thread(target=kill_one_busy_worker, daemon=True)
        killer.start()
        try:
            summary = asyncio.run(run_batch(extractor(), iter_articles(paths), out, engine=engine))
        finally:
            finished.set()
            killer.join(timeout=5)

        assert killed, "no worker was killed"
        assert (summary.extracted, summary.failed) == (40, 0), summary.failures
        assert engine.deaths == 1
        assert 1 <= len(engine.redone) <= 2  # what it had in flight (its share: 2 of 4)
        assert len(set(engine.redone)) == len(engine.redone)  # each redone once
        final = [r["article"]["sha256"] for r in lines(out / "records.jsonl")]
        assert len(final) == 40 == len(set(final))
        db = sqlite3.connect(out / "extract.db")
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        assert db.execute("select count(*) from articles").fetchone() == (40,)

        sent, pids = server.stats()["requests"], {w["pid"] for w in engine.workers}
        try:
            again = asyncio.run(run_batch(extractor(), iter_articles(paths), out, engine=engine))
            assert (again.skipped, again.extracted, again.failed) == (40, 0, 0)
            forced = asyncio.run(run_batch(extractor(), iter_articles(paths[:6]), out, engine=engine, force=True))
            assert {w["pid"] for w in engine.workers} == pids and len(pids) == 2  # the same actors (one restarted)
        finally:
            asyncio.run(engine.aclose())
        assert server.stats()["requests"] == sent  # nothing sent again: the rerun, and --force from the cache
        assert (forced.extracted, forced.cached_calls, forced.input_tokens) == (6, 6, 0)

    session = Path(ray._private.worker._global_node.get_session_dir_path())
    for where in (out, session):  # the key: in no output, no Ray log
        leaked = [p for p in where.rglob("*") if p.is_file() and not p.is_symlink() and FAKE_KEY.encode() in p.read_bytes()]
        assert leaked == []


def test_with_no_worker_left_each_article_fails_with_the_reason(
    ray: Any, corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    articles, replay = corpus
    paths = sorted(articles.glob("*.txt"))[:8]
    with start_server(ServerConfig(fixtures=replay, latency_ms=300)) as server:
        values = {"mode": "live", "base_url": server.base_url, "api_key": "sk-test-ray", "concurrency": 2}
        extractor = Extractor(settings=ExtractorSettings.resolve(values, environ={}))
        engine = RayEngine(actors=1, max_restarts=0)  # killed, it stays dead

        killed: list[int] = []

        def on_done(summary: Any) -> None:
            if summary.extracted == 2 and not killed:  # two done, one in flight
                killed.append(engine.workers[0]["pid"])
                os.kill(killed[0], signal.SIGKILL)

        summary = asyncio.run(run_batch(extractor, iter_articles(paths), tmp_path / "out", engine=engine,
                                            on_done=on_done))  # fmt: skip
    assert summary.extracted == 2 and summary.failed == 6 and engine.deaths == 1
    assert {f.kind for f in summary.failures} == {"worker_died"}
    assert all(f.message.startswith(f.source) and "Ray worker" in f.message for f in summary.failures)
    assert len(lines(tmp_path / "out" / "records.jsonl")) == 2  # what was done is kept: a rerun does the rest


def test_max_cost_stops_starting_articles_and_counts_what_the_actors_paid(
    ray: Any, corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    articles, replay = corpus
    paths = sorted(articles.glob("*.txt"))[:16]
    with start_server(ServerConfig(fixtures=replay, latency_ms=50)) as server:
        values = {"mode": "live", "base_url": server.base_url, "api_key": FAKE_KEY, "concurrency": 2}
        extractor = Extractor(settings=ExtractorSettings.resolve(values, environ={}))
        summary = asyncio.run(run_batch(extractor, iter_articles(paths), tmp_path / "out", engine=RayEngine(actors=1),
                                        max_cost_usd=0.002))  # fmt: skip
        sent = server.stats()["requests"]
    assert summary.budget_stopped and 2 <= summary.extracted < 16 and summary.failed == 0
    assert summary.billed_usd >= 0.002 and summary.calls == sent  # every call an actor made is counted
    assert len(lines(tmp_path / "out" / "records.jsonl")) == summary.extracted


def test_the_overhead_benchmark_runs(ray: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The script runs to its table (the Ray engine itself is tested above: its start-up, ~7 s a
    run on 2 cores, is the task's first build in each new actor, too slow to pay again here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bench_ray_overhead", ROOT / "benchmarks" / "bench_ray_overhead.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--latencies", "20", "--articles", "4", "--concurrency", "2", "--engines",
                "--cache", str(tmp_path / "cache")])  # fmt: skip
    out = capsys.readouterr().out
    assert "machine:" in out and "Ray 2." in out and "one process" in out


# -- through the CLI: its own local Ray, started and stopped by the run ------------------------
def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                kids = {int(p) for p in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def wait_until_gone(pids: set[int], deadline: float) -> None:
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    left = {p: command_line(p) for p in pids if alive(p)}
    assert not left, f"Ray processes outlived the killed run: {left}"


def test_the_cli_stopped_or_killed_takes_its_ray_with_it_and_the_same_command_resumes(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    """`llm-extract run --engine ray` stopped by SIGTERM (it says what it kept, exits 143) and then
    SIGKILLed mid-run: each time its Ray (head, raylet, actors) goes with it, and the same command
    finishes the rest, each article once, with the run's summary."""
    if not REQUIRE:
        pytest.importorskip("ray", reason="Ray is not installed (pip install 'llm-extract[ray]')")
    articles, replay = corpus
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | {"OPENAI_API_KEY": FAKE_KEY}

    def run_until(command: list[str], records: int, how: signal.Signals) -> tuple[set[int], str]:
        """Start the command, send `how` once OUT has `records` records; its Ray's processes, its stderr."""
        log = tmp_path / f"stderr-{how.name}.txt"
        with log.open("wb") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
            try:
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline and process.poll() is None:
                    if (out / "records.jsonl").exists() and len(lines(out / "records.jsonl")) >= records:
                        break
                    time.sleep(0.05)
                assert process.poll() is None, log.read_text(encoding="utf-8")
                ray_processes = descendants(process.pid)
                assert len(ray_processes) >= 3  # at least the head's services and the two actors
                process.send_signal(how)
            finally:
                code = process.wait(timeout=60)
        assert code == (143 if how == signal.SIGTERM else -signal.SIGKILL)
        return ray_processes, log.read_text(encoding="utf-8")

    with start_server(ServerConfig(fixtures=replay, latency_ms=300)) as server:
        command = [sys.executable, "-m", "llm_extract", "run", str(articles), "-o", str(out), "--live",
                   "--base-url", server.base_url, "-c", "4", "--engine", "ray", "--workers", "2", "--no-report"]  # fmt: skip
        stopped, said = run_until(command, 6, signal.SIGTERM)
        assert "interrupted (SIGTERM)" in said and "run the same command to resume" in said
        wait_until_gone(stopped, time.monotonic() + 60)  # ray.shutdown(): every process of its Ray
        first = [r["article"]["sha256"] for r in lines(out / "records.jsonl")]
        assert 6 <= len(first) < 40

        ray_processes, _ = run_until(command, len(first) + 6, signal.SIGKILL)
        killed_at = time.monotonic()
        # the head's services and the actors go at once; Ray's two agents notice their raylet's
        # death within seconds, then try to report it to the head that is gone (about a minute)
        agents = {p for p in ray_processes if command_line(p).endswith("Agent")}
        wait_until_gone(ray_processes - agents, killed_at + 30)
        before = [r["article"]["sha256"] for r in lines(out / "records.jsonl")]
        assert len(first) + 6 <= len(before) < 40 and before[: len(first)] == first

        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env)
    wait_until_gone(agents, killed_at + 150)
    assert done.returncode == 0, done.stderr
    assert "over 2 Ray actor(s) on a local Ray" in done.stderr
    summary = re.search(r"skipped \(already done\)\s*│\s*(\d+)", done.stdout)
    assert summary and int(summary.group(1)) == len(before), done.stdout
    final = [r["article"]["sha256"] for r in lines(out / "records.jsonl")]
    assert len(final) == 40 == len(set(final)) and final[: len(before)] == before
    db = sqlite3.connect(out / "extract.db")
    assert db.execute("select count(*) from articles").fetchone() == (40,)
    assert db.execute("select count(*) from failures").fetchone() == (0,)
    db.close()


def test_the_throughput_benchmark_has_its_ray_column(ray: Any, tmp_path: Path) -> None:
    """`bench_throughput.py --ray` runs to its table with the Ray column (in its own process and Ray)."""
    script = ROOT / "benchmarks" / "bench_throughput.py"
    args = [sys.executable, str(script), "--latencies", "20", "--concurrency", "2", "--rounds", "1", "2", "--ray",
            "--cache", str(tmp_path / "cache")]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.splitlines()
    at = next(i for i, line in enumerate(table) if line.split()[:2] == ["latency", "C"])
    header, row = table[at].split(), table[at + 1].split()
    assert header[-2:] == ["ray×2/s", "ray×2/ours×2"] and len(row) == len(header)  # a rate may be inf: marginal

