"""Every benchmark script runs, on a tiny input (timings are measured by the scripts, not here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *args: str, timeout: int = 180) -> str:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_overhead():
    assert "total per article" in run("bench_overhead.py", "--rounds", "1")


def test_tokens():
    pytest.importorskip("bpe_openai")
    out = run("bench_tokens.py")
    assert "fixed overhead" in out and "byte-identical" in out


def test_startup():
    assert "llm-extract --help" in run("bench_startup.py", "--runs", "1")


def test_batch(tmp_path):
    out = run("bench_batch.py", "--sizes", "3", "6", "--cache", str(tmp_path / "cache"))
    assert "peak memory ratio" in out


def test_throughput(tmp_path):
    out = run("bench_throughput.py", "--latencies", "20", "--concurrency", "2", "--rounds", "1", "2",
              "--cache", str(tmp_path / "cache"))
    assert "ours/ideal" in out


def test_grounding():
    assert "verdict" in run("bench_grounding.py")
