"""The seed articles against a live model: quality, time and tokens per article.

    python benchmarks/bench_live_model.py --base-url http://127.0.0.1:8091/v1 [--model M]
        [--call-mode auto|tools|json|json_schema] [--articles DIR] [--gold DIR]
        [--max-tokens N] [-c N] [--timeout S] [--out DIR] [--json FILE]

Runs `llm-extract run ARTICLES --live` against any OpenAI-compatible server (llama.cpp,
Ollama, vLLM, OpenAI itself), one article at a time by default (`-c 1`, so the time per
article is the model's own), then `llm-extract eval --gold GOLD` on that run, and prints:

- what the server says it is (the `Server` header, llama.cpp's `/props`: build, model file,
  quantisation, context, slots), when it says so;
- precision / recall / F1 per record type (agreements, seizures) and per-field accuracy on
  matched records, from `llm-extract eval`;
- per article: wall time of its model calls, tokens in / out (cached input apart), calls,
  reasks, transport retries, records kept and rejected, and why an article failed;
- totals: wall time of the whole run, seconds per article, calls, reasks, retries, failures.

Nothing is recorded (use `llm-extract run --record` for that: see fixtures/README.md). The
key, if the server needs one, comes from `OPENAI_API_KEY` or `--api-key`; local servers
need none. The model name defaults to the first id the server's `/models` lists (llama.cpp
ignores the name; Ollama and vLLM need the right one). `--help` works offline.

The eval counts every gold article missing from the run as all missed: with `--articles` a
subset of the seeds, pass a `--gold` directory holding only their gold files.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _get(url: str, api_key: str | None, timeout: float = 5.0) -> tuple[dict[str, str], Any]:
    """GET url → (headers, JSON body or None); ({}, None) when the server does not answer."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key}"} if api_key else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (a URL the user gave)
            headers = {k.lower(): v for k, v in response.headers.items()}
            try:
                return headers, json.loads(response.read())
            except ValueError:
                return headers, None
    except (urllib.error.URLError, OSError, ValueError):
        return {}, None


def describe_server(base_url: str, api_key: str | None) -> dict[str, Any]:
    """What the server tells about itself: model ids, and llama.cpp's build and model details."""
    headers, models = _get(base_url.rstrip("/") + "/models", api_key)
    info: dict[str, Any] = {"base_url": base_url, "server_header": headers.get("server")}
    data = (models or {}).get("data") or [] if isinstance(models, dict) else []
    info["model_ids"] = [m.get("id") for m in data if isinstance(m, dict)]
    info["owned_by"] = sorted({str(m.get("owned_by")) for m in data if isinstance(m, dict) and m.get("owned_by")})
    meta = next((m.get("meta") for m in data if isinstance(m, dict) and isinstance(m.get("meta"), dict)), None)
    if meta:
        info["model_meta"] = {k: meta.get(k) for k in ("ftype", "n_params", "n_ctx", "n_ctx_train", "size") if k in meta}
    root = base_url.rstrip("/")
    root = root[: -len("/v1")] if root.endswith("/v1") else root
    _, props = _get(root + "/props", api_key)
    if isinstance(props, dict):
        info["props"] = {k: props.get(k) for k in ("build_info", "model_path", "model_ftype", "total_slots") if k in props}
        settings = props.get("default_generation_settings")
        if isinstance(settings, dict):
            info["props"]["n_ctx"] = settings.get("n_ctx")
    return info


def per_article(out: Path) -> list[dict[str, Any]]:
    """One row per article of the run, from its store: calls, tokens, time, outcome."""
    db = sqlite3.connect(out / "extract.db")
    try:
        sources: dict[str, str] = {}
        rows: dict[str, dict[str, Any]] = {}
        for key, source, n_a, n_s, n_r in db.execute("SELECT key, source, n_agreements, n_seizures, n_rejected FROM articles"):
            sources[key] = source
            rows[key] = {"source": source, "agreements": n_a, "seizures": n_s, "rejected": n_r, "failure": None}
        for key, source, kind, message in db.execute("SELECT article_key, source, kind, message FROM failures"):
            row = rows.setdefault(key or source, {"source": source, "agreements": None, "seizures": None, "rejected": None})
            row["failure"] = f"{kind}: {message.removeprefix(source + ': ')}"
        for row in rows.values():
            row.update(calls=0, reasks=0, retries=0, input_tokens=0, output_tokens=0, cached_input_tokens=0,
                       model_s=0.0)  # fmt: skip
        for key, kind, tin, tout, tcached, latency in db.execute(
            "SELECT article_key, kind, input_tokens, output_tokens, cached_input_tokens, latency_s FROM calls"
        ):
            row = rows.get(key)
            if row is None:
                continue
            row["calls"] += 1
            row["reasks"] += kind == "reask"
            row["retries"] += kind == "retry"
            row["input_tokens"] += tin
            row["output_tokens"] += tout
            row["cached_input_tokens"] += tcached
            row["model_s"] += latency
    finally:
        db.close()
    return sorted(rows.values(), key=lambda r: r["source"])


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def print_eval(report: dict[str, Any]) -> None:
    run = report["runs"][0]
    print(f"\neval against {report['gold_dir']} ({report['gold_articles']} gold articles, "
          f"{report['gold_agreements']} agreements, {report['gold_seizures']} seizures; "
          f"{run['articles_scored']} scored, missing: {', '.join(run['articles_missing']) or 'none'})")  # fmt: skip
    print(f"{'type':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}  {'F1 all fields right':>19}")
    for kind in ("agreements", "seizures"):
        m, e = run[kind]["matched"], run[kind]["exact"]
        print(f"{kind:<12} {_fmt(m['precision']):>9} {_fmt(m['recall']):>7} {_fmt(m['f1']):>6} "
              f"{m['tp']:>4} {m['fp']:>4} {m['fn']:>4}  {_fmt(e['f1']):>19}")  # fmt: skip
    fields = [
        f"{kind[:-1]}.{name} {f['correct']}/{f['total']}"
        for kind in ("agreements", "seizures")
        for name, f in run[kind]["fields"].items()
        if f["total"]
    ]
    print("fields right on matched records: " + (", ".join(fields) or "none matched"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--base-url", required=True, help="the server's OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1"
    )
    parser.add_argument("--model", help="model name sent (default: the first id the server's /models lists)")
    parser.add_argument("--call-mode", default="auto", choices=["auto", "tools", "json", "json_schema"])
    parser.add_argument("--articles", type=Path, default=ROOT / "fixtures" / "articles")
    parser.add_argument("--gold", type=Path, default=ROOT / "fixtures" / "gold")
    parser.add_argument("--max-tokens", type=int, help="cap on the answer's tokens (default: the task's, 1536)")
    parser.add_argument(
        "-c", "--concurrency", type=int, default=1, help="articles in flight (default 1: time per article is the model's)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per HTTP call (default 600: small CPUs are slow)")
    parser.add_argument("--max-attempts", type=int, default=2, help="transport attempts per call (default 2)")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"), help="default: OPENAI_API_KEY, else none")
    parser.add_argument("--out", type=Path, help="keep the run's output directory here (default: a temporary one)")
    parser.add_argument("--json", type=Path, dest="json_out", help="also write every figure to this JSON file")
    args = parser.parse_args()

    server = describe_server(args.base_url, args.api_key)
    if not server["server_header"] and not server["model_ids"]:
        print(f"warning: {args.base_url}/models did not answer; trying the run anyway", file=sys.stderr)
    model = args.model or (server["model_ids"][0] if server["model_ids"] else None)
    if not model:
        raise SystemExit("no --model given and the server lists none")

    with tempfile.TemporaryDirectory(prefix="bench_live_") as tmp:
        out = args.out or Path(tmp) / "out"
        cmd = [sys.executable, "-m", "llm_extract", "run", str(args.articles), "--live", "--force",
               "--base-url", args.base_url, "--model", model, "--call-mode", args.call_mode,
               "-c", str(args.concurrency), "--timeout", str(args.timeout), "--max-attempts", str(args.max_attempts),
               "--no-report", "-q", "-o", str(out)]  # fmt: skip
        if args.max_tokens:
            cmd += ["--max-tokens", str(args.max_tokens)]
        env = dict(os.environ)
        env.pop("OPENAI_API_KEY", None)
        if args.api_key:
            env["OPENAI_API_KEY"] = args.api_key
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode not in (0, 1) or not (out / "extract.db").exists():
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"llm-extract run failed (exit {done.returncode})")
        rows = per_article(out)
        evaluated = subprocess.run(
            [sys.executable, "-m", "llm_extract", "eval", "--gold", str(args.gold), str(out), "--json"],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if evaluated.returncode != 0:
            sys.stderr.write(evaluated.stdout + evaluated.stderr)
            raise SystemExit("llm-extract eval failed")
        report = json.loads(evaluated.stdout)

    print(f"server: {args.base_url}  Server: {server['server_header'] or '?'}  owned_by: {', '.join(server['owned_by']) or '?'}")
    if "props" in server:
        print("llama.cpp /props: " + ", ".join(f"{k} {v}" for k, v in server["props"].items()))
    if "model_meta" in server:
        print("model meta: " + ", ".join(f"{k} {v}" for k, v in server["model_meta"].items()))
    print(f"model sent: {model}  call mode: {args.call_mode}  concurrency: {args.concurrency}  "
          f"started {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores")  # fmt: skip
    print(f"\n{'article':<28} {'model s':>8} {'in':>6} {'cached':>6} {'out':>5} {'calls':>5} {'reasks':>6} {'retries':>7}"
          f" {'A':>3} {'S':>3} {'rej':>3}  outcome")  # fmt: skip
    for r in rows:
        outcome = "failed " + r["failure"][:90] if r["failure"] else "ok"
        print(f"{Path(r['source']).name:<28} {r['model_s']:>8.1f} {r['input_tokens']:>6} {r['cached_input_tokens']:>6} "
              f"{r['output_tokens']:>5} {r['calls']:>5} {r['reasks']:>6} {r['retries']:>7} "
              f"{r['agreements'] if r['agreements'] is not None else '–':>3} "
              f"{r['seizures'] if r['seizures'] is not None else '–':>3} "
              f"{r['rejected'] if r['rejected'] is not None else '–':>3}  {outcome}")  # fmt: skip
    n = len(rows) or 1
    totals = {
        k: sum(r[k] for r in rows) for k in ("calls", "reasks", "retries", "input_tokens", "output_tokens", "cached_input_tokens")
    }
    failures = sum(1 for r in rows if r["failure"])
    print(f"\n{len(rows)} articles in {wall:.1f} s wall: {wall / n:.1f} s per article "
          f"(model calls {sum(r['model_s'] for r in rows) / n:.1f} s per article)")  # fmt: skip
    print(f"tokens per article: in {totals['input_tokens'] / n:.0f} (cached {totals['cached_input_tokens'] / n:.0f}), "
          f"out {totals['output_tokens'] / n:.0f}")  # fmt: skip
    print(f"calls {totals['calls']}, reasks {totals['reasks']}, transport retries {totals['retries']}, "
          f"failed articles {failures}")  # fmt: skip
    print_eval(report)

    if args.json_out:
        args.json_out.write_text(json.dumps({
            "started": started.isoformat(timespec="seconds"), "cores": os.cpu_count(), "server": server,
            "model": model, "call_mode": args.call_mode, "concurrency": args.concurrency, "wall_s": round(wall, 2),
            "articles": rows, "totals": {**totals, "failures": failures}, "eval": report["runs"][0],
        }, indent=1, default=str) + "\n", encoding="utf-8")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
