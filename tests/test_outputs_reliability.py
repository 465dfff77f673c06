"""An output directory stays true under abuse: two writers, kills, a damaged records.jsonl, a
lost store, a full disk, SIGTERM, duplicate ids, hostile file names.

Concurrent runs and kills are real processes (`python -m llm_extract run`) against the local
server in this process; nothing here asserts on timing: a run is held still with SIGSTOP
where a test needs it to be running, and every wait is for a state, with a generous deadline.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import ARTICLES, REPLAY, ROOT, seed
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.core.articles import Article, iter_articles
from llm_extract.errors import InputError
from llm_extract.runs.lock import OutputBusyError, hold_output, lock_holder
from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, start_server

runner = CliRunner()
N = 20
DEVNULL = subprocess.DEVNULL


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("corpus")
    synthetic_corpus(N, root / "articles", root / "replay")
    return root / "articles", root / "replay"


@pytest.fixture(scope="module")
def server(corpus: tuple[Path, Path]) -> Iterator[str]:
    """The local server, slow enough (200 ms an answer) that a run of N articles lasts a while."""
    with start_server(ServerConfig(fixtures=corpus[1], latency_ms=200)) as handle:
        yield handle.base_url


def keys(path: Path) -> list[str]:
    return [json.loads(line)["article"]["sha256"] for line in path.read_text(encoding="utf-8").splitlines()]


def store_keys(out: Path) -> list[str]:
    with sqlite3.connect(out / "extract.db") as db:
        return [k for (k,) in db.execute("SELECT key FROM articles")]


def command(articles: Path, base_url: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "llm_extract", "run", str(articles), "--live", "--base-url", base_url, "-o", str(out),
        "-c", "1", "--timeout", "60", "--no-report", *extra,
    ]  # fmt: skip


ENV = {**os.environ, "OPENAI_API_KEY": "sk-test-outputs"}


def wait_for(condition, process: subprocess.Popen[bytes] | subprocess.Popen[str], what: str, deadline: float = 90):
    """Poll `condition` until it holds; fail if the process ends first or the deadline passes."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the run ended (rc {process.returncode}) before {what}")
        time.sleep(0.01)
    pytest.fail(f"no {what} within {deadline} s")


def holds_lock(out: Path, pid: int) -> bool:
    holder = lock_holder(out)
    return holder is not None and holder.pid == pid


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)
        process.kill()
    process.wait(30)


# -- 1. one writer per output directory --------------------------------------------------------------


def test_a_second_run_on_the_same_directory_is_refused_or_waits(corpus, server, tmp_path) -> None:
    articles, _ = corpus
    out = tmp_path / "out"
    holder = subprocess.Popen(command(articles, server, out), env=ENV, stdout=DEVNULL, stderr=DEVNULL)
    waiter: subprocess.Popen[str] | None = None
    try:
        wait_for(lambda: holds_lock(out, holder.pid), holder, "the lock")
        os.kill(holder.pid, signal.SIGSTOP)  # it holds the lock for as long as this test needs
        refused = subprocess.run(command(articles, server, out), env=ENV, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2, refused.stderr
        assert "Traceback" not in refused.stderr
        (line,) = refused.stderr.strip().splitlines()  # one line, and nothing else
        assert f"{out} is being written by pid {holder.pid} (" in line and "llm-extract run" in line
        assert " since " in line and line.endswith("wait for it or use --wait")

        waiter = subprocess.Popen(
            [*command(articles, server, out), "--wait"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        said: queue.Queue[str] = queue.Queue()

        def read(stream) -> None:  # type: ignore[no-untyped-def]
            for text in stream:
                said.put(text)

        threading.Thread(target=read, args=(waiter.stderr,), daemon=True).start()
        line = ""
        while "waiting for it to finish" not in line:
            line = said.get(timeout=90)
        assert f"pid {holder.pid}" in line
        assert waiter.poll() is None  # still waiting: the holder is stopped
        os.kill(holder.pid, signal.SIGCONT)
        assert holder.wait(120) == 0
        assert waiter.wait(120) == 0
    finally:
        stop(holder)
        if waiter is not None:
            stop(waiter)
    found = keys(out / "records.jsonl")
    assert len(found) == N == len(set(found))  # every article once: nothing extracted twice
    assert sorted(store_keys(out)) == sorted(found)
    assert lock_holder(out) is None  # released: the file is emptied


def test_the_lock_of_a_killed_run_is_taken_over(corpus, server, tmp_path) -> None:
    articles, _ = corpus
    out = tmp_path / "out"
    killed = subprocess.Popen(command(articles, server, out), env=ENV, stdout=DEVNULL, stderr=DEVNULL)
    try:
        wait_for(lambda: holds_lock(out, killed.pid) and lines_in(out / "records.jsonl") >= 2, killed, "two results")
        os.kill(killed.pid, signal.SIGKILL)
    finally:
        stop(killed)
    assert holds_lock(out, killed.pid)  # the dead holder's note is still in the file; its flock is gone
    again = subprocess.run(
        [*command(articles, server, out), "-c", "4"], env=ENV, capture_output=True, text=True, timeout=180
    )
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    (line,) = [line for line in again.stderr.splitlines() if "taking over the lock" in line]
    assert f"pid {killed.pid}" in line and "no longer running" in line
    found = keys(out / "records.jsonl")
    assert len(found) == N == len(set(found))


def test_the_lock_is_reentrant_in_a_process_and_refuses_another(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from llm_extract.runs.lock import hold_output\n"
        "with hold_output(Path(sys.argv[1]), command='holder'):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        with pytest.raises(OutputBusyError) as caught:
            with hold_output(out, hint="try later"):
                pass
        assert caught.value.holder is not None and caught.value.holder.command == "holder"
        message = str(caught.value)
        assert message.startswith(f"{out} is being written by pid {other.pid} (holder) since ")
        assert message.endswith("; try later")
    finally:
        assert other.stdin is not None
        other.stdin.write("\n")
        other.stdin.close()
        other.wait(30)
    notes: list[str] = []
    with hold_output(out, say=notes.append), hold_output(out, say=notes.append):  # re-entrant
        assert lock_holder(out) is not None and lock_holder(out).pid == os.getpid()  # type: ignore[union-attr]
    assert notes == [] and lock_holder(out) is None


# -- 2. records.jsonl read as bytes, repaired from the store -----------------------------------------


def test_damaged_lines_of_records_jsonl_are_rewritten_from_the_store(tmp_path) -> None:
    out = tmp_path / "out"
    args = ["run", str(ARTICLES), "--replay-dir", str(REPLAY), "-o", str(out), "--no-report"]
    assert runner.invoke(app, args).exit_code == 0
    records = out / "records.jsonl"
    lines = records.read_bytes().splitlines(keepends=True)
    original = sorted(keys(records))
    middle = len(lines[1]) // 2
    invalid_byte = lines[1][:middle] + b"\xff" + lines[1][middle + 1 :]
    truncated = lines[2][: len(lines[2]) // 2] + b"\n"
    stranger = json.loads(lines[4])
    stranger["article"]["sha256"] = "0" * 64  # an article the store does not hold
    foreign = json.dumps(stranger).encode() + b"\n"
    records.write_bytes(lines[0] + invalid_byte + truncated + lines[3] + lines[3] + foreign + lines[4])

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "Traceback" not in again.output
    (note,) = [line for line in again.output.splitlines() if "damaged line" in line]
    assert "records.jsonl: 4 damaged lines" in note and note.endswith("rewritten from the store")
    assert "1 not UTF-8" in note and "1 not JSON" in note and "1 duplicate" in note and "1 not in the store" in note
    assert sorted(keys(records)) == original  # each article once, every line valid UTF-8 JSON
    assert [p.name for p in out.iterdir() if p.name.startswith(".tmp-")] == []  # no temporary file left
    quiet = runner.invoke(app, args)  # a sound file is left as it is
    assert quiet.exit_code == 0 and "damaged line" not in quiet.output and sorted(keys(records)) == original


# -- 3. a lost store, rebuilt from records.jsonl ---------------------------------------------------------


def test_a_lost_store_is_rebuilt_from_records_jsonl_without_a_model_call(corpus, tmp_path) -> None:
    articles, replay = corpus
    subset = tmp_path / "in"
    subset.mkdir()
    for path in sorted(articles.glob("*.txt"))[:4]:
        (subset / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "out"
    env = {"OPENAI_API_KEY": "sk-test-rebuild"}
    with start_server(ServerConfig(fixtures=replay)) as handle:
        args = ["run", str(subset), "--live", "--base-url", handle.base_url, "-o", str(out), "--no-report"]
        assert runner.invoke(app, args, env=env).exit_code == 0
        before = handle.stats()["requests"]
        written = (out / "records.jsonl").read_bytes()
        for name in ("extract.db", "extract.db-wal", "extract.db-shm"):
            (out / name).unlink(missing_ok=True)

        rebuilt = runner.invoke(app, args, env=env)
        assert rebuilt.exit_code == 0, rebuilt.output
        assert "extract.db was missing or empty: rebuilt from records.jsonl (4 results" in rebuilt.output
        assert handle.stats()["requests"] == before  # nothing extracted, nothing paid again
        assert (out / "records.jsonl").read_bytes() == written  # each article once, unchanged
        assert sorted(store_keys(out)) == sorted(keys(out / "records.jsonl"))

        # a records.jsonl that cannot be read back is refused, not paid for twice
        (out / "extract.db").unlink()
        (out / "records.jsonl").write_bytes(written + b'{"article": {"sha256": "abc"}, "run": {"task": "x"}}\n')
        refused = runner.invoke(app, args, env=env)
        assert refused.exit_code == 2, refused.output
        assert "cannot be read back as a result of the task 'security_events'" in " ".join(refused.output.split())
        assert "Traceback" not in refused.output
        assert handle.stats()["requests"] == before
        assert store_keys(out) == []  # nothing half rebuilt


# -- 4. degraded cases -----------------------------------------------------------------------------------


def test_a_full_disk_stops_the_run_with_one_line_and_loses_nothing(tmp_path, monkeypatch) -> None:
    from llm_extract.runs import outputs

    out = tmp_path / "out"
    args = ["run", str(ARTICLES), "--replay-dir", str(REPLAY), "-o", str(out), "-c", "1", "--no-report"]
    real = outputs.JsonlAppender.write_line
    written: list[str] = []

    def write_line(self: outputs.JsonlAppender, line: str) -> None:
        if self._fh.name.endswith("records.jsonl"):
            if len(written) == 2:
                raise OSError(errno.ENOSPC, "No space left on device", self._fh.name)
            written.append(line)
        real(self, line)

    monkeypatch.setattr(outputs.JsonlAppender, "write_line", write_line)
    full = runner.invoke(app, args)
    assert full.exit_code == 1
    assert "Traceback" not in full.output
    assert full.exception is None or isinstance(full.exception, SystemExit)
    text = " ".join(full.output.split())
    assert "disk full: " in text and "records.jsonl" in text
    assert "every finished article is kept" in text and "free space and run the same command to resume" in text
    assert len(store_keys(out)) == 3  # the third was committed before its line failed...
    assert sorted(keys(out / "records.jsonl")) == sorted(store_keys(out))  # ...and written on the way out

    monkeypatch.setattr(outputs.JsonlAppender, "write_line", real)
    resumed = runner.invoke(app, args)
    assert resumed.exit_code == 0, resumed.output
    found = keys(out / "records.jsonl")
    assert len(found) == 5 == len(set(found))


def _sigint(disposition: signal.Handlers) -> Callable[[], None]:
    """A `preexec_fn` giving the child this SIGINT disposition, whatever the test runner's: a
    process started in the background by a non-interactive shell inherits SIGINT ignored."""
    return lambda: signal.signal(signal.SIGINT, disposition) and None


@pytest.mark.parametrize(
    ("sig", "code", "said", "sigint"),
    [
        (signal.SIGTERM, 143, "SIGTERM", signal.SIG_DFL),
        (signal.SIGINT, 130, "Ctrl-C", signal.SIG_DFL),
        (signal.SIGTERM, 143, "SIGTERM", signal.SIG_IGN),  # started in the background by a script
    ],
    ids=["SIGTERM", "Ctrl-C", "SIGTERM, SIGINT ignored"],
)
def test_sigterm_and_ctrl_c_stop_cleanly_with_the_store_never_ahead(corpus, server, tmp_path, sig, code, said, sigint) -> None:
    articles, _ = corpus
    out = tmp_path / "out"
    process = subprocess.Popen(
        command(articles, server, out), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=_sigint(sigint),
    )  # fmt: skip
    try:
        wait_for(lambda: lines_in(out / "records.jsonl") >= 3, process, "three results")
        os.kill(process.pid, sig)
        _, stderr = process.communicate(timeout=120)
    finally:
        stop(process)
    assert process.returncode == code, stderr.decode()
    message = " ".join(stderr.decode().split())
    assert "Traceback" not in message
    assert f"interrupted ({said}):" in message and "are kept in" in message
    assert "run the same command to resume" in message
    found = keys(out / "records.jsonl")
    assert 3 <= len(found) == len(set(found))
    assert sorted(found) == sorted(store_keys(out))  # the store is not ahead of records.jsonl
    assert lock_holder(out) is None  # released on the way out
    resumed = subprocess.run(
        [*command(articles, server, out), "-c", "4"], env=ENV, capture_output=True, text=True, timeout=180
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len(keys(out / "records.jsonl")) == N == len(set(keys(out / "records.jsonl")))


def test_a_duplicate_id_with_another_text_is_an_input_error(tmp_path) -> None:
    first, second = seed("003").read_text(encoding="utf-8"), seed("001").read_text(encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "irna-1", "text": first}) + "\n" + json.dumps({"id": "irna-1", "text": first}) + "\n"
        + json.dumps({"id": "irna-1", "text": second}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"id": "irna-1", "text": second}) + "\n", encoding="utf-8")
    items = list(iter_articles([feed, more]))
    assert [type(i) for i in items] == [Article, Article, InputError, InputError]  # the same text twice is one article
    assert str(items[2]) == f"{feed}:3: duplicate id 'irna-1' (first at {feed}:1) with a different text"
    assert str(items[3]).startswith(f"{more}:1: duplicate id 'irna-1' (first at {feed}:1)")

    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(feed), "--replay-dir", str(REPLAY), "-o", str(out), "--no-report"])
    assert result.exit_code == 1
    (record,) = [json.loads(line) for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["article"]["id"] == "irna-1"
    (error,) = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert error["kind"] == "input" and error["source"] == f"{feed}:3" and "duplicate id 'irna-1'" in error["message"]


def test_control_characters_in_file_names_never_reach_the_terminal(tmp_path) -> None:
    inputs = tmp_path / "in\x1b]0;owned\x07"
    inputs.mkdir()
    (inputs / "evil\x1b[31mred\u202e.txt").write_text("Nothing recorded about this seizure.\n", encoding="utf-8")
    (inputs / seed("003").name).write_bytes(seed("003").read_bytes())
    out = tmp_path / "out\x1b[2J"
    result = runner.invoke(app, ["run", str(inputs), "--replay-dir", str(REPLAY), "-o", str(out), "-v"])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "evil\\x1b[31mred\\u202e.txt" in result.output  # shown escaped, in the -v line and the failure
    assert any(line.startswith("failed evil\\x1b") for line in result.output.splitlines())
    assert "out\\x1b[2J" in result.output

    import logging

    from rich.console import Console

    from llm_extract.cli.common import setup_logging

    console = Console(record=True, width=200)
    setup_logging(console, quiet=False, verbose=0)
    logging.getLogger("llm_extract.test").warning("cannot read %s", "bad\x1b[5mname")
    assert "bad\\x1b[5mname" in console.export_text() and "\x1b" not in console.export_text()
