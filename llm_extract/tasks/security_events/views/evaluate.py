"""Score extracted records against gold annotations: precision, recall, F1 and field accuracy.

`evaluate(gold_dir, run_dirs)` reads one gold file per article (the format is described in
`fixtures/gold/README.md` and checked by :class:`GoldArticle`) and, for each run directory,
its `records.jsonl`; it returns an :class:`EvalReport`. `render_report(report)` turns it into
rich tables, `report.model_dump_json()` into JSON.

Pairing articles
----------------
A gold file names its article by `sha256` (of the UTF-8 text), `id` (as in the run) and/or
`stem` (the file name without extension; by default the gold file's own stem). A result line
of `records.jsonl` is paired with a gold file by sha256 first, then by id, then by the stem of
its `article.source`; pairing by id or stem when the sha256 differs adds a warning (the text
changed since the gold was written). A gold article missing from a run counts as all missed
(recall); a result with no gold file is ignored and listed in `articles_without_gold`.

Matching records (within one article, agreements with agreements, seizures with seizures)
----------------------------------------------------------------------------------------
1. **Candidates.** A predicted record *can* correspond to a gold record when:

   - agreement: every gold party is found among the predicted parties, a party being found
     by its ISO3 code (`iso3`) or, failing that, by its name or one of its `aliases`
     (compared case-, accent- and punctuation-insensitively). Extra predicted parties do not
     prevent a match (they make the `parties` field wrong);
   - seizure: the predicted items and the gold items share at least one canonical drug
     (`drug_name`; an unrecognised predicted drug counts as `unspecified`).

   Instrument, status, dates and quantities are deliberately *not* required: a record found
   with a wrong status is a found record with a wrong field, so it lowers that field's
   accuracy, not precision or recall.
2. **Pair score** (a tie-break between candidates, an integer): 3 × the evidence overlap in
   percent (100 when the gold `evidence` hint, normalised as grounding does, is contained in
   the predicted evidence or contains it, else the share of the hint's words found in it; 0
   without a hint) + 100 per scored field that agrees (below).
3. **Assignment.** One-to-one, maximising first the number of matched pairs, then the total
   pair score: an exact maximum-weight assignment (Hungarian algorithm) with weight
   `B + score` for candidate pairs, where `B` exceeds any possible total score. It is
   deterministic (no randomness, no dependence on anything but the two lists and their order).

Matched pairs are true positives; unmatched predictions false positives; unmatched gold
records false negatives. Precision, recall and F1 are micro-averaged over every gold article
of the run. `exact` counts only matched pairs whose every scored field is right.

Fields scored on matched pairs
------------------------------
- agreements: `parties` (every gold party found and every predicted party found among the
  gold's: same countries, organisations by name), `instrument_type`, `status`, `date`,
  `is_background`;
- seizures: `drug` (the same set of canonical drugs), `kg` (each gold item's quantity:
  masses within 1 % of the gold kg, volumes within 1 % of the gold litres, counts equal; a
  gold item without a quantity wants none; the predicted items of one drug are summed),
  `country` (ISO3), `date`.

**Dates are compared at the gold's precision**: the predicted period must lie within the
gold's (`YYYY`, `YYYY-MM`, `YYYY-Www`, `YYYY-MM-DD`). So gold `2024` accepts `2024-09-10`,
gold `2023-W26` accepts `2023-06-27`, but gold `2024-09-10` rejects `2024-09` (less precise)
and a gold `null` (the text gives no date) accepts only `null`.

Predictions are read leniently (unknown fields are ignored), so any system's output can be
scored once written as `records.jsonl` lines with `article` (`sha256`, `id` or `source`) and
`agreements` / `seizures` in the layout of `llm_extract.records`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llm_extract.core.grounding import normalize_text
from llm_extract.errors import InputError
from llm_extract.tasks.security_events.normalize import DrugName, PartialDate
from llm_extract.tasks.security_events.views.gold import (
    GoldAgreement,
    GoldArticle,
    GoldArticleRef,
    GoldItem,
    GoldParty,
    GoldSeizure,
    load_gold,
    validation_errors,
)
from llm_extract.tasks.security_events.views.scores import (
    AGREEMENT_FIELDS,
    PRF,
    SEIZURE_FIELDS,
    ArticleScore,
    EvalReport,
    FieldScore,
    KindResult,
    KindScores,
    RecordMatch,
    RunScore,
    render_report,
)

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = [
    "AGREEMENT_FIELDS",
    "PRF",
    "SEIZURE_FIELDS",
    "ArticleScore",
    "EvalReport",
    "FieldScore",
    "GoldAgreement",
    "GoldArticle",
    "GoldArticleRef",
    "GoldItem",
    "GoldParty",
    "GoldSeizure",
    "KindResult",
    "KindScores",
    "RecordMatch",
    "RunScore",
    "date_matches",
    "evaluate",
    "load_gold",
    "render_report",
]


#: Relative tolerance on masses and volumes.
QUANTITY_TOLERANCE = 0.01


# --------------------------------------------------------------------------------------------
# gold format
# --------------------------------------------------------------------------------------------
class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _PParty(_Lenient):
    name: str = ""
    iso3: str | None = None


class _PAgreement(_Lenient):
    id: str = ""
    parties: list[_PParty] = Field(default_factory=list)
    instrument_type: str | None = None
    status: str | None = None
    date_iso: str | None = None
    is_background: bool = False
    evidence: str = ""


class _PItem(_Lenient):
    drug: str | None = None
    drug_name: str | None = None
    kg: float | None = None
    count: float | None = None
    litres: float | None = None


class _PSeizure(_Lenient):
    id: str = ""
    items: list[_PItem] = Field(default_factory=list)
    country: str | None = None
    date_iso: str | None = None
    evidence: str = ""


class _PArticle(_Lenient):
    id: str | None = None
    source: str | None = None
    sha256: str | None = None


class _PRun(_Lenient):
    model: str | None = None
    prompt_version: str | None = None


class _PLine(_Lenient):
    article: _PArticle
    run: _PRun | None = None
    agreements: list[_PAgreement] = Field(default_factory=list)
    seizures: list[_PSeizure] = Field(default_factory=list)


def _read_run(run_dir: Path) -> tuple[Path, list[_PLine], list[str]]:
    path = run_dir if run_dir.is_file() else run_dir / "records.jsonl"
    if not path.is_file():
        raise InputError(str(run_dir), "no records.jsonl (is it an output directory of `llm-extract run`?)")
    lines: list[_PLine] = []
    warnings: list[str] = []
    try:
        raw = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot be read: {exc}") from None
    for number, text in enumerate(raw, start=1):
        if not text.strip():
            continue
        try:
            line = _PLine.model_validate_json(text)
        except ValidationError as exc:
            if number == len(raw) and not text.endswith("}"):
                warnings.append(f"{path}:{number}: a torn last line was ignored")
                continue
            raise InputError(f"{path}:{number}", "not a result line: " + validation_errors(exc)) from None
        for i, a in enumerate(line.agreements, start=1):
            a.id = a.id or f"a{i}"
        for i, s in enumerate(line.seizures, start=1):
            s.id = s.id or f"s{i}"
        lines.append(line)
    return path, lines, warnings


# --------------------------------------------------------------------------------------------
# comparisons
# --------------------------------------------------------------------------------------------
def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"['\u2019`]s\b", "", text)
    return " ".join(re.findall(r"\w+", text))


def date_matches(gold: str | None, predicted: str | None) -> bool:
    """A predicted date is right when its period lies within the gold's (null only for null)."""
    if gold is None or predicted is None:
        return gold is None and predicted is None
    g = PartialDate.from_iso(gold)
    try:
        p = PartialDate.from_iso(predicted)
    except ValueError:
        return False
    return g.as_date() <= p.as_date() and p.last_date() <= g.last_date()


def _party_found(gold: GoldParty, predicted: Sequence[_PParty]) -> bool:
    if gold.iso3 is not None and any(p.iso3 == gold.iso3 for p in predicted):
        return True
    names = {_fold(n) for n in (gold.name, *gold.aliases)}
    return any(_fold(p.name) in names for p in predicted)


def _party_explained(predicted: _PParty, gold: Sequence[GoldParty]) -> bool:
    if predicted.iso3 is not None and any(g.iso3 == predicted.iso3 for g in gold):
        return True
    name = _fold(predicted.name)
    return any(name in {_fold(n) for n in (g.name, *g.aliases)} for g in gold)


def _evidence_overlap(hint: str | None, evidence: str) -> int:
    """0-100: how much of the gold hint the predicted evidence holds."""
    if not hint or not evidence:
        return 0
    h, e = normalize_text(hint), normalize_text(evidence)
    if h in e or e in h:
        return 100
    words = set(re.findall(r"\w+", h))
    if not words:
        return 0
    found = set(re.findall(r"\w+", e))
    return round(100 * len(words & found) / len(words))


def _agreement_candidate(gold: GoldAgreement, pred: _PAgreement) -> bool:
    return all(_party_found(g, pred.parties) for g in gold.parties)


def _agreement_fields(gold: GoldAgreement, pred: _PAgreement) -> dict[str, bool]:
    return {
        "parties": all(_party_found(g, pred.parties) for g in gold.parties)
        and all(_party_explained(p, gold.parties) for p in pred.parties),
        "instrument_type": pred.instrument_type == gold.instrument_type.value,
        "status": pred.status == gold.status.value,
        "date": date_matches(gold.date_iso, pred.date_iso),
        "is_background": pred.is_background == gold.is_background,
    }


def _drug_key(item: _PItem) -> str:
    return item.drug_name or DrugName.UNSPECIFIED.value


def _seizure_candidate(gold: GoldSeizure, pred: _PSeizure) -> bool:
    return bool({i.drug_name.value for i in gold.items} & {_drug_key(i) for i in pred.items})


def _close(gold: float, predicted: float | None) -> bool:
    return predicted is not None and abs(predicted - gold) <= QUANTITY_TOLERANCE * abs(gold) * (1 + 1e-9)


def _quantities_match(gold: GoldSeizure, pred: _PSeizure) -> bool:
    for g in gold.items:
        same = [p for p in pred.items if _drug_key(p) == g.drug_name.value]
        if not same:
            return False

        def total(attr: str, same: list[_PItem] = same) -> float | None:
            values = [getattr(p, attr) for p in same if getattr(p, attr) is not None]
            return math.fsum(values) if values else None

        kg, count, litres = total("kg"), total("count"), total("litres")
        if g.kg is not None:
            ok = _close(g.kg, kg)
        elif g.litres is not None:
            ok = _close(g.litres, litres)
        elif g.count is not None:
            ok = count == g.count
        else:
            ok = kg is None and count is None and litres is None
        if not ok:
            return False
    return True


def _seizure_fields(gold: GoldSeizure, pred: _PSeizure) -> dict[str, bool]:
    return {
        "drug": {i.drug_name.value for i in gold.items} == {_drug_key(i) for i in pred.items},
        "kg": _quantities_match(gold, pred),
        "country": pred.country == gold.country,
        "date": date_matches(gold.date_iso, pred.date_iso),
    }


def _assign(scores: list[list[int | None]]) -> list[tuple[int, int]]:
    """One-to-one assignment with the most pairs, then the highest total score; `None` = not allowed.

    Scores are integers >= 0. Each allowed cell weighs `big + score`, where `big` exceeds
    any possible total score, and an exact maximum-weight assignment is found with the
    Hungarian algorithm (O(n² m)). Returns the (row, column) pairs, sorted by row.
    """
    rows = len(scores)
    cols = len(scores[0]) if rows else 0
    if rows == 0 or cols == 0:
        return []
    top = max((s for row in scores for s in row if s is not None), default=0)
    big = (top + 1) * (min(rows, cols) + 1)
    weights = [[None if s is None else big + s for s in row] for row in scores]
    transpose = rows > cols
    w = [list(r) for r in zip(*weights, strict=True)] if transpose else weights
    n, m = len(w), len(w[0])
    cost = [[-(x or 0) for x in row] for row in w]  # minimise; forbidden cells cost 0
    inf = float("inf")
    u: list[float] = [0.0] * (n + 1)
    v: list[float] = [0.0] * (m + 1)
    p = [0] * (m + 1)  # p[j]: row (1-based) assigned to column j
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = []
    for j in range(1, m + 1):
        if p[j]:
            r, c = p[j] - 1, j - 1
            if w[r][c] is not None:
                pairs.append((c, r) if transpose else (r, c))
    return sorted(pairs)


def _match_kind(gold: Sequence, preds: Sequence, candidate, fields) -> KindResult:  # type: ignore[no-untyped-def]
    score: list[list[int | None]] = []
    field_table: dict[tuple[int, int], dict[str, bool]] = {}
    for gi, g in enumerate(gold):
        row: list[int | None] = []
        for pi, p in enumerate(preds):
            if not candidate(g, p):
                row.append(None)
                continue
            f = fields(g, p)
            field_table[gi, pi] = f
            row.append(3 * _evidence_overlap(g.evidence, p.evidence) + 100 * sum(f.values()))
        score.append(row)
    pairs = _assign(score)
    result = KindResult()
    for gi, pi in pairs:
        s = score[gi][pi]
        assert s is not None
        result.matches.append(RecordMatch(gold=gi, predicted=preds[pi].id, score=s, fields=field_table[gi, pi]))
    used_g = {g for g, _ in pairs}
    used_p = {p for _, p in pairs}
    result.missed = [i for i in range(len(gold)) if i not in used_g]
    result.extra = [p.id for i, p in enumerate(preds) if i not in used_p]
    return result


def _kind_scores(results: list[KindResult], names: Sequence[str]) -> KindScores:
    tp = sum(len(r.matches) for r in results)
    fp = sum(len(r.extra) for r in results)
    fn = sum(len(r.missed) for r in results)
    exact = sum(all(m.fields.values()) for r in results for m in r.matches)
    fields = {}
    for name in names:
        correct = sum(m.fields[name] for r in results for m in r.matches)
        fields[name] = FieldScore(correct=correct, total=tp, accuracy=correct / tp if tp else None)
    return KindScores(
        matched=PRF.of(tp, fp, fn),
        exact=PRF.of(exact, fp + tp - exact, fn + tp - exact),
        fields=fields,
    )


def _stem(source: str | None) -> str | None:
    return Path(source).stem if source else None


def _score_run(golds: list[GoldArticle], run_dir: Path) -> RunScore:
    path, lines, warnings = _read_run(run_dir)
    by_sha: dict[str, int] = {}
    by_id: dict[str, int] = {}
    by_stem: dict[str, int] = {}
    for position, line in enumerate(lines):
        a = line.article
        for table, key in ((by_sha, a.sha256), (by_id, a.id), (by_stem, _stem(a.source))):
            if key is None:
                continue
            if table is by_sha and key in table:
                warnings.append(f"{path}: article {a.source or key} appears twice; the last line is scored")
            table[key] = position
    used: set[int] = set()
    articles: list[ArticleScore] = []
    missing: list[str] = []
    for gold in golds:
        ref = gold.article
        index: int | None = None
        paired_by: Literal["sha256", "id", "source"] | None = None
        for how, table, key in (("sha256", by_sha, ref.sha256), ("id", by_id, ref.id), ("source", by_stem, ref.stem)):
            if key is not None and key in table:
                index, paired_by = table[key], how  # type: ignore[assignment]
                break
        paired: _PLine | None = None
        if index is None:
            missing.append(ref.stem or gold.file)
        else:
            paired = lines[index]
            used.add(index)
            if ref.sha256 and paired.article.sha256 and paired.article.sha256 != ref.sha256:
                warnings.append(
                    f"{gold.file}: paired by {paired_by} with {paired.article.source}, but its sha256 differs "
                    "(the article text changed since the gold was written)"
                )
        articles.append(
            ArticleScore(
                gold_file=gold.file,
                stem=ref.stem,
                sha256=ref.sha256,
                paired_by=paired_by,
                source=paired.article.source if paired else None,
                agreements=_match_kind(
                    gold.agreements, paired.agreements if paired else [], _agreement_candidate, _agreement_fields
                ),
                seizures=_match_kind(gold.seizures, paired.seizures if paired else [], _seizure_candidate, _seizure_fields),
            )
        )
    scored = [lines[i] for i in sorted(used)]
    models = sorted({ln.run.model for ln in scored if ln.run and ln.run.model})
    prompts = sorted({ln.run.prompt_version for ln in scored if ln.run and ln.run.prompt_version})
    without_gold = [ln.article.source or ln.article.id or ln.article.sha256 or "?" for i, ln in enumerate(lines) if i not in used]
    return RunScore(
        label=" / ".join(filter(None, (", ".join(models), ", ".join(prompts)))) or run_dir.name or str(run_dir),
        run_dir=str(run_dir),
        models=models,
        prompt_versions=prompts,
        articles_scored=len(used),
        articles_missing=missing,
        articles_without_gold=without_gold,
        agreements=_kind_scores([a.agreements for a in articles], AGREEMENT_FIELDS),
        seizures=_kind_scores([a.seizures for a in articles], SEIZURE_FIELDS),
        articles=articles,
        warnings=warnings,
    )


def evaluate(gold_dir: Path, run_dirs: Sequence[Path]) -> EvalReport:
    """Score each run's `records.jsonl` against the gold files in `gold_dir` (see the module doc).

    A run is a directory holding `records.jsonl` (or the `.jsonl` file itself). Raises
    `InputError` naming the file for a malformed gold file, a missing or malformed
    `records.jsonl`, or an empty gold directory.
    """
    if not run_dirs:
        raise InputError("eval", "no run directory given")
    golds = load_gold(Path(gold_dir))
    runs = [_score_run(golds, Path(d)) for d in run_dirs]
    labels = [r.label for r in runs]
    for run in runs:
        if labels.count(run.label) > 1:  # same model and prompt: tell the runs apart by directory
            run.label = f"{Path(run.run_dir).name or run.run_dir}: {run.label}"
    labels = [r.label for r in runs]
    for number, run in enumerate(runs, start=1):
        if labels.count(run.label) > 1:  # the same directory name (or the same run) twice
            run.label = f"{run.label} #{number}"
    return EvalReport(
        gold_dir=str(gold_dir),
        gold_articles=len(golds),
        gold_agreements=sum(len(g.agreements) for g in golds),
        gold_seizures=sum(len(g.seizures) for g in golds),
        runs=runs,
    )
