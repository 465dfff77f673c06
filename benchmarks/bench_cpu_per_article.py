"""Our own CPU per article in replay: ms per article, ours vs the libraries', over whole batches.

    python benchmarks/bench_cpu_per_article.py                  # 500 seed variants + 400 synthetic articles
    python benchmarks/bench_cpu_per_article.py --seeds 20 --synthetic 10 --rounds 1   # quick

Two corpora, each run as one `run_batch` in replay mode (prompt, the openai client and
instructor on the recorded answer, validation, the task's build, the store, records.jsonl,
the final merge), after a warm-up batch:

- **seeds**: the five seed articles of `fixtures/` (about 2,200–4,300 characters), as `--seeds`
  distinct articles (each seed's text with a different run of trailing spaces, so that the
  store does not skip it as already done), their recordings made once from the seeds' own
  recorded answers (turn by turn, a reask included);
- **synthetic**: `--synthetic` short articles of `llm_extract.testing` (what
  `bench_throughput.py` uses).

**Total** is the process's CPU time (every thread: the store writes in their thread too) per
article, the cost of an empty batch (the store's creation, migrations) taken out. **Ours** is
the total times the share of it spent outside instructor, openai, pydantic / pydantic-core and
the HTTP stack under openai (httpx2, httpcore, anyio, h11, sniffio, jiter, distro), measured by
a statistical profiler in a separate batch (`Sampler`: a SIGPROF every `--interval` ms of CPU,
POSIX only): each sample charges the main thread's CPU time since the last one to the innermost
frame of a known package on its stack, skipping the standard library's frames; a stack with
none (the event loop's own machinery) is ours, and so is the other threads' CPU (the store
writes). It is an estimate, to within a few percent on these batch sizes.

Goal (issue 16): at most 2.5 ms of our own work per article on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 2.5
#: the libraries whose internals are not ours (top-level package names under site-packages)
THEIRS = frozenset(
    {"instructor", "openai", "pydantic", "pydantic_core", "httpx2", "httpx", "httpcore", "anyio", "h11", "sniffio",
     "jiter", "distro", "docstring_parser"}
)  # fmt: skip


def seed_corpus(count: int, cache: Path) -> tuple[list[Any], Path]:
    """`count` articles made from the five seeds, and their recordings (made once, in `cache`)."""
    import httpx2

    from llm_extract.core.articles import Article, read_article
    from llm_extract.core.pipeline import Extractor

    seeds = [read_article(p) for p in sorted((ROOT / "fixtures" / "articles").glob("*.txt"))]
    recorded = {}
    for path in sorted((ROOT / "fixtures" / "replay").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        recorded[doc["article"]["sha256"]] = doc["interactions"]
    articles = [
        Article(text=seed.text + " " * (1 + i // len(seeds)), source=f"{seed.source}#{i // len(seeds)}")
        for i, seed in ((i, seeds[i % len(seeds)]) for i in range(count))
    ]
    replay = cache / "replay"
    probe = Extractor(mode="replay", replay_dir=ROOT / "fixtures" / "replay")
    version = f"{probe.prompts.version}:{probe.settings.call_mode}:{probe.settings.max_tokens}"
    marker = cache / "prompt_version"
    if marker.exists() and marker.read_text() != version:
        for stale in replay.glob("*.json"):
            stale.unlink()
    replay.mkdir(parents=True, exist_ok=True)
    marker.write_text(version)
    missing = [a for a in articles if not (replay / f"{a.sha256[:16]}.json").exists()]
    if missing:

        def answer(request: httpx2.Request) -> httpx2.Response:
            messages = json.loads(request.content)["messages"]
            seed = next(s for s in seeds if s.text.strip()[:300] in messages[1]["content"])
            turns, n = recorded[seed.sha256], len(messages)
            turn = next(t for t in turns if len(t["request"]["body"]["messages"]) == n)
            return httpx2.Response(turn["response"]["status"], json=turn["response"]["body"])

        recorder = Extractor(
            mode="record", api_key="no-key", replay_dir=replay, transport=httpx2.MockTransport(answer),
            model=probe.settings.model,
        )  # fmt: skip

        async def record() -> None:
            for article in missing:
                await recorder.aextract(article)
            await recorder.aclose()

        asyncio.run(record())
    return articles, replay


def synthetic(count: int, cache: Path) -> tuple[list[Any], Path]:
    from llm_extract.core.articles import read_article
    from llm_extract.testing import cached_corpus

    articles, replay = cached_corpus(cache, count)
    return [read_article(p) for p in sorted(articles.glob("*.txt"))[:count]], replay


class Sampler:
    """A statistical profiler of the main thread (`with Sampler(interval):`): a SIGPROF every
    `interval` seconds of the process's CPU; its handler charges the CPU time the main thread
    used since the last one to the owner of the main thread's stack then (`owner`). The handler
    runs between two bytecodes, so a long call into C (pydantic-core, json) is charged to the
    Python function that made it. The other threads' CPU (the store writes) is `others_s`."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.seconds: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self.others_s = 0.0
        self._last = 0.0

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        now = time.thread_time()
        self.seconds[owner(frame)] += now - self._last
        self._last = now
        self.samples += 1

    def __enter__(self) -> Sampler:
        self._previous = signal.signal(signal.SIGPROF, self._sample)
        self._process, self._main = time.process_time(), time.thread_time()
        self._last = self._main
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, self._previous)
        main = time.thread_time()
        self.seconds[owner(sys._getframe())] += main - self._last
        self.others_s = (time.process_time() - self._process) - (main - self._main)


def owner(frame: FrameType | None) -> str:
    """"ours", "theirs" (`THEIRS`), or "loop" (standard library frames only: the event loop)."""
    while frame is not None:
        name = frame.f_code.co_filename.replace("\\", "/")
        if "/llm_extract/" in name:
            return "ours"
        if "/site-packages/" in name:
            top = name.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
            return "theirs" if top in THEIRS else "ours"
        frame = frame.f_back
    return "loop"


def batch_cpu(extractor: Any, articles: list[Any]) -> float:
    """CPU seconds (all threads) of one `run_batch` over `articles`, in a fresh output directory."""
    from llm_extract import run_batch

    with tempfile.TemporaryDirectory() as out:
        started = time.process_time()
        summary = asyncio.run(run_batch(extractor, articles, Path(out)))
        cpu = time.process_time() - started
    if summary.extracted != len(articles):
        raise SystemExit(f"only {summary.extracted} of {len(articles)} extracted: {summary.failures[:1]}")
    return cpu


def measure(name: str, articles: list[Any], replay: Path, rounds: int, interval: float) -> dict[str, Any]:
    from llm_extract import Extractor

    extractor = Extractor(mode="replay", replay_dir=replay)
    batch_cpu(extractor, articles[: min(len(articles), 20)])  # warm-up: imports, schema, tables
    empty = min(batch_cpu(extractor, []) for _ in range(3))
    totals = [(batch_cpu(extractor, articles) - empty) / len(articles) for _ in range(rounds)]
    total = min(totals)
    with Sampler(interval) as sampler:
        batch_cpu(extractor, articles)
    counts = sampler.seconds
    busy = counts["ours"] + counts["theirs"] + counts["loop"] + sampler.others_s
    share = (counts["ours"] + counts["loop"] + sampler.others_s) / busy if busy else float("nan")
    chars = sum(len(a.text) for a in articles) / len(articles)
    return {"name": name, "n": len(articles), "chars": chars, "total": 1000 * total, "ours": 1000 * total * share,
            "loop": 1000 * total * counts["loop"] / busy if busy else float("nan"), "samples": sampler.samples,
            "threads": 1000 * total * sampler.others_s / busy if busy else float("nan")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=500, help="articles made from the five seeds")
    parser.add_argument("--synthetic", type=int, default=400, help="synthetic articles")
    parser.add_argument("--rounds", type=int, default=3, help="timed batches per corpus (the best is kept)")
    parser.add_argument("--interval", type=float, default=1.0, help="sampling interval, ms")
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    rows = []
    if args.seeds:
        articles, replay = seed_corpus(args.seeds, args.cache / "cpu_seeds")
        rows.append(measure("seeds", articles, replay, args.rounds, args.interval / 1000))
    if args.synthetic:
        articles, replay = synthetic(args.synthetic, args.cache / "throughput")
        rows.append(measure("synthetic", articles, replay, args.rounds, args.interval / 1000))

    print("replay, one run_batch per corpus; ms of CPU per article (all threads, an empty batch's cost taken out)")
    print(f"{'corpus':<10} {'articles':>8} {'chars':>6} {'total':>7} {'ours':>7} {'of which: loop':>14} "
          f"{'store thread':>12} {'libraries':>9} {'samples':>7} {'ours/goal':>9}")  # fmt: skip
    for r in rows:
        print(f"{r['name']:<10} {r['n']:>8} {r['chars']:>6.0f} {r['total']:>7.2f} {r['ours']:>7.2f} {r['loop']:>14.2f} "
              f"{r['threads']:>12.2f} {r['total'] - r['ours']:>9.2f} {r['samples']:>7} {r['ours'] / GOAL_MS:>9.2f}")  # fmt: skip
    worst = max((r["ours"] for r in rows), default=float("nan"))
    verdict = "met" if worst <= GOAL_MS else "NOT met"
    print(f"goal: <= {GOAL_MS} ms of our own work per article: worst {worst:.2f} ms ({verdict})")


if __name__ == "__main__":
    main()
