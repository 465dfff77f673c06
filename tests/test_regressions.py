"""Bugs found in review, each pinned by the smallest case that showed it."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from datetime import date

import httpx2
import pytest
from helpers import Script, completion, make_settings, seed

from llm_extract import Article, Extractor, RequestRejectedError, iter_articles, run_batch
from llm_extract.core.articles import read_article

EMPTY = {"title": None, "published": None, "agreements": [], "seizures": []}


def live(script: Script, **overrides) -> Extractor:
    settings = make_settings(mode="live", api_key="sk-test", retry_initial_wait_s=0, retry_max_wait_s=0, **overrides)
    return Extractor(settings=settings, transport=script.transport)


def test_a_failing_chunk_fails_the_article_with_its_own_error():
    text = ("Officials discussed cooperation against trafficking at length during the meeting. " * 120).strip()
    script = Script([completion(EMPTY), httpx2.Response(400, json={"error": {"message": "bad"}})])
    with pytest.raises(RequestRejectedError) as info:
        live(script, chunk_chars=6000, chunk_overlap=200).extract(text, source="long.txt")
    assert "chunk 2 of" in str(info.value) and info.value.status_code == 400


def test_an_unreadable_retry_after_falls_back_to_backoff():
    script = Script([httpx2.Response(429, headers={"retry-after": "soon"}, json={"error": {"message": "slow"}}), completion(EMPTY)])
    assert live(script).extract("Nothing happened today in Tehran, officials said.").run.retries == 1


def test_published_keeps_the_articles_url_and_title():
    article = Article(text="Nothing happened today.", url="https://example.org/a", title="T")
    result = live(Script([completion(EMPTY)])).extract(article, published=date(2025, 1, 12))
    assert (result.article.url, result.article.title, result.article.published) == ("https://example.org/a", "T", "2025-01-12")


def test_jsonl_on_stdin_keeps_unicode_line_separators_inside_strings(monkeypatch):
    lines = [json.dumps({"id": "a", "text": "one\u2028two"}, ensure_ascii=False), json.dumps({"id": "b", "text": "x\u0085y"}, ensure_ascii=False)]

    class Stdin:
        buffer = io.BytesIO("\n".join(lines).encode("utf-8"))

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert [(a.id, a.text) for a in iter_articles(["-"])] == [("a", "one\u2028two"), ("b", "x\u0085y")]


def test_record_mode_really_records_even_when_the_calls_log_has_the_answer(tmp_path, good_answer):
    text = read_article(seed("003")).text
    out = tmp_path / "out"
    asyncio.run(run_batch(live(Script([completion(good_answer)])), [Article(text=text, source="003.txt")], out))
    recorder = Extractor(
        settings=make_settings(mode="record", api_key="sk-test", replay_dir=tmp_path / "rec"),
        transport=Script([completion(good_answer)]).transport,
    )
    asyncio.run(run_batch(recorder, [Article(text=text, source="003.txt")], out, force=True))
    replayed = Extractor(mode="replay", replay_dir=tmp_path / "rec").extract(text)
    assert replayed.seizures[0].total_kg == 2400.0


def seizure(evidence, drug, quantity, place=None):
    return {"items": [{"drug": drug, "quantity": quantity, "unit": "kilograms"}], "place": place, "evidence": evidence}


TEXT = (
    "Police seized 500 kilograms of heroin in Kabul and 200 kilograms of opium in Herat on Monday. "
    "Iran signed a memorandum with Iraq and a memorandum with Pakistan on border security."
)


def test_an_ungrounded_record_borrows_no_span():
    text = "Border guards seized 500 kilograms of heroin near Zahedan, officials said."
    made_up = seizure("Police in Mashhad seized 500 kilograms of heroin on Friday night.", "heroin", 500)
    result = live(Script([completion({**EMPTY, "seizures": [made_up]})]), keep_ungrounded=True).extract(text)
    (record,) = result.seizures
    assert record.grounding == "ungrounded" and record.spans == []


def test_two_seizures_in_one_sentence_stay_two():
    sentence = TEXT.split(". ")[0] + "."
    answer = {**EMPTY, "seizures": [seizure(sentence, "heroin", 500, "Kabul"), seizure(sentence, "opium", 200, "Herat")]}
    result = live(Script([completion(answer)])).extract(TEXT)
    assert sorted(s.items[0].drug for s in result.seizures) == ["heroin", "opium"]


def test_two_agreements_in_one_sentence_stay_two():
    sentence = TEXT.split(". ")[1]
    mou = lambda other: {  # noqa: E731
        "parties": [{"name": "Iran", "kind": "state"}, {"name": other, "kind": "state"}],
        "instrument_type": "mou", "status": "signed", "evidence": sentence,
    }
    result = live(Script([completion({**EMPTY, "agreements": [mou("Iraq"), mou("Pakistan")]})])).extract(TEXT)
    assert sorted(tuple(a.countries) for a in result.agreements) == [("IRN", "IRQ"), ("IRN", "PAK")]
