"""Collect: the answers of finished batch jobs, extracted by the live path into OUT_DIR.

Each article whose requests are all answered goes through the run's worker loop
(`llm_extract.runs.runner.process`) like an article of `llm-extract run`: its `AnswerWorker`
extracts it with an extractor whose transport answers from the batch output
(`AnswerTransport`), so validation, reasks, chunk combination, grounding, normalisation and
result building are the live path's own; results and failures go to the same outputs
(`RunSink`: the store first, then records.jsonl; errors.jsonl).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from llm_extract.core.articles import Article
from llm_extract.core.results import ArticleResult, CallRecord, RunMeta, Usage
from llm_extract.errors import BatchError, LLMExtractError, ModelCallError
from llm_extract.runs.batch_api.answers import ARTICLE_ANSWERS, AnswerTransport, ArticleAnswers, part_answers
from llm_extract.runs.batch_api.client import batch_api_client, download_outputs, refresh_jobs, require_server, run_sync
from llm_extract.runs.batch_api.state import BATCH_DIR, BATCH_DISCOUNT, Part, iter_map, require_state
from llm_extract.runs.runner import STORE_FILE, BatchSummary, Failed, RunSink, Skipped, Waiting, Worker, failure_of
from llm_extract.runs.runner import process as process_items

if TYPE_CHECKING:
    from llm_extract.core.pipeline import Extractor
    from llm_extract.runs.store import EventStore

__all__ = [
    "BATCH_OUTCOME",
    "RUN_MODE",
    "AnswerWorker",
    "AnsweredArticle",
    "CollectSummary",
    "FailedRequest",
    "acollect",
    "collect",
]

log = logging.getLogger(__name__)

#: `RunMeta.mode` of a collected result: "batch" once records.Mode allows it, else "live".
RUN_MODE: Any = "batch" if "batch" in get_args(RunMeta.model_fields["mode"].annotation) else "live"
#: The calls log's outcome of a call answered from a batch output.
BATCH_OUTCOME = "ok (batch)"


@dataclass(frozen=True)
class FailedRequest:
    """A request the batch did not answer: failed, expired, cancelled or refused."""

    part: str
    custom_id: str
    sha256: str
    source: str
    code: str
    message: str
    batch_id: str | None


@dataclass
class CollectSummary:
    """What `collect` did. `batch` counts like a `run` (extracted, skipped, failures, tokens, cost)."""

    batch: BatchSummary = field(default_factory=BatchSummary)
    pending: int = 0
    pending_jobs: list[str] = field(default_factory=list)
    failed_requests: list[FailedRequest] = field(default_factory=list)
    invalid_answers: int = 0
    live_fallbacks: int = 0
    live_calls: int = 0
    batch_cost_usd: float = 0.0
    live_cost_usd: float = 0.0
    list_price_usd: float = 0.0
    skipped_parts: list[str] = field(default_factory=list)

    @property
    def savings_usd(self) -> float:
        return max(self.list_price_usd - self.batch_cost_usd - self.live_cost_usd, 0.0)


# -- costs and the calls log -------------------------------------------------------------------------


def _answered_by_batch(call: CallRecord) -> bool:
    return call.kind == "first" and call.outcome == "ok"


def _relabel(calls: list[CallRecord]) -> list[CallRecord]:
    """Mark the calls answered from a batch output in the calls log (`ok (batch)`)."""
    return [c.model_copy(update={"outcome": BATCH_OUTCOME}) if _answered_by_batch(c) else c for c in calls]


def _is_live(call: CallRecord) -> bool:
    return call.outcome not in (BATCH_OUTCOME, "ok (cached)")


def _usage(calls: Iterable[CallRecord]) -> Usage:
    usage = Usage()
    for c in calls:
        usage.input_tokens += c.input_tokens
        usage.output_tokens += c.output_tokens
        usage.cached_input_tokens += c.cached_input_tokens
    return usage


@dataclass
class _Costs:
    batch: float | None
    live: float | None
    list_price: float | None

    @property
    def total(self) -> float | None:
        if self.batch is None or self.live is None:
            return None
        return round(self.batch + self.live, 8)


def _costs(extractor: Extractor[Any], calls: list[CallRecord]) -> _Costs:
    """The batch calls at `BATCH_DISCOUNT` of the list price; live reasks and retries at full price."""
    model = extractor.settings.model
    batch_usage = _usage(c for c in calls if c.outcome == BATCH_OUTCOME)
    live_usage = _usage(c for c in calls if c.outcome != BATCH_OUTCOME)
    batch = extractor.prices.cost(model, batch_usage)
    live = extractor.prices.cost(model, live_usage)
    list_price = extractor.prices.cost(model, _usage(calls))
    return _Costs(None if batch is None else round(batch * BATCH_DISCOUNT, 8), live, list_price)


# -- the worker --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnsweredArticle:
    """An article of a part whose requests the batch jobs all answered: its answers by request hash."""

    part: Part
    article: Article
    answers: dict[str, dict[str, Any]]


class AnswerWorker(Worker[AnsweredArticle]):
    """Extracts an article from its batch answers (the collecting extractor's transport serves
    them), relabels the calls they answered, prices them at the Batch API's discount, and
    marks the article collected in its part (`batch/<part>.collected`)."""

    def __init__(self, collector: Extractor[Any], out_dir: Path, summary: CollectSummary) -> None:
        super().__init__(collector)
        self.out_dir = out_dir
        self.summary = summary

    def article(self, item: AnsweredArticle) -> Article:
        return item.article

    def redo(self, item: AnsweredArticle) -> bool:
        return item.part.force  # a forced part replaces the result already stored

    async def extract(self, item: AnsweredArticle, calls: list[CallRecord]) -> ArticleResult:
        token = ARTICLE_ANSWERS.set(ArticleAnswers(dict(item.answers)))
        try:
            result = await self.extractor.aextract(item.article, calls=calls)
        except BaseException as exc:
            calls[:] = _relabel(calls)
            if isinstance(exc, LLMExtractError):
                self.summary.live_calls += sum(1 for c in calls if _is_live(c))
                if isinstance(exc, ModelCallError) and exc.kind == "validation":
                    self.summary.invalid_answers += 1
            raise
        finally:
            ARTICLE_ANSWERS.reset(token)
        calls[:] = _relabel(calls)
        live = [c for c in calls if _is_live(c)]
        if live:
            self.summary.live_fallbacks += 1
            self.summary.live_calls += len(live)
        if result.run.reasks:
            self.summary.invalid_answers += 1
        run = result.run.model_copy(update={"mode": RUN_MODE, "cost_usd": _costs(self.extractor, calls).total})
        return result.model_copy(update={"run": run})

    def committed(self, item: AnsweredArticle, result: ArticleResult, calls: list[CallRecord]) -> None:
        with (self.out_dir / BATCH_DIR / f"{item.part.name}.collected").open("a", encoding="utf-8") as fh:
            fh.write(item.article.sha256 + "\n")
        costs = _costs(self.extractor, calls)
        self.summary.batch_cost_usd += costs.batch or 0.0
        self.summary.live_cost_usd += costs.live or 0.0
        self.summary.list_price_usd += costs.list_price or 0.0


def _article(entry: dict[str, Any]) -> Article:
    published = entry.get("published")
    article = Article(
        text=entry["text"],
        source=entry["source"],
        id=entry["id"],
        published=date.fromisoformat(published) if published else None,
        url=entry.get("url"),
        title=entry.get("title"),
    )
    if article.sha256 != entry["sha256"]:
        raise BatchError(f"{entry['source']}: the text kept for collect does not match its sha256")
    return article


def _items(
    out_dir: Path, parts: list[Part], sink: RunSink, summary: CollectSummary, extractor: Extractor[Any]
) -> Iterator[AnsweredArticle | Skipped | Waiting | Failed]:
    """One item per article of every part submitted with these settings: its answers, or why not."""
    settings, version = extractor.settings, extractor.prompts.version
    for part in parts:
        if part.model != settings.model or part.prompt_version != version or part.task != extractor.task.name:
            log.warning(
                "%s was submitted with model %s, prompt %s, task %s: not collected with model %s, prompt %s",
                part.name, part.model, part.prompt_version, part.task, settings.model, version,
            )  # fmt: skip
            summary.skipped_parts.append(part.name)
            continue
        outcome = part_answers(out_dir, part)
        if outcome.pending:
            summary.pending_jobs.extend(j.batch_id or j.input for j in part.jobs if not j.terminal)
        collected_path = out_dir / BATCH_DIR / f"{part.name}.collected"
        collected = set(collected_path.read_text(encoding="utf-8").split()) if collected_path.exists() else set()
        for entry in iter_map(out_dir, part):
            sha = entry["sha256"]
            if sha in collected or sink.taken(sha, redo=part.force):
                yield Skipped()
                continue
            ids = [r["custom_id"] for r in entry["requests"]]
            if all(i in outcome.answers for i in ids):
                answers = {r["hash"]: outcome.answers[r["custom_id"]] for r in entry["requests"]}
                yield AnsweredArticle(part, _article(entry), answers)
                continue
            unanswered = [i for i in ids if i not in outcome.answers]
            if any(outcome.is_waiting(i) or i not in outcome.errors for i in unanswered):
                summary.pending += 1
                yield Waiting()
                continue
            article = _article(entry)
            for custom_id in unanswered:
                code, message, batch_id = outcome.errors[custom_id]
                summary.failed_requests.append(FailedRequest(part.name, custom_id, sha, entry["source"], code, message, batch_id))
            code, message, _ = outcome.errors[unanswered[0]]
            failure = failure_of(article, BatchError(
                f"{entry['source']}: {len(unanswered)} of {len(ids)} batch request(s) not answered "
                f"({code}: {message}); resubmit them: llm-extract batch submit --resubmit-failed -o {out_dir}"
            ))  # fmt: skip
            kind = code if code in ("batch_expired", "batch_cancelled") else "batch_failed"
            yield Failed(failure.model_copy(update={"kind": kind}))


def _rewrite_records(store: EventStore, path: Path) -> None:
    """records.jsonl again from the store: one line per article (after results were replaced)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for text in store.iter_results():
                fh.write(text.strip() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def acollect(
    out_dir: Path,
    *,
    extractor: Extractor[Any],
    live_fallback: bool = True,
    concurrency: int | None = None,
    merge: bool = True,
) -> CollectSummary:
    """Collect every finished job of `out_dir`; see `collect`."""
    from llm_extract.core.pipeline import Extractor
    from llm_extract.runs.store import EventStore
    from llm_extract.settings import ExtractorSettings

    out_dir = Path(out_dir)
    state = require_state(out_dir)
    settings = extractor.settings
    require_server(settings)
    summary = CollectSummary()
    client = batch_api_client(settings, extractor.transport)
    store = EventStore(
        out_dir / STORE_FILE, tables=extractor.task.tables, task=extractor.task.name, task_spec=extractor.task.spec
    )
    answers = AnswerTransport(extractor.transport, live=live_fallback)
    collect_settings = ExtractorSettings.resolve({"mode": "live", "max_reasks": None if live_fallback else 0}, base=settings)
    collector: Extractor[Any] = Extractor(settings=collect_settings, task=extractor.task, transport=answers, cache=store)
    sink: RunSink | None = None
    try:
        await refresh_jobs(client, out_dir, state, every=False)
        await download_outputs(client, out_dir, state)
        if collector.prompts.system:
            store.save_prompt(collector.prompts.version, collector.prompts.system)
        sink = RunSink(store, out_dir, extractor.task, cost=lambda calls: _costs(collector, calls).total, summary=summary.batch)
        await process_items(
            _items(out_dir, state.parts, sink, summary, collector),
            AnswerWorker(collector, out_dir, summary),
            sink,
            concurrency=concurrency or settings.concurrency,
        )
        sink.close()
        if sink.replaced:  # a forced part replaced results: records.jsonl keeps one line per article
            _rewrite_records(store, sink.records_path)
        if merge and summary.batch.extracted:
            sink.merge()
    finally:
        if sink is not None:
            sink.close()
        await collector.aclose()
        await answers.aclose()
        await client.close()
        store.close()
    return summary


def collect(
    out_dir: Path,
    *,
    extractor: Extractor[Any],
    live_fallback: bool = True,
    concurrency: int | None = None,
    merge: bool = True,
) -> CollectSummary:
    """Download what finished jobs answered and extract every article whose requests are all in (blocking).

    Each answer goes through the live path's validation, grounding, normalisation and
    result building (`Extractor.aextract`), and each result to the store and
    `records.jsonl` as `run_batch` writes them (the same worker loop). An answer that fails
    validation is re-asked live with the error, up to `max_reasks` times
    (`live_fallback=False`: the article is listed as failed instead). Articles with failed,
    expired or cancelled requests are listed (`failed_requests`, and `errors.jsonl`);
    `resubmit` sends those requests again. Articles already collected are skipped, so
    collecting twice changes nothing. `extractor` must have the model, prompts and settings
    used at submit (`extractor_for(out_dir)` makes one).
    """
    return run_sync(acollect(out_dir, extractor=extractor, live_fallback=live_fallback, concurrency=concurrency, merge=merge))
