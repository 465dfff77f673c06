"""`llm-extract serve`: the local OpenAI-compatible server over recordings, with faults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from llm_extract.cli.app import app
from llm_extract.cli.common import EXIT_USAGE, escape

__all__ = ["serve"]


_FAULTS_HELP = (
    "Fault injection: rates '429=0.1,500=0.05,hang=0.01' or a schedule 'schedule:429,ok,500'. "
    "Kinds: 429[:s], 429_noretry, 500, 503, 400, hang[:s], reset, truncate, bad_json, schema, empty; "
    "a broken server: slow_body[:s] (a byte every s seconds), huge[:MB] (a streamed answer of MB "
    "megabytes, 50 by default), echo_key (the Authorization header in the answer), echo_400 (in a 400), "
    "html[:STATUS] (a proxy's HTML error page, 502 by default)."
)


@app.command()
def serve(
    fixtures: Annotated[
        Path, typer.Option("--fixtures", help="A replay directory to answer from.", exists=True, file_okay=False)
    ],
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback only unless --allow-remote).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port, printed on start).")
    ] = 8000,
    latency_ms: Annotated[float, typer.Option("--latency-ms", min=0, help="Delay before each answer.")] = 0.0,
    jitter_ms: Annotated[
        float, typer.Option("--jitter-ms", min=0, help="Random ± added to the latency (seeded).")
    ] = 0.0,
    faults: Annotated[Optional[str], typer.Option("--faults", help=_FAULTS_HELP)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fault and jitter draws.")] = 0,
    hang_s: Annotated[float, typer.Option("--hang-s", min=0, help="How long a 'hang' fault hangs.")] = 30.0,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow binding a non-loopback address.")
    ] = False,
    batch_delay: Annotated[
        float, typer.Option("--batch-delay-s", min=0, help="Seconds before a batch job completes.")
    ] = 1.0,
    batch_fail_rate: Annotated[
        float, typer.Option("--batch-fail-rate", min=0, max=1, help="Share of batch requests that fail (500), seeded.")
    ] = 0.0,
    batch_schema_rate: Annotated[
        float,
        typer.Option(
            "--batch-schema-rate", min=0, max=1, help="Share of batch answers that violate the schema, seeded."
        ),
    ] = 0.0,
    batch_expire: Annotated[
        bool, typer.Option("--batch-expire", help="Batches expire with half their requests done.")
    ] = False,
    slots: Annotated[
        Optional[int],
        typer.Option(
            "--slots", min=1, help="At most N chat requests answered at once, the rest queued (llama-server -np N)."
        ),
    ] = None,
    rate_limit_after: Annotated[
        Optional[int], typer.Option("--429-after", min=0, help="Answer 429 to every chat request after the first K.")
    ] = None,
    rate_limit_count: Annotated[
        Optional[int], typer.Option("--429-for", min=1, help="With --429-after: only the next M requests get a 429.")
    ] = None,
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
            slots=slots,
            rate_limit_after=rate_limit_after,
            rate_limit_count=rate_limit_count,
        )
        run_server(config)  # the recordings are read, and the port bound, before it listens
    except (ConfigError, OSError) as exc:  # bad settings, no recordings, a port in use: one line
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
