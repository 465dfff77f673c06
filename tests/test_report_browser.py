"""The HTML report in a real browser: Playwright driving Debian's headless Chromium.

Playwright never downloads a browser here: it launches the system's Chromium by its path
(`/usr/bin/chromium`, the Debian package `chromium`; override with LLM_EXTRACT_CHROMIUM).
Without that browser, or without the `playwright` package, these tests skip, saying why
(unless LLM_EXTRACT_REQUIRE_BROWSER=1, as in CI: then they fail).
Every request the page makes is intercepted: only the report's own file:// URL may load,
anything else is aborted and fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# CI sets LLM_EXTRACT_REQUIRE_BROWSER=1: there a missing browser or package fails, never skips.
REQUIRE = os.environ.get("LLM_EXTRACT_REQUIRE_BROWSER") == "1"
if REQUIRE:
    from playwright import sync_api
else:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright; never `playwright install`)"
    )

from test_report import P_IMG, P_SCRIPT, build_report

from llm_extract.runs.store import EventStore

CHROMIUM = Path(os.environ.get("LLM_EXTRACT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/report_screenshot.png")

pytestmark = pytest.mark.skipif(
    not REQUIRE and not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; or set LLM_EXTRACT_CHROMIUM)",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_report(tmp_path_factory.mktemp("report_browser"))


@pytest.fixture(scope="module")
def browser(built: dict[str, Any]) -> Iterator[Any]:
    # depends on `built`: the report is made (asyncio.run) before Playwright's loop starts
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Watch:
    """What a page did that it must not: network requests, dialogs, errors."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def check(self) -> None:
        assert self.blocked == [], f"requests outside the file: {self.blocked}"
        assert all(url.startswith("file://") for url in self.requests), self.requests
        assert self.dialogs == [], f"a dialog opened (script ran): {self.dialogs}"
        assert self.errors == [], self.errors


def open_page(browser: Any, path: Path) -> tuple[Any, Any, Watch]:
    watch = Watch()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
    page = context.new_page()

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            watch.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: watch.requests.append(req.url))
    page.on("dialog", lambda d: (watch.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, watch


@pytest.fixture
def page(browser: Any, built: dict[str, Any]) -> Iterator[Any]:
    context, page, watch = open_page(browser, built["report"])
    yield page
    page.wait_for_timeout(50)  # let any late onerror / timer fire before checking
    watch.check()
    context.close()


def visible_rows(page: Any, table: str) -> list[Any]:
    return page.locator(f"#{table} tbody tr:not([hidden])").all()


def record_span_text(out: Path, key: str, record_id: str) -> str:
    """The text of a record's first span, from the store (not from the page)."""
    with EventStore(out / "extract.db", create=False) as store:
        result = json.loads(store.result_json(key) or "{}")
        text = store.article_text(key)
    assert text is not None
    record = next(r for r in result["agreements"] + result["seizures"] if r["id"] == record_id)
    span = record["spans"][0]
    return text[span["start"] : span["end"]]


# -- the tests ------------------------------------------------------------------------------------------------
def test_highlights_exist_and_hostile_text_never_runs(page: Any, built: dict[str, Any]) -> None:
    assert page.locator("mark.hl[data-r]").count() >= 17
    assert page.locator("details.article[open]").count() == 0  # collapsed by default
    page.click("#expand-all")
    assert page.locator("details.article[open]").count() == 6
    hostile = page.locator(f"#{built['hostile']}")
    for i in range(hostile.locator("mark.hl").count()):
        hostile.locator("mark.hl").nth(i).click()
    hostile.locator("button.recbtn").first.click()
    # nothing injected exists: no image, no frame, no handler attribute, only our scripts
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed, [onerror], [onload]').length") == 0
    assert page.evaluate("[...document.scripts].filter(s => s.type !== 'application/json').length") == 1
    assert page.evaluate("[...document.scripts].filter(s => s.src).length") == 0
    # the payloads are shown, as text
    text = hostile.locator(".article-text").inner_text()
    assert P_SCRIPT in text and P_IMG in text
    assert P_IMG in page.locator("#panel").inner_text()


def test_escaping_alone_holds_without_the_content_security_policy(
    browser: Any, built: dict[str, Any], tmp_path: Path
) -> None:
    html = built["html"]
    start = html.index('<meta http-equiv="Content-Security-Policy"')
    bare = tmp_path / "no-csp.html"
    bare.write_text(html[:start] + html[html.index(">", start) + 1 :], encoding="utf-8")
    context, page, watch = open_page(browser, bare)
    page.click("#expand-all")
    page.locator(f"#{built['hostile']} mark.hl").first.click()
    page.wait_for_timeout(50)
    assert page.evaluate("document.querySelectorAll('img, [onerror]').length") == 0
    watch.check()
    context.close()


def test_filters_hide_non_matching_rows(page: Any) -> None:
    total = page.locator("#agreements-table tbody tr").count()
    assert len(visible_rows(page, "agreements-table")) == total == 15
    page.fill('input[data-filter-for="agreements-table"]', "kyrgyzstan")
    rows = visible_rows(page, "agreements-table")
    assert len(rows) == 3
    assert all("kyrgyzstan" in r.inner_text().lower() for r in rows)
    assert page.locator('[data-count-for="agreements-table"]').inner_text() == f"3 of {total} shown"
    page.fill('input[data-filter-for="agreements-table"]', "")
    page.select_option('select[data-filter-for="agreements-table"]', "signed")
    rows = visible_rows(page, "agreements-table")
    assert 0 < len(rows) < total
    assert all(r.locator("td").nth(3).inner_text() == "signed" for r in rows)
    page.select_option('select[data-filter-for="seizures-table"]', "ats")
    (row,) = visible_rows(page, "seizures-table")
    assert "methamphetamine" in row.inner_text()


def test_clicking_a_header_sorts_the_table(page: Any) -> None:
    kg = page.locator("#seizures-table th", has_text="kg").first
    values = lambda: [
        float(v)
        for v in page.eval_on_selector_all(
            "#seizures-table tbody tr td:nth-child(4)", "tds => tds.map(t => t.dataset.v)"
        )
    ]
    kg.click()
    assert values() == [501.0, 2400.0] and kg.get_attribute("aria-sort") == "ascending"
    kg.click()
    assert values() == [2400.0, 501.0] and kg.get_attribute("aria-sort") == "descending"

    date = page.locator("#agreements-table th", has_text="date").first
    dates = lambda: page.eval_on_selector_all(
        "#agreements-table tbody tr td:nth-child(5)", "tds => tds.map(t => t.dataset.v)"
    )
    date.click()
    shown = dates()
    known = [d for d in shown if d]
    assert known == sorted(known) and len(known) >= 4
    assert shown[: len(known)] == known  # undated rows last
    date.click()
    known = [d for d in dates() if d]
    assert known == sorted(known, reverse=True)


def test_clicking_a_highlight_shows_the_record_with_its_evidence(page: Any, built: dict[str, Any]) -> None:
    seed = f"#{built['seed_003']}"  # one seizure with two spans
    page.click(f"{seed} > summary")
    mark = page.locator(f'{seed} mark.hl[data-r~="s1"]').first
    assert page.locator("#panel").is_hidden()
    mark.click()
    panel = page.locator("#panel")
    assert panel.is_visible()
    assert "seizure s1" in panel.locator("h3").first.inner_text()
    assert "methamphetamine" in panel.inner_text() and "exact" in panel.inner_text()
    evidence = panel.locator("blockquote.evidence").first.inner_text()
    assert evidence == record_span_text(built["out"], built["seed_003_key"], "s1")
    assert panel.locator("blockquote.evidence").count() >= 2  # both of its spans
    assert page.locator(f'{seed} mark.hl.active[data-r~="s1"]').count() >= 2
    page.screenshot(path=str(SCREENSHOT.parent / (SCREENSHOT.stem + "_article.png")))
    page.keyboard.press("Escape")
    assert panel.is_hidden()

    # a passage cited by two records shows both
    page.click(f"#{built['hostile']} > summary")
    page.locator(f"#{built['hostile']} mark.multi").first.click()
    assert panel.locator("section.rec").count() == 2
    assert P_IMG in panel.locator("section.rec").first.inner_text()

    # a row of the overview opens its article and its record
    page.keyboard.press("Escape")
    link = page.locator('#agreements-table a.reclink[data-rec="a1"]').first
    anchor = link.get_attribute("data-art")
    link.click()
    assert page.locator(f"#{anchor}").get_attribute("open") is not None
    assert "agreement a1" in panel.locator("h3").first.inner_text()


def test_clicking_a_value_highlights_its_words_in_the_article(page: Any, built: dict[str, Any]) -> None:
    seed = f"#{built['seed_003']}"
    page.keyboard.press("Escape")
    page.click(f"{seed} > summary")
    page.locator(f'{seed} mark.hl[data-r~="s1"]').first.click()
    panel = page.locator("#panel")
    buttons = panel.locator("button.val-btn")
    labels = [buttons.nth(i).inner_text() for i in range(buttons.count())]
    assert any(label.startswith("quantity[0]") for label in labels) and any(label.startswith("drug[0]") for label in labels)
    assert "confidence" in panel.inner_text()
    quantity = panel.locator("button.val-btn", has_text="quantity[0]")
    start, end = int(quantity.get_attribute("data-start")), int(quantity.get_attribute("data-end"))
    quantity.click()
    marked = page.locator(f"{seed} mark.val")
    assert marked.count() >= 1
    text = "".join(marked.nth(i).inner_text() for i in range(marked.count()))
    article_text = page.locator(f"{seed} .article-text").inner_text()
    assert text == "2,400 kilograms" and article_text[start:end] == text  # the value's own characters
    panel.locator("button.val-btn", has_text="drug[0]").click()
    assert page.locator(f"{seed} mark.val").first.inner_text() == "methamphetamine"  # one value at a time
    page.keyboard.press("Escape")


def test_the_map_is_drawn_offline_with_the_seizure_country_shaded(page: Any) -> None:
    svg = page.locator("#map svg")
    assert svg.count() == 1
    assert page.locator('#map path[data-iso3="IRN"]').count() == 1
    fills = page.evaluate(
        "() => Array.from(document.querySelectorAll('#map path[data-iso3]')).map(p => getComputedStyle(p).fill)"
    )
    iran = page.evaluate("() => getComputedStyle(document.querySelector('#map path[data-iso3=IRN]')).fill")
    assert fills.count(iran) < len(fills) / 2  # shaded apart from the countries with no seizure


def test_screenshot(page: Any, built: dict[str, Any], tmp_path: Path) -> None:
    page.click(f"#{built['seed_003']} > summary")
    page.locator(f'#{built["seed_003"]} mark.hl[data-r~="a1"]').first.click()  # its passages outlined
    page.keyboard.press("Escape")  # the panel is in test_clicking_a_highlight's screenshot
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT)
