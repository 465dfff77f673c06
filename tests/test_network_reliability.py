"""A broken or hostile server, over real HTTP on 127.0.0.1 (`llm-extract serve` in a thread).

- answers that failed validation are never served from the calls log's cache (a rerun asks again);
- `--timeout` bounds each HTTP call from connect to the last byte (a body sent a byte a second),
  and `article_timeout_s` bounds an article's calls together;
- secrets a server echoes back (the key in an answer, in a 400's message; a base URL's
  credentials) are in no file written, no store row and no log line;
- an HTML error page is reported as one, an answer over `max_response_bytes` is refused while it
  is read (memory stays small);
- replay misses are quiet, a missing recordings directory is one configuration error, the record
  hint of a JSONL article names its file, `llm-extract serve` fails in one line.

Timing assertions are only generous bounds ("within 30 s although the server would take 1,000 s").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import httpx2
from helpers import ROOT

from llm_extract.core.articles import Article, read_article
from llm_extract.core.pipeline import Extractor
from llm_extract.errors import ConfigError, ReplayMissError, RequestRejectedError, TransportError
from llm_extract.model.replay import ReplayStore, record_target
from llm_extract.model.secrets import redact, register_secrets, split_credentials
from llm_extract.runs.store import EventStore, redact_secrets
from llm_extract.settings import ExtractorSettings
from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, ServerHandle, start_server

FAST = ("--retry-wait", "0", "--retry-max-wait", "0.05")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("netcorpus")
    paths = synthetic_corpus(12, root / "articles", root / "replay", start=700)
    return paths, root / "replay"


@pytest.fixture(scope="module")
def server(corpus: tuple[list[Path], Path]) -> Iterator[ServerHandle]:
    with start_server(ServerConfig(fixtures=corpus[1])) as handle:
        yield handle


@pytest.fixture
def url(server: ServerHandle) -> str:
    server.reset(faults=None, seed=0, replace_faults=True)
    return server.base_url


def copy(paths: list[Path], indices: list[int], dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(paths[i], dest)) for i in indices]


def env(key: str | None = "sk-test-netrel-0123456789", **extra: str) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_EXTRACT_"))}
    values.update({"COLUMNS": "2000", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}, **extra)
    if key is not None:
        values["OPENAI_API_KEY"] = key
    return values


def cli(*args: object, environ: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llm_extract", *map(str, args)],
        cwd=ROOT,
        env=environ if environ is not None else env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def settings(**overrides: Any) -> ExtractorSettings:
    values = {"retry_initial_wait_s": 0, "retry_max_wait_s": 0, "retry_after_max_s": 0.05, "timeout_s": 10}
    return ExtractorSettings.resolve({**values, **overrides}, environ={})


def extract(url: str, article: Article, *, api_key: str | None = "sk-test-netrel-0123456789", **overrides: Any) -> Any:
    extractor = Extractor(settings=settings(**overrides), mode="live", base_url=url, api_key=api_key)

    async def once() -> Any:
        try:
            return await extractor.aextract(article)
        finally:
            await extractor.aclose()

    return asyncio.run(once())


# -- 1. an answer that failed validation is never served from the cache -----------------------------


def test_invalid_answers_are_not_cached_so_a_rerun_asks_the_model_again(
    url: str, server: ServerHandle, corpus: tuple[list[Path], Path], tmp_path: Path
) -> None:
    (path,) = copy(corpus[0], [0], tmp_path / "in")
    out = tmp_path / "out"
    command = ("run", tmp_path / "in", "--live", "--base-url", url, "-o", out, "--max-reasks", "2", "--no-report")
    command += FAST
    server.reset(faults="schedule:schema,schema,schema", replace_faults=True)
    first = cli(*command)
    assert first.returncode == 1, first.stdout + first.stderr
    (error,) = jsonl(out / "errors.jsonl")
    assert error["kind"] == "validation" and error["attempts"] == 3
    assert server.stats()["requests"] == 3
    with sqlite3.connect(out / "extract.db") as db:
        rows = db.execute("SELECT turn, outcome, error FROM calls ORDER BY id").fetchall()
    assert [(turn, outcome) for turn, outcome, _ in rows] == [(1, "ok"), (2, "ok"), (3, "ok")]
    assert all(e and e.startswith("invalid answer: ") for _, _, e in rows)  # the HTTP call worked; the answer did not

    server.reset(faults=None, replace_faults=True)  # the server is well again
    second = cli(*command)
    assert second.returncode == 0, second.stdout + second.stderr
    assert server.stats()["requests"] == 1  # asked again, not answered from the cache
    (record,) = jsonl(out / "records.jsonl")
    assert record["article"]["source"] == str(path) and record["run"]["cached_calls"] == 0

    server.reset(faults=None, replace_faults=True)
    forced = cli(*command, "--force")  # a validated answer is served from the cache: never paid twice
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert server.stats()["requests"] == 0
    assert jsonl(out / "records.jsonl")[0]["run"]["cached_calls"] == 1


def test_an_invalid_answer_logged_as_valid_by_an_older_version_is_not_served(
    url: str, server: ServerHandle, corpus: tuple[list[Path], Path], tmp_path: Path
) -> None:
    copy(corpus[0], [1], tmp_path / "in")
    out = tmp_path / "out"
    command = ("run", tmp_path / "in", "--live", "--base-url", url, "-o", out, "--max-reasks", "1", "--no-report")
    command += FAST
    server.reset(faults="schedule:schema,schema", replace_faults=True)
    assert cli(*command).returncode == 1
    with sqlite3.connect(out / "extract.db") as db:  # what llm_extract 0.1 logged: no error on a 200
        db.execute("UPDATE calls SET error = NULL")
    server.reset(faults=None, replace_faults=True)
    proc = cli(*command)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.stats()["requests"] == 1  # the cached answer failed validation: not served


# -- 2. deadlines: each HTTP call from connect to the last byte, and each article -------------------


def test_timeout_bounds_a_body_sent_a_byte_a_second(
    url: str, server: ServerHandle, corpus: tuple[list[Path], Path], tmp_path: Path
) -> None:
    copy(corpus[0], [2], tmp_path / "in")
    out = tmp_path / "out"
    server.reset(faults="schedule:slow_body,slow_body,slow_body", replace_faults=True)
    started = time.monotonic()
    proc = cli(
        "run", tmp_path / "in", "--live", "--base-url", url, "-o", out, "--timeout", "2", "--max-attempts", "2",
        "--no-report", *FAST,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (error,) = jsonl(out / "errors.jsonl")
    assert error["kind"] == "transport" and error["attempts"] == 2
    assert "timeout" in error["message"] and "within 2 s" in error["message"]
    # the server would take about a second per byte of a ~2 kB answer: half an hour
    assert elapsed < 30, elapsed
    assert server.stats()["faults"]["slow_body"] == 2
    with sqlite3.connect(out / "extract.db") as db:
        assert [o for (o,) in db.execute("SELECT outcome FROM calls ORDER BY id")] == ["timeout", "timeout"]


def test_the_article_deadline_bounds_all_its_calls(
    url: str, server: ServerHandle, corpus: tuple[list[Path], Path]
) -> None:
    server.reset(faults="schedule:" + ",".join(["slow_body"] * 10), replace_faults=True)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        extract(url, read_article(corpus[0][3]), timeout_s=1.5, max_attempts=10, article_timeout_s=2.5)
    assert time.monotonic() - started < 20  # ten attempts of 1.5 s would be 15 s, the server's hours
    assert "the article's deadline of 2.5 s" in str(caught.value)
    assert server.stats()["requests"] <= 3


def test_the_call_timeout_scales_with_the_answers_token_cap() -> None:
    from llm_extract.model.client import call_timeout_s

    assert call_timeout_s(settings(timeout_s=10)) == 10
    assert call_timeout_s(settings(timeout_s=10, timeout_per_output_token_s=0.05, max_tokens=1000)) == 60


# -- 3. secrets a server echoes -------------------------------------------------------------------------


def dump(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


def assert_nowhere(secret: str, out: Path, *texts: str) -> None:
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"records.jsonl", "errors.jsonl", "extract.db", "report.html"}
    for path in files:
        assert secret.encode() not in path.read_bytes(), f"the secret leaked into {path}"
    assert secret not in dump(out / "extract.db")
    for text in texts:
        assert secret not in text


@pytest.mark.parametrize("key", ["localkey123", "k3y!0x"])
def test_a_key_the_server_echoes_is_written_nowhere(
    key: str, url: str, server: ServerHandle, corpus: tuple[list[Path], Path], tmp_path: Path
) -> None:
    """The key has no `sk-` shape (and may be short): only exact redaction can hide it."""
    copy(corpus[0], [4, 5, 6], tmp_path / "in")
    out = tmp_path / "out"
    # -c 1, in order: the 1st article's answer carries the Authorization header, the 2nd is refused
    # with a 400 that quotes it, the 3rd goes through
    server.reset(faults="schedule:echo_key,echo_400,ok", replace_faults=True)
    proc = cli(
        "run", tmp_path / "in", "--live", "--base-url", url, "-o", out, "-c", "1", "-vv", *FAST,
        environ=env(key, OPENAI_LOG="debug"),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    counters = server.stats()
    assert counters["faults"]["echo_key"] == 1 and counters["faults"]["echo_400"] == 1
    assert "DEBUG" in proc.stderr  # logged at -vv
    (error,) = jsonl(out / "errors.jsonl")
    assert error["kind"] == "rejected" and "Invalid Authorization header: Bearer <redacted>" in error["message"]
    assert len(jsonl(out / "records.jsonl")) == 2
    # the server did echo it: what it sent is in the calls log, redacted
    calls = dump(out / "extract.db")
    assert "Authorization: Bearer <redacted>" in calls
    assert_nowhere(key, out, proc.stdout, proc.stderr)


def test_credentials_in_the_base_url_are_the_key_never_basic_auth_and_never_logged(
    url: str, server: ServerHandle, corpus: tuple[list[Path], Path], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[dict[str, str]] = []

    class Spy(httpx2.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx2.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            seen.append(dict(request.headers))
            return await self.inner.handle_async_request(request)

    caplog.set_level(logging.DEBUG)
    password = "pw-in-the-url-7731"
    with_credentials = url.replace("http://", f"http://bob:{password}@")
    server.reset(faults="schedule:echo_key", replace_faults=True)
    extractor = Extractor(settings=settings(), mode="live", base_url=with_credentials, transport=Spy())
    result = extractor.extract(read_article(corpus[0][7]))
    assert [h["authorization"] for h in seen] == [f"Bearer {password}"]  # the password is the key
    assert not any("Basic" in v for h in seen for v in h.values())
    assert password not in result.model_dump_json() and password not in caplog.text
    assert "bob:" not in caplog.text


def test_redaction_is_exact_whatever_the_shape() -> None:
    register_secrets("zz-top-secret-99", user="alice", password="pa ss word")
    assert redact('{"k": "zz-top-secret-99", "u": "pa%20ss%20word"}') == '{"k": "<redacted>", "u": "<redacted>"}'
    assert redact_secrets("key=zz-top-secret-99; Bearer abcdefghijkl") == "key=<redacted>; Bearer <redacted>"
    assert redact_secrets("mine-7781", ["mine-7781"]) == "<redacted>"
    assert redact("abc") == "abc"  # too short to redact without mangling the text
    assert split_credentials("https://u:p%40ss@example.org/v1?x=1") == ("https://example.org/v1?x=1", "u", "p@ss")


# -- 4. HTML pages, huge answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "requests"), [(502, TransportError, 2), (200, RequestRejectedError, 1)]
)
def test_an_html_page_is_reported_as_one(
    status: int,
    error_type: type[Exception],
    requests: int,
    url: str,
    server: ServerHandle,
    corpus: tuple[list[Path], Path],
) -> None:
    server.reset(faults=f"schedule:html:{status},html:{status}", replace_faults=True)
    with pytest.raises(error_type) as caught:
        extract(url, read_article(corpus[0][8]), max_attempts=2)
    message = str(caught.value)
    assert f"the server answered an HTML page (status {status}): <!DOCTYPE html> <html> <head><title>" in message
    assert "empty" not in message and "Connection error" not in message
    assert server.stats()["requests"] == requests  # a 502 page is retried, a 200 page is not


_RSS_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from llm_extract import Extractor, ExtractorSettings
    from llm_extract.core.articles import read_article
    settings = ExtractorSettings.resolve(
        {"mode": "live", "base_url": sys.argv[1], "api_key": "sk-test-rss", "max_attempts": 1}, environ={}
    )
    try:
        Extractor(settings=settings).extract(read_article(Path(sys.argv[2])))
        error = None
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:  # Linux: ru_maxrss also counts the parent's peak before exec; VmHWM is this program's own
        status = Path("/proc/self/status").read_text()
        peak = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) / 1024
    except (OSError, StopIteration):
        pass
    print(json.dumps({"maxrss_mb": peak, "error": error}))
    """
)


def test_an_answer_over_the_size_cap_is_refused_while_read_and_memory_stays_small(
    url: str, server: ServerHandle, corpus: tuple[list[Path], Path]
) -> None:
    server.reset(faults="schedule:huge", replace_faults=True)  # a 50 MB answer, no Content-Length
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, url, str(corpus[0][9])],
        cwd=ROOT, env=env(None), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["error"].startswith("TransportError: ")
    assert "larger than max_response_bytes (4,194,304 bytes)" in report["error"] and "not retried" in report["error"]
    assert report["maxrss_mb"] < 300, report  # reading it whole took 826 MB
    assert server.stats()["faults"]["huge"] == 1


def test_the_size_cap_is_a_setting(url: str, server: ServerHandle, corpus: tuple[list[Path], Path]) -> None:
    with pytest.raises(TransportError) as caught:
        extract(url, read_article(corpus[0][10]), max_response_bytes=1024)  # a recorded answer is ~2 kB
    assert "larger than max_response_bytes (1,024 bytes)" in str(caught.value)
    assert extract(url, read_article(corpus[0][10])).seizures


# -- 5. the first hour --------------------------------------------------------------------------------


def test_a_replay_miss_logs_no_connection_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ReplayMissError):
        Extractor(mode="replay", replay_dir=tmp_path).extract("Police seized 3 kg of heroin.", source="a.txt")
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any("API call failed" in m or "Max retries exceeded" in m or "Connection error" in m for m in loud), loud


def test_a_missing_replay_directory_is_one_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-recordings"
    message = (
        f"replay mode: the recordings directory {missing} does not exist; "
        "record first with --record, or give --replay-dir"
    )
    with pytest.raises(ConfigError) as caught:
        ReplayStore(missing, mode="replay")
    assert str(caught.value) == message
    ReplayStore(missing, mode="record")  # recording creates it
    with pytest.raises(ConfigError) as caught:  # not a replay miss per article
        Extractor(mode="replay", replay_dir=missing).extract("Police seized 3 kg of heroin.", source="a.txt")
    assert str(caught.value) == message


def test_the_record_hint_of_a_jsonl_article_names_the_file(tmp_path: Path) -> None:
    source = tmp_path / "batch.jsonl"
    source.write_text(json.dumps({"text": "Police seized 3 kg of heroin in Zahedan."}) + "\n", encoding="utf-8")
    (tmp_path / "recordings").mkdir()
    recordings, out = tmp_path / "recordings", tmp_path / "out"
    proc = cli("run", source, "--replay", "--replay-dir", recordings, "-o", out, environ=env(None))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (error,) = jsonl(tmp_path / "out" / "errors.jsonl")
    assert error["source"] == f"{source}:1"
    assert f"llm-extract run {source} --record" in error["message"] and f"{source}:1 --record" not in error["message"]
    assert record_target("art-42") == "ARTICLE" and record_target("<stdin>") == "-"


@pytest.mark.parametrize("problem", ["busy port", "no recordings"])
def test_serve_fails_in_one_line(problem: str, tmp_path: Path) -> None:
    fixtures = ROOT / "fixtures" / "replay"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        if problem == "no recordings":
            fixtures = tmp_path / "empty"
            fixtures.mkdir()
            port = 0
        proc = cli("serve", "--fixtures", fixtures, "--port", port, environ=env(None), timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("error: ")
    assert ("cannot listen on 127.0.0.1" if problem == "busy port" else "no chat-completions recordings") in proc.stderr


def test_an_event_store_redacts_registered_secrets(tmp_path: Path) -> None:
    from llm_extract.core.results import Failure

    register_secrets("store-secret-5521")
    with EventStore(tmp_path / "s.db") as store:
        failure = Failure(
            source="a.txt", kind="rejected", message="HTTP 400: store-secret-5521", last_output="store-secret-5521"
        )
        store.add_failure(failure, at="2025-01-01T00:00:00+00:00")
    assert "store-secret-5521" not in dump(tmp_path / "s.db")
