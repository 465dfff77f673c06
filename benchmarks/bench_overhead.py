"""Our own work per article, in replay mode (no network): where the milliseconds go.

    python benchmarks/bench_overhead.py [--rounds 40]

Extracts the five seed articles (about 2,200–4,300 characters each) from their recordings,
`rounds` times each, after a warm-up, and times separately:

- prompt rendering (`PromptSet.messages`),
- the post-processing (`Task.build`: grounding, normalisation, merging),
- the store writes (`EventStore.add_result`, one transaction per article, WAL),
- the whole `Extractor.aextract` (prompt + the openai client and instructor on a replayed
  response + validation + post-processing);

and the bare openai client sending the same recorded requests through the same replay
transport: its CPU cost is the client's, not ours. Goal: at most 5 ms per article of our
own work (prompt, instructor and validation, post-processing, store) on the 2-core
development machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    from llm_extract import Extractor
    from llm_extract.core.articles import read_article
    from llm_extract.core.results import CallRecord
    from llm_extract.core.task import BuildContext
    from llm_extract.runs.store import EventStore
    from llm_extract.tasks.security_events.schema import ArticleMentions

    articles = [read_article(p) for p in sorted((ROOT / "fixtures" / "articles").glob("*.txt"))]
    extractor = Extractor(mode="replay", replay_dir=ROOT / "fixtures" / "replay")
    answers = {
        p.stem: ArticleMentions.model_validate(json.loads(p.read_text(encoding="utf-8"))["turns"][-1])
        for p in sorted((ROOT / "fixtures" / "answers").glob("*.json"))
    }

    async def extract_all(rounds: int) -> tuple[list[float], list, list[list[CallRecord]]]:
        times, results, logs = [], [], []
        for _ in range(rounds):
            for article in articles:
                calls: list[CallRecord] = []
                started = time.perf_counter()
                results.append(await extractor.aextract(article, calls=calls))
                times.append(time.perf_counter() - started)
                logs.append(calls)
        await extractor.aclose()
        return times, results, logs

    asyncio.run(extract_all(1))  # warm-up: imports, schema generation, caches
    whole, results, logs = asyncio.run(extract_all(args.rounds))

    prompt = []
    for _ in range(args.rounds):
        for article in articles:
            started = time.perf_counter()
            extractor.prompts.messages(article.text)
            prompt.append(time.perf_counter() - started)

    build = []
    by_stem = {Path(a.source).stem: a for a in articles}
    for _ in range(args.rounds):
        for result in results[: len(articles)]:
            article = by_stem[Path(result.article.source).stem]
            context = BuildContext(article=article, info=result.article, run=result.run, chunks=1,
                                   fuzzy_threshold=0.8, keep_ungrounded=False)
            started = time.perf_counter()
            extractor.task.build(answers[Path(article.source).stem], context)
            build.append(time.perf_counter() - started)

    store_times = []
    with tempfile.TemporaryDirectory() as tmp, EventStore(Path(tmp) / "bench.db") as store:
        for result, calls, article in zip(results, logs, articles * args.rounds, strict=True):
            started = time.perf_counter()
            store.add_result(result, calls=calls, extracted_at="2026-01-01T00:00:00+00:00", text=article.text)
            store_times.append(time.perf_counter() - started)

    # the bare openai client on the same replayed requests: its cost is not ours
    import httpx2
    import openai

    from llm_extract.model.replay import ARTICLE_HEADER, ReplayStore, ReplayTransport

    store_r = ReplayStore(ROOT / "fixtures" / "replay")
    bodies = []
    for path in sorted((ROOT / "fixtures" / "replay").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for interaction in doc["interactions"]:
            bodies.append((doc["article"]["sha256"], interaction["request"]["body"]))

    async def bare(rounds: int) -> list[float]:
        client = openai.AsyncOpenAI(api_key="x", max_retries=0, http_client=httpx2.AsyncClient(transport=ReplayTransport(store_r)))
        times = []
        for _ in range(rounds):
            for sha, body in bodies:
                started = time.perf_counter()
                await client.chat.completions.create(**body, extra_headers={ARTICLE_HEADER: sha})
                times.append(time.perf_counter() - started)
        await client.close()
        return times

    asyncio.run(bare(1))
    bare_calls = asyncio.run(bare(args.rounds))
    calls_per_article = sum(len(c) for c in logs) / len(logs)
    openai_ms = 1000 * statistics.mean(bare_calls) * calls_per_article

    ms = lambda xs: 1000 * statistics.mean(xs)  # noqa: E731
    chars = statistics.mean(len(a.text) for a in articles)
    rows = [
        ("prompt rendering", ms(prompt)),
        (f"openai client alone ({calls_per_article:.1f} calls, replay transport)", openai_ms),
        ("instructor + validation + our call wrapper", ms(whole) - ms(prompt) - ms(build) - openai_ms),
        ("grounding + normalisation + merge (Task.build)", ms(build)),
        ("Extractor.aextract, whole", ms(whole)),
        ("store write (one transaction)", ms(store_times)),
        ("total per article", ms(whole) + ms(store_times)),
        ("total without the openai client's own work", ms(whole) + ms(store_times) - openai_ms),
    ]
    print(f"{len(whole)} extractions of the 5 seeds (mean {chars:,.0f} characters); mean ms per article:")
    for name, value in rows:
        print(f"  {name:<58} {value:7.2f}")
    total = ms(whole) + ms(store_times)
    ours = total - openai_ms
    print(f"goal <= 5 ms per article of our own work: {'met' if ours <= 5 else 'NOT met'} "
          f"({ours:.2f} ms; {total:.2f} ms with the openai client)")


if __name__ == "__main__":
    main()
