"""Start-up: wall time of `llm-extract --help` (goal: at most 0.3 s), and of importing the API.

    python benchmarks/bench_startup.py [--runs 10]

Runs each command `runs` times in a fresh interpreter and reports the median and best wall
time. `--help` must not import openai or instructor (about 2.3 s here): they are imported
when a command runs, never for help.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(command: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    python = sys.executable
    cases = [
        ("python -c pass (the interpreter alone)", [python, "-c", "pass"]),
        ("llm-extract --help", [python, "-m", "llm_extract", "--help"]),
        ("llm-extract run --help", [python, "-m", "llm_extract", "run", "--help"]),
        ("import llm_extract; Extractor", [python, "-c", "from llm_extract import Extractor"]),
        ("import instructor (for scale)", [python, "-c", "import instructor.v2.providers.openai.client"]),
    ]
    print(f"{'command':<42} {'median s':>9} {'best s':>7}")
    results = {}
    for name, command in cases:
        median, best = timed(command, args.runs)
        results[name] = median
        print(f"{name:<42} {median:>9.3f} {best:>7.3f}")
    helped = results["llm-extract --help"]
    print(f"goal: llm-extract --help <= 0.3 s: {helped:.3f} s ({'met' if helped <= 0.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
