"""The adaptive limiter reads the server's latency, not our event loop's lag (issue 16).

A loop kept busy by our own work reads answers late, so a call timed around its `await`
looks slow although the server is not; the limiter must not halve for that
(`llm_extract.runs.loop_idle`). A server that really queues calls must still make it fall.

No assertion depends on the machine's speed: the loop is blocked with `time.sleep` (so the
in-process test server, in its own thread, runs on meanwhile), for long stretches against a
short server latency, and a slower machine only makes the loop busier, never idler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from llm_extract.core.articles import read_article
from llm_extract.core.pipeline import Extractor
from llm_extract.core.results import CallRecord
from llm_extract.runs.concurrency import AdaptiveLimiter
from llm_extract.runs.loop_idle import idle_clock
from llm_extract.settings import ExtractorSettings
from llm_extract.testing import synthetic_corpus
from llm_extract.testing.server import ServerConfig, ServerHandle, start_server


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- the idle clock ---------------------------------------------------------------------------------


def test_the_idle_clock_counts_waiting_and_not_a_blocked_loop() -> None:
    async def main() -> tuple[float, float, float]:
        read = idle_clock()
        assert idle_clock() == read  # one meter per loop, installed once
        start = read()
        time.sleep(0.1)  # our own work: the loop is busy, not idle
        blocked = read() - start
        start = read()
        await asyncio.sleep(0.1)  # nothing to do: the loop waits in its selector
        waited = read() - start
        start = read()
        for _ in range(50):
            await asyncio.sleep(0)  # ready at once: polled, never waited on
        polled = read() - start
        return blocked, waited, polled

    blocked, waited, polled = asyncio.run(main())
    assert blocked == 0.0 and polled == 0.0
    assert waited >= 0.05


# -- the limiter alone, with a fake clock and a fake idle meter -------------------------------------


def test_latency_the_loop_did_not_wait_for_is_not_the_servers() -> None:
    clock, idle = Clock(), Clock()
    limiter = AdaptiveLimiter(8, latency_factor=3.0, clock=clock, idle=idle)

    async def call(latency: float, waited: float) -> None:
        async with limiter.slot() as slot:
            clock.now += latency
            idle.now += waited
            slot.success(latency, output_tokens=100)

    async def main() -> None:
        await call(1.0, 1.0)  # the fastest call: the loop was idle throughout
        for _ in range(20):
            await call(8.0, 0.9)  # read 8 times later, the server's part as fast as before
        assert limiter.current_limit == 8 and limiter.decreases == 0
        for _ in range(5):
            await call(8.0, 7.5)  # now the loop sat idle for most of it: the server queues
            if limiter.current_limit < 8:
                break

    asyncio.run(main())
    assert limiter.current_limit == 4 and limiter.history[-1].reason == "latency"


def test_with_a_fake_clock_and_no_idle_meter_latencies_are_taken_as_they_are() -> None:
    assert AdaptiveLimiter(8, clock=Clock())._idle is None
    assert AdaptiveLimiter(8)._idle == "loop"


# -- the pipeline against a server, the loop kept busy ----------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("loop-lag")
    paths = synthetic_corpus(24, root / "articles", root / "replay", start=900)
    return paths, root / "replay"


@pytest.fixture
def server(request: pytest.FixtureRequest, corpus: tuple[list[Path], Path]) -> Iterator[ServerHandle]:
    with start_server(ServerConfig(fixtures=corpus[1], **request.param)) as handle:
        yield handle


def extract_with_a_busy_loop(
    url: str, paths: list[Path], hog: Any, *, limiter: AdaptiveLimiter | None = None
) -> tuple[list[Any], AdaptiveLimiter, list[CallRecord]]:
    """Warm up on `paths[0]`, extract `paths[1:3]` one by one, then the rest 8 at a time while
    `hog(limiter, done)` runs."""
    values = {"retry_initial_wait_s": 0, "retry_max_wait_s": 0.05, "concurrency": 8}
    values.update(mode="live", base_url=url, api_key="sk-test-lag")
    settings = ExtractorSettings.resolve(values, environ={})
    warm = Extractor(settings=settings)  # the first call's lazy imports block the loop too: not in this test

    async def warm_up() -> None:
        await warm.aextract(read_article(paths[0]))
        await warm.aclose()

    asyncio.run(warm_up())
    extractor = Extractor(settings=settings)
    if limiter is not None:
        extractor.limiter = limiter
    calls: list[CallRecord] = []

    async def main() -> list[Any]:
        results = [await extractor.aextract(read_article(p), calls=calls) for p in paths[1:3]]
        done = asyncio.Event()
        busy = asyncio.create_task(hog(extractor.limiter, done))
        try:
            results += await asyncio.gather(*(extractor.aextract(read_article(p), calls=calls) for p in paths[3:]))
        finally:
            done.set()
            await busy
            await extractor.aclose()
        return results

    results = asyncio.run(main())
    return results, extractor.limiter, calls


async def block_while_calls_wait(limiter: AdaptiveLimiter, done: asyncio.Event) -> None:
    """Each time 8 calls are in flight, block the loop for 1 s: CPU work of ours, as far as the loop
    can tell (it runs nothing else meanwhile); the answers come, and are read 1 s late."""
    while not done.is_set():
        while limiter.in_flight < 8 and not done.is_set():
            await asyncio.sleep(0.005)
        if not done.is_set():
            time.sleep(1.0)
            await asyncio.sleep(0.2)


async def block_a_fifth_of_the_time(limiter: AdaptiveLimiter, done: asyncio.Event) -> None:
    while not done.is_set():
        await asyncio.sleep(0.08)
        time.sleep(0.02)


@pytest.mark.parametrize("server", [{"latency_ms": 50}], indirect=True)
def test_a_busy_event_loop_does_not_make_the_limit_fall(server: ServerHandle, corpus: tuple[list[Path], Path]) -> None:
    paths = corpus[0][:19]
    results, limiter, calls = extract_with_a_busy_loop(server.base_url, paths, block_while_calls_wait)
    assert len(results) == 18 and all(r.seizures for r in results)
    timed = [c.latency_s for c in calls if c.outcome == "ok"]
    assert sum(t >= 1.0 for t in timed[2:]) >= 8 and 3 * max(timed[:2]) < 1.0  # as timed: 3 times slower, and more
    assert limiter.decreases == 0 and limiter.min_seen == 8, limiter.history
    assert server.stats()["repeats"] == 0

    # the same run, its limiter taking the timed latencies as the server's: it halves
    naive = AdaptiveLimiter(8, idle=None)
    extract_with_a_busy_loop(server.base_url, paths, block_while_calls_wait, limiter=naive)
    assert naive.min_seen < 8 and "latency" in {c.reason for c in naive.history}


@pytest.mark.parametrize("server", [{"slots": 1, "latency_ms": 300}], indirect=True)
def test_a_server_that_queues_still_makes_it_fall_with_the_loop_busy(
    server: ServerHandle, corpus: tuple[list[Path], Path]
) -> None:
    results, limiter, _ = extract_with_a_busy_loop(server.base_url, corpus[0][11:24], block_a_fifth_of_the_time)
    assert len(results) == 12 and all(r.seizures for r in results)
    assert server.stats()["max_in_flight"] == 1
    assert limiter.min_seen < 8 and "latency" in {c.reason for c in limiter.history}
