"""The local OpenAI-compatible replay server, over real HTTP on 127.0.0.1.

Clients: the plain openai SDK (`max_retries=0`), httpx2, raw sockets (to see what is really
on the wire for `reset` and `truncate`), and the whole pipeline (`Extractor` in live mode).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import httpx2
import openai
from pydantic import ValidationError

from llm_extract.core.articles import read_article
from llm_extract.core.pipeline import Extractor
from llm_extract.errors import ConfigError
from llm_extract.model.retry import retry_after_seconds, transient_kind
from llm_extract.settings import ExtractorSettings
from llm_extract.tasks.security_events.schema import ArticleMentions
from llm_extract.testing.server import (
    Fault,
    FaultInjector,
    FaultPlan,
    ServerConfig,
    ServerHandle,
    is_loopback,
    run_server_in_thread,
    running_server,
    start_server,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
REPLAY = FIXTURES / "replay"
ROOT = FIXTURES.parent


def article_path(prefix: str) -> Path:
    (path,) = (FIXTURES / "articles").glob(f"{prefix}_*.txt")
    return path


def interaction(prefix: str, index: int = 0) -> dict[str, Any]:
    """A recorded interaction of seed article `prefix` ('003'), from its recording file."""
    sha = read_article(article_path(prefix)).sha256
    doc = json.loads((REPLAY / f"{sha[:16]}.json").read_text(encoding="utf-8"))
    result: dict[str, Any] = doc["interactions"][index]
    return result


def arguments(completion: dict[str, Any]) -> str:
    value: str = completion["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    return value


def settings(**overrides: Any) -> ExtractorSettings:
    values = {"retry_initial_wait_s": 0, "retry_max_wait_s": 0, "retry_after_max_s": 0.05, "timeout_s": 10}
    return ExtractorSettings.resolve({**values, **overrides}, environ={})


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    with start_server(ServerConfig(fixtures=REPLAY)) as handle:
        yield handle


@pytest.fixture
def url(server: ServerHandle) -> str:
    """The shared server's base URL, with counters reset and no faults."""
    server.reset(faults=None, seed=0, replace_faults=True)
    return server.base_url


def faults(url: str, spec: str | None, seed: int = 0) -> dict[str, Any]:
    """Install a fault plan through the HTTP API (POST /_reset)."""
    response = httpx2.post(url.removesuffix("/v1") + "/_reset", json={"faults": spec, "seed": seed})
    assert response.status_code == 200, response.text
    stats: dict[str, Any] = response.json()
    return stats


def stats(url: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx2.get(url.removesuffix("/v1") + "/_stats").json()
    return result


def client(url: str, timeout: float = 10.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0, timeout=timeout)


def post(url: str, body: Any, timeout: float = 10.0) -> httpx2.Response:
    return httpx2.post(url + "/chat/completions", json=body, timeout=timeout)


def raw_exchange(url: str, body: dict[str, Any]) -> tuple[bytes, OSError | None]:
    """Send one request on a bare socket; everything received until EOF, and the error if any."""
    parsed = httpx2.URL(url)
    data = json.dumps(body).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    received = b""
    with socket.create_connection((parsed.host, parsed.port), timeout=5) as sock:
        sock.sendall(head + data)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError as exc:
            return received, exc
    return received, None


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# -- serving recordings -------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "index"), [("000", 0), ("003", 0), ("003", 1)])
def test_a_recorded_request_gets_the_recorded_response(url: str, prefix: str, index: int) -> None:
    recorded = interaction(prefix, index)
    response = post(url, recorded["request"]["body"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == recorded["response"]["body"]
    assert response.json()["usage"] == recorded["response"]["body"]["usage"]
    assert stats(url)["replayed"] == 1


def test_the_openai_client_reads_the_recorded_completion_and_usage(url: str) -> None:
    recorded = interaction("003")
    expected = recorded["response"]["body"]
    completion = client(url).chat.completions.create(**recorded["request"]["body"])
    assert completion.id == expected["id"]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == expected["usage"]["prompt_tokens"]
    assert completion.usage.completion_tokens == expected["usage"]["completion_tokens"]
    tool_call = completion.choices[0].message.tool_calls[0]
    assert tool_call.function.arguments == arguments(expected)


def test_models_lists_the_recorded_models(url: str) -> None:
    models = client(url).models.list()
    assert [m.id for m in models.data] == ["gpt-4o-mini"]
    assert client(url).models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError):
        client(url).models.retrieve("gpt-9")


def test_a_request_that_was_not_recorded_is_a_400_replay_miss(url: str) -> None:
    body = {**interaction("000")["request"]["body"], "model": "gpt-4o"}
    response = post(url, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "replay_miss"
    assert "no recording matches this request (hash" in error["message"]
    assert "model changed (gpt-4o-mini → gpt-4o)" in error["message"]
    with pytest.raises(openai.BadRequestError) as caught:
        client(url).chat.completions.create(**body)
    assert caught.value.code == "replay_miss"
    assert transient_kind(caught.value) is None
    unknown = post(url, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]})
    assert unknown.json()["error"]["code"] == "replay_miss"
    assert "no recording" in unknown.json()["error"]["message"]
    assert stats(url)["misses"] == 3


def test_streaming_and_malformed_bodies_are_refused_like_openai(url: str) -> None:
    streaming = post(url, {**interaction("000")["request"]["body"], "stream": True})
    assert streaming.status_code == 400
    assert streaming.json()["error"]["code"] == "streaming_unsupported"
    assert "streaming is not supported" in streaming.json()["error"]["message"]
    garbage = httpx2.post(url + "/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert garbage.status_code == 400
    assert garbage.json()["error"]["type"] == "invalid_request_error"
    missing = httpx2.post(url + "/embeddings", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Invalid URL (POST /v1/embeddings)"
    assert stats(url)["rejected"] == 2


# -- faults: what reaches the client ----------------------------------------------------------


def test_429_carries_retry_after_and_429_noretry_does_not(url: str) -> None:
    faults(url, "schedule:429,429:0.25,429_noretry")
    body = interaction("000")["request"]["body"]
    waits = []
    for _ in range(3):
        with pytest.raises(openai.RateLimitError) as caught:
            client(url).chat.completions.create(**body)
        assert caught.value.status_code == 429
        assert caught.value.code == "rate_limit_exceeded"
        assert transient_kind(caught.value) == "rate_limit"
        waits.append(retry_after_seconds(caught.value))
        last = caught.value.response.headers
    assert waits == [1.0, 0.25, None]
    assert "retry-after" not in last and "retry-after-ms" not in last
    raw = faults(url, "schedule:429")
    assert raw["config"]["faults"] == "schedule:429"
    response = post(url, body)
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert post(url, body).status_code == 200  # the schedule is over


def test_500_and_503_are_openai_server_errors(url: str) -> None:
    faults(url, "schedule:500,503")
    body = interaction("000")["request"]["body"]
    for status in (500, 503):
        with pytest.raises(openai.InternalServerError) as caught:
            client(url).chat.completions.create(**body)
        assert caught.value.status_code == status
        assert caught.value.type == "server_error"
        assert transient_kind(caught.value) == "server_error"
    counted = stats(url)["faults"]
    assert (counted["500"], counted["503"], stats(url)["faults_total"]) == (1, 1, 2)


def test_a_400_fault_is_a_bad_request_that_is_not_retried(url: str) -> None:
    faults(url, "schedule:400")
    with pytest.raises(openai.BadRequestError) as caught:
        client(url).chat.completions.create(**interaction("000")["request"]["body"])
    assert caught.value.code == "context_length_exceeded"
    assert transient_kind(caught.value) is None


def test_hang_times_the_client_out_without_blocking_other_requests(url: str) -> None:
    faults(url, "schedule:hang:20")
    body = interaction("000")["request"]["body"]
    with ThreadPoolExecutor(1) as pool:
        hung = pool.submit(lambda: client(url, timeout=1.0).chat.completions.create(**body))
        assert wait_until(lambda: stats(url)["in_flight"] == 1)
        started = time.monotonic()
        assert post(url, body).status_code == 200  # served while the first one hangs
        assert time.monotonic() - started < 0.9
        with pytest.raises(openai.APITimeoutError):
            hung.result(timeout=10)
    # the client gave up and closed its connection: the hung handler ends too
    assert wait_until(lambda: stats(url)["in_flight"] == 0)
    assert stats(url)["faults"]["hang"] == 1


def test_hang_ends_when_the_server_stops() -> None:
    base_url, stop = run_server_in_thread(ServerConfig(fixtures=REPLAY, faults="schedule:hang"))  # hang_s = 30
    body = interaction("000")["request"]["body"]
    with ThreadPoolExecutor(1) as pool:
        hung = pool.submit(post, base_url, body, 25.0)
        assert wait_until(lambda: stats(base_url)["in_flight"] == 1)
        started = time.monotonic()
        stop()
        assert time.monotonic() - started < 5
        with pytest.raises(httpx2.RemoteProtocolError, match="without sending a response"):
            hung.result(timeout=5)


def test_reset_aborts_the_tcp_connection(url: str) -> None:
    body = interaction("000")["request"]["body"]
    faults(url, "schedule:reset,reset,reset")
    received, error = raw_exchange(url, body)
    assert received == b"" and isinstance(error, ConnectionResetError)  # an RST, not a response
    with pytest.raises(httpx2.ReadError):
        post(url, body)
    with pytest.raises(openai.APIConnectionError) as caught:
        client(url).chat.completions.create(**body)
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert transient_kind(caught.value) == "connection"
    assert client(url).chat.completions.create(**body).usage is not None  # then served again


def test_truncate_sends_half_the_announced_body_then_closes(url: str) -> None:
    recorded = interaction("000")
    body = recorded["request"]["body"]
    faults(url, "schedule:truncate,truncate,truncate")
    received, error = raw_exchange(url, body)
    assert error is None  # a clean close (FIN) after the partial body
    head, _, payload = received.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    length = int(next(line.split(":", 1)[1] for line in lines if line.lower().startswith("content-length:")))
    assert length == len(json.dumps(recorded["response"]["body"], ensure_ascii=False).encode())
    assert len(payload) == length // 2
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete|complete message body"):
        post(url, body)
    with pytest.raises(openai.APIConnectionError):
        client(url).chat.completions.create(**body)


def test_bad_json_cuts_the_tool_arguments(url: str) -> None:
    recorded = interaction("000")
    faults(url, "schedule:bad_json")
    completion = client(url).chat.completions.create(**recorded["request"]["body"])
    args = completion.choices[0].message.tool_calls[0].function.arguments
    assert arguments(recorded["response"]["body"]).startswith(args)
    with pytest.raises(json.JSONDecodeError):
        json.loads(args)
    assert completion.usage is not None


@pytest.mark.parametrize(
    ("prefix", "index", "violation"), [("003", 1, "greater than 0"), ("000", 0, "at least 1 item")]
)
def test_schema_fault_is_valid_json_that_fails_validation(url: str, prefix: str, index: int, violation: str) -> None:
    recorded = interaction(prefix, index)
    ArticleMentions.model_validate_json(arguments(recorded["response"]["body"]))  # the recording is valid
    faults(url, "schedule:schema")
    response = post(url, recorded["request"]["body"])
    assert response.status_code == 200
    args = json.loads(arguments(response.json()))
    with pytest.raises(ValidationError, match=violation):
        ArticleMentions.model_validate(args)
    assert response.headers["x-llm-extract-fault"] == "schema"


def test_empty_answers_with_no_choices(url: str) -> None:
    recorded = interaction("000")
    faults(url, "schedule:empty")
    completion = client(url).chat.completions.create(**recorded["request"]["body"])
    assert completion.choices == []
    assert completion.usage is not None
    assert completion.usage.total_tokens == recorded["response"]["body"]["usage"]["total_tokens"]


# -- determinism, counters, latency ---------------------------------------------------------------


def statuses(url: str, n: int) -> list[int]:
    body = interaction("000")["request"]["body"]
    with httpx2.Client(timeout=10) as http:
        return [http.post(url + "/chat/completions", json=body).status_code for _ in range(n)]


def test_a_schedule_is_applied_in_arrival_order_and_restarts_on_reset(url: str) -> None:
    faults(url, "schedule:429:0,ok,500,ok,503")
    first = statuses(url, 7)
    assert first == [429, 200, 500, 200, 503, 200, 200]
    counters = stats(url)
    assert counters["requests"] == 7 and counters["replayed"] == 4 and counters["faults_total"] == 3
    assert {k: v for k, v in counters["faults"].items() if v} == {"429": 1, "500": 1, "503": 1}
    assert counters["schedule_position"] == 7
    reset = httpx2.post(url.removesuffix("/v1") + "/_reset").json()  # counters and schedule, same plan
    assert reset["requests"] == 0 and reset["schedule_position"] == 0
    assert statuses(url, 7) == first


def test_rates_with_a_fixed_seed_give_the_same_sequence(url: str) -> None:
    spec = "429:0=0.25,500=0.2,503=0.15"
    faults(url, spec, seed=7)
    first = statuses(url, 40)
    faults(url, spec, seed=7)
    assert statuses(url, 40) == first
    assert {200, 429, 500, 503} <= set(first)
    faults(url, spec, seed=8)
    assert statuses(url, 40) != first


def test_the_injector_draws_at_most_one_fault_by_cumulative_probability() -> None:
    plan = FaultPlan.parse("429=0.1,500=0.05,reset=0.05")
    injector = FaultInjector(plan, seed=3)
    sequence = [injector.draw() for _ in range(20_000)]
    other = FaultInjector(plan, seed=4)
    assert [other.draw() for _ in range(200)] != sequence[:200]
    share = {
        k: sum(1 for f in sequence if (f.kind if f else None) == k) / len(sequence)
        for k in ("429", "500", "reset", None)
    }
    assert abs(share["429"] - 0.1) < 0.01 and abs(share["500"] - 0.05) < 0.01 and abs(share["reset"] - 0.05) < 0.01
    injector.reset()
    assert [injector.draw() for _ in range(20_000)] == sequence


def test_the_fault_spec_grammar() -> None:
    spec = "429=0.1,500=0.05,503=0.05,hang=0.02,reset=0.02,truncate=0.02,bad_json=0.03,schema=0.03,empty=0.02"
    plan = FaultPlan.parse(spec)
    assert plan.mode == "rates" and str(plan) == spec
    assert FaultPlan.parse(" schedule: 429:0.2, ok ,hang:1.5,429_noretry").schedule == (
        Fault("429", 0.2),
        None,
        Fault("hang", 1.5),
        Fault("429_noretry"),
    )
    assert FaultPlan.parse(None).mode == FaultPlan.parse("none").mode == FaultPlan.parse("").mode == "none"
    assert str(FaultPlan.parse("429:2=0.5")) == "429:2=0.5"
    for bad in (
        "nope=0.1",
        "429=2",
        "429=0.6,500=0.6",
        "500:1=0.1",
        "schedule:",
        "schedule:hang:0",
        "429=x",
        "429=0.1,429=0.2",
        "429",
    ):
        with pytest.raises(ConfigError):
            FaultPlan.parse(bad)
    with pytest.raises(ConfigError):
        ServerConfig(fixtures=REPLAY, faults="boom=1")


def test_latency_is_applied_and_concurrent_requests_overlap() -> None:
    body = interaction("000")["request"]["body"]
    with running_server(ServerConfig(fixtures=REPLAY, latency_ms=400, jitter_ms=50, seed=1)) as base_url:
        started = time.monotonic()
        assert post(base_url, body).status_code == 200
        assert time.monotonic() - started >= 0.35
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: post(base_url, body).status_code, range(4)))
        elapsed = time.monotonic() - started
    assert results == [200] * 4
    assert 0.35 <= elapsed < 1.3  # one after the other would take at least 1.4 s


def test_a_host_off_loopback_is_refused_unless_allowed() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com", "::"):
        with pytest.raises(ConfigError, match="allow-remote"):
            ServerConfig(fixtures=REPLAY, host=host)
    assert ServerConfig(fixtures=REPLAY, host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.3.4.5", "localhost", "::1", "[::1]"))
    with pytest.raises(ConfigError, match="not a directory"):
        start_server(ServerConfig(fixtures=ROOT / "no-such-dir"))


# -- the real client path: the whole pipeline against the server ----------------------------------


def test_extractor_live_against_the_server_replays_article_003_with_its_reask(url: str) -> None:
    extractor = Extractor(settings=settings(), mode="live", base_url=url, api_key="sk-test")
    result = extractor.extract(read_article(article_path("003")))
    assert [(i.drug, i.quantity) for s in result.seizures for i in s.items] == [("methamphetamine", 2400.0)]
    assert (result.run.calls, result.run.reasks, result.run.retries) == (2, 1, 0)
    assert result.run.usage.input_tokens > 0
    assert stats(url)["replayed"] == 2


def test_extractor_retries_through_transport_faults(url: str) -> None:
    faults(url, "schedule:429:0,500,reset,truncate,ok,503")
    extractor = Extractor(settings=settings(max_attempts=6), mode="live", base_url=url, api_key="sk-test")
    result = extractor.extract(read_article(article_path("003")))
    assert (result.run.calls, result.run.reasks, result.run.retries) == (7, 1, 5)
    assert stats(url)["faults_total"] == 5


def test_extractor_reasks_after_corrupted_answers_and_the_reask_is_served(url: str) -> None:
    faults(url, "schedule:schema,bad_json")
    extractor = Extractor(settings=settings(), mode="live", base_url=url, api_key="sk-test")
    result = extractor.extract(read_article(article_path("000")))
    assert (result.run.calls, result.run.reasks) == (3, 2)
    assert result.agreements
    counters = stats(url)
    # the first reask is answered with a corrupted answer (bad_json), the second as recorded
    assert counters["recovered"] == 1 and counters["faults"]["schema"] == counters["faults"]["bad_json"] == 1


def test_serve_prints_where_it_listens_and_stops_on_ctrl_c() -> None:
    code = (
        "import sys; from llm_extract.server import ServerConfig, serve; "
        "serve(ServerConfig(fixtures=sys.argv[1], port=0))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(REPLAY)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:") and line.endswith("/v1"), line
        base_url = line.removeprefix("listening on ")
        assert httpx2.get(base_url + "/models").json()["data"][0]["id"] == "gpt-4o-mini"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 0, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "replaying 6 recorded request(s)" in stderr


def test_run_server_in_thread_stops_cleanly() -> None:
    before = {t.name for t in threading.enumerate()}
    base_url, stop = run_server_in_thread(ServerConfig(fixtures=REPLAY))
    assert base_url.startswith("http://127.0.0.1:")
    stop()
    stop()  # idempotent
    assert {t.name for t in threading.enumerate()} <= before
