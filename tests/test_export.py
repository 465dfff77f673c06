"""Flat exports (CSV / JSONL) and statistics from the event store."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from helpers import AT
from rich.console import Console

from llm_extract import ArticleExtraction
from llm_extract.core.results import Failure
from llm_extract.runs.store import EventStore
from llm_extract.tasks.security_events.merge import merge_events, merge_is_current
from llm_extract.tasks.security_events.records import RejectedRecord
from llm_extract.tasks.security_events.views.export import EXPORT_TABLES, Stats, export, render_stats, stats


def made_up(base: ArticleExtraction, tag: str, published_iso: str, **update) -> ArticleExtraction:
    sha = hashlib.sha256(tag.encode()).hexdigest()
    info = base.article.model_copy(update={"sha256": sha, "id": sha[:16], "source": f"made-up/{tag}.txt"})
    return base.model_copy(update={"article": info, "published_iso": published_iso, **update}, deep=True)


@pytest.fixture
def store(seeds):
    with EventStore(":memory:") as s:
        for r in seeds.values():
            s.add_result(r, extracted_at=AT)
        s.add_failure(Failure(source="broken.txt", kind="input", message="not UTF-8"), at=AT)
        yield s


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_csv_export_writes_every_table_with_its_columns(store: EventStore, tmp_path: Path) -> None:
    paths = export(store, tmp_path, "csv")
    assert [p.name for p in paths] == [f"{name}.csv" for name in EXPORT_TABLES]
    rows = {}
    for path, (name, columns) in zip(paths, EXPORT_TABLES.items(), strict=True):
        with path.open(encoding="utf-8", newline="") as fh:
            assert tuple(next(csv.reader(fh))) == columns
        rows[name] = read_csv(path)
    assert {name: len(r) for name, r in rows.items()} == {
        "agreements": 14, "seizures": 1, "canonical_events": 15, "articles": 5, "failures": 1, "rejected": 0,
    }  # fmt: skip
    assert not list(tmp_path.glob("*.tmp"))

    (mou,) = [r for r in rows["agreements"] if r["date_iso"] == "2010-12"]
    assert mou["parties"] == "Iran; Russia" and mou["countries"] == "IRN;RUS"
    assert mou["instrument_type"] == "mou" and mou["status"] == "signed" and mou["is_background"] == "true"
    assert mou["date"] == "In December 2010" and mou["domains"] == "narcotics"
    assert "Mohammad Najjar" in mou["officials"]
    assert int(mou["span_start"]) < int(mou["span_end"]) and mou["grounding"] == "exact"

    (item,) = rows["seizures"]
    assert (item["country"], item["drug"], item["drug_group"], float(item["kg"]), item["date_iso"]) == (
        "IRN", "methamphetamine", "ats", 2400.0, "2024-09-10",
    )  # fmt: skip
    assert item["count"] == "" and item["litres"] == ""

    # every record carries its canonical event, and every event is in canonical_events.csv
    events = {r["canonical_id"]: r for r in rows["canonical_events"]}
    assert {r["canonical_id"] for r in rows["agreements"] + rows["seizures"]} == set(events)
    assert events[item["canonical_id"]]["n_mentions"] == "1"
    assert events[mou["canonical_id"]]["article_ids"] == mou["article_id"]

    articles = {r["article_id"]: r for r in rows["articles"]}
    assert int(articles["6b19569f743a790d"]["input_tokens"]) > 0 and articles["6b19569f743a790d"]["reasks"] == "1"
    assert rows["failures"][0]["source"] == "broken.txt"


def test_jsonl_export_has_the_same_rows_with_lists_and_booleans(store: EventStore, tmp_path: Path) -> None:
    paths = export(store, tmp_path, "jsonl")
    assert [p.name for p in paths] == [f"{name}.jsonl" for name in EXPORT_TABLES]
    agreements = read_jsonl(tmp_path / "agreements.jsonl")
    assert len(agreements) == 14 and list(agreements[0]) == list(EXPORT_TABLES["agreements"])
    (mou,) = [r for r in agreements if r["date_iso"] == "2010-12"]
    assert mou["parties"] == ["Iran", "Russia"] and mou["countries"] == ["IRN", "RUS"]
    assert mou["is_background"] is True and mou["flags"] == []
    assert len(read_jsonl(tmp_path / "seizures.jsonl")) == 1
    assert len(read_jsonl(tmp_path / "canonical_events.jsonl")) == 15


def test_awkward_text_round_trips_through_csv(seeds, tmp_path: Path) -> None:
    awkward = 'He said, "we will cooperate";\nthe MoU — signed in Tehran, 2010\r\nends here'
    base = seeds["000"]
    agreements = [base.agreements[0].model_copy(update={"evidence": awkward, "place": "=HYPERLINK(\"x\")"})]
    rejected = [RejectedRecord(kind="seizure", reason="evidence not found", record={"evidence": awkward, "items": []})]
    with EventStore(":memory:") as store:
        store.add_result(made_up(base, "awkward", "2012", agreements=agreements, rejected=rejected), extracted_at=AT)
        export(store, tmp_path, "csv")
        (row,) = read_csv(tmp_path / "agreements.csv")
        assert row["evidence"] == awkward and row["place"] == '=HYPERLINK("x")'
        (bad,) = read_csv(tmp_path / "rejected.csv")
        assert bad["evidence"] == awkward and json.loads(bad["record"]) == {"evidence": awkward, "items": []}

        export(store, tmp_path / "safe", "csv", escape_formulas=True, excel_bom=True)
        raw = (tmp_path / "safe" / "agreements.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        with (tmp_path / "safe" / "agreements.csv").open(encoding="utf-8-sig", newline="") as fh:
            (row,) = list(csv.DictReader(fh))
        assert row["place"] == "'=HYPERLINK(\"x\")" and row["evidence"] == awkward


def test_export_brings_canonical_events_up_to_date(store: EventStore, seeds, tmp_path: Path) -> None:
    merge_events(store)
    copy = made_up(seeds["003"], "second-report", "2024-09-11")
    store.add_result(copy, extracted_at=AT)
    assert not merge_is_current(store)
    export(store, tmp_path, "csv")
    assert merge_is_current(store)
    seizures = read_csv(tmp_path / "seizures.csv")
    assert len(seizures) == 2 and len({r["canonical_id"] for r in seizures}) == 1
    (event,) = [r for r in read_csv(tmp_path / "canonical_events.csv") if r["kind"] == "seizure"]
    assert event["n_mentions"] == "2" and len(event["article_ids"].split(";")) == 2


def test_an_unknown_format_is_refused(store: EventStore, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="csv or jsonl"):
        export(store, tmp_path, "xlsx")  # type: ignore[arg-type]


# -- stats -------------------------------------------------------------------------------------------
def test_stats_on_the_seeds(store: EventStore, seeds) -> None:
    merge_events(store)
    s = stats(store)
    assert isinstance(s, Stats)
    t = s.totals
    assert (t.articles, t.failures, t.agreements, t.seizures, t.drug_items) == (5, 1, 14, 1, 1)
    assert (t.agreement_events, t.seizure_events) == (14, 1) and t.merge_current
    assert t.input_tokens == sum(r.run.usage.input_tokens for r in seeds.values())
    assert t.calls == sum(r.run.calls for r in seeds.values()) and t.reasks == 1
    priced = [r.run.cost_usd for r in seeds.values() if r.run.cost_usd is not None]
    assert t.unpriced_articles == 5 - len(priced) and t.cost_usd == pytest.approx(sum(priced))
    by_country = {row.key: row.records for row in s.agreements_by_country}
    assert by_country == {"IRN": 14, "RUS": 6, "KGZ": 3, "TUR": 3, "IRQ": 2}
    assert [(r.key, r.records, r.kg) for r in s.seizures_by_country] == [("IRN", 1, 2400.0)]
    assert [(r.group, r.items, r.kg) for r in s.by_drug_group] == [("ats", 1, 2400.0)]
    years = {y.year: (y.agreements, y.seizures) for y in s.by_year}
    assert years["2010"] == (1, 0) and years["2024"] == (0, 1) and years["2023"] == (3, 0)
    assert years["2012"] == (1, 0)  # undated: the year of publication
    assert {r.key: r.records for r in s.agreements_by_status} == {"signed": 7, "agreed": 5, "discussed": 1, "implemented": 1}
    assert s.failures_by_kind == {"input": 1}


def test_stats_count_a_merged_event_once(store: EventStore, seeds) -> None:
    second = seeds["003"].seizures[0].model_copy(update={"total_kg": 2450.0, "date_iso": "2024-09-11"}, deep=True)
    second.items[0] = second.items[0].model_copy(update={"quantity": 2450.0, "kg": 2450.0})
    store.add_result(made_up(seeds["003"], "again", "2024-09-12", agreements=[], seizures=[second]), extracted_at=AT)
    before = stats(store)  # not merged yet: each record is its own event
    assert not before.totals.merge_current and before.totals.seizure_events == 2
    merge_events(store)
    after = stats(store)
    (iran,) = after.seizures_by_country
    assert (iran.records, iran.events) == (2, 1)
    # the event once, with its representative's mass (the earliest report), not 4,850
    assert iran.kg == 2450.0
    (ats,) = after.by_drug_group
    assert (ats.items, ats.seizures, ats.events, ats.kg) == (2, 2, 1, 2450.0)


def test_render_stats_prints_rich_tables(store: EventStore) -> None:
    tables = render_stats(stats(store))
    assert [t.title for t in tables][:2] == ["Totals", "Agreements by party country"]
    console = Console(record=True, width=120)
    for table in tables:
        console.print(table)
    text = console.export_text()
    assert "IRN" in text and "methamphetamine" not in text and "ats" in text and "Failures by kind" in text
    assert "out of date" in text  # not merged yet
