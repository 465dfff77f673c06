"""The command line: batch extraction of a directory, exit codes, fast --help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import ARTICLES, REPLAY
from typer.testing import CliRunner

from llm_extract.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_run_on_a_directory_writes_one_line_per_article(tmp_path):
    out = tmp_path / "out"
    result = run("run", str(ARTICLES), "--replay", "--replay-dir", str(REPLAY), "-o", str(out))
    assert result.exit_code == 0, result.output
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    records = [json.loads(line) for line in lines]
    assert sorted(r["article"]["source"].rsplit("/", 1)[-1] for r in records) == sorted(p.name for p in ARTICLES.glob("*.txt"))
    assert all(len(r["article"]["sha256"]) == 64 for r in records)
    assert (out / "errors.jsonl").read_text(encoding="utf-8") == ""
    for label in ("articles", "agreements", "seizures", "model calls", "reasks", "tokens in"):
        assert label in result.output
    assert sum(len(r["seizures"]) for r in records) == 1


def test_failures_are_listed_and_exit_1(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "new.txt").write_text("Iran and Oman signed a border security memorandum.", encoding="utf-8")
    (tmp_path / "in" / "empty.txt").write_text("  \n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("run", str(tmp_path / "in"), "--replay", "--replay-dir", str(REPLAY), "-o", str(out))
    assert result.exit_code == 1
    assert "new.txt" in result.output and "replay_miss" in result.output
    assert "empty.txt" in result.output and "whitespace" in result.output
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(e["kind"] for e in errors) == ["input", "replay_miss"]


def test_one_failure_does_not_lose_the_others(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary")
    out = tmp_path / "out"
    result = run("run", str(ARTICLES), str(bad), "--replay", "--replay-dir", str(REPLAY), "-o", str(out))
    assert result.exit_code == 1
    assert len((out / "records.jsonl").read_text(encoding="utf-8").splitlines()) == 5
    assert "bad.txt" in result.output and "binary" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "does/not/exist.txt", "--replay"], "no such file"),
        (["run", str(ARTICLES), "--replay", "--live"], "choose one of"),
        (["run", str(ARTICLES), "--record"], "OPENAI_API_KEY"),
        (["run", str(ARTICLES), "--call-mode", "xml"], "tools"),
        (["run", str(ARTICLES), "--concurrency", "0"], "concurrency"),
    ],
)
def test_usage_errors_exit_2(args, message, tmp_path):
    result = run(*args, "-o", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_empty_directory_is_a_usage_error(tmp_path):
    result = run("run", str(tmp_path), "--replay", "--replay-dir", str(REPLAY), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "no articles" in result.output


def test_help_does_not_import_the_model_stack():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from llm_extract.cli import app\n"
        "for args in (['--help'], ['run', '--help']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('instructor', 'openai', 'httpx2', 'jinja2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_every_command_has_help():
    for args in (["--help"], ["run", "--help"]):
        result = run(*args)
        assert result.exit_code == 0 and "Usage" in result.output


def test_an_unusable_output_directory_is_a_clear_error(tmp_path):
    out = tmp_path / "out"
    out.write_text("a file, not a directory", encoding="utf-8")
    result = run("run", str(ARTICLES), "--replay", "--replay-dir", str(REPLAY), "-o", str(out))
    assert result.exit_code == 1
    assert "the batch stopped" in result.output and "Traceback" not in result.output


def test_a_missing_replay_directory_is_one_configuration_error(tmp_path):
    result = run("run", str(ARTICLES), "--replay", "--replay-dir", str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0] and "nowhere" in lines[0]
    assert not (tmp_path / "out" / "errors.jsonl").exists()  # not one replay miss per article


def test_the_summary_says_how_concurrency_adapted_to_a_server_that_starts_refusing(tmp_path, monkeypatch):
    from llm_extract.testing.server import ServerConfig, start_server

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-adaptive-0000")
    config = ServerConfig(fixtures=REPLAY, rate_limit_after=2, rate_limit_count=3)
    with start_server(config) as server:
        result = run(
            "run", str(ARTICLES), "--live", "--base-url", server.base_url, "-o", str(tmp_path / "out"),
            "--retry-wait", "0", "--retry-max-wait", "0.05", "--call-mode", "tools",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "calls in flight (adapted)" in result.output and "8" in result.output
