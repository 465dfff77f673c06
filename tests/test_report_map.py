"""The report's world map: decoding, projection, shading, escaping, and the SVG in Chromium.

The browser test drives Debian's Chromium through Playwright like test_report_browser.py (and
skips like it: no `/usr/bin/chromium` or no `playwright`, unless LLM_EXTRACT_REQUIRE_BROWSER=1).
It writes its screenshot to /tmp/report_map_screenshot.png.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_extract.tasks.security_events.views import report_map as rm
from llm_extract.tasks.security_events.views.report_map import (
    MapPoint,
    drawn_countries,
    kg_classes,
    map_height,
    project,
    world_map_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
ASSETS = resources.files("llm_extract.tasks.security_events.views").joinpath("report_assets")
TEHRAN = MapPoint(35.69, 51.39, "Tehran: 120 kg of opium", 120.0, "art-1", "S1")
BAGHDAD = MapPoint(33.31, 44.36, "Baghdad: captagon", None, "art-2", "S2")
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, so well-formed inline SVG
    assert root.tag == SVG + "svg"
    return root


def countries(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(SVG + "path") if p.get("class") == "country"]


def dots(root: ET.Element) -> list[ET.Element]:
    (group,) = [g for g in root.iter(SVG + "g") if g.get("class") == "map-points"] or [ET.Element("g")]
    return list(group)


def title(el: ET.Element) -> str:
    t = el.find(SVG + "title")
    assert t is not None and t.text is not None
    return t.text


# -- the data ------------------------------------------------------------------------------------------------
def test_the_vendored_topojson_is_world_atlas_110m_with_its_licence() -> None:
    data = ASSETS.joinpath(rm.WORLD_ASSET).read_bytes()
    assert 90_000 < len(data) < 130_000
    topology = json.loads(data)
    assert topology["type"] == "Topology" and set(topology["objects"]) == {"countries", "land"}
    licence = ASSETS.joinpath("world-LICENSE.txt").read_text(encoding="utf-8")
    assert "world-atlas" in licence and "2.0.2" in licence and "ISC" in licence and "public domain" in licence
    assert hashlib.sha256(data).hexdigest() in licence
    no_id = {g["properties"]["name"] for g in topology["objects"]["countries"]["geometries"] if "id" not in g}
    assert no_id == set(rm._NO_ID)  # a refresh that adds one must place it


def test_arcs_decode_to_closed_rings_within_the_bounding_box() -> None:
    topology = json.loads(ASSETS.joinpath(rm.WORLD_ASSET).read_text(encoding="utf-8"))
    arcs = rm._arcs(topology)
    lons = [x for arc in arcs for x, _ in arc]
    lats = [y for arc in arcs for _, y in arc]
    west, south, east, north = topology["bbox"]
    assert min(lons) == pytest.approx(west) and max(lons) == pytest.approx(east)
    assert min(lats) == pytest.approx(south) and max(lats) == pytest.approx(north)
    n = 0
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        for polygon in polygons:
            for ring in polygon:
                points = rm._ring(ring, arcs)
                assert len(points) >= 4 and points[0] == pytest.approx(points[-1])
                n += 1
    assert n > 250
    for country in rm._countries():  # and after cutting at the antimeridian: closed, inside the map
        for ring in country.rings:
            assert len(ring) >= 4 and ring[0] == ring[-1]
            assert all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in ring)
            for (a, b), (c, d) in pairwise(ring):  # no edge across the whole map, but along a pole
                assert abs(a - c) <= 180 or (b == d and abs(b) == 90), (country.iso3, (a, b), (c, d))


def test_a_country_decodes_where_it_is() -> None:
    by_code = {c.iso3: c for c in rm._countries()}
    lon = [x for ring in by_code["IRN"].rings for x, _ in ring]
    lat = [y for ring in by_code["IRN"].rings for _, y in ring]
    assert 43 < min(lon) < 45 and 62 < max(lon) < 64 and 24 < min(lat) < 27 and 39 < max(lat) < 40.5
    fiji = [x for ring in by_code["FJI"].rings for x, _ in ring]
    assert min(fiji) == -180 and max(fiji) == 180  # both sides of the antimeridian, cut there


def test_ids_map_to_iso3_and_the_features_without_one_are_placed() -> None:
    codes = drawn_countries()
    assert len(codes) == 175 == len(rm._countries())  # 177 features; N. Cyprus, Somaliland join CYP, SOM
    assert {"IRN", "IRQ", "AFG", "PAK", "TUR", "MMR", "THA", "COL", "MEX", "USA", "NLD", "XKX", "CYP", "SOM"} <= codes
    assert all(code == "XKX" or pycountry.countries.get(alpha_3=code) is not None for code in codes)
    names = {c.iso3: c.name for c in rm._countries()}
    assert names["CYP"] == "Cyprus" and names["SOM"] == "Somalia" and names["XKX"] == "Kosovo"
    assert "SGP" not in codes and "MLT" not in codes  # too small at 1:110m


# -- the projection ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [960, 600, 1400])
def test_projection_known_places(width: int) -> None:
    x, y = project(0, 0, width=width)
    assert x == pytest.approx(width / 2) and y == pytest.approx(map_height(width) / 2, abs=0.06)
    tehran, baghdad = project(TEHRAN.lon, TEHRAN.lat, width=width), project(BAGHDAD.lon, BAGHDAD.lat, width=width)
    assert tehran[0] > baghdad[0] > x and tehran[1] < baghdad[1] < y  # east, and north of the equator
    assert project(180, 0, width=width)[0] == pytest.approx(width - rm._PAD)
    assert project(-180, 0, width=width)[0] == pytest.approx(rm._PAD)
    assert project(0, 90, width=width)[1] == pytest.approx(rm._PAD)
    assert project(-77.04, -12.05, width=width)[0] < x < project(151.2, -33.9, width=width)[0]  # Lima, Sydney


def test_a_dot_is_drawn_at_its_projected_place() -> None:
    root = parse(world_map_svg([TEHRAN], {}))
    (g,) = dots(root)
    circle = g.find(SVG + "circle")
    assert circle is not None
    x, y = project(TEHRAN.lon, TEHRAN.lat)
    assert float(circle.get("cx", "")) == pytest.approx(x, abs=0.06)
    assert float(circle.get("cy", "")) == pytest.approx(y, abs=0.06)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lon1=st.floats(-180, 180),
    lon2=st.floats(-180, 180),
    lat2=st.floats(-90, 90),
    width=st.integers(200, 2400),
)
def test_projection_is_monotonic_and_inside_the_view_box(
    lat: float, lon1: float, lon2: float, lat2: float, width: int
) -> None:
    (x1, y1), (x2, y2) = project(lon1, lat, width=width), project(lon2, lat, width=width)
    assert y1 == y2  # parallels are straight
    if lon1 < lon2:
        assert x1 <= x2
    if lon2 - lon1 > 1e-6:
        assert x1 < x2
    ya, yb = project(lon1, min(lat, lat2), width=width)[1], project(lon1, max(lat, lat2), width=width)[1]
    assert ya >= yb  # north is up
    if max(lat, lat2) - min(lat, lat2) > 1e-6:
        assert ya > yb
    for x, y in ((x1, y1), (x2, y2)):
        assert 0 <= x <= width and 0 <= y <= map_height(width)


# -- shading -------------------------------------------------------------------------------------------------
def test_kg_classes_are_whole_decades() -> None:
    assert kg_classes([]) == [] and kg_classes([0, -3, math.nan, math.inf]) == []
    assert kg_classes([5]) == [(1, 10)]
    assert kg_classes([1, 10]) == [(1, 10), (10, 100)]
    assert kg_classes([2.5, 300, 999]) == [(1, 10), (10, 100), (100, 1000)]
    assert kg_classes([0.5, 12_000]) == [(0.1, 10), (10, 1000), (1000, 100_000)]  # six decades: two each
    assert kg_classes([0.5, 12_000], max_classes=10) == [(10.0**e, 10.0 ** (e + 1)) for e in range(-1, 5)]


@given(st.lists(st.floats(1e-6, 1e9), min_size=1, max_size=50), st.integers(1, 8))
def test_kg_classes_cover_every_value(values: list[float], k: int) -> None:
    classes = kg_classes(values, max_classes=k)
    assert 1 <= len(classes) <= k
    assert all(a < b for a, b in classes) and all(classes[i][1] == classes[i + 1][0] for i in range(len(classes) - 1))
    assert classes[0][0] <= min(values) and max(values) < classes[-1][1]
    assert classes[0][0] <= min(values) < classes[0][0] * 10  # it starts at the smallest value's decade


def test_countries_are_shaded_by_kg_with_a_legend() -> None:
    kg = {"IRN": 1200.0, "IRQ": 3.0, "AFG": 0.0, "PAK": 45.5, "SGP": 5.0}
    root = parse(world_map_svg([TEHRAN], kg))
    paths = {p.get("data-iso3"): p for p in countries(root)}
    fills = {code: paths[code].get("fill") for code in kg if code in paths}
    ramp = set(rm._RAMP)
    assert fills["IRN"] in ramp and fills["IRQ"] in ramp and fills["PAK"] in ramp
    assert len({fills["IRN"], fills["IRQ"], fills["PAK"]}) == 3  # three decades apart, three shades
    assert fills["AFG"] == rm._NO_MASS
    assert paths["TUR"].get("fill") is None  # no seizure: the group's neutral colour
    assert title(paths["IRN"]) == "Iran: 1,200 kg" and title(paths["TUR"]) == "Turkey: no seizure"
    assert paths["IRN"].get("data-kg") == "1200.0"
    legend = " | ".join(t.text or "" for t in root.iter(SVG + "text"))
    for label in ("no seizure", "seizures, no mass", "1–10 kg", "10–100 kg", "1,000–10,000 kg"):
        assert label in legend
    assert "Too small to draw at this scale: Singapore (5 kg)." in legend
    assert "1 located seizure drawn" in legend


def test_every_drawn_country_has_exactly_one_path() -> None:
    root = parse(world_map_svg([], {}))
    codes = [p.get("data-iso3") for p in countries(root)]
    assert sorted(codes, key=str) == sorted(drawn_countries()) and len(codes) == len(set(codes))
    for p in countries(root):
        d = p.get("d", "")
        assert re.fullmatch(r"(M[-.\d ]+l[-.\d ]+z)+", d), d[:80]


# -- escaping, empty input, determinism ----------------------------------------------------------------------
def test_hostile_labels_anchors_and_keys_come_out_inert() -> None:
    points = [
        MapPoint(10, 10, HOSTILE, 5.0, '"><script>alert(2)</script>', "' onmouseover='alert(3)"),
        MapPoint(20, 20, "]]><!-- & é", None, "art-3", "S3"),
    ]
    svg = world_map_svg(points, {HOSTILE: 3.0, "irn": 2.0})
    assert "<script" not in svg and "<img" not in svg and "<!--" not in svg
    root = parse(svg)
    assert not [el for el in root.iter() if any(a.lower().startswith("on") for a in el.attrib)]
    assert not [el for el in root.iter() if el.tag.split("}")[-1] in {"script", "img", "foreignObject", "a", "image"}]
    by_rec = {g.get("data-rec"): g for g in dots(root)}
    hostile = by_rec["' onmouseover='alert(3)"]
    assert hostile.get("data-art") == '"><script>alert(2)</script>' and title(hostile) == HOSTILE + " · 5 kg"
    assert title(by_rec["S3"]) == "]]><!-- & é"
    legend = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert HOSTILE.upper() in legend  # an unknown key is listed, as text; "irn" is Iran
    assert {p.get("data-iso3"): p.get("fill") for p in countries(root)}["IRN"] in rm._RAMP
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_any_label_round_trips_as_text(label: str) -> None:
    root = parse(world_map_svg([MapPoint(0, 0, label, None, "art-1", label or "r")], {}))
    (g,) = dots(root)
    assert (g.find(SVG + "title").text or "") == label  # type: ignore[union-attr]
    assert g.get("data-rec") == (label or "r")


def test_empty_inputs_give_a_valid_map_with_a_note() -> None:
    svg = world_map_svg([], {})
    root = parse(svg)
    assert len(countries(root)) == 175 and not dots(root)
    assert all(p.get("fill") is None for p in countries(root))
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "No located seizures." in texts and "no seizure" in texts
    bad = parse(
        world_map_svg([MapPoint(95, 0, "x", 1.0, "art-1", "S1"), MapPoint(math.nan, 0, "y", 1.0, "a", "b")], {})
    )
    assert not dots(bad) and "No located seizures (2 with coordinates out of range)." in [t.text for t in bad.iter()]


def test_the_output_is_deterministic() -> None:
    args = ([TEHRAN, BAGHDAD, MapPoint(-33.9, 151.2, "Sydney", 2.0, "art-3", "S3")], {"IRN": 120.0, "AUS": 2.0})
    first = world_map_svg(*args)
    assert world_map_svg(*args) == first
    rm._paths.cache_clear()
    rm._countries.cache_clear()
    assert world_map_svg(*args) == first


def test_points_follow_the_timelines_click_convention() -> None:
    js = ASSETS.joinpath("report.js").read_text(encoding="utf-8")
    assert 'closest("[data-art]")' in js and 'matches("g.ev[data-art]")' in js  # what the dots rely on
    root = parse(world_map_svg([TEHRAN, MapPoint(1, 1, "no article", 1.0, "", "S9")], {}))
    linked, unlinked = sorted(dots(root), key=lambda g: g.get("data-art") is None)
    assert linked.get("class") == "ev ev-s" and linked.get("tabindex") == "0"
    assert (linked.get("data-art"), linked.get("data-rec")) == ("art-1", "S1")
    assert unlinked.get("data-art") is None and unlinked.get("tabindex") is None


def test_at_most_max_points_are_drawn_the_heaviest_first() -> None:
    points = [MapPoint(i, i, f"p{i}", float(i), "art-1", f"S{i}") for i in range(10)]
    root = parse(world_map_svg(points, {}, max_points=3))
    assert sorted(g.get("data-rec") or "" for g in dots(root)) == ["S7", "S8", "S9"]
    note = [t.text or "" for t in root.iter(SVG + "text") if "located" in (t.text or "")]
    assert note == ["3 located seizures drawn; 7 lighter ones not drawn (at most 3). Click a dot for its record."]
    radii = [float(c.get("r", "")) for c in root.iter(SVG + "circle") if c.get("cx")]  # drawn big to small
    assert radii[:3] == sorted(radii[:3], reverse=True)


# -- in Chromium ---------------------------------------------------------------------------------------------
CHROMIUM = Path(os.environ.get("LLM_EXTRACT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE = os.environ.get("LLM_EXTRACT_REQUIRE_BROWSER") == "1"
SCREENSHOT = Path("/tmp/report_map_screenshot.png")


def _page(svg: str) -> str:
    """A minimal report page: the report's CSP, CSS and script, a map, one article, the panel."""
    template = ASSETS.joinpath("report.html.j2").read_text(encoding="utf-8")
    js = "\n" + ASSETS.joinpath("report.js").read_text(encoding="utf-8")
    digest = "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>', template)
    assert csp is not None and "{{ script_hash }}" in csp.group()
    records = {"S1": {"kind": "seizure", "id": "S1", "label": "opium, 120 kg", "fields": [["country", "IRN"]],
                      "grounding": "exact", "flags": [], "spans": []}}  # fmt: skip
    from llm_extract.tasks.security_events.views.report import json_for_script

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
{csp.group().replace("{{ script_hash }}", digest)}
<title>map</title><style>{ASSETS.joinpath("report.css").read_text(encoding="utf-8")}</style></head>
<body><main><section id="map"><h2>Where seizures happened</h2>{svg}</section>
<p><button type="button" id="expand-all">expand all</button> <button type="button" id="collapse-all">collapse</button></p>
<details class="article" id="art-1"><summary><b>Article 1</b></summary><p>text</p>
<script type="application/json" class="recdata">{json_for_script(records)}</script></details>
</main>
<aside id="panel" hidden><div class="panel-head"><b id="panel-title">Record</b>
<button type="button" id="panel-close">x</button></div><div id="panel-body"></div></aside>
<script>{js}</script></body></html>"""


def test_the_map_in_chromium(tmp_path: Path) -> None:
    if not REQUIRE and not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; or set LLM_EXTRACT_CHROMIUM)")
    if REQUIRE:
        from playwright import sync_api
    else:
        sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    points = [
        TEHRAN,  # the one whose record the page has
        BAGHDAD,
        MapPoint(31.5, 74.3, HOSTILE, 2400.0, "art-1", "S3"),  # Lahore, with a hostile label
        MapPoint(13.75, 100.5, "Bangkok", 501.0, "art-1", "S4"),
        MapPoint(4.6, -74.1, "Bogotá", 9000.0, "art-1", "S5"),
        MapPoint(52.37, 4.9, "Amsterdam", 12.0, "art-1", "S6"),
        MapPoint(-33.9, 151.2, "Sydney", 0.5, "art-1", "S7"),
    ]
    kg = {"IRN": 1200.0, "PAK": 2400.0, "THA": 501.0, "COL": 9000.0, "NLD": 12.0, "AUS": 0.5, "IRQ": 0.0,
          "USA": 80.0, "MEX": 3000.0, "SGP": 40.0}  # fmt: skip
    path = tmp_path / "map.html"
    path.write_text(_page(world_map_svg(points, kg)), encoding="utf-8")
    requests: list[str] = []
    blocked: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1100, "height": 800}, service_workers="block")
        page = context.new_page()

        def route(r: Any) -> None:
            if r.request.url == path.as_uri():
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("request", lambda req: requests.append(req.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
        page.goto(path.as_uri())
        page.wait_for_load_state("load")

        svg = page.locator("svg.map")
        box = svg.bounding_box()
        assert box is not None and box["width"] > 900 and 450 < box["height"] < 700
        assert page.locator("svg.map path.country").count() == 175
        assert page.locator("svg.map g.ev[data-art]").count() == len(points)

        # the shading and the dots are what the browser paints
        def fill(css: str) -> str:
            return str(page.eval_on_selector(css, "e => getComputedStyle(e).fill"))

        assert fill('path[data-iso3="COL"]') == "rgb(128, 0, 38)"  # the darkest class
        assert fill('path[data-iso3="TUR"]') == "rgb(223, 227, 231)"  # neutral
        assert fill('g.ev[data-rec="S2"] circle') == "rgb(159, 211, 255)"  # report.css's seizure dot
        iran = page.locator('path[data-iso3="IRN"]').bounding_box()
        dot = page.locator('g.ev[data-rec="S1"] circle').bounding_box()
        assert iran is not None and dot is not None
        assert iran["x"] < dot["x"] < iran["x"] + iran["width"] and iran["y"] < dot["y"] < iran["y"] + iran["height"]
        assert page.evaluate("document.querySelectorAll('svg script, svg img, [onerror]').length") == 0
        assert HOSTILE in page.locator("svg.map").inner_html().replace("&lt;", "<").replace("&gt;", ">")
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        # click-through with the report's own script: a dot opens its record in the panel
        page.locator('g.ev[data-rec="S1"]').click()
        assert page.locator("#panel").is_visible() and "opium, 120 kg" in page.locator("#panel").inner_text()
        assert page.locator("#art-1").get_attribute("open") is not None
        page.click("#panel-close")
        page.locator('g.ev[data-rec="S1"]').focus()
        page.keyboard.press("Enter")
        assert page.locator("#panel").is_visible()
        page.wait_for_timeout(50)
        context.close()
        browser.close()
    assert blocked == [] and requests == [path.as_uri()], (blocked, requests)
    assert errors == [], errors
