"""`benchmarks/bench_cpu_per_article.py` runs on a tiny input and prints its figures.

As for the other benchmark scripts (`test_benchmarks.py`), nothing here depends on the
machine's speed: the verdict is the script's own, printed for a person to read.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_cpu_per_article.py"


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="the sampler needs SIGPROF (POSIX)")
def test_cpu_per_article_runs(tmp_path: Path) -> None:
    args = ["--seeds", "10", "--synthetic", "6", "--rounds", "1", "--cache", str(tmp_path / "cache")]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("seeds ") for line in lines) and any(line.startswith("synthetic ") for line in lines)
    assert "ms of our own work per article" in done.stdout
