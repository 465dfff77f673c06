"""The built-in task: security agreements and drug seizures, packaged as a user's task would be.

- `schema`: what the model fills (`ArticleMentions`); `records`: what users get
  (`ArticleExtraction`); `build`: grounding, normalisation and checks; `normalize/` and
  `aliases/`: the deterministic normalisers and their data; `merge`: the same event across
  articles; `tables`: its store tables and migrations; `views/`: its export tables,
  statistics, HTML report and evaluation.
- `TASK` is what `llm_extract.core.registry.load_task("security_events")` returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llm_extract.core.task import BuildContext, Task, builtin_prompt_dir

from .records import ArticleExtraction
from .schema import ArticleMentions
from .tables import SecurityEventsTables

__all__ = ["TASK", "SecurityEventsViews", "security_events_task"]


def _build(mentions: ArticleMentions, context: BuildContext) -> ArticleExtraction:
    from .build import BuildOptions, build_extraction
    from .leakage import load_example

    options = BuildOptions(
        fuzzy_threshold=context.fuzzy_threshold,
        keep_ungrounded=context.keep_ungrounded,
        min_confidence=context.settings.get("min_confidence"),
        example=load_example(builtin_prompt_dir("security_events")),
    )
    return build_extraction(mentions, context.article, context.info, context.run, options=options, chunks=context.chunks)


def _combine(parts: list[ArticleMentions]) -> ArticleMentions:
    from .build import combine_chunks

    return combine_chunks(parts)


def _summarize(result: ArticleExtraction) -> Mapping[str, int]:
    records = [*result.agreements, *result.seizures]
    return {
        "agreements": len(result.agreements),
        "seizures": len(result.seizures),
        "rejected": len(result.rejected),
        "flagged": sum(1 for r in records if r.flags),
    }


class SecurityEventsViews:
    """The task's parts of each view (imported lazily: `--help` stays fast)."""

    def export_tables(self, store: Any) -> Any:
        from .views.export import export_tables

        return export_tables(store)

    def stats(self, store: Any) -> Any:
        from .views.export import render_stats, stats

        computed = stats(store)
        return computed, render_stats(computed)

    def report(self, out_dir: Path, dest: Path, *, articles_root: Path | None, update_merge: bool) -> Path:
        from .views.report import write_report

        return write_report(out_dir, dest, articles_root=articles_root, update_merge=update_merge)

    def merge(self, store: Any) -> int:
        from .merge import merge_events

        return merge_events(store).canonical

    def merge_report(self, store: Any) -> str:
        from .merge import merge_events

        result = merge_events(store)
        return (
            f"{result.canonical:,} distinct events ({result.agreement_events:,} agreements, "
            f"{result.seizure_events:,} seizures) from {result.mentions:,} records; "
            f"{result.merged_events:,} reported by more than one article"
        )

    def merge_is_current(self, store: Any) -> bool:
        from .merge import merge_is_current

        return merge_is_current(store)

    def evaluate(self, gold_dir: Path, run_dirs: Sequence[Path]) -> Any:
        from .views.evaluate import evaluate, render_report

        report = evaluate(gold_dir, list(run_dirs))
        warnings = [w for run in report.runs for w in run.warnings]
        return report, render_report(report), warnings


def security_events_task() -> Task[ArticleMentions, ArticleExtraction]:
    """The built-in task: agreements and drug seizures."""
    return Task(
        name="security_events",
        response_model=ArticleMentions,
        prompt_dir=builtin_prompt_dir("security_events"),
        build=_build,
        combine=_combine,
        result_model=ArticleExtraction,
        tables=SecurityEventsTables(),
        summarize=_summarize,
        views=SecurityEventsViews(),
        description="security agreements and drug seizures",
        # the seeds' answers take 450-510 tokens for up to 14 records: three times that
        max_output_tokens=1536,
        count_labels={
            "agreements": "agreements",
            "seizures": "seizures",
            "rejected": "rejected records (see rejected: reasons)",
            "flagged": "flagged records",
        },
    )


TASK = security_events_task()
