"""The `llm-extract` application object and its entry point (commands register on it)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["app", "batch_app", "main"]

app = typer.Typer(
    name="llm-extract",
    help="Extract grounded, evidence-backed records from news articles with a language model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

batch_app = typer.Typer(
    name="batch",
    help="Extract through the OpenAI Batch API: half the price, answers within 24 hours.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(batch_app, name="batch")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"llm-extract {version('llm-extract')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Extract grounded, evidence-backed records from news articles (built-in task: security agreements and drug seizures)."""


def main() -> None:
    """Entry point of the `llm-extract` script."""
    from llm_extract.cli import batch, run, serve, views  # noqa: F401  (each registers its commands)

    app()
