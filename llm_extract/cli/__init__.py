"""The `llm-extract` command line (typer + rich), one module per command group.

- `app`: the application object and `main`; `common`: what the commands share;
- `run`: batch extraction; `views`: merge, export, report, stats, eval of an output
  directory; `serve`: the local server; `batch`: the provider Batch API.

Exit codes: 0 every article extracted; 1 some articles failed (each listed with its
reason, and in OUTDIR/errors.jsonl); 2 usage or configuration error.

Start-up stays fast: the pipeline (and with it openai and instructor) is imported only
when a command runs, never for `--help`.
"""

from __future__ import annotations

from llm_extract.cli import batch, run, serve, views  # noqa: F401  (each registers its commands)
from llm_extract.cli.app import app, main

__all__ = ["app", "main"]
