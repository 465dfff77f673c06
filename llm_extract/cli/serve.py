"""`llm-extract serve`: the local OpenAI-compatible server over recordings, with faults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from llm_extract.cli.app import app
from llm_extract.cli.common import EXIT_USAGE, escape

__all__ = ["serve"]


@app.command()
def serve(
    fixtures: Annotated[Path, typer.Option("--fixtures", help="A replay directory to answer from.", exists=True, file_okay=False)],
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback only unless --allow-remote).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port, printed on start).")] = 8000,
    latency_ms: Annotated[float, typer.Option("--latency-ms", min=0, help="Delay before each answer.")] = 0.0,
    jitter_ms: Annotated[float, typer.Option("--jitter-ms", min=0, help="Random ± added to the latency (seeded).")] = 0.0,
    faults: Annotated[
        Optional[str],
        typer.Option(
            "--faults",
            help="Fault injection: rates '429=0.1,500=0.05,hang=0.01' or a schedule 'schedule:429,ok,500'. "
            "Kinds: 429[:s], 429_noretry, 500, 503, 400, hang[:s], reset, truncate, bad_json, schema, empty.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fault and jitter draws.")] = 0,
    hang_s: Annotated[float, typer.Option("--hang-s", min=0, help="How long a 'hang' fault hangs.")] = 30.0,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Allow binding a non-loopback address.")] = False,
    batch_delay: Annotated[float, typer.Option("--batch-delay-s", min=0, help="Seconds before a batch job completes.")] = 1.0,
    batch_fail_rate: Annotated[
        float, typer.Option("--batch-fail-rate", min=0, max=1, help="Share of batch requests that fail (500), seeded.")
    ] = 0.0,
    batch_schema_rate: Annotated[
        float, typer.Option("--batch-schema-rate", min=0, max=1, help="Share of batch answers that violate the schema, seeded.")
    ] = 0.0,
    batch_expire: Annotated[bool, typer.Option("--batch-expire", help="Batches expire with half their requests done.")] = False,
) -> None:
    """Serve recordings over the OpenAI API (chat completions, files, batches), with optional faults."""
    from rich.console import Console

    from llm_extract.errors import ConfigError
    from llm_extract.testing.server import ServerConfig
    from llm_extract.testing.server import serve as run_server

    try:
        config = ServerConfig(
            fixtures=fixtures,
            host=host,
            port=port,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            faults=faults,
            seed=seed,
            hang_s=hang_s,
            allow_remote=allow_remote,
            batch_delay_s=batch_delay,
            batch_fail_rate=batch_fail_rate,
            batch_schema_rate=batch_schema_rate,
            batch_expire=batch_expire,
        )
    except ConfigError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    run_server(config)
