"""Inputs (HTML, JSONL, stdin) and the price table."""

from __future__ import annotations

import io
import json
import sys

import pytest

from llm_extract import Article, ConfigError, InputError, iter_articles
from llm_extract.core.pricing import Price, PriceTable
from llm_extract.core.results import Usage

HTML = """<html><head><title>Iran seizes opium</title></head><body>
<nav>Home | World | Sport</nav>
<article><h1>Iran seizes opium</h1>
<p>Iranian police seized 1.2 tons of opium in Kerman Province on Tuesday, the provincial police chief said in a statement.</p>
<p>The drugs were hidden in a truck carrying fruit from the eastern border towards Tehran, he added.</p>
</article><footer>Copyright 2017 Example News. All rights reserved.</footer></body></html>"""


def test_html_main_text_is_extracted(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    (article,) = iter_articles([path])
    assert isinstance(article, Article)
    assert "Iranian police seized 1.2 tons of opium" in article.text
    assert "Home | World" not in article.text and "<p>" not in article.text


def test_html_without_text_is_reported(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><body><script>var x = 1;</script></body></html>", encoding="utf-8")
    (item,) = iter_articles([path])
    assert isinstance(item, InputError) and "empty.html" in str(item) and "no article text" in str(item)


def test_jsonl_articles_keep_their_ids_and_bad_lines_are_named(tmp_path):
    path = tmp_path / "feed.jsonl"
    lines = [
        {"id": "irna-1", "text": "Iran and Oman signed a memorandum.", "published": "2024-01-02", "url": "https://example.org/1", "title": "Iran, Oman"},
        "not json",
        {"text": "No id here."},
        {"id": "x", "text": ""},
        {"id": "y", "text": "Bad date.", "published": "yesterday"},
    ]
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n\n", encoding="utf-8")
    items = list(iter_articles([path]))
    first, bad_json, no_id, empty, bad_date = items
    assert (first.id, first.source, first.published.isoformat(), first.url, first.title) == (
        "irna-1", "irna-1", "2024-01-02", "https://example.org/1", "Iran, Oman")
    assert isinstance(bad_json, InputError) and f"{path}:2" in str(bad_json)
    assert no_id.id == no_id.sha256[:16] and no_id.source == f"{path}:3"
    assert isinstance(empty, InputError) and "'text'" in str(empty)
    assert isinstance(bad_date, InputError) and "ISO date" in str(bad_date)


def test_stdin_plain_text_and_jsonl(monkeypatch):
    class FakeStdin:
        def __init__(self, data: bytes) -> None:
            self.buffer = io.BytesIO(data)

    monkeypatch.setattr(sys, "stdin", FakeStdin(b"Iran and Iraq held talks on Sunday."))
    (article,) = iter_articles(["-"])
    assert article.source == "<stdin>" and article.text.startswith("Iran and Iraq")

    feed = b'{"id": "a", "text": "one"}\n{"id": "b", "text": "two"}\n'
    monkeypatch.setattr(sys, "stdin", FakeStdin(feed))
    assert [a.id for a in iter_articles(["-"])] == ["a", "b"]


def test_same_text_same_id():
    assert Article.from_text("x y z").id == Article.from_text("x y z").id != Article.from_text("x y").id


def test_prices_and_prefix_matching(tmp_path):
    table = PriceTable()
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cached_input_tokens=200_000)
    # 800k * 0.15 + 200k * 0.075 + 100k * 0.60 per million
    assert table.cost("gpt-4o-mini", usage) == pytest.approx(0.12 + 0.015 + 0.06)
    assert table.cost("gpt-4o-mini-2024-07-18", usage) == table.cost("gpt-4o-mini", usage)
    assert table.cost("gpt-4o-2024-08-06", usage) == pytest.approx(Price(input=2.5, cached_input=1.25, output=10).cost(usage))
    assert table.cost("llama3.1", usage) is None

    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"llama3.1": {"input": 0, "output": 0}}), encoding="utf-8")
    assert PriceTable.load(prices).cost("llama3.1", usage) == 0
    prices.write_text(json.dumps({"m": {"input": -1, "output": 0}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="prices.json"):
        PriceTable.load(prices)
