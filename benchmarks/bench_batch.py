"""Batch scale: peak memory and throughput of `llm-extract run` in replay, by batch size.

    python benchmarks/bench_batch.py                     # 1,000 and 10,000 articles
    python benchmarks/bench_batch.py --sizes 20 100      # quick

Synthetic articles and their recordings (`llm_extract.testing.synthetic_corpus`) are made
once and cached in `--cache` (default: benchmarks/.cache, git-ignored). Each size runs the
real CLI in a subprocess, in replay mode, into a fresh output directory; peak memory is the
child's maximum resident set size (`os.wait4`), measured with and without the final
cross-article merge (which holds every record's key fields at once: it grows with the store,
by design). The extraction itself must stay flat as the batch grows: the report gives the
ratio of the largest to the smallest batch's peak.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def corpus(cache: Path, n: int) -> tuple[Path, Path]:
    from llm_extract.testing import cached_corpus

    started = time.perf_counter()
    articles, replay = cached_corpus(cache, n)
    print(f"corpus of {n:,} synthetic articles ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return articles, replay


def run(articles: Path, replay: Path, n: int, concurrency: int, *, merge: bool = True) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, exit code) of one batch of the first `n` articles."""
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "in"
        subset.mkdir()
        for path in sorted(articles.glob("*.txt"))[:n]:
            (subset / path.name).symlink_to(path.resolve())
        command = [sys.executable, "-m", "llm_extract", "run", str(subset), "--replay", "--replay-dir", str(replay),
                   "-o", str(Path(tmp) / "out"), "-q", "-c", str(concurrency), "--no-report"]
        if not merge:
            command.append("--no-merge")
        started = time.perf_counter()
        process = subprocess.Popen(command)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        lines = (Path(tmp) / "out" / "records.jsonl").read_text(encoding="utf-8").count("\n")
        if lines != n:
            raise SystemExit(f"expected {n} records, got {lines}")
        return elapsed, usage.ru_maxrss / 1024, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache" / "batch")
    args = parser.parse_args()
    articles, replay = corpus(args.cache, max(args.sizes))
    rows = []
    for n in sorted(args.sizes):
        seconds, peak, code = run(articles, replay, n, args.concurrency)
        _, peak_extract, _ = run(articles, replay, n, args.concurrency, merge=False)
        rows.append((n, seconds, peak, code, peak_extract))
    print(f"{'articles':>9} {'seconds':>8} {'articles/s':>11} {'ms/article':>11} {'peak MiB':>9} {'without merge':>14}")
    for n, seconds, peak, _, peak_extract in rows:
        print(f"{n:>9,} {seconds:>8.1f} {n / seconds:>11.1f} {1000 * seconds / n:>11.2f} {peak:>9.1f} {peak_extract:>14.1f}")
    if len(rows) > 1:
        (n0, s0, p0, _, e0), (n1, s1, p1, _, e1) = rows[0], rows[-1]
        marginal = (n1 - n0) / (s1 - s0) if s1 > s0 else float("inf")
        print(f"peak memory ratio {n1:,} vs {n0:,} articles: {p1 / p0:.2f} with the final merge, "
              f"{e1 / e0:.2f} for the extraction alone (flat: close to 1)")
        print(f"marginal throughput between the two sizes: {marginal:.1f} articles/s "
              f"({1000 / marginal:.2f} ms per article, start-up excluded)")


if __name__ == "__main__":
    main()
