"""Every command's `--help` options are the README's usage lines, and the other way round."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = [
    ("run",), ("report",), ("merge",), ("export",), ("stats",), ("eval",), ("serve",),
    ("batch", "submit"), ("batch", "status"), ("batch", "collect"),
]  # fmt: skip
_OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def _usage_blocks() -> dict[tuple[str, ...], set[str]]:
    """The options each `llm-extract ...` usage line (and its continuation lines) names."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    found: dict[tuple[str, ...], set[str]] = {}
    current: tuple[str, ...] | None = None
    for line in block.splitlines():
        m = re.match(r"llm-extract ((?:batch )?[a-z]+)", line)
        if m:
            current = tuple(m.group(1).split())
            found.setdefault(current, set())
        if current is not None:
            found[current] |= {o for o in _OPTION.findall(line) if o not in ("--version",)}
    return found


def _help_options(command: tuple[str, ...]) -> set[str]:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    options = set()
    for line in result.output.splitlines():
        if re.match(r"\s+-", line):
            head = re.split(r"\s{2,}", line.strip())[0]
            options |= {o for o in _OPTION.findall(head)}
    options.discard("--help")
    return options


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_and_readme_name_the_same_options(command: tuple[str, ...]) -> None:
    readme = _usage_blocks()
    assert command in readme, f"README has no usage line for llm-extract {' '.join(command)}"
    in_help = _help_options(command)
    in_readme = readme[command]
    assert sorted(in_help - in_readme) == [], "in --help, not in the README"
    assert sorted(in_readme - in_help) == [], "in the README, not in --help"


def test_every_flag_is_plain_and_defaults_are_shown() -> None:
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=200)
    assert "<bool>" not in result.output
    assert "[default: out]" in result.output and "[default: 8;" in result.output
