"""The scores of the built-in task's evaluation, and their tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table


__all__ = [
    "AGREEMENT_FIELDS",
    "SEIZURE_FIELDS",
    "PRF",
    "ArticleScore",
    "EvalReport",
    "FieldScore",
    "KindResult",
    "KindScores",
    "RecordMatch",
    "RunScore",
    "render_report",
]


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------
#: Fields scored on matched pairs, in report order.
AGREEMENT_FIELDS = ("parties", "instrument_type", "status", "date", "is_background")
SEIZURE_FIELDS = ("drug", "kg", "country", "date")


class PRF(BaseModel):
    """Counts and micro-averaged scores; a score is null when undefined (0 / 0)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None

    @classmethod
    def of(cls, tp: int, fp: int, fn: int) -> PRF:
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        if precision is None or recall is None:
            f1 = None
        else:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(tp=tp, fp=fp, fn=fn, precision=precision, recall=recall, f1=f1)


class FieldScore(BaseModel):
    correct: int = 0
    total: int = 0
    accuracy: float | None = None


class KindScores(BaseModel):
    """One record type in one run: records found, records found with every field right, fields."""

    matched: PRF
    exact: PRF = Field(description="Only matched pairs with every scored field right count as hits.")
    fields: dict[str, FieldScore]


class RecordMatch(BaseModel):
    gold: int = Field(description="Index of the gold record in its file's list (0-based).")
    predicted: str = Field(description="The predicted record's id (a1, s1, ...).")
    score: int = Field(description="The pair score used as tie-break.")
    fields: dict[str, bool]


class KindResult(BaseModel):
    matches: list[RecordMatch] = Field(default_factory=list)
    missed: list[int] = Field(default_factory=list, description="Gold records with no prediction.")
    extra: list[str] = Field(default_factory=list, description="Predictions with no gold record.")


class ArticleScore(BaseModel):
    gold_file: str
    stem: str | None
    sha256: str | None
    paired_by: Literal["sha256", "id", "source"] | None = Field(description="null: missing from the run.")
    source: str | None = Field(default=None, description="The paired result's article source.")
    agreements: KindResult
    seizures: KindResult


class RunScore(BaseModel):
    label: str
    run_dir: str
    models: list[str]
    prompt_versions: list[str]
    articles_scored: int
    articles_missing: list[str] = Field(description="Gold articles with no result in the run (all missed).")
    articles_without_gold: list[str] = Field(description="Results with no gold file: ignored.")
    agreements: KindScores
    seizures: KindScores
    articles: list[ArticleScore]
    warnings: list[str] = Field(default_factory=list)


class EvalReport(BaseModel):
    gold_dir: str
    gold_articles: int
    gold_agreements: int
    gold_seizures: int
    runs: list[RunScore]


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_report(report: EvalReport) -> list[Table]:
    """The report as rich tables, one column per run: scores, field accuracy, per article."""
    from rich.table import Table
    from rich.text import Text

    def table(title: str, first: str) -> Table:
        t = Table(title=title)
        t.add_column(first)
        for run in report.runs:
            t.add_column(Text(run.label), justify="right")
        return t

    kinds = (("agreements", report.gold_agreements), ("seizures", report.gold_seizures))
    scores = table(
        f"Records found (micro over {report.gold_articles} gold articles: "
        f"{report.gold_agreements} agreements, {report.gold_seizures} seizures)",
        "",
    )
    for kind, _ in kinds:
        ks = [getattr(run, kind) for run in report.runs]
        scores.add_row(f"{kind}: precision", *(_num(k.matched.precision) for k in ks))
        scores.add_row(f"{kind}: recall", *(_num(k.matched.recall) for k in ks))
        scores.add_row(f"{kind}: F1", *(_num(k.matched.f1) for k in ks))
        scores.add_row(f"{kind}: tp / fp / fn", *(f"{k.matched.tp} / {k.matched.fp} / {k.matched.fn}" for k in ks))
        scores.add_row(f"{kind}: F1, every field right", *(_num(k.exact.f1) for k in ks), end_section=True)
    scores.add_row("articles scored / missing", *(f"{r.articles_scored} / {len(r.articles_missing)}" for r in report.runs))
    scores.add_row("results without gold (ignored)", *(str(len(r.articles_without_gold)) for r in report.runs))

    fields = table("Field accuracy on matched records", "field")
    for kind, names in (("agreements", AGREEMENT_FIELDS), ("seizures", SEIZURE_FIELDS)):
        for name in names:
            accuracy_cells: list[str] = []
            for run in report.runs:
                f = getattr(run, kind).fields[name]
                accuracy_cells.append(f"{_num(f.accuracy)} ({f.correct}/{f.total})")
            fields.add_row(f"{kind}: {name}", *accuracy_cells, end_section=name == names[-1])

    per_article = table("Per article: found / gold (+ extra predictions)", "article")
    for i, gold_article in enumerate(report.runs[0].articles if report.runs else []):
        cells: list[str | Text] = []
        for run in report.runs:
            a = run.articles[i]
            if a.paired_by is None:
                cells.append(Text("missing from the run"))
                continue
            parts = []
            for kind, letter in (("agreements", "A"), ("seizures", "S")):
                r: KindResult = getattr(a, kind)
                found, total = len(r.matches), len(r.matches) + len(r.missed)
                if total or r.extra:
                    parts.append(f"{letter} {found}/{total}" + (f" +{len(r.extra)}" if r.extra else ""))
            cells.append(Text("  ".join(parts) or "–"))
        per_article.add_row(Text(gold_article.stem or gold_article.gold_file), *cells)
    return [scores, fields, per_article]
