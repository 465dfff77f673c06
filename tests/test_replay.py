"""Record and replay: misses and stale recordings fail loudly; recordings hold no secret."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from helpers import FAKE_KEY, REPLAY, Script, completion, make_settings, seed

from llm_extract import Extractor, ReplayMissError, StaleRecordingError
from llm_extract.core.articles import read_article
from llm_extract.tasks.security_events import security_events_task

TEXT = read_article(seed("003")).text


def test_replay_miss_names_the_article_and_the_record_command(tmp_path):
    ex = Extractor(mode="replay", replay_dir=tmp_path)
    with pytest.raises(ReplayMissError) as info:
        ex.extract("Iran and Oman signed a memorandum on border security.", source="new/oman.txt")
    message = str(info.value)
    assert "new/oman.txt" in message
    assert "llm-extract run new/oman.txt --record" in message and str(tmp_path) in message


def test_replay_never_calls_a_transport(tmp_path):
    # replay mode ignores any transport: a request that reached it would fail the test
    script = Script([])
    ex = Extractor(settings=make_settings(mode="replay", replay_dir=REPLAY), transport=script.transport)
    assert ex.extract(TEXT).seizures
    assert script.requests == []


def test_changed_model_is_reported_stale(tmp_path):
    ex = Extractor(mode="replay", replay_dir=REPLAY, model="gpt-4o")
    with pytest.raises(StaleRecordingError) as info:
        ex.extract(TEXT, source="003.txt")
    assert any("model changed (gpt-4o-mini → gpt-4o)" in c for c in info.value.changes)
    assert "003.txt" in str(info.value) and "--record" in str(info.value)


def test_changed_prompt_is_reported_stale(tmp_path):
    prompts = tmp_path / "prompts"
    shutil.copytree(security_events_task().prompt_dir, prompts)
    system = prompts / "system.j2"
    system.write_text(system.read_text(encoding="utf-8") + "\nBe brief.\n", encoding="utf-8")
    base = security_events_task()
    task = dataclasses.replace(base, prompt_dir=prompts)
    ex = Extractor(mode="replay", replay_dir=REPLAY, task=task)
    assert ex.prompts.version != Extractor(mode="replay", replay_dir=REPLAY).prompts.version
    with pytest.raises(StaleRecordingError) as info:
        ex.extract(TEXT)
    assert "system prompt #0 changed" in info.value.changes


def test_changed_published_date_is_reported_stale():
    from datetime import date

    ex = Extractor(mode="replay", replay_dir=REPLAY)
    with pytest.raises(StaleRecordingError) as info:
        ex.extract(TEXT, published=date(2025, 1, 12))
    assert any("user message" in c for c in info.value.changes)


def test_record_then_replay_round_trip_with_a_reask(tmp_path, good_answer):
    bad = json.loads(json.dumps(good_answer))
    bad["seizures"][0]["items"] = []  # a seizure with no drug item
    script = Script([completion(bad), completion(good_answer)])
    recorder = Extractor(
        settings=make_settings(mode="record", api_key=FAKE_KEY, replay_dir=tmp_path), transport=script.transport
    )
    recorded = recorder.extract(TEXT, source="003.txt")
    assert recorded.run.reasks == 1

    replayed = Extractor(mode="replay", replay_dir=tmp_path).extract(TEXT, source="003.txt")
    assert replayed.model_dump(exclude={"run"}) == recorded.model_dump(exclude={"run"})
    assert (replayed.run.calls, replayed.run.reasks) == (2, 1)
    assert replayed.run.usage == recorded.run.usage


def test_recordings_never_hold_the_key_or_an_authorization_header(tmp_path, good_answer):
    answer = json.loads(json.dumps(good_answer))
    answer["title"] = f"echoed {FAKE_KEY}"  # even a key echoed back in a body is redacted
    script = Script([completion(answer)])
    ex = Extractor(settings=make_settings(mode="record", api_key=FAKE_KEY, replay_dir=tmp_path), transport=script.transport)
    ex.extract(TEXT)
    assert script.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"  # it was really sent
    assert "x-llm-extract-article" not in script.requests[0].headers  # our routing header was not
    files = list(tmp_path.rglob("*"))
    assert files
    for path in files:
        if path.is_file():
            content = path.read_text(encoding="utf-8")
            assert FAKE_KEY not in content
            assert '"authorization"' not in content.lower() and "bearer" not in content.lower()


def test_committed_fixtures_hold_no_key_or_header():
    for path in Path(REPLAY).glob("*.json"):
        content = path.read_text(encoding="utf-8").lower()
        assert '"authorization"' not in content and "bearer " not in content and "sk-" not in content
        assert "headers" not in json.loads(content)["interactions"][0]["request"]


def test_fixtures_are_in_the_openai_wire_format():
    import openai.types.chat as chat

    for path in Path(REPLAY).glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for interaction in doc["interactions"]:
            body = interaction["response"]["body"]
            parsed = chat.ChatCompletion.model_validate(body)
            assert parsed.object == "chat.completion" and parsed.usage and parsed.usage.prompt_tokens > 0
            assert parsed.choices[0].message.tool_calls
            assert interaction["request"]["body"]["tools"][0]["function"]["name"] == "ArticleMentions"
