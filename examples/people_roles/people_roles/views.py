"""The task's parts of the views of an output directory: export, stats, evaluate.

- `export_tables(store)`: the `people` table, then the engine's usual three (`articles`,
  `results`, `failures`, with the engine's columns), for `llm-extract export`;
- `stats(store)`: counts of people, names and organisations, for `llm-extract stats`;
- `evaluate(gold_dir, run_dirs)`: precision, recall and F1 against gold files, for
  `llm-extract eval --gold DIR`.

There is no `report` (the engine writes its generic page, every result as escaped JSON)
and no `merge` (`llm-extract merge` says the task does not merge).

Gold files (`*.json` in the gold directory, one per article)::

    {"article": {"sha256": "<sha256 of the article text>", "id": "optional"},
     "people": [{"name": "Siobhán O'Neill", "role": "chief executive"}, ...]}

Scoring. Within an article, a predicted person matches a gold person when their names have
the same key (`build.name_key`: case, whitespace, apostrophes and Unicode forms ignored),
one to one, in gold order (a prediction whose role also agrees is preferred). Matched pairs
are true positives, other predictions false positives, other gold people false negatives;
precision, recall and F1 are micro-averaged over the gold articles. `role_accuracy` is the
share of matched pairs (whose gold gives a role) whose roles agree: equal keys, or one
contained in the other as whole words ("minister" and "foreign minister"). Rejected people
are not predictions. A gold article missing from a run counts as all missed (with a warning);
a result with no gold file is not scored.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract.core.grounding import contains_value
from llm_extract.errors import InputError
from llm_extract.views.export import Column, columns, query_rows
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .build import name_key

if TYPE_CHECKING:
    from llm_extract.runs.store import EventStore
    from rich.table import Table

__all__ = [
    "EvalReport",
    "GoldArticle",
    "NameCount",
    "PeopleStats",
    "PeopleViews",
    "RunScore",
    "evaluate",
    "export_tables",
    "stats",
]

# -- export ---------------------------------------------------------------------------------------

PEOPLE_COLUMNS = columns(
    "article_id", "article_key", "source", "record_id", "name", "name_key", "role", "organisation", "evidence",
    "grounding", "char_start", "char_end", "score", "flags",
)  # fmt: skip
#: the engine's generic article columns, then the two this task adds to `articles`
ARTICLE_COLUMNS = columns(
    "article_id", "article_key", "source", "title", "chars", "published", "chunks", "task", "model", "mode",
    "prompt_version", "calls", "reasks", "retries", "cached_calls", "input_tokens", "output_tokens",
    "cached_input_tokens", "cost_usd", "latency_s", "extracted_at", "n_people", "n_rejected",
)  # fmt: skip
RESULT_COLUMNS = columns("article_id", "article_key", "result")
FAILURE_COLUMNS = columns("article_id", "article_key", "source", "kind", "message", "attempts", "last_output", "at")

_PEOPLE_SQL = (
    "SELECT a.id, p.article_key, a.source, p.record_id, p.name, p.name_key, p.role, p.organisation, p.evidence,"
    " p.grounding, p.char_start, p.char_end, p.score, p.flags"
    " FROM people p JOIN articles a ON a.key = p.article_key ORDER BY a.seq, p.ordinal"
)
_ARTICLES_SQL = (
    "SELECT id, key, source, title, chars, published, chunks, task, model, mode, prompt_version, calls, reasks,"
    " retries, cached_calls, input_tokens, output_tokens, cached_input_tokens, cost_usd, latency_s, extracted_at,"
    " n_people, n_rejected FROM articles ORDER BY seq"
)
_FAILURES_SQL = (
    "SELECT article_id, article_key, source, kind, message, attempts, last_output, at FROM failures ORDER BY id"
)


def _names(cols: Sequence[Column]) -> list[str]:
    return [c.name for c in cols]


def _people_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    for row in query_rows(store, _PEOPLE_SQL, _names(PEOPLE_COLUMNS)):
        row["flags"] = json.loads(row["flags"])
        yield row


def _result_rows(store: EventStore) -> Iterator[dict[str, Any]]:
    sql = "SELECT id, key, result_json FROM articles ORDER BY seq"
    for row in query_rows(store, sql, ("article_id", "article_key", "result")):
        row["result"] = json.loads(row["result"])
        yield row


def export_tables(store: EventStore) -> dict[str, tuple[tuple[Column, ...], Iterator[dict[str, Any]]]]:
    """The flat tables of `llm-extract export`: people, then the engine's three."""
    return {
        "people": (PEOPLE_COLUMNS, _people_rows(store)),
        "articles": (ARTICLE_COLUMNS, query_rows(store, _ARTICLES_SQL, _names(ARTICLE_COLUMNS))),
        "results": (RESULT_COLUMNS, _result_rows(store)),
        "failures": (FAILURE_COLUMNS, query_rows(store, _FAILURES_SQL, _names(FAILURE_COLUMNS))),
    }


# -- stats ----------------------------------------------------------------------------------------


class NameCount(BaseModel):
    """A person (or an organisation) and how many articles name them."""

    name: str = Field(description="The form written most often (the first of them alphabetically).")
    key: str
    articles: int
    mentions: int
    roles: list[str] = Field(default_factory=list)


class PeopleStats(BaseModel):
    """What `llm-extract stats` prints for the task (`--json`: this model)."""

    articles: int
    failures: int
    people: int = Field(description="Kept person records.")
    distinct_people: int = Field(description="Distinct name keys.")
    rejected: int
    flagged: int
    by_grounding: dict[str, int]
    top_people: list[NameCount]
    top_organisations: list[NameCount]


def _top(rows: Sequence[tuple[str, str, str, str | None]], limit: int = 10) -> list[NameCount]:
    """(article_key, key, written form, role) rows → the most named keys."""
    articles: dict[str, set[str]] = {}
    forms: dict[str, Counter[str]] = {}
    roles: dict[str, list[str]] = {}
    mentions: Counter[str] = Counter()
    for article, key, form, role in rows:
        articles.setdefault(key, set()).add(article)
        forms.setdefault(key, Counter())[form] += 1
        mentions[key] += 1
        if role and role not in roles.setdefault(key, []):
            roles[key].append(role)
    ranked = sorted(articles, key=lambda k: (-len(articles[k]), -mentions[k], k))[:limit]
    return [
        NameCount(
            name=min(forms[k], key=lambda f: (-forms[k][f], f)),
            key=k,
            articles=len(articles[k]),
            mentions=mentions[k],
            roles=roles.get(k, []),
        )
        for k in ranked
    ]


def stats(store: EventStore) -> PeopleStats:
    """The task's statistics of `store`, read in one snapshot."""
    with store.snapshot() as db:
        n_articles, n_rejected = db.execute("SELECT count(*), coalesce(sum(n_rejected), 0) FROM articles").fetchone()
        (n_failures,) = db.execute("SELECT count(*) FROM failures").fetchone()
        people = db.execute("SELECT article_key, name_key, name, role, organisation, flags FROM people").fetchall()
        grounding = dict(db.execute("SELECT grounding, count(*) FROM people GROUP BY grounding ORDER BY grounding"))
    organisations = [(a, name_key(org), org, None) for a, _, _, _, org, _ in people if org]
    return PeopleStats(
        articles=n_articles,
        failures=n_failures,
        people=len(people),
        distinct_people=len({row[1] for row in people}),
        rejected=n_rejected,
        flagged=sum(1 for row in people if json.loads(row[5])),
        by_grounding={str(k): int(v) for k, v in grounding.items()},
        top_people=_top([(a, k, name, role) for a, k, name, role, _, _ in people]),
        top_organisations=_top(organisations),
    )


def render_stats(computed: PeopleStats) -> list[Table]:
    """Rich tables of the statistics."""
    from rich.table import Table

    totals = Table(title="people", show_header=False)
    totals.add_column("what")
    totals.add_column("count", justify="right")
    for label, value in (
        ("articles", computed.articles),
        ("failed articles", computed.failures),
        ("people (records)", computed.people),
        ("distinct people", computed.distinct_people),
        ("rejected (evidence not found, duplicates)", computed.rejected),
        ("flagged", computed.flagged),
        *((f"grounding: {k}", v) for k, v in computed.by_grounding.items()),
    ):
        totals.add_row(label, f"{value:,}")
    tables = [totals]
    for title, entries, with_roles in (
        ("most named people", computed.top_people, True),
        ("organisations", computed.top_organisations, False),
    ):
        table = Table(title=title)
        table.add_column("name")
        table.add_column("articles", justify="right")
        table.add_column("mentions", justify="right")
        if with_roles:
            table.add_column("roles")
        for entry in entries:
            cells = [entry.name, f"{entry.articles:,}", f"{entry.mentions:,}"]
            table.add_row(*cells, *(["; ".join(entry.roles)] if with_roles else []))
        tables.append(table)
    return tables


# -- evaluate -------------------------------------------------------------------------------------


class GoldPerson(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    role: str | None = None


class GoldRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    id: str | None = None


class GoldArticle(BaseModel):
    """One gold file: an article (by the sha256 of its text) and every person it names."""

    model_config = ConfigDict(extra="ignore")

    article: GoldRef
    people: list[GoldPerson] = Field(default_factory=list)


class RunScore(BaseModel):
    """The score of one run directory."""

    run: str
    articles: int = Field(description="Gold articles scored.")
    missing_articles: int = Field(description="Gold articles the run has no result for (all missed).")
    gold: int
    predicted: int
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float
    f1: float
    role_accuracy: float | None = Field(description="Matched pairs whose roles agree (None: no role to score).")
    missed: list[str] = Field(default_factory=list, description="Gold people not found, 'article id: name'.")
    spurious: list[str] = Field(default_factory=list, description="Predictions with no gold match.")
    warnings: list[str] = Field(default_factory=list)


class EvalReport(BaseModel):
    """What `llm-extract eval` prints for the task (`--json`: this model)."""

    gold_dir: str
    gold_articles: int
    runs: list[RunScore]


def load_gold(gold_dir: Path) -> dict[str, GoldArticle]:
    """Every gold file of `gold_dir`, by article sha256 (`InputError` naming a bad file)."""
    gold: dict[str, GoldArticle] = {}
    files = sorted(Path(gold_dir).glob("*.json"))
    if not files:
        raise InputError(str(gold_dir), "no gold files (*.json) in the directory")
    for path in files:
        try:
            article = GoldArticle.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise InputError(str(path), f"not a gold file of the people_roles task: {exc}") from None
        if article.article.sha256 in gold:
            raise InputError(str(path), "a second gold file for the same article (sha256)")
        gold[article.article.sha256] = article
    return gold


def _roles_agree(gold: str, predicted: str | None) -> bool:
    if not predicted:
        return False
    g, p = name_key(gold), name_key(predicted)
    return g == p or contains_value(g, p) or contains_value(p, g)


def _predictions(run_dir: Path, warnings: list[str]) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """sha256 → (article id, predicted people) from a run's records.jsonl (read leniently)."""
    path = Path(run_dir) / "records.jsonl"
    found: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    if not path.exists():
        warnings.append(f"{run_dir}: no records.jsonl: every gold person counts as missed")
        return found
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                article = record["article"]
                people = [p for p in record.get("people", []) if isinstance(p, dict) and p.get("name")]
                found[str(article["sha256"])] = (str(article.get("id") or article["sha256"][:16]), people)
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                warnings.append(f"{path}:{number}: not a result line, ignored")
    return found


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def score_run(gold: Mapping[str, GoldArticle], run_dir: Path) -> RunScore:
    """Score one run directory against the gold articles."""
    warnings: list[str] = []
    predictions = _predictions(run_dir, warnings)
    tp = fp = fn = roles_scored = roles_right = missing = predicted_total = 0
    missed: list[str] = []
    spurious: list[str] = []
    for sha, article in gold.items():
        label = article.article.id or sha[:16]
        if sha not in predictions:
            missing += 1
            warnings.append(f"{run_dir}: no result for the gold article {label}: its people count as missed")
            fn += len(article.people)
            missed.extend(f"{label}: {g.name}" for g in article.people)
            continue
        label, people = predictions[sha]
        predicted_total += len(people)
        free = list(range(len(people)))
        for g in article.people:
            same = [i for i in free if name_key(str(people[i]["name"])) == name_key(g.name)]
            if not same:
                fn += 1
                missed.append(f"{label}: {g.name}")
                continue
            if g.role is not None:
                best = next((i for i in same if _roles_agree(g.role, people[i].get("role"))), None)
                chosen = best if best is not None else same[0]
                roles_scored += 1
                roles_right += best is not None
            else:
                chosen = same[0]
            free.remove(chosen)
            tp += 1
        fp += len(free)
        spurious.extend(f"{label}: {people[i]['name']}" for i in free)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return RunScore(
        run=str(run_dir),
        articles=len(gold),
        missing_articles=missing,
        gold=tp + fn,
        predicted=predicted_total,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        role_accuracy=round(roles_right / roles_scored, 4) if roles_scored else None,
        missed=missed,
        spurious=spurious,
        warnings=warnings,
    )


def evaluate(gold_dir: Path, run_dirs: Sequence[Path]) -> EvalReport:
    """Score every run directory against the gold files of `gold_dir`."""
    gold = load_gold(gold_dir)
    return EvalReport(gold_dir=str(gold_dir), gold_articles=len(gold), runs=[score_run(gold, d) for d in run_dirs])


def render_report(report: EvalReport) -> list[Table]:
    """One rich table: a row per run."""
    from rich.table import Table

    table = Table(title=f"people: {report.gold_articles} gold article(s) in {report.gold_dir}")
    for name in ("run", "gold", "predicted", "TP", "FP", "FN", "precision", "recall", "F1", "role accuracy"):
        table.add_column(name, justify="left" if name == "run" else "right")
    for run in report.runs:
        role = "-" if run.role_accuracy is None else f"{run.role_accuracy:.3f}"
        table.add_row(
            run.run, str(run.gold), str(run.predicted), str(run.true_positives), str(run.false_positives),
            str(run.false_negatives), f"{run.precision:.3f}", f"{run.recall:.3f}", f"{run.f1:.3f}", role,
        )  # fmt: skip
    return [table]


# -- the TaskViews object -------------------------------------------------------------------------


class PeopleViews:
    """The task's `TaskViews`: export tables, statistics, evaluation (no report, no merge)."""

    def export_tables(self, store: EventStore) -> Mapping[str, tuple[Sequence[Column], Iterator[Mapping[str, Any]]]]:
        return export_tables(store)

    def stats(self, store: EventStore) -> tuple[BaseModel, list[Table]]:
        computed = stats(store)
        return computed, render_stats(computed)

    def evaluate(self, gold_dir: Path, run_dirs: Sequence[Path]) -> tuple[BaseModel, list[Table], list[str]]:
        report = evaluate(gold_dir, run_dirs)
        return report, render_report(report), [w for run in report.runs for w in run.warnings]
