"""The HTML report of an output directory: the task's page, or the engine's generic one.

`write_report(out_dir)` writes `OUTDIR/report.html`, one self-contained page that opens
offline. A task that gives a report (`TaskViews.report`: the built-in task's has tables,
charts, a map and highlighted evidence) writes it; for any other task the engine writes a
generic page: the run's totals, every article with its result as indented JSON, and the
failures. Everything on it is escaped, and a Content-Security-Policy allows no script.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from llm_extract.runs.outputs import REPORT_FILE, open_output

__all__ = ["REPORT_FILE", "write_report"]


def _template() -> jinja2.Template:
    source = resources.files(__package__).joinpath("assets", "generic_report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(source)


def write_report(
    out_dir: Path,
    dest: Path | None = None,
    *,
    articles_root: Path | None = None,
    update_merge: bool = True,
) -> Path:
    """Write the HTML report of `out_dir` (default `OUTDIR/report.html`); return its path.

    `articles_root` is where to look for article texts a store does not hold (the task's
    report uses it); `update_merge` lets the task recompute its cross-article merge first.
    Raises `StoreError` when `out_dir` has no store. Written under a temporary name and
    renamed when complete.
    """
    out_dir = Path(out_dir)
    dest = Path(dest) if dest is not None else out_dir / REPORT_FILE
    store, task = open_output(out_dir)
    hook = task.view("report")
    if hook is not None:
        store.close()
        written: Path = hook(out_dir, dest, articles_root=articles_root, update_merge=update_merge)
        return written
    with store:
        db = store.connection
        totals = db.execute(
            "SELECT count(*), coalesce(sum(calls), 0), coalesce(sum(input_tokens + output_tokens), 0),"
            " coalesce(sum(cost_usd), 0) FROM articles"
        ).fetchone()
        articles: list[dict[str, Any]] = []
        for article_id, source, title, result_json in db.execute(
            "SELECT id, source, title, result_json FROM articles ORDER BY seq"
        ):
            result = json.loads(result_json)
            body = {k: v for k, v in result.items() if k not in ("article", "run")}
            articles.append(
                {"id": article_id, "source": source, "title": title, "json": json.dumps(body, ensure_ascii=False, indent=2)}
            )
        failures = [
            {"source": s, "kind": k, "message": m}
            for s, k, m in db.execute("SELECT source, kind, message FROM failures ORDER BY id")
        ]
        page = _template().render(
            title=f"llm-extract report: {out_dir.resolve().name}",
            task=task.name,
            description=task.description,
            n_articles=totals[0],
            calls=totals[1],
            tokens=totals[2],
            cost=f"${totals[3]:,.4f}",
            articles=articles,
            failures=failures,
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        tmp.write_text(page, encoding="utf-8", newline="\n")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
