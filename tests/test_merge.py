"""The same event across articles: canonical agreements and seizures (llm_extract.merge)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from helpers import AT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_extract import ArticleExtraction
from llm_extract.runs.store import EventStore
from llm_extract.tasks.security_events.merge import merge_events, merge_is_current, status_family
from llm_extract.tasks.security_events.records import AgreementRecord, SeizureRecord
from llm_extract.tasks.security_events.schema import AgreementStatus, InstrumentType


def report(
    base: ArticleExtraction,
    tag: str,
    published_iso: str | None,
    *,
    agreements: list[AgreementRecord] | None = None,
    seizures: list[SeizureRecord] | None = None,
) -> ArticleExtraction:
    """A made-up article: `base` under a new key and source, published on another date."""
    sha = hashlib.sha256(tag.encode()).hexdigest()
    info = base.article.model_copy(update={"sha256": sha, "id": sha[:16], "source": f"made-up/{tag}.txt"})
    update: dict[str, Any] = {"article": info, "published_iso": published_iso}
    if agreements is not None:
        update["agreements"] = agreements
    if seizures is not None:
        update["seizures"] = seizures
    return base.model_copy(update=update, deep=True)


def rephrased(record: Any, **changes: Any) -> Any:
    return record.model_copy(update={"evidence": "Reportedly, " + record.evidence.lower(), **changes}, deep=True)


def agreement(result: ArticleExtraction, **match: Any) -> AgreementRecord:
    (found,) = [a for a in result.agreements if all(getattr(a, k) == v for k, v in match.items())]
    return found


def meth_seizure(base: ArticleExtraction, kg: float, date_iso: str | None, record_id: str = "s1") -> SeizureRecord:
    s = base.seizures[0]
    items = [s.items[0].model_copy(update={"quantity": kg, "kg": kg})]
    precision = None if date_iso is None else "day"
    return rephrased(s, items=items, total_kg=kg, date_iso=date_iso, date_precision=precision, id=record_id)


def merged(results: list[ArticleExtraction]) -> tuple[EventStore, dict[tuple[str, str], str]]:
    store = EventStore(":memory:")
    for r in results:
        store.add_result(r, extracted_at=AT)
    merge_events(store)
    links = {
        (key, rid): cid for cid, key, rid in store.connection.execute(
            "SELECT canonical_id, article_key, record_id FROM event_mentions"
        )
    }  # fmt: skip
    return store, links


def event_of(links: dict[tuple[str, str], str], result: ArticleExtraction, record_id: str) -> str:
    return links[(result.article.sha256, record_id)]


# -- the seeds ----------------------------------------------------------------------------------
def test_the_seeds_report_fifteen_different_events(seeds) -> None:
    store, links = merged(list(seeds.values()))
    assert len(set(links.values())) == 15 == len(links)
    summary = merge_events(store)
    assert (summary.agreements, summary.seizures) == (14, 1)
    assert (summary.agreement_events, summary.seizure_events, summary.merged_events) == (14, 1, 0)
    assert summary.canonical == 15


def test_the_2010_mou_and_the_2023_agreements_do_not_merge(seeds) -> None:
    mou_2010 = agreement(seeds["000"], date_iso="2010-12")
    assert mou_2010.is_background and mou_2010.instrument_type == "mou" and mou_2010.status == "signed"
    mou_2023 = agreement(seeds["001"], instrument_type="mou")
    assert mou_2023.countries == mou_2010.countries == ["IRN", "RUS"] and mou_2023.date_iso is None
    _, links = merged([seeds["000"], seeds["001"]])
    assert event_of(links, seeds["000"], mou_2010.id) != event_of(links, seeds["001"], mou_2023.id)


# -- made-up duplicate reports ----------------------------------------------------------------------
def test_a_second_report_of_the_same_visit_merges_record_by_record(seeds) -> None:
    original = seeds["001"]  # published 2023-06-30
    copy = report(original, "dup-001", "2023-07-01", agreements=[rephrased(a) for a in original.agreements])
    store, links = merged([original, copy])
    for a in original.agreements:
        assert event_of(links, original, a.id) == event_of(links, copy, a.id)
    assert len(set(links.values())) == 3
    rows = store.connection.execute("SELECT n_mentions, n_articles, first_published_iso FROM canonical_events").fetchall()
    assert rows == [(2, 2, "2023-06-30")] * 3


def test_undated_reports_published_more_than_a_week_apart_do_not_merge(seeds) -> None:
    original = seeds["001"]
    late = report(original, "late-001", "2023-07-10", agreements=[rephrased(a) for a in original.agreements])
    _, links = merged([original, late])
    assert len(set(links.values())) == 6


def test_a_different_status_family_or_instrument_is_another_agreement(seeds) -> None:
    original = seeds["001"]
    signed = agreement(original, instrument_type="mou")
    other = report(
        original,
        "intent-001",
        "2023-06-30",
        agreements=[
            rephrased(signed, id="a1", status=AgreementStatus.planned),
            rephrased(signed, id="a2", instrument_type=InstrumentType.treaty),
        ],
    )
    _, links = merged([original, other])
    assert event_of(links, original, signed.id) not in {event_of(links, other, "a1"), event_of(links, other, "a2")}
    assert status_family("renewed") == "concluded" and status_family("discussed") == "intent"


def test_background_mentions_link_to_the_agreement_they_recall(seeds) -> None:
    mou = agreement(seeds["000"], date_iso="2010-12")
    signing = report(  # the signing itself, reported at the time, without a date
        seeds["000"], "signing-2010", "2010-12-27",
        agreements=[rephrased(mou, is_background=False, date=None, date_iso=None, date_precision=None, id="a1")],
    )  # fmt: skip
    recalled = report(  # a 2014 article recalling it with its date
        seeds["000"], "recall-2014", "2014-05-01", agreements=[rephrased(mou, id="a1")]
    )
    vaguely = report(  # a 2013 article recalling "the MoU Iran and Russia signed", no date
        seeds["000"], "vague-2013", "2013-03-02",
        agreements=[rephrased(mou, date=None, date_iso=None, date_precision=None, id="a1")],
    )  # fmt: skip
    results = [seeds["000"], seeds["001"], signing, recalled, vaguely]
    store, links = merged(results)
    event = event_of(links, seeds["000"], mou.id)
    assert event_of(links, signing, "a1") == event_of(links, recalled, "a1") == event_of(links, vaguely, "a1") == event
    assert event != event_of(links, seeds["001"], agreement(seeds["001"], instrument_type="mou").id)
    rep_key, rep_id, n_mentions, n_background, date_iso, first_date = store.connection.execute(
        "SELECT rep_article_key, rep_record_id, n_mentions, n_background, date_iso, first_date_iso"
        " FROM canonical_events WHERE id = ?",
        (event,),
    ).fetchone()
    assert (rep_key, rep_id) == (seeds["000"].article.sha256, mou.id)  # background, but the most precise date
    assert (n_mentions, n_background, date_iso, first_date) == (4, 3, "2010-12", "2010-12")
    link = dict(
        store.connection.execute(
            "SELECT article_key, link FROM event_mentions WHERE canonical_id = ?", (event,)
        ).fetchall()
    )
    assert link[vaguely.article.sha256] == "attached"


def test_a_vague_mention_that_could_recall_two_agreements_links_to_neither(seeds) -> None:
    mou = agreement(seeds["000"], date_iso="2010-12")
    march = report(
        seeds["000"], "march-2010", "2010-03-20",
        agreements=[rephrased(mou, date_iso="2010-03-16", date_precision="day", id="a1")],
    )  # fmt: skip
    year_only = report(
        seeds["000"], "year-2010", "2015-01-01", agreements=[rephrased(mou, date_iso="2010", date_precision="year", id="a1")]
    )
    undated = report(
        seeds["000"], "undated", "2016-01-01",
        agreements=[rephrased(mou, date=None, date_iso=None, date_precision=None, id="a1")],
    )  # fmt: skip
    _, links = merged([seeds["000"], march, year_only, undated])
    december, in_march = event_of(links, seeds["000"], mou.id), event_of(links, march, "a1")
    assert december != in_march  # a year does not bridge two months
    assert event_of(links, year_only, "a1") not in {december, in_march}
    assert event_of(links, undated, "a1") not in {december, in_march}


# -- seizures ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kg", "date_iso", "same"),
    [
        (2450.0, "2024-09-11", True),  # within 5 %, one day apart
        (2400.0, "2024-09-12", True),  # two days apart
        (3000.0, "2024-09-11", False),  # 25 % more
        (2400.0, "2024-09-14", False),  # four days apart
        (2400.0, None, True),  # undated, the same quantity exactly
        (2450.0, None, False),  # undated: only the same quantity exactly
    ],
)
def test_seizures_merge_on_country_drug_quantity_and_date(seeds, kg: float, date_iso: str | None, same: bool) -> None:
    original = seeds["003"]  # 2,400 kg of methamphetamine, Iran, 2024-09-10
    other = report(original, f"seizure-{kg}-{date_iso}", "2024-09-15", agreements=[], seizures=[meth_seizure(original, kg, date_iso)])
    _, links = merged([original, other])
    assert (event_of(links, original, "s1") == event_of(links, other, "s1")) is same


def test_seizures_in_another_country_or_of_another_drug_do_not_merge(seeds) -> None:
    original = seeds["003"]
    elsewhere = meth_seizure(original, 2400.0, "2024-09-10").model_copy(update={"country": "IRQ"})
    heroin = meth_seizure(original, 2400.0, "2024-09-10")
    heroin.items[0] = heroin.items[0].model_copy(update={"drug": "heroin", "drug_name": "heroin", "drug_group": "opioids"})
    unknown_country = meth_seizure(original, 2400.0, "2024-09-10").model_copy(update={"country": None})
    others = [
        report(original, f"other-{i}", "2024-09-11", agreements=[], seizures=[s])
        for i, s in enumerate([elsewhere, heroin, unknown_country])
    ]
    _, links = merged([original, *others])
    assert len({event_of(links, r, "s1") for r in [original, *others]}) == 4


def test_ungrounded_records_never_merge(seeds) -> None:
    original = seeds["001"]
    ungrounded = [rephrased(a, spans=[], grounding="ungrounded", flags=["ungrounded"]) for a in original.agreements]
    copy = report(original, "ungrounded-001", "2023-06-30", agreements=ungrounded)
    _, links = merged([original, copy])
    assert len(set(links.values())) == 6


# -- determinism -----------------------------------------------------------------------------------------
def _made_up(seeds: dict[str, ArticleExtraction]) -> list[ArticleExtraction]:
    mou = agreement(seeds["000"], date_iso="2010-12")
    original = seeds["003"]
    return [
        *seeds.values(),
        report(seeds["001"], "dup-001", "2023-07-01", agreements=[rephrased(a) for a in seeds["001"].agreements]),
        report(seeds["000"], "recall-2014", "2014-05-01", agreements=[rephrased(mou, id="a1")]),
        report(
            seeds["000"], "vague-2013", "2013-03-02",
            agreements=[rephrased(mou, date=None, date_iso=None, date_precision=None, id="a1")],
        ),  # fmt: skip
        report(original, "s-2450", "2024-09-12", agreements=[], seizures=[meth_seizure(original, 2450.0, "2024-09-11")]),
        report(original, "s-undated", "2024-09-13", agreements=[], seizures=[meth_seizure(original, 2400.0, None)]),
        report(original, "s-3000", "2024-09-13", agreements=[], seizures=[meth_seizure(original, 3000.0, "2024-09-11")]),
    ]


def _tables(store: EventStore) -> tuple[list[tuple], list[tuple]]:
    db = store.connection
    return (
        db.execute("SELECT * FROM canonical_events ORDER BY id").fetchall(),
        db.execute("SELECT * FROM event_mentions ORDER BY kind, article_key, record_id").fetchall(),
    )


def test_canonical_ids_are_stable_and_the_store_knows_when_they_are_stale(seeds) -> None:
    results = _made_up(seeds)
    store, _ = merged(results)
    first = _tables(store)
    assert merge_is_current(store)
    merge_events(store)
    assert _tables(store) == first
    store.add_result(results[0], extracted_at=AT)  # re-extracted: the events must be recomputed
    assert not merge_is_current(store)
    merge_events(store)
    assert _tables(store) == first and merge_is_current(store)
    ids = {cid for (cid,) in store.connection.execute("SELECT id FROM canonical_events")}
    assert all(cid.startswith(("agr-", "sei-")) and len(cid) == 16 for cid in ids)


@pytest.fixture(scope="module")
def reference(seeds) -> tuple[list[ArticleExtraction], tuple[list[tuple], list[tuple]]]:
    results = _made_up(seeds)
    store, _ = merged(results)
    return results, _tables(store)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(11)))
def test_the_merge_does_not_depend_on_insertion_order(reference, order: list[int]) -> None:
    results, expected = reference
    assert len(results) == 11
    store, _ = merged([results[i] for i in order])
    assert _tables(store) == expected


def test_the_made_up_reports_merge_as_expected(reference) -> None:
    results, (events, mentions) = reference
    event_of_record = {(key, rid): cid for cid, _kind, key, rid, _bg, _link in mentions}
    assert len(events) == 15 + 1  # the 3,000 kg seizure is a new event; every other report joins one
    by_tag = {r.article.source.rsplit("/", 1)[-1].removesuffix(".txt"): r for r in results}
    seizure = event_of_record[(results[3].article.sha256, "s1")]  # seed 003
    assert event_of_record[(by_tag["s-2450"].article.sha256, "s1")] == seizure
    assert event_of_record[(by_tag["s-undated"].article.sha256, "s1")] == seizure
    assert event_of_record[(by_tag["s-3000"].article.sha256, "s1")] != seizure
    row = next(e for e in events if e[0] == seizure)
    assert row[16:19] == (3, 3, 0)  # n_mentions, n_articles, n_background
    # the id is derived from the earliest mention: seed 003, published 2024-09-12 by s-2450 < 2025-01-12
    earliest = by_tag["s-2450"]
    assert seizure == "sei-" + hashlib.sha256(f"seizure|{earliest.article.sha256}|s1".encode()).hexdigest()[:12]


@settings(max_examples=200, deadline=None)
@given(
    periods=st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 12), st.sampled_from("abcd")), min_size=1, max_size=25
    ),
    slack=st.sampled_from([0, 2]),
)
def test_the_fast_sweep_groups_like_trying_every_pair(periods: list[tuple[int, int, str]], slack: int) -> None:
    """The O(n log n) sweep used for agreements equals union-find over every matching pair."""
    from llm_extract.tasks.security_events import merge

    mentions = [
        merge._Mention(
            kind="agreement", article_key=article, record_id=f"a{i}", ordinal=i, published_iso=None,
            is_background=False, date_iso=None, date_precision=None, bucket=(), start=start, end=start + width,
        )
        for i, (start, width, article) in enumerate(periods)
    ]  # fmt: skip

    def overlap(a: Any, b: Any) -> bool:
        return a.article_key != b.article_key and a.start <= b.end + slack and b.start <= a.end + slack

    def as_sets(groups: list[list[Any]]) -> set[frozenset[str]]:
        return {frozenset(m.record_id for m in g) for g in groups}

    fast = merge._components(mentions, overlap, slack, overlap_only=True)
    slow = merge._components(mentions, overlap, slack, overlap_only=False)
    assert as_sets(fast) == as_sets(slow)
