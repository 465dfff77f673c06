"""Adaptive concurrency (`llm_extract.runs.concurrency`): the AIMD limiter alone, then the whole
pipeline against `llm-extract serve --slots 1` (a one-slot local server) and a server that starts
answering 429, over real HTTP on 127.0.0.1.

No timing assertion depends on the machine's speed: the limiter's clock is a fake one in the
unit tests, and the server tests only check what the limit did and what the server saw.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from llm_extract.core.articles import read_article
from llm_extract.core.pipeline import Extractor
from llm_extract.errors import ConfigError
from llm_extract.runs.concurrency import AdaptiveLimiter
from llm_extract.settings import ExtractorSettings
from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, ServerHandle, start_server

# -- the limiter alone -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_it_halves_on_overload_once_per_round_and_never_below_one() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(8, clock=clock)

    async def main() -> None:
        async with limiter.slot() as a, limiter.slot() as b:  # both sent before the decrease
            clock.now = 1.0
            a.overload("rate_limit")
            b.overload("rate_limit")  # the same round: ignored
        assert limiter.current_limit == 4
        for expected in (2, 1, 1):
            clock.now += 1
            async with limiter.slot() as slot:
                clock.now += 1
                slot.overload("timeout")
            assert limiter.current_limit == expected

    run(main())
    assert (limiter.min_seen, limiter.max_seen) == (1, 8)
    changes = [(c.limit, c.reason) for c in limiter.history]
    assert changes == [(8, "start"), (4, "rate_limit"), (2, "timeout"), (1, "timeout")]


def test_it_adds_one_after_a_run_of_successes_up_to_the_maximum() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(3, initial=1, increase_after=2, latency_factor=None, clock=clock)

    async def main() -> None:
        for _ in range(10):
            async with limiter.slot() as slot:
                slot.success(1.0)

    run(main())
    assert limiter.current_limit == 3 and limiter.increases == 2
    assert limiter.snapshot() == {
        "limit": 3, "min": 1, "max": 3, "maximum": 3, "in_flight": 0, "waiting": 0, "decreases": 0, "increases": 2,
    }  # fmt: skip


def test_a_latency_rising_past_the_factor_halves_it() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(8, latency_factor=3.0, clock=clock)

    async def main() -> None:
        for latency in (1.0, 1.1, 2.0, 4.0, 6.0, 8.0):  # a queue forming at the server
            async with limiter.slot() as slot:
                clock.now += latency
                slot.success(latency, output_tokens=100)
            if limiter.current_limit < 8:
                return

    run(main())
    assert limiter.current_limit == 4 and limiter.history[-1].reason == "latency"


def test_slots_go_to_calls_under_way_first_and_a_fixed_limiter_stays_fixed() -> None:
    limiter = AdaptiveLimiter(1)
    order: list[str] = []

    async def call(name: str, priority: int, hold: asyncio.Event | None = None) -> None:
        async with limiter.slot(priority):
            order.append(name)
            if hold is not None:
                await hold.wait()

    async def main() -> None:
        hold = asyncio.Event()
        first = asyncio.create_task(call("first", 1, hold))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(call(n, p)) for n, p in (("new-1", 1), ("new-2", 1), ("reask", 0))]
        cancelled = asyncio.create_task(call("cancelled", 0))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        hold.set()
        await asyncio.gather(first, *waiting)

    run(main())
    assert order == ["first", "reask", "new-1", "new-2"]
    assert limiter.in_flight == 0

    fixed = AdaptiveLimiter(4, adaptive=False)

    async def overloaded() -> None:
        async with fixed.slot() as slot:
            slot.overload("rate_limit")

    run(overloaded())
    assert fixed.current_limit == 4 and len(fixed.history) == 1


def test_the_limiter_follows_the_settings() -> None:
    live = ExtractorSettings.resolve({"mode": "live", "api_key": "sk-test-x", "concurrency": 6}, environ={})
    assert AdaptiveLimiter.for_settings(live).snapshot()["limit"] == 6 and AdaptiveLimiter.for_settings(live).adaptive
    replay = ExtractorSettings.resolve({"mode": "replay"}, environ={})
    assert not AdaptiveLimiter.for_settings(replay).adaptive  # replayed latencies say nothing
    off = ExtractorSettings.resolve({"mode": "live", "api_key": "sk-test-x", "adaptive_concurrency": False}, environ={})
    assert not AdaptiveLimiter.for_settings(off).adaptive
    with pytest.raises(ConfigError):
        ExtractorSettings(latency_backoff_factor=1.0)


# -- against a server -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("aimd")
    paths = synthetic_corpus(24, root / "articles", root / "replay", start=800)
    return paths, root / "replay"


@pytest.fixture
def server(request: pytest.FixtureRequest, corpus: tuple[list[Path], Path]) -> Iterator[ServerHandle]:
    with start_server(ServerConfig(fixtures=corpus[1], **request.param)) as handle:
        yield handle


def limits_logged(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int]]:
    """Every change of the limit the run logged, as (from, to)."""
    found = [re.search(r"at most (\d+) \(was (\d+)\)", r.getMessage()) for r in caplog.records]
    return [(int(m[2]), int(m[1])) for m in found if m]


def extract_all(url: str, paths: list[Path], **overrides: Any) -> tuple[list[Any], AdaptiveLimiter]:
    values = {"retry_initial_wait_s": 0, "retry_max_wait_s": 0.05, "retry_after_max_s": 0.05, **overrides}
    values.update(mode="live", base_url=url, api_key="sk-test-aimd")
    settings = ExtractorSettings.resolve(values, environ={})
    extractor = Extractor(settings=settings)
    own: AdaptiveLimiter | None = getattr(extractor, "limiter", None)  # an extractor that keeps its limiter
    limiter = own or AdaptiveLimiter.for_settings(extractor.settings)

    async def main() -> list[Any]:
        from llm_extract.model.client import ModelClient

        if own is None:  # the extractor's client, given a limiter this test can read afterwards
            loop = asyncio.get_running_loop()
            extractor._clients[loop] = ModelClient(extractor.settings, store=None, limiter=limiter)
        try:
            return await asyncio.gather(*(extractor.aextract(read_article(p)) for p in paths))
        finally:
            await extractor.aclose()

    return asyncio.run(main()), limiter


@pytest.mark.parametrize("server", [{"slots": 1, "latency_ms": 400}], indirect=True)
def test_a_one_slot_server_is_not_flooded_and_nothing_is_sent_twice(
    server: ServerHandle, corpus: tuple[list[Path], Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    results, limiter = extract_all(server.base_url, corpus[0][:8])  # default concurrency (8) and timeout
    assert len(results) == 8 and all(r.seizures for r in results)
    counters = server.stats()
    assert counters["requests"] == 8 and counters["repeats"] == 0  # no request sent twice
    assert counters["max_in_flight"] == 1  # the server answered one at a time
    assert limiter.min_seen < 8 and ("latency" in {c.reason for c in limiter.history})
    assert limits_logged(caplog)[0] == (8, 4)


@pytest.mark.parametrize("server", [{"slots": 1, "latency_ms": 1000}], indirect=True)
def test_a_timed_out_call_is_sent_again_saying_so_with_less_concurrency(
    server: ServerHandle, corpus: tuple[list[Path], Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # 4 at once, 1 s each, one at a time: the 3rd and 4th wait past the 2.5 s timeout
    results, limiter = extract_all(server.base_url, corpus[0][8:12], concurrency=4, timeout_s=2.5, max_attempts=6)
    assert len(results) == 4 and all(r.seizures for r in results)
    warnings = [r.getMessage() for r in caplog.records if "the server may still be generating" in r.getMessage()]
    said = re.compile(r"timed out after 2\.5s; .*: retrying with concurrency [12]$")
    assert warnings and all(said.search(w) for w in warnings)
    assert limiter.min_seen <= 2 and "timeout" in {c.reason for c in limiter.history}
    assert server.stats()["repeats"] >= 1  # the timed-out ones were sent again, and the logs said so


@pytest.mark.parametrize("server", [{"latency_ms": 20, "rate_limit_after": 8, "rate_limit_count": 4}], indirect=True)
def test_a_server_that_starts_answering_429_halves_the_limit_and_it_recovers(
    server: ServerHandle, corpus: tuple[list[Path], Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    results, limiter = extract_all(server.base_url, corpus[0], latency_backoff_factor=None)
    assert len(results) == 24 and all(r.seizures for r in results)
    counters = server.stats()
    assert counters["faults"]["429"] == 4 and counters["requests"] == 24 + 4
    reasons = [c.reason for c in limiter.history]
    assert reasons[:2] == ["start", "rate_limit"] and limiter.history[1].limit == 4
    lowest = min(range(len(limiter.history)), key=lambda i: (limiter.history[i].limit, i))
    assert any(c.reason == "successes" for c in limiter.history[lowest:])  # it went up again
    assert limiter.current_limit > limiter.min_seen
    assert (8, 4) in limits_logged(caplog)
