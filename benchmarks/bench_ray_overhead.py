"""The Ray engine's overhead on one machine: articles/s with `--engine ray` vs one process
(and vs `--workers N`, when the process engine is there), against the local server.

    python benchmarks/bench_ray_overhead.py                                   # 50, 500, 2000 ms; C=16; 2 actors
    python benchmarks/bench_ray_overhead.py --latencies 50 --articles 64      # quick

Not a speed-up claim: Ray is for many machines; on one, it can at best match `--workers`.
For each latency L (the local server, `llm-extract serve`, in its own process, answering
synthetic recordings after L ms ± 10 %) and each engine, one batch of N articles is run
live into a fresh output directory, C articles in flight, and timed two ways:

- `whole`: N / t, the whole run, the engine's start-up included (Ray's actors, the worker
  processes: each pays the task's first build, mostly its gazetteer, as a fresh
  one-process CLI run does too; here the one-process run is warmed up first, so this
  column is the worst case for the others; Ray itself is started once, before, not counted);
- `steady`: the rate over the second half of the articles done (start-up excluded).

The ideal is C / L. Ratios: each engine's rate over the one-process run's (1.00: no
overhead). Ray needs `pip install 'llm-extract[ray]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def start_server(replay: Path, latency_ms: float, jitter_ms: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "llm_extract", "serve", "--fixtures", str(replay), "--port", "0",
         "--latency-ms", str(latency_ms), "--jitter-ms", str(jitter_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("listening on "):
            return process, line.split()[-1]
    raise SystemExit("the server did not start")


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (OSError, ValueError):
        memory = "? GiB"
    import ray

    return (f"{os.cpu_count()} cores ({cpu}), {memory}, Python {platform.python_version()}, "
            f"Ray {ray.__version__}, {platform.system()} {platform.release()}")  # fmt: skip


Timing = tuple[float, float]  # whole, steady (articles/s)


def engines(url: str, concurrency: int, actors: int, chosen: list[str]) -> dict[str, Callable[[list[Path]], Timing]]:
    """name → a function of the articles that runs them live into a fresh directory, timed
    (`chosen`: ray, workers; the one-process run always)."""
    from llm_extract import Extractor, ExtractorSettings, iter_articles, run_batch
    from llm_extract.runs.engines.ray import RayEngine

    def extractor() -> Extractor[Any]:
        values = {"mode": "live", "base_url": url, "api_key": "sk-bench", "concurrency": concurrency}
        return Extractor(settings=ExtractorSettings.resolve(values, environ={}))

    def timed(batch: Callable[..., Any]) -> Callable[[list[Path]], Timing]:
        def run(paths: list[Path]) -> Timing:
            done: list[float] = []
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                on_done = lambda _summary: done.append(time.perf_counter())  # noqa: E731
                summary = asyncio.run(batch(extractor(), iter_articles(paths), Path(out), concurrency=concurrency,
                                            on_done=on_done, merge=False))  # fmt: skip
                elapsed = time.perf_counter() - started
            if summary.extracted != len(paths):
                raise SystemExit(f"only {summary.extracted} of {len(paths)} extracted: {summary.failures[:1]}")
            k = len(paths) // 2  # the second half: every worker warmed up (they do not all start at once)
            steady = (len(paths) - k) / (done[-1] - done[k - 1]) if k and done[-1] > done[k - 1] else float("nan")
            return len(paths) / elapsed, steady

        return run

    found = {"one process": timed(run_batch)}
    if "ray" in chosen:
        found[f"ray ({actors} actors)"] = timed(lambda *a, **k: run_batch(*a, engine=RayEngine(actors=actors), **k))
    if "workers" in chosen:
        from llm_extract.runs.engines import ProcessEngine

        found[f"--workers {actors}"] = timed(lambda *a, **k: run_batch(*a, engine=ProcessEngine(actors), **k))
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latencies", type=float, nargs="+", default=[50, 500, 2000], help="ms")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--actors", type=int, default=2, help="Ray actors (and worker processes)")
    parser.add_argument("--articles", type=int, default=320, help="N, per run")
    parser.add_argument("--engines", nargs="*", choices=["ray", "workers"], default=["ray", "workers"],
                        help="besides the one-process run")  # fmt: skip
    parser.add_argument("--address", default=None, help="a Ray cluster to use (default: a local one)")
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache" / "ray_overhead")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import ray

    from llm_extract.testing import cached_corpus

    articles, replay = cached_corpus(args.cache, args.articles)
    paths = sorted(articles.glob("*.txt"))[: args.articles]
    started_ray = not ray.is_initialized()
    if started_ray:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
        ray.init(address=args.address, **({} if args.address else {"num_cpus": os.cpu_count()}), **options)
    rows: list[tuple[float, str, float, float]] = []  # latency, engine, whole, steady
    try:
        for latency in args.latencies:
            server, url = start_server(replay, latency, latency * 0.1)
            try:
                runs = engines(url, args.concurrency, args.actors, args.engines)
                for name, run in runs.items():
                    if name == "one process":  # warm-up: imports, the task's data (the others start afresh each run)
                        run(paths[:2])
                    whole, steady = run(paths)
                    rows.append((latency, name, whole, steady))
                    print(f"  L={latency:g} ms {name}: {whole:.1f}/s whole, {steady:.1f}/s steady", file=sys.stderr)
            finally:
                server.terminate()
                server.wait(timeout=10)
        print(f"machine: {machine()}")
    finally:
        if started_ray:
            ray.shutdown()

    print(f"C={args.concurrency}, {len(paths)} articles a run; ratios to one process and to --workers "
          f"{args.actors} (1.00: no overhead)")  # fmt: skip
    print(f"{'latency':>8} {'ideal/s':>8}  {'engine':<16} {'whole/s':>8} {'steady/s':>9} {'whole×':>7} {'steady×':>8} "
          f"{'steady÷workers':>15}")  # fmt: skip
    base = {latency: (whole, steady) for latency, name, whole, steady in rows if name == "one process"}
    workers = {latency: steady for latency, name, _, steady in rows if name.startswith("--workers")}
    for latency, name, whole, steady in rows:
        b_whole, b_steady = base[latency]
        ideal = args.concurrency / (latency / 1000)
        to_workers = f"{steady / workers[latency]:>15.2f}" if latency in workers and name.startswith("ray") else f"{'':>15}"
        print(f"{latency:>6g}ms {ideal:>8.1f}  {name:<16} {whole:>8.1f} {steady:>9.1f} {whole / b_whole:>7.2f} "
              f"{steady / b_steady:>8.2f} {to_workers}")  # fmt: skip


if __name__ == "__main__":
    main()
