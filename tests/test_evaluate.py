"""The scorer against gold annotations (`llm_extract.evaluate`) and the seeds' gold files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import ARTICLES, REPLAY, ROOT

from llm_extract import Extractor
from llm_extract.core.articles import read_article
from llm_extract.core.grounding import normalize_text
from llm_extract.errors import InputError, LLMExtractError
from llm_extract.tasks.security_events.views.evaluate import (
    AGREEMENT_FIELDS,
    SEIZURE_FIELDS,
    EvalReport,
    GoldArticle,
    _assign,
    date_matches,
    evaluate,
    load_gold,
    render_report,
)

GOLD = ROOT / "fixtures" / "gold"


# -- helpers ---------------------------------------------------------------------------------
def prediction(gold: GoldArticle, *, model: str = "model-a", prompt: str = "p1") -> dict[str, Any]:
    """A records.jsonl line that says exactly what the gold says."""
    ref = gold.article
    return {
        "article": {"id": ref.id, "source": f"articles/{ref.stem}.txt", "sha256": ref.sha256, "chars": 1},
        "run": {"model": model, "prompt_version": prompt},
        "agreements": [
            {
                "id": f"a{i}",
                "parties": [{"name": p.name, "kind": "state", "iso3": p.iso3} for p in a.parties],
                "instrument_type": a.instrument_type.value,
                "status": a.status.value,
                "date_iso": a.date_iso,
                "is_background": a.is_background,
                "evidence": a.evidence or "evidence",
            }
            for i, a in enumerate(gold.agreements, start=1)
        ],
        "seizures": [
            {
                "id": f"s{i}",
                "items": [
                    {"drug": it.drug_name.value, "drug_name": it.drug_name.value, "kg": it.kg, "count": it.count, "litres": it.litres}
                    for it in s.items
                ],
                "country": s.country,
                "date_iso": s.date_iso,
                "evidence": s.evidence or "evidence",
            }
            for i, s in enumerate(gold.seizures, start=1)
        ],
    }


def perfect_lines() -> dict[str, dict[str, Any]]:
    """Perfect predictions for every seed, by article stem prefix ('000' ... '004')."""
    return {g.article.stem[:3]: prediction(g) for g in load_gold(GOLD)}  # type: ignore[index]


def write_run(directory: Path, lines: list[dict[str, Any]] | dict[str, dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    values = list(lines.values()) if isinstance(lines, dict) else lines
    (directory / "records.jsonl").write_text("".join(json.dumps(line) + "\n" for line in values), encoding="utf-8")
    return directory


def score(tmp_path: Path, lines, name: str = "run"):  # type: ignore[no-untyped-def]
    return evaluate(GOLD, [write_run(tmp_path / name, lines)]).runs[0]


def all_fields(run, kind: str) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    return {name: f.accuracy for name, f in getattr(run, kind).fields.items()}


# -- the gold files --------------------------------------------------------------------------
def test_seed_gold_files_are_valid_and_name_their_articles():
    golds = load_gold(GOLD)
    assert [g.article.stem for g in golds] == sorted(p.stem for p in ARTICLES.glob("*.txt"))
    assert sum(len(g.agreements) for g in golds) == 13
    assert sum(len(g.seizures) for g in golds) == 1
    for gold in golds:
        text = (ARTICLES / f"{gold.article.stem}.txt").read_text(encoding="utf-8")
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert gold.article.sha256 == sha and gold.article.id == sha[:16]
        for record in [*gold.agreements, *gold.seizures]:
            assert record.evidence and normalize_text(record.evidence) in normalize_text(text), record.evidence


def test_seed_gold_records_the_readers_facts():
    golds = {g.article.stem[:3]: g for g in load_gold(GOLD)}  # type: ignore[index]
    (meth,) = golds["003"].seizures
    assert (meth.items[0].drug_name, meth.items[0].kg, meth.country, meth.date_iso) == (
        "methamphetamine", 2400, "IRN", "2024-09-10",
    )
    new_mous, team, mou_2010 = golds["000"].agreements
    assert (new_mous.status, new_mous.date_iso, new_mous.is_background) == ("agreed", None, False)
    assert (team.date_iso, team.is_background, mou_2010.date_iso, mou_2010.status) == ("2011-06", True, "2010-12", "signed")
    assert [a.date_iso for a in golds["001"].agreements] == ["2023-W26", "2023-W26"]  # Tue 27 - Thu 29 June
    assert [(a.status, a.is_background) for a in golds["002"].agreements] == [
        ("signed", False), ("signed", True), ("signed", True),
    ]
    assert golds["003"].agreements[0].date_iso == "2025-01-12"
    assert [a.instrument_type for a in golds["004"].agreements] == ["agreement", "mechanism", "mechanism"]


# -- the scorer ------------------------------------------------------------------------------
def test_perfect_predictions_score_one_everywhere(tmp_path):
    run = score(tmp_path, perfect_lines())
    for kind in ("agreements", "seizures"):
        scores = getattr(run, kind)
        assert (scores.matched.precision, scores.matched.recall, scores.matched.f1) == (1.0, 1.0, 1.0)
        assert scores.exact.f1 == 1.0
        assert set(all_fields(run, kind).values()) == {1.0}
    assert (run.agreements.matched.tp, run.seizures.matched.tp) == (13, 1)
    assert (run.label, run.articles_scored, run.articles_missing, run.articles_without_gold) == ("model-a / p1", 5, [], [])


def test_an_extra_record_lowers_precision_only(tmp_path):
    lines = perfect_lines()
    lines["002"]["agreements"].append(
        {"id": "a9", "parties": [{"name": "Iran", "iso3": "IRN"}, {"name": "China", "iso3": "CHN"}],
         "instrument_type": "mou", "status": "signed", "evidence": "made up"}
    )
    lines["003"]["seizures"].append(
        {"id": "s9", "items": [{"drug": "opium", "drug_name": "opium", "kg": 12.0}], "country": "IRN", "evidence": "x"}
    )
    run = score(tmp_path, lines)
    assert (run.agreements.matched.tp, run.agreements.matched.fp, run.agreements.matched.fn) == (13, 1, 0)
    assert run.agreements.matched.precision == pytest.approx(13 / 14) and run.agreements.matched.recall == 1.0
    assert (run.seizures.matched.precision, run.seizures.matched.recall) == (0.5, 1.0)
    assert set(all_fields(run, "agreements").values()) == set(all_fields(run, "seizures").values()) == {1.0}
    (article,) = [a for a in run.articles if a.stem.startswith("002")]
    assert article.agreements.extra == ["a9"] and article.agreements.missed == []


def test_a_missing_record_lowers_recall_only(tmp_path):
    lines = perfect_lines()
    del lines["004"]["agreements"][2]
    run = score(tmp_path, lines)
    assert run.agreements.matched.precision == 1.0
    assert run.agreements.matched.recall == pytest.approx(12 / 13)
    assert set(all_fields(run, "agreements").values()) == {1.0}
    (article,) = [a for a in run.articles if a.stem.startswith("004")]
    assert article.agreements.missed == [2]


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("status", {"status": "implemented"}),
        ("instrument_type", {"instrument_type": "treaty"}),
        ("date", {"date_iso": "2017-12-19"}),  # the gold has no date
        ("is_background", {"is_background": True}),
        ("parties", {"parties": [{"name": "Iran", "iso3": "IRN"}, {"name": "Turkey", "iso3": "TUR"}, {"name": "Iraq", "iso3": "IRQ"}]}),
    ],
)
def test_a_wrong_agreement_field_lowers_that_field_only(tmp_path, field, change):
    lines = perfect_lines()
    lines["004"]["agreements"][0].update(change)
    run = score(tmp_path, lines)
    assert (run.agreements.matched.precision, run.agreements.matched.recall) == (1.0, 1.0)
    accuracy = all_fields(run, "agreements")
    assert accuracy.pop(field) == pytest.approx(12 / 13)
    assert set(accuracy.values()) == {1.0}
    assert run.agreements.exact.f1 == pytest.approx(12 / 13)
    (article,) = [a for a in run.articles if a.stem.startswith("004")]
    assert [m.predicted for m in article.agreements.matches] == ["a1", "a2", "a3"]


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("country", {"country": "AFG"}),
        ("date", {"date_iso": "2024-09-11"}),
        ("drug", {"items": [{"drug_name": "methamphetamine", "kg": 2400.0}, {"drug_name": "heroin", "kg": 3.0}]}),
    ],
)
def test_a_wrong_seizure_field_lowers_that_field_only(tmp_path, field, change):
    lines = perfect_lines()
    lines["003"]["seizures"][0].update(change)
    run = score(tmp_path, lines)
    assert (run.seizures.matched.precision, run.seizures.matched.recall) == (1.0, 1.0)
    accuracy = all_fields(run, "seizures")
    assert accuracy.pop(field) == 0.0
    assert set(accuracy.values()) == {1.0}
    assert run.seizures.exact.f1 == 0.0


@pytest.mark.parametrize(("kg", "right"), [(2400.0, True), (2423.0, True), (2377.0, True), (2448.0, False), (2352.0, False)])
def test_kg_within_one_percent_is_right_two_percent_is_not(tmp_path, kg, right):
    lines = perfect_lines()
    lines["003"]["seizures"][0]["items"][0]["kg"] = kg
    run = score(tmp_path, lines)
    assert run.seizures.matched.f1 == 1.0  # found either way
    assert run.seizures.fields["kg"].accuracy == (1.0 if right else 0.0)


def test_counts_must_be_equal_and_a_count_is_never_a_mass(tmp_path):
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (gold_dir / "pills.json").write_text(json.dumps({
        "article": {"id": "pills"},
        "seizures": [{"items": [{"drug_name": "amphetamine", "count": 5000}], "country": "SYR", "date_iso": None}],
    }), encoding="utf-8")
    base = {"article": {"id": "pills"}, "seizures": [{"id": "s1", "country": "SYR", "evidence": "x",
                                                     "items": [{"drug": "captagon", "drug_name": "amphetamine", "count": 5000}]}]}
    wrong_count = json.loads(json.dumps(base))
    wrong_count["seizures"][0]["items"][0]["count"] = 5001
    as_mass = json.loads(json.dumps(base))
    as_mass["seizures"][0]["items"][0] = {"drug": "captagon", "drug_name": "amphetamine", "kg": 5000}
    report = evaluate(gold_dir, [write_run(tmp_path / n, [line]) for n, line in
                                 (("right", base), ("count", wrong_count), ("mass", as_mass))])
    assert [r.seizures.fields["kg"].accuracy for r in report.runs] == [1.0, 0.0, 0.0]
    assert [r.seizures.matched.f1 for r in report.runs] == [1.0, 1.0, 1.0]


def test_dates_are_compared_at_the_golds_precision():
    assert date_matches("2024", "2024-09-10")
    assert date_matches("2024", "2024")
    assert not date_matches("2024", "2025-01-01")
    assert date_matches("2024-09-10", "2024-09-10")
    assert not date_matches("2024-09-10", "2024-09")  # less precise than the gold
    assert not date_matches("2024-09-10", "2024")
    assert date_matches("2023-W26", "2023-06-27") and date_matches("2023-W26", "2023-07-02")
    assert not date_matches("2023-W26", "2023-07-03") and not date_matches("2023-W26", "2023-06")
    assert date_matches("2024-09", "2024-W36")  # 2-8 September
    assert not date_matches("2024-09", "2024-W35")  # 26 August - 1 September straddles the month
    assert date_matches(None, None)
    assert not date_matches(None, "2012") and not date_matches("2012", None)
    assert not date_matches("2012", "Monday")


def test_a_more_precise_date_is_right_a_less_precise_one_is_not(tmp_path):
    lines = perfect_lines()
    lines["002"]["agreements"][2]["date_iso"] = "2016-05-01"  # gold: 2016
    lines["003"]["seizures"][0]["date_iso"] = "2024-09"  # gold: 2024-09-10
    run = score(tmp_path, lines)
    assert run.agreements.fields["date"].accuracy == 1.0
    assert run.seizures.fields["date"].accuracy == 0.0


def test_an_article_missing_from_a_run_counts_against_recall(tmp_path):
    lines = perfect_lines()
    del lines["003"]
    lines["zzz"] = {"article": {"id": "other", "source": "articles/other.txt", "sha256": "0" * 64},
                    "agreements": [{"parties": [{"name": "Iran", "iso3": "IRN"}], "instrument_type": "mou",
                                    "status": "signed", "evidence": "x"}]}
    run = score(tmp_path, lines)
    assert run.articles_missing == ["003_fac0c62c7962788c"]
    assert run.articles_without_gold == ["articles/other.txt"]  # listed, not scored
    assert (run.agreements.matched.tp, run.agreements.matched.fp, run.agreements.matched.fn) == (11, 0, 2)
    assert (run.seizures.matched.recall, run.seizures.matched.precision, run.seizures.matched.f1) == (0.0, None, None)
    (article,) = [a for a in run.articles if a.paired_by is None]
    assert article.agreements.missed == [0, 1] and article.seizures.missed == [0]


def test_two_runs_side_by_side(tmp_path):
    good = perfect_lines()
    worse = perfect_lines()
    for line in worse.values():
        line["run"] = {"model": "model-b", "prompt_version": "p2"}
    worse["004"]["agreements"][0]["status"] = "implemented"
    del worse["000"]["agreements"][0]
    report = evaluate(GOLD, [write_run(tmp_path / "a", good), write_run(tmp_path / "b", worse)])
    assert [r.label for r in report.runs] == ["model-a / p1", "model-b / p2"]
    assert [r.agreements.matched.recall for r in report.runs] == [1.0, pytest.approx(12 / 13)]
    assert [r.agreements.fields["status"].accuracy for r in report.runs] == [1.0, pytest.approx(11 / 12)]
    tables = render_report(report)
    assert [len(t.columns) for t in tables] == [3, 3, 3]
    assert [str(c.header) for c in tables[0].columns[1:]] == ["model-a / p1", "model-b / p2"]


def test_runs_with_the_same_model_and_prompt_are_told_apart_by_directory(tmp_path):
    report = evaluate(GOLD, [write_run(tmp_path / "first", perfect_lines()), write_run(tmp_path / "second", perfect_lines())])
    assert [r.label for r in report.runs] == ["first: model-a / p1", "second: model-a / p1"]
    report = evaluate(GOLD, [tmp_path / "first", tmp_path / "first"])
    assert [r.label for r in report.runs] == ["first: model-a / p1 #1", "first: model-a / p1 #2"]


def test_ties_are_broken_by_evidence_then_fields(tmp_path):
    lines = perfect_lines()
    # 004: two agreed Iran-Turkey mechanisms, given in the other order
    agreements = lines["004"]["agreements"]
    agreements[1], agreements[2] = agreements[2], agreements[1]
    for i, agreement in enumerate(agreements, start=1):
        agreement["id"] = f"a{i}"
    run = score(tmp_path, lines)
    (article,) = [a for a in run.articles if a.stem.startswith("004")]
    assert [(m.gold, m.predicted) for m in article.agreements.matches] == [(0, "a1"), (1, "a3"), (2, "a2")]
    assert run.agreements.exact.f1 == 1.0


def test_assignment_maximises_matched_pairs_before_scores():
    # greedy on the best score would take (0, 0) and leave row 1 unmatched
    assert _assign([[900, 100], [500, None]]) == [(0, 1), (1, 0)]
    assert _assign([[None, None], [None, 5]]) == [(1, 1)]
    assert _assign([[1], [3], [2]]) == [(1, 0)]
    assert _assign([]) == []
    assert _assign([[7, 7], [7, 7]]) == [(0, 0), (1, 1)]  # ties: deterministic, in order


def test_parties_without_a_country_match_by_name(tmp_path):
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (gold_dir / "unodc.json").write_text(json.dumps({
        "article": {"id": "u1"},
        "agreements": [{
            "parties": [{"name": "Iran", "iso3": "IRN"},
                        {"name": "UNODC", "iso3": None, "aliases": ["United Nations Office on Drugs and Crime"]}],
            "instrument_type": "mou", "status": "signed", "date_iso": "2020-03", "is_background": False,
        }],
    }), encoding="utf-8")

    def line(name: str) -> dict[str, Any]:
        return {"article": {"id": "u1"}, "agreements": [{
            "parties": [{"name": "Islamic Republic of Iran", "iso3": "IRN"}, {"name": name, "iso3": None}],
            "instrument_type": "mou", "status": "signed", "date_iso": "2020-03-02", "evidence": "x"}]}

    report = evaluate(gold_dir, [write_run(tmp_path / "alias", [line("united nations office on drugs and crime")]),
                                 write_run(tmp_path / "case", [line("unodc")]),
                                 write_run(tmp_path / "other", [line("UNICEF")])])
    assert [r.agreements.matched.tp for r in report.runs] == [1, 1, 0]
    assert report.runs[0].agreements.exact.f1 == 1.0
    assert report.runs[0].articles[0].paired_by == "id"


def test_articles_pair_by_sha256_then_id_then_file_stem(tmp_path):
    lines = perfect_lines()
    lines["000"]["article"] = {"source": "elsewhere/000_d5b9aee49fff1a62.md"}  # stem only
    lines["001"]["article"] = {"id": "fd940186a5298a3a", "sha256": "f" * 64}  # id, but the text changed
    run = score(tmp_path, lines)
    assert [a.paired_by for a in run.articles] == ["source", "id", "sha256", "sha256", "sha256"]
    assert run.agreements.matched.f1 == 1.0
    assert len(run.warnings) == 1 and "sha256 differs" in run.warnings[0] and "001_cd428024662f0b6b" in run.warnings[0]


def test_json_round_trips_and_tables_render(tmp_path):
    from rich.console import Console

    report = evaluate(GOLD, [write_run(tmp_path / "r", perfect_lines())])
    assert EvalReport.model_validate_json(report.model_dump_json()) == report
    data = json.loads(report.model_dump_json())
    assert data["runs"][0]["agreements"]["matched"]["f1"] == 1.0
    assert list(data["runs"][0]["agreements"]["fields"]) == list(AGREEMENT_FIELDS)
    assert list(data["runs"][0]["seizures"]["fields"]) == list(SEIZURE_FIELDS)
    console = Console(record=True, width=160)
    for table in render_report(report):
        console.print(table)
    text = console.export_text()
    assert "agreements: F1" in text and "seizures: kg" in text and "003_fac0c62c7962788c" in text


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not a readable JSON file"),
        ("[]", "one JSON object"),
        (json.dumps({"agreements": [{"parties": [{"name": "Iran", "iso3": "IRN"}], "instrument_type": "mou",
                                     "status": "sealed", "date_iso": None, "is_background": False}]}),
         "agreements.0.status"),
        (json.dumps({"agreements": [{"parties": [{"name": "Iran", "iso3": "Iran"}], "instrument_type": "mou",
                                     "status": "signed", "date_iso": None, "is_background": False}]}),
         "ISO 3166-1 alpha-3"),
        ('{"seizures": [{"items": [{"drug_name": "heroin", "kg": 1}], "country": "IRN", "date_iso": "10/09/2024"}]}',
         "not an ISO partial date"),
        ('{"seizures": [{"items": [{"drug_name": "shisheh", "kg": 1}], "country": "IRN", "date_iso": null}]}',
         "seizures.0.items.0.drug_name"),
        ('{"seizures": [{"items": [{"drug_name": "heroin", "kg": 1, "count": 3}], "country": "IRN", "date_iso": null}]}',
         "at most one of kg, count, litres"),
        ('{"agreements": [], "agreemnts": []}', "agreemnts"),
    ],
)
def test_a_malformed_gold_file_is_an_error_naming_the_file(tmp_path, content, problem):
    gold_dir = tmp_path / "gold"
    shutil.copytree(GOLD, gold_dir)
    (gold_dir / "broken.json").write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        evaluate(gold_dir, [write_run(tmp_path / "r", perfect_lines())])
    assert isinstance(info.value, LLMExtractError)
    assert str(gold_dir / "broken.json") in str(info.value) and problem in str(info.value)


def test_missing_inputs_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="no gold files"):
        evaluate(tmp_path, [tmp_path])
    with pytest.raises(InputError, match="not a directory"):
        evaluate(tmp_path / "nowhere", [tmp_path])
    with pytest.raises(InputError, match="no records.jsonl"):
        evaluate(GOLD, [tmp_path / "empty"])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "records.jsonl").write_text('{"agreements": []}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"records\.jsonl:1: not a result line"):
        evaluate(GOLD, [tmp_path / "bad"])
    dup = tmp_path / "dup"
    shutil.copytree(GOLD, dup)
    shutil.copy(dup / "000_d5b9aee49fff1a62.json", dup / "copy.json")
    with pytest.raises(InputError, match="the same article as"):
        load_gold(dup)


def test_a_torn_last_line_is_ignored_with_a_warning(tmp_path):
    run_dir = write_run(tmp_path / "r", perfect_lines())
    with (run_dir / "records.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"article": {"id": "x"')
    run = evaluate(GOLD, [run_dir]).runs[0]
    assert run.agreements.matched.f1 == 1.0 and "torn last line" in run.warnings[0]


# -- the seeds, replayed ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("replayed")
    extractor = Extractor(mode="replay", replay_dir=REPLAY)
    with (out / "records.jsonl").open("w", encoding="utf-8") as f:
        for path in sorted(ARTICLES.glob("*.txt")):
            f.write(extractor.extract(read_article(path)).model_dump_json() + "\n")
    return out


def test_replayed_seeds_against_the_gold(replayed):
    (run,) = evaluate(GOLD, [replayed]).runs
    assert run.articles_scored == 5 and run.articles_missing == [] and run.warnings == []
    assert [a.paired_by for a in run.articles] == ["sha256"] * 5
    # seizures: the one seizure, right in every field
    assert run.seizures.matched.f1 == 1.0 and run.seizures.exact.f1 == 1.0
    # agreements: every gold agreement found; one extra in 001 (the narcotics cooperation the
    # gold reads as part of the trip's agreements); 004's status (implemented, gold: discussed)
    # and 001's dates (none, gold: the week of the visit) disagree with the gold
    assert (run.agreements.matched.tp, run.agreements.matched.fp, run.agreements.matched.fn) == (13, 1, 0)
    assert run.agreements.matched.recall == 1.0 and run.agreements.matched.precision >= 0.92
    accuracy = all_fields(run, "agreements")
    assert accuracy["parties"] == accuracy["instrument_type"] == accuracy["is_background"] == 1.0
    assert accuracy["status"] >= 0.92 and accuracy["date"] >= 0.84
    (a001,) = [a for a in run.articles if a.stem.startswith("001")]
    assert a001.agreements.extra == ["a3"]


def test_assignment_agrees_with_brute_force_on_small_tables():
    import itertools
    import random

    rng = random.Random(7)
    for _ in range(300):
        rows, cols = rng.randint(1, 4), rng.randint(1, 4)
        table = [[rng.choice([None, rng.randint(0, 9)]) for _ in range(cols)] for _ in range(rows)]
        best = (0, 0)
        for perm in itertools.permutations(range(max(rows, cols)), rows):
            cells = [(r, c) for r, c in enumerate(perm) if c < cols and table[r][c] is not None]
            best = max(best, (len(cells), sum(table[r][c] for r, c in cells)))  # type: ignore[misc]
        pairs = _assign(table)
        assert len({c for _, c in pairs}) == len(pairs) and all(table[r][c] is not None for r, c in pairs)
        assert (len(pairs), sum(table[r][c] for r, c in pairs)) == best, table  # type: ignore[misc]
