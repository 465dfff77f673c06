"""The HTML report (`llm_extract.report`), checked without a browser.

The page is parsed with the standard library's HTML parser: what it reads as text is what a
browser shows, so the tests can prove that every evidence span is highlighted with the exact
article substring, that the page references nothing outside itself, and that hostile text is
shown as text, never run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from helpers import ARTICLES, REPLAY

from llm_extract import ArticleExtraction, Extractor
from llm_extract.core.articles import iter_articles
from llm_extract.core.results import Failure
from llm_extract.errors import StoreError
from llm_extract.runs.runner import run_batch
from llm_extract.runs.store import EventStore
from llm_extract.tasks.security_events.views.report import REPORT_FILE, json_for_script, segments, write_report

AT = "2025-01-01T00:00:00+00:00"
P_SCRIPT = "<script>alert(1)</script>"
P_IMG = "<img src=x onerror=alert(1)>"
PAYLOADS = (P_SCRIPT, P_IMG)


# -- building output directories ------------------------------------------------------------------------
def extract_seeds(out: Path, articles: Path = ARTICLES) -> None:
    """`llm-extract run` on the seeds, in replay (about a second)."""
    extractor = Extractor(mode="replay", replay_dir=REPLAY)
    summary = asyncio.run(run_batch(extractor, iter_articles([articles]), out))
    assert summary.extracted == 5 and not summary.failed


def hostile_text() -> str:
    return (
        f"TEHRAN, 2024-03-05 {P_SCRIPT}\n\n"
        f"Iran and Russia signed a memorandum {P_IMG} on narcotics in Tehran.\n"
        f"Police seized 500 kilograms of heroin {P_SCRIPT} near Zahedan & Mashhad.\n"
    )


def hostile_result(text: str, source: str, *, article_id: str = "xss-article") -> ArticleExtraction:
    """An article whose text, and every free-text field the model fills, carries the payloads.

    Its agreement and its seizure have overlapping spans; the seizure has a second span.
    """
    a_start = text.index("Iran and")
    a_end = text.index("in Tehran.") + len("in Tehran.")
    s_start = text.index("a memorandum")
    s_end = text.index("Mashhad.") + len("Mashhad.")
    h_start = text.index(P_SCRIPT)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ArticleExtraction.model_validate(
        {
            "article": {"id": article_id, "source": source, "sha256": sha, "chars": len(text),
                        "url": "javascript:alert(1)", "title": P_IMG},
            "run": {"model": "gpt-4o-mini", "mode": "replay", "task": "security_events", "prompt_version": P_IMG,
                    "calls": 1, "reasks": 0, "retries": 0, "usage": {"input_tokens": 10, "output_tokens": 5},
                    "latency_s": 0.1, "cost_usd": 0.0},
            "title": P_SCRIPT,
            "published_as_written": P_IMG,
            "published_iso": "2024-03-05",
            "published_source": "dateline",
            "agreements": [
                {"id": "a1", "parties": [{"name": P_SCRIPT, "kind": "state", "iso3": "IRN"},
                                         {"name": P_IMG, "kind": "state", "iso3": "RUS"}],
                 "instrument_type": "mou", "status": "signed", "date": P_IMG, "domains": ["narcotics"],
                 "officials": [{"name": P_SCRIPT, "title": P_IMG, "organisation": P_SCRIPT}], "place": P_IMG,
                 "evidence": P_IMG, "spans": [{"start": a_start, "end": a_end, "status": "exact", "score": 1.0}],
                 "grounding": "exact", "date_iso": "2024-03", "date_precision": "month",
                 "flags": [f"drug_not_in_evidence:{P_SCRIPT}"], "countries": ["IRN", "RUS"]},
            ],
            "seizures": [
                {"id": "s1",
                 "items": [{"drug": P_IMG, "quantity": 500, "unit": P_SCRIPT, "drug_name": "heroin",
                            "drug_group": "opioids", "unit_kind": "mass", "kg": 500.0},
                           {"drug": P_SCRIPT, "quantity": 1, "unit": "kg", "drug_name": P_IMG,
                            "drug_group": P_SCRIPT, "unit_kind": "mass", "kg": 1.0}],
                 "place": P_SCRIPT, "date": P_IMG, "seizing_agency": P_IMG, "origin": P_SCRIPT, "destination": P_IMG,
                 "evidence": P_SCRIPT,
                 "spans": [{"start": s_start, "end": s_end, "status": "fuzzy", "score": 0.9},
                           {"start": h_start, "end": h_start + len(P_SCRIPT), "status": "exact", "score": 1.0}],
                 "grounding": "fuzzy", "date_iso": "2024-03-04", "date_precision": "day",
                 "flags": [f"quantity_not_in_evidence:{P_IMG}"], "country": "IRN", "total_kg": 501.0},
            ],
            "rejected": [
                {"kind": "seizure", "reason": f"evidence not found in the article: {P_IMG}",
                 "record": {"evidence": P_SCRIPT, "place": P_IMG}},
            ],
        }
    )  # fmt: skip


def add_hostile(out: Path, articles_dir: Path) -> tuple[Path, str]:
    """Add the hostile article (its file named with a payload) and a hostile failure to `out`."""
    text = hostile_text()
    path = articles_dir / f"x{P_IMG}.txt"
    path.write_text(text, encoding="utf-8")
    with EventStore(out / "extract.db") as store:
        store.add_result(hostile_result(text, str(path)), extracted_at=AT)
        store.add_failure(
            Failure(source=f"broken{P_IMG}.txt", kind="validation", message=f"invalid: {P_SCRIPT}", attempts=3,
                    last_output=P_SCRIPT + P_IMG),
            at=AT,
        )  # fmt: skip
    return path, text


def build_report(root: Path) -> dict[str, Any]:
    """Seeds plus the hostile article and a failure, and their report: what the tests need."""
    out, articles = root / "out", root / "articles"
    articles.mkdir(parents=True)
    extract_seeds(out)
    hostile_path, text = add_hostile(out, articles)
    report = write_report(out)
    html = report.read_text(encoding="utf-8")
    anchors = Page(html).anchors  # article sha256 -> its section's id
    seed_003 = hashlib.sha256((ARTICLES / "003_fac0c62c7962788c.txt").read_bytes()).hexdigest()
    hostile = hashlib.sha256(text.encode()).hexdigest()
    return {"out": out, "report": report, "html": html, "hostile_text": text, "hostile_path": hostile_path,
            "hostile": anchors[hostile], "seed_003": anchors[seed_003], "seed_003_key": seed_003}  # fmt: skip


# -- reading the page -----------------------------------------------------------------------------------
class Page(HTMLParser):
    """What a browser would see: every tag's attributes, script blocks, and per article its
    text and highlights (offset, record ids, text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.texts: dict[str, str] = {}
        self.marks: dict[str, list[tuple[int, tuple[str, ...], str]]] = {}
        self.recdata: dict[str, dict[str, Any]] = {}
        self.anchors: dict[str, str] = {}  # article sha256 -> id of its <details>
        self._article: str | None = None
        self._details: list[bool] = []  # open <details>: True for an article's
        self._in_text = False
        self._mark: list[Any] | None = None
        self._script: tuple[dict[str, str | None], list[str]] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        classes = (a.get("class") or "").split()
        if tag == "details":
            self._details.append("article" in classes)
        if tag == "details" and "article" in classes:
            self._article = a["id"]
            self.anchors[a["data-key"]] = a["id"]
            self.texts[self._article] = ""
            self.marks[self._article] = []
        elif tag == "div" and "article-text" in classes:
            self._in_text = True
        elif tag == "mark" and self._in_text:
            self._mark = [int(a["data-o"]), tuple((a.get("data-r") or "").split()), ""]
        elif tag == "script":
            self._script = (a, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._in_text:
            self._in_text = False
        elif tag == "mark" and self._mark is not None:
            self.marks[self._article].append(tuple(self._mark))  # type: ignore[index, arg-type]
            self._mark = None
        elif tag == "script" and self._script is not None:
            attrs, parts = self._script
            content = "".join(parts)
            self.scripts.append((attrs, content))
            if "recdata" in (attrs.get("class") or "") and self._article is not None:
                self.recdata[self._article] = json.loads(content)
            self._script = None
        elif tag == "details" and self._details and self._details.pop():
            self._article = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[1].append(data)
            return
        if self._in_text and self._article is not None:
            self.texts[self._article] += data
            if self._mark is not None:
                self._mark[2] += data


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_report(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def page(built: dict[str, Any]) -> Page:
    return Page(built["html"])


def stored_results(out: Path) -> list[dict[str, Any]]:
    with EventStore(out / "extract.db", create=False) as store:
        return [json.loads(r) for r in store.iter_results()]


def text_of(result: dict[str, Any], hostile: dict[str, Any]) -> str:
    source = result["article"]["source"]
    if source == str(hostile["hostile_path"]):
        return hostile["hostile_text"]
    return Path(source).read_text(encoding="utf-8")


# -- the seeds' report ------------------------------------------------------------------------------------
def test_report_is_written_with_overview_tables_and_charts(built: dict[str, Any], page: Page) -> None:
    assert built["report"] == built["out"] / REPORT_FILE
    html = built["html"]
    assert html.startswith("<!DOCTYPE html>")
    rows = lambda table_id: len(re.findall(r"<tr>", html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0])) - 1
    assert rows("agreements-table") == 15  # 14 from the seeds, 1 from the hostile article
    assert rows("seizures-table") == 2
    assert len(page.texts) == 6  # one collapsed <details> per article
    assert not any(a.get("open") is not None for tag, a in page.tags if tag == "details")
    assert "<code>IRN</code>" in html and "<code>KGZ</code>" in html  # ISO3 codes, no emoji flags (no font needed)
    assert "🇮🇷" not in html and "(s)" not in html
    assert 'data-filter-for="agreements-table"' in html and 'data-filter-for="seizures-table"' in html
    assert '<option value="signed">signed</option>' in html and '<option value="ats">ats</option>' in html
    assert 'aria-label="Events by date"' in html and 'aria-label="Kilograms seized by drug group"' in html
    assert "2,400 kg" in html  # the methamphetamine seizure, in the drug-group chart
    # the number of sources is the mentions of the record's canonical event
    assert re.search(r'<td data-v="1" title="agr-[0-9a-f]+: 1 article">1</td>', html)


def test_page_is_self_contained(page: Page, built: dict[str, Any]) -> None:
    html = built["html"]
    for tag, attrs in page.tags:
        for name in ("src", "srcset", "action", "formaction", "poster", "data", "xlink:href", "background"):
            assert name not in attrs, (tag, attrs)
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("#"), (tag, attrs)
        assert not (tag == "link" and "stylesheet" in (attrs.get("rel") or "")), attrs
        assert not (tag == "script" and "src" in attrs), attrs
        assert tag not in ("iframe", "object", "embed", "img", "link", "base"), tag
        for name, value in attrs.items():
            if name == "xmlns":  # the SVG namespace's name: an identifier, never fetched
                assert value == "http://www.w3.org/2000/svg", (tag, value)
                continue
            assert not re.search(r"https?:|//", value or "") or name in ("title", "content"), (tag, name, value)
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "@import" not in style and "http" not in style
    (code,) = [content for attrs, content in page.scripts if not attrs]
    for needle in ("http", "fetch(", "XMLHttpRequest", "import(", "innerHTML", "eval(", "document.write"):
        assert needle not in code, needle
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]


def test_assets_cannot_end_their_own_block() -> None:
    from importlib import resources

    for name in ("report.css", "report.js"):
        text = resources.files("llm_extract.tasks.security_events.views").joinpath("report_assets", name).read_text(encoding="utf-8")
        assert "</" not in text and "<!--" not in text, name


def test_every_span_is_highlighted_with_the_exact_article_substring(built: dict[str, Any], page: Page) -> None:
    results = stored_results(built["out"])
    checked = 0
    assert len(results) == len(page.anchors) == 6
    for result in results:
        anchor = page.anchors[result["article"]["sha256"]]
        text = text_of(result, built)
        assert page.texts[anchor] == text  # the whole text, nothing lost or added around highlights
        marks = page.marks[anchor]
        for mark_offset, _, mark_text in marks:
            assert text[mark_offset : mark_offset + len(mark_text)] == mark_text
        for record in (result.get("agreements") or []) + (result.get("seizures") or []):
            assert record["spans"], record["id"]
            for span in record["spans"]:
                start, end = span["start"], span["end"]
                mine = sorted((o, t) for o, rids, t in marks if record["id"] in rids and start <= o < end)
                assert mine and mine[0][0] == start, (anchor, record["id"], span)
                position = start
                for offset, piece in mine:  # contiguous segments, covering exactly the span
                    assert offset == position
                    position += len(piece)
                assert position == end
                assert "".join(piece for _, piece in mine) == text[start:end]
                panel = page.recdata[anchor][record["id"]]
                assert {"start": start, "end": end, "text": text[start:end]}.items() <= next(
                    s for s in panel["spans"] if (s["start"], s["end"]) == (start, end)
                ).items()
                checked += 1
    assert checked >= 17  # 14 agreements and 2 spans of one seizure in the seeds, and the hostile article's


def test_overlapping_spans_become_segments_of_several_records(built: dict[str, Any], page: Page) -> None:
    anchor = built["hostile"]
    shared = [(o, t) for o, rids, t in page.marks[anchor] if set(rids) == {"a1", "s1"}]
    assert shared == [(built["hostile_text"].index("a memorandum"), f"a memorandum {P_IMG} on narcotics in Tehran.")]
    assert 'class="hl k-a k-s multi"' in built["html"]


def test_segments_cut_at_every_boundary() -> None:
    text = "0123456789"
    segs = segments(
        text,
        [
            (2, 6, "agreement", "a1"),
            (4, 8, "seizure", "s1"),
            (4, 6, "seizure", "s2"),
            (9, 99, "seizure", "s3"),
            (5, 5, "seizure", "s4"),
        ],
    )
    assert "".join(s.text for s in segs) == text
    assert [(s.offset, s.text, s.records) for s in segs] == [
        (0, "01", ()), (2, "23", ("a1",)), (4, "45", ("a1", "s1", "s2")), (6, "67", ("s1",)), (8, "8", ()), (9, "9", ("s3",)),
    ]  # fmt: skip
    assert segs[2].kinds == ("agreement", "seizure")


# -- escaping ------------------------------------------------------------------------------------------------
def test_json_for_script_cannot_close_the_block() -> None:
    value = {"a": "</script><script>alert(1)</script><!-- & \u2028"}
    text = str(json_for_script(value))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value


def test_hostile_text_and_fields_are_escaped_everywhere(built: dict[str, Any], page: Page) -> None:
    html = built["html"]
    for payload in PAYLOADS:
        assert payload not in html  # never raw, anywhere
        assert payload.replace("<", "&lt;").replace(">", "&gt;") in html  # shown as text
    assert "<img" not in html
    # exactly our scripts: the page's code and one JSON block per article, no other
    assert html.count("<script") == html.count("</script>") == 1 + len(page.texts)
    assert [a for a, _ in page.scripts if a] == [{"type": "application/json", "class": "recdata"}] * len(page.texts)
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    # the panel's JSON reads back as the very same hostile values
    records = page.recdata[built["hostile"]]
    assert records["a1"]["evidence"] == P_IMG and records["s1"]["evidence"] == P_SCRIPT
    assert records["s1"]["spans"][1]["text"] == P_SCRIPT
    assert ["parties", f"{P_SCRIPT} (state, IRN); {P_IMG} (state, RUS)"] in records["a1"]["fields"]
    # what the browser shows as the article text is the hostile text itself, as text
    assert page.texts[built["hostile"]] == built["hostile_text"]
    # the article's url is shown as text, never a link
    assert "javascript:" not in "".join(a.get("href") or "" for _, a in page.tags)
    assert "<code>javascript:alert(1)</code>" in html


def test_rejected_records_and_failures_are_listed_with_their_reasons(built: dict[str, Any]) -> None:
    html = built["html"]
    rejected = html.split('id="rejected-table"', 1)[1].split("</table>", 1)[0]
    assert "evidence not found in the article: &lt;img src=x onerror=alert(1)&gt;" in rejected
    failures = html.split('id="failures-table"', 1)[1].split("</table>", 1)[0]
    assert "broken&lt;img src=x onerror=alert(1)&gt;.txt" in failures and "validation" in failures
    assert "invalid: &lt;script&gt;alert(1)&lt;/script&gt;" in failures
    article = html.split(f'id="{built["hostile"]}"', 1)[1].split('class="recdata"', 1)[0]
    assert '<ul class="rejected">' in article and "1 rejected" in article and "2 flagged" in article
    assert "drug_not_in_evidence:&lt;script&gt;" in article  # a flagged record, with its flag
    assert re.search(r'<div class="tile warn"><b>1</b><span>rejected records', html)
    assert re.search(r'<div class="tile bad"><b>1</b><span>failures', html)
    # the hostile article's two, and seed 004's "implemented" that its evidence calls talks
    assert re.search(r'<div class="tile warn"><b>3</b><span>flagged records', html)


# -- finding the article text -----------------------------------------------------------------------------------
def test_text_from_the_store_else_the_files_else_the_articles_root_never_a_changed_file(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(ARTICLES, articles)
    out = tmp_path / "out"
    extract_seeds(out, articles)
    moved = tmp_path / "moved"
    articles.rename(moved)
    (moved / "000_d5b9aee49fff1a62.txt").write_text("edited afterwards\n", encoding="utf-8")
    page = Page(write_report(out).read_text(encoding="utf-8"))
    assert all(page.texts.values()) and len(page.texts) == 5  # the store keeps the texts it extracted

    with EventStore(out / "extract.db") as store:  # as a store written before migration 4 (no texts)
        store.connection.execute("DELETE FROM article_texts")

    html = write_report(out).read_text(encoding="utf-8")
    assert html.count("Article text not available") == 5
    assert "was not found; pass the articles" in html

    page = Page(write_report(out, tmp_path / "r.html", articles_root=moved).read_text(encoding="utf-8"))
    assert sum(1 for t in page.texts.values() if t) == 4  # the edited file is not used: its sha256 differs
    assert "has changed since it was extracted" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_text_of_jsonl_articles_found_by_scanning_the_root(tmp_path: Path) -> None:
    text = hostile_text()
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        json.dumps({"id": "x1", "text": "another article"}) + "\n" + json.dumps({"id": "x2", "text": text}) + "\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    with EventStore(out / "extract.db") as store:
        store.add_result(hostile_result(text, "x2", article_id="x2"), extracted_at=AT)  # source = its id
        store.add_result(hostile_result(text.replace("TEHRAN", "KABUL"), f"{jsonl}:1", article_id="k"), extracted_at=AT)
    page = Page(write_report(out, articles_root=jsonl).read_text(encoding="utf-8"))
    assert page.texts[page.anchors[hashlib.sha256(text.encode()).hexdigest()]] == text
    kabul = hashlib.sha256(text.replace("TEHRAN", "KABUL").encode()).hexdigest()
    assert page.texts[page.anchors[kabul]] == ""  # line 1 holds another text: not used


def test_no_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        write_report(tmp_path)
    assert not (tmp_path / REPORT_FILE).exists() and not (tmp_path / "extract.db").exists()


def test_report_of_an_empty_store(tmp_path: Path) -> None:
    EventStore(tmp_path / "extract.db").close()
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert "No dated events" in html and "No seizure with a mass" in html
    assert not list(tmp_path.glob("*.tmp"))
