"""Replay reads each recording once per article and hashes each request once, and still
sees recordings added or edited since (by a `--record` run, or by hand between runs)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import FAKE_KEY, REPLAY, Script, completion, make_settings, seed
from pydantic import BaseModel

from llm_extract import Extractor, ReplayMissError, run_batch
from llm_extract.core.articles import read_article
from llm_extract.model import replay, requests
from llm_extract.model.replay import ReplayStore
from llm_extract.model.requests import canonical_request, request_hash, sent_request_hash

ARTICLE = read_article(seed("003"))  # its recording holds a reask: two calls


def _recording_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "replay"
    directory.mkdir()
    shutil.copy(REPLAY / f"{ARTICLE.sha256[:16]}.json", directory)
    return directory


def _count(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls = [0]
    real = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_a_recording_is_read_once_for_an_article_and_its_reask(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = _count(monkeypatch, ReplayStore, "load")
    ex = Extractor(mode="replay", replay_dir=REPLAY)
    result = ex.extract(ARTICLE)
    assert (result.run.calls, result.run.reasks) == (2, 1)
    assert loads[0] == 1
    assert ex.store is not None and ex.store._read == {}  # forgotten once the article's calls are done
    ex.extract(ARTICLE)  # the next extraction reads the file again
    assert loads[0] == 2


def test_each_request_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    digests = _count(monkeypatch, requests, "_digest")
    result = Extractor(mode="replay", replay_dir=REPLAY).extract(ARTICLE)
    assert result.run.calls == 2 and digests[0] == 2  # by the client only: the transport reuses its hash


def test_a_recording_added_by_a_record_run_is_replayed_in_the_same_process(tmp_path: Path, good_answer) -> None:
    directory = tmp_path / "replay"
    directory.mkdir()
    player = Extractor(mode="replay", replay_dir=directory)
    with pytest.raises(ReplayMissError):
        player.extract(ARTICLE.text)
    recorder = Extractor(
        settings=make_settings(mode="record", api_key=FAKE_KEY, replay_dir=directory),
        transport=Script([completion(good_answer)]).transport,
    )
    recorded = recorder.extract(ARTICLE.text)
    replayed = player.extract(ARTICLE.text)  # the same replay store: the new file is read
    assert replayed.model_dump(exclude={"run"}) == recorded.model_dump(exclude={"run"})


def test_an_exchange_saved_while_the_article_is_registered_is_served(tmp_path: Path) -> None:
    store = ReplayStore(tmp_path)
    sha = ARTICLE.sha256
    store.register(sha256=sha, id="a", source="a.txt")
    first, second = {"model": "m", "messages": [1]}, {"model": "m", "messages": [1, 2]}
    store.save(sha, "chat/completions", first, 200, {"answer": 1})
    assert store.lookup(sha, "chat/completions", first) == {"status": 200, "body": {"answer": 1}}
    store.save(sha, "chat/completions", second, 200, {"answer": 2})  # after the file was read
    assert store.lookup(sha, "chat/completions", second)["body"] == {"answer": 2}
    store.forget(sha)
    assert store._read == {}


def test_an_edited_recording_is_seen_by_the_next_run(tmp_path: Path) -> None:
    directory = _recording_dir(tmp_path)
    extractor = Extractor(mode="replay", replay_dir=directory)

    def tokens(out: Path) -> int:
        asyncio.run(run_batch(extractor, [ARTICLE], out))
        (line,) = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
        return int(json.loads(line)["run"]["usage"]["input_tokens"])

    before = tokens(tmp_path / "one")
    path = directory / f"{ARTICLE.sha256[:16]}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for interaction in doc["interactions"]:
        interaction["response"]["body"]["usage"]["prompt_tokens"] += 1000
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert tokens(tmp_path / "two") == before + 2000  # the same extractor, a new run: the edit is read


def test_a_stale_recording_is_still_explained(tmp_path: Path) -> None:
    from llm_extract import StaleRecordingError

    with pytest.raises(StaleRecordingError) as info:
        Extractor(mode="replay", replay_dir=REPLAY, model="gpt-4o").extract(ARTICLE)
    assert any("model changed" in change for change in info.value.changes)


class _Part(BaseModel):
    name: str


def test_canonical_request_is_the_json_round_trip_of_the_arguments() -> None:
    kwargs = {
        "messages": [{"role": "user", "content": "Téhéran \u2028 \"quoted\" \\ \ud83d\ude00"}],
        "model": "gpt-4o-mini",
        "tools": [{"type": "function", "function": {"name": "F", "parameters": {"a": [1, 2.5, None, True]}}}],
        "temperature": 0.0,
        "part": _Part(name="x"),
        "extra_headers": {"x-llm-extract-article": "abc"},
    }
    expected = json.loads(json.dumps({k: v for k, v in kwargs.items() if k != "extra_headers"}, default=lambda o: o.model_dump()))
    body = canonical_request(kwargs)
    assert body == expected and list(body) == list(expected)
    assert json.dumps(body) == json.dumps(expected)  # the same types too (0.0 stays a float)


def test_the_transport_reuses_a_hash_only_for_the_very_bytes_hashed() -> None:
    body = canonical_request({"model": "m", "messages": [{"role": "user", "content": "é"}], "max_tokens": 5})
    wire = json.dumps({"messages": body["messages"], "model": "m", "max_tokens": 5}, ensure_ascii=False, separators=(",", ":"))
    assert sent_request_hash(wire.encode(), "chat/completions") is None  # not hashed yet
    key = request_hash("chat/completions", body)
    assert sent_request_hash(wire.encode(), "chat/completions") == key
    assert sent_request_hash(wire.encode(), "embeddings") is None  # another endpoint: hashed anew
    other = wire.replace('"max_tokens":5', '"max_tokens":6').encode()
    assert sent_request_hash(other, "chat/completions") is None  # other bytes: parsed and hashed
    assert request_hash("chat/completions", json.loads(wire)) == key


def test_replay_module_still_exports_request_hash() -> None:
    assert replay.request_hash is request_hash
