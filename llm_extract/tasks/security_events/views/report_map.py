"""The report's world map: seizures where they happened, drawn offline as inline SVG.

**Data.** `report_assets/world-countries-110m.json` is `countries-110m.json` from the npm
package `world-atlas` 2.0.2 (TopoJSON of Natural Earth's 1:110m Admin 0 countries, v4.1.0;
ISC licence, Natural Earth is public domain; see `world-LICENSE.txt` for how to refresh it).
Nothing is fetched: no tile server, no CDN, no script. The TopoJSON is decoded here (quantized,
delta-encoded arcs; the transform), once per process (`lru_cache`), and so are the projected
path strings per width, so a report of 100k records pays for the geometry once.

**Countries.** A feature's `id` is its ISO 3166-1 numeric code, mapped to alpha-3 with
pycountry (imported lazily). Three features have no id: Kosovo is drawn as `XKX` (the
user-assigned code the gazetteer gives it); N. Cyprus and Somaliland are drawn as parts of
`CYP` and `SOM`, whose ISO3 the records carry for places there. So there is one `<path>` per
ISO3. Small states that 1:110m leaves out (Singapore, Malta, Bahrain, ...) are not drawn:
their kilograms are listed under the legend instead, so no mass silently disappears.

**Projection.** Natural Earth I (Šavrič et al. 2011, the polynomial d3's `geoNaturalEarth1`
uses): a closed-form compromise projection made for world maps, so no iteration and no
dependency, with far less polar inflation than equirectangular (Russia, Greenland and
Antarctica do not dwarf where seizures happen), parallels straight (y depends on latitude
only, so a straight edge along a parallel stays straight) and x monotonic in longitude along
any parallel. The data is not cut at the antimeridian (world-atlas leaves that to d3's
spherical clipping), so rings crossing it (Fiji, Chukotka, Wrangel Island) are unwrapped and
clipped into both halves, and Antarctica, which winds around the pole, is closed along it.
Nothing is simplified further: 1:110m is already generalised for a map this size.

**Shading.** `kg_by_country` (ISO3 → kg) shades a country on a log scale, in at most five
classes of whole decades (`kg_classes`), with an SVG-text legend. A country mapped to 0 has
seizures but none with a mass (counts, litres): it gets its own pale colour. A country not in
the mapping is neutral grey. The caller decides what a country's kg is (each canonical event
counted once, as the bars do) and must pass *single seizures* only: national or annual totals
reported in articles would double count, so they stay out, as elsewhere in the report.

**Points.** One `<g class="ev ev-s" data-art="art-N" data-rec="S1" tabindex="0">` per located
seizure, holding its `<title>` and `<circle>`, the same convention as the timeline's dots, so
report.js opens the record on click (`[data-art]`) and on Enter (`g.ev[data-art]`) with no new
script, and report.css styles it like a seizure dot. Its radius grows with the log of its kg
(3 px without a mass, at most 9 px at width 960). At most `max_points` are drawn, the heaviest
first; the legend says how many were not.

**Escaping.** Labels, anchors, record ids and ISO3 keys come from articles or the model: each
is escaped with markupsafe before it is written, in text and in attributes alike. Output is
deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise

from markupsafe import Markup, escape

__all__ = ["WORLD_ASSET", "MapPoint", "drawn_countries", "kg_classes", "map_height", "project", "world_map_svg"]

#: The vendored TopoJSON, in `report_assets/`.
WORLD_ASSET = "world-countries-110m.json"

_ASSETS = "report_assets"
#: Features without an ISO 3166-1 numeric id, by their Natural Earth name.
_NO_ID = {"Kosovo": "XKX", "N. Cyprus": "CYP", "Somaliland": "SOM"}

_PAD = 4.0  # px around the map
_LEGEND_ROW = 18.0  # px per legend row
_OCEAN, _LAND, _BORDER, _NO_MASS = "#f1f5f8", "#dfe3e7", "#ffffff", "#f3ead8"
_RAMP = ("#fed976", "#feb24c", "#fd8d3c", "#e31a1c", "#800026")  # ColorBrewer YlOrRd: light → dark, by kg
_POINT_FILL, _POINT_LINE = "#9fd3ff", "#1f78b4"  # report.css's --sei / --sei-line
_MAX_CLASSES = len(_RAMP)

Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class MapPoint:
    """A located seizure: where it happened, what to show, and the record a click opens.

    `label` is untrusted text (it is escaped); `kg` is the seizure's mass or None;
    `anchor` is its article's element id (`art-12`) and `rid` its record id, as the
    timeline's dots carry them. An empty `anchor` draws a dot that opens nothing.
    """

    lat: float
    lon: float
    label: str
    kg: float | None
    anchor: str
    rid: str


@dataclass(frozen=True)
class _Country:
    iso3: str
    name: str
    rings: tuple[Ring, ...]


# -- the projection ---------------------------------------------------------------------------------------------
def _ne1(lon: float, lat: float) -> tuple[float, float]:
    """Natural Earth I, raw: degrees in, unit-sphere plane coordinates out (y up)."""
    lam, phi = math.radians(lon), math.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


_X_MAX = _ne1(180.0, 0.0)[0]
_Y_MAX = _ne1(0.0, 90.0)[1]


def _scale(width: int) -> float:
    return (width - 2 * _PAD) / (2 * _X_MAX)


def map_height(width: int = 960) -> float:
    """The height of the map itself (without the legend) at `width`."""
    return round(2 * _Y_MAX * _scale(width) + 2 * _PAD, 1)


def project(lon: float, lat: float, *, width: int = 960) -> tuple[float, float]:
    """SVG coordinates of a point at `width`: (0, 0) is the map's centre, north is up."""
    x, y = _ne1(lon, lat)
    s = _scale(width)
    return width / 2 + s * x, _PAD + s * (_Y_MAX - y)


# -- decoding the TopoJSON --------------------------------------------------------------------------------------
def _iso3(numeric: str) -> str:
    import pycountry  # lazily: its database loads on first use

    country = pycountry.countries.get(numeric=numeric)
    return str(country.alpha_3) if country is not None else ""


def _arcs(topology: dict[str, object]) -> list[list[tuple[float, float]]]:
    transform = topology.get("transform")
    arcs = topology["arcs"]
    assert isinstance(arcs, list)
    if not isinstance(transform, dict):  # not quantized: absolute positions
        return [[(float(p[0]), float(p[1])) for p in arc] for arc in arcs]
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    out = []
    for arc in arcs:
        x = y = 0
        points = []
        for dx, dy, *_ in arc:  # delta-encoded: each position is relative to the previous one
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        out.append(points)
    return out


def _ring(indexes: Iterable[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Arcs stitched into a ring; ~i is arc i reversed; consecutive arcs share an end point."""
    points: list[tuple[float, float]] = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        if points:
            points.pop()
        points.extend(arc)
    return points


def _clip(ring: list[tuple[float, float]], edge: float, keep_below: bool) -> list[tuple[float, float]]:
    """Sutherland-Hodgman against the meridian lon = edge (in unwrapped degrees)."""

    def inside(p: tuple[float, float]) -> bool:
        return p[0] <= edge if keep_below else p[0] >= edge

    out: list[tuple[float, float]] = []
    for i, q in enumerate(ring):
        p = ring[i - 1]
        if inside(q) != inside(p):
            t = (edge - p[0]) / (q[0] - p[0])
            out.append((edge, p[1] + t * (q[1] - p[1])))
        if inside(q):
            out.append(q)
    return out


def _closed(ring: list[tuple[float, float]]) -> Ring:
    if ring and ring[0] != ring[-1]:
        ring = [*ring, ring[0]]
    return tuple(ring)


def _planar(raw: list[tuple[float, float]]) -> list[Ring]:
    """A spherical ring as planar rings within lon [-180, 180] (antimeridian and poles handled)."""
    if raw and raw[0] == raw[-1]:
        raw = raw[:-1]
    if len(set(raw)) < 3:  # degenerate (North Korea has a ring of one point): nothing to draw
        return []
    jumps = [i for i in range(1, len(raw)) if abs(raw[i][0] - raw[i - 1][0]) > 180]
    if len(raw) > 1 and abs(raw[0][0] - raw[-1][0]) > 180:
        jumps.append(0)
    if not jumps:
        return [_closed(raw)] if len(raw) >= 3 else []
    start = jumps[0]
    raw = raw[start:] + raw[:start]  # begin just after a jump
    unwrapped = [raw[0]]
    for lon, lat in raw[1:]:
        prev = unwrapped[-1][0]
        lon += 360.0 * round((prev - lon) / 360.0)
        unwrapped.append((lon, lat))
    if abs(unwrapped[-1][0] - unwrapped[0][0]) > 180:
        # it winds round a pole (Antarctica): from one side of the map to the other, then along the pole
        pole = -90.0 if sum(lat for _, lat in raw) < 0 else 90.0
        ring = [(min(max(lon, -180.0), 180.0), lat) for lon, lat in unwrapped]
        ring += [(ring[-1][0], pole), (ring[0][0], pole)]
        return [_closed(ring)]
    pieces: list[Ring] = []
    for shift in (-360.0, 0.0, 360.0):
        moved = [(lon + shift, lat) for lon, lat in unwrapped]
        if max(lon for lon, _ in moved) <= -180 or min(lon for lon, _ in moved) >= 180:
            continue
        part = _clip(_clip(moved, 180.0, True), -180.0, False)
        if len(part) >= 3:
            pieces.append(_closed(part))
    return pieces


@lru_cache(maxsize=1)
def _countries() -> tuple[_Country, ...]:
    """The countries of the vendored TopoJSON, decoded, in file order, one per ISO3."""
    text = resources.files(__package__).joinpath(_ASSETS, WORLD_ASSET).read_text(encoding="utf-8")
    topology = json.loads(text)
    arcs = _arcs(topology)
    merged: dict[str, tuple[str, list[Ring]]] = {}
    order: list[str] = []
    for n, geometry in enumerate(topology["objects"]["countries"]["geometries"]):
        name = str((geometry.get("properties") or {}).get("name") or "")
        code = _iso3(str(geometry["id"])) if geometry.get("id") is not None else _NO_ID.get(name, "")
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        rings = [piece for polygon in polygons for ring in polygon for piece in _planar(_ring(ring, arcs))]
        key = code or f"?{n}"  # a feature with no code is drawn neutral, on its own
        if key not in merged:
            merged[key] = (name, [])
            order.append(key)
        if geometry.get("id") is not None:  # the country's own name, not its part's (N. Cyprus)
            merged[key] = (name, merged[key][1])
        merged[key][1].extend(rings)
    return tuple(_Country(key if not key.startswith("?") else "", merged[key][0], tuple(merged[key][1])) for key in order)


def drawn_countries() -> frozenset[str]:
    """The ISO3 codes the map has a shape for (1:110m leaves out the smallest states)."""
    return frozenset(c.iso3 for c in _countries() if c.iso3)


def _num(v: int) -> str:
    """A coordinate in tenths, as short as SVG allows: 12.0 → 12, 0.5 → .5, -0.5 → -.5."""
    text = f"{v / 10:.1f}".rstrip("0").rstrip(".") if v % 10 else str(v // 10)
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def _pair(dx: int, dy: int) -> str:
    a, b = _num(dx), _num(dy)
    return a + ("" if b.startswith("-") else " ") + b


def _path(rings: Iterable[Ring], width: int) -> str:
    """Rings as path data: absolute start in tenths of a px, then relative steps (no drift)."""
    parts = []
    for ring in rings:
        pts: list[tuple[int, int]] = []
        for lon, lat in ring:
            x, y = project(lon, lat, width=width)
            p = (round(x * 10), round(y * 10))
            if not pts or p != pts[-1]:
                pts.append(p)
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts.pop()  # Z closes it
        if len(pts) < 3:
            continue
        steps = "".join(
            ("" if s.startswith("-") or i == 0 else " ") + s
            for i, s in enumerate(_pair(q[0] - p[0], q[1] - p[1]) for p, q in pairwise(pts))
        )
        parts.append(f"M{_pair(*pts[0])}l{steps}z")
    return "".join(parts)


@lru_cache(maxsize=4)
def _paths(width: int) -> tuple[tuple[tuple[str, str, str], ...], str]:
    """(iso3, name, path data) per country, and the outline of the globe, at `width`."""
    countries = tuple((c.iso3, c.name, _path(c.rings, width)) for c in _countries())
    lats = [float(lat) for lat in range(-90, 91, 5)]
    outline = [(-180.0, lat) for lat in lats] + [(180.0, lat) for lat in reversed(lats)]
    return countries, _path([tuple(outline)], width)


# -- shading ----------------------------------------------------------------------------------------------------
def _decade(v: float) -> int:
    e = math.floor(math.log10(v))
    if 10.0**e > v:
        e -= 1
    elif 10.0 ** (e + 1) <= v:
        e += 1
    return e


def kg_classes(values: Iterable[float], max_classes: int = _MAX_CLASSES) -> list[tuple[float, float]]:
    """The legend's classes for these masses: (low, high) in kg, whole decades on a log scale.

    Only positive, finite values count. A value `v` is in the class with low <= v < high; the
    first class starts at the decade of the smallest value, the last ends above the largest. When
    they span more decades than `max_classes`, each class spans several (1-100, 100-10,000, ...).
    No values, no classes.
    """
    kept = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v) and v > 0]
    if not kept:
        return []
    lo, hi = _decade(min(kept)), _decade(max(kept)) + 1
    step = max(1, math.ceil((hi - lo) / max(1, max_classes)))
    n = math.ceil((hi - lo) / step)
    return [(10.0 ** (lo + k * step), 10.0 ** (lo + (k + 1) * step)) for k in range(n)]


def _class_of(v: float, classes: Sequence[tuple[float, float]]) -> int:
    for i, (_, high) in enumerate(classes):
        if v < high:
            return i
    return len(classes) - 1


def _colours(n: int) -> list[str]:
    if n <= 1:
        return [_RAMP[2]] * n
    return [_RAMP[round(i * (len(_RAMP) - 1) / (n - 1))] for i in range(n)]


def _kg(v: float) -> str:
    if v != 0 and abs(v) < 0.001:
        return f"{v:.3g}"
    text = f"{v:,.3f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def _radius(kg: float | None, width: int) -> float:
    k = width / 960
    if kg is None or not math.isfinite(kg) or kg <= 0:
        return round(3.0 * k, 1)
    return round(min(3.0 + 1.3 * math.log10(1 + kg), 9.0) * k, 1)


# -- the SVG ----------------------------------------------------------------------------------------------------
def _country_names(codes: Iterable[str]) -> dict[str, str]:
    import pycountry

    out = {}
    for code in codes:
        c = pycountry.countries.get(alpha_3=code) if len(code) == 3 and code.isalpha() else None
        out[code] = str(getattr(c, "common_name", None) or c.name) if c is not None else code
    return out


class _Legend:
    """Legend items laid out left to right, wrapping at the map's width."""

    def __init__(self, top: float, width: int) -> None:
        self.x, self.y, self.top, self.width = 8.0, top, top, width
        self.parts: list[str] = []

    def item(self, swatch: str, text: str) -> None:
        need = 22 + 6.2 * len(text) + 14
        if self.x > 8 and self.x + need > self.width - 8:
            self.x, self.y = 8.0, self.y + _LEGEND_ROW
        self.parts.append(swatch.format(x=self.x, y=self.y, cx=self.x + 7, cy=self.y + 6))
        self.parts.append(f'<text x="{self.x + 20:.1f}" y="{self.y + 10:.1f}">{escape(text)}</text>')
        self.x += need

    def line(self, text: str) -> None:
        if self.x > 8:
            self.x, self.y = 8.0, self.y + _LEGEND_ROW
        self.parts.append(f'<text class="map-note" x="8" y="{self.y + 10:.1f}">{escape(text)}</text>')
        self.y += _LEGEND_ROW

    def bottom(self) -> float:
        return self.y + (_LEGEND_ROW if self.x > 8 else 0.0)


def _valid(p: MapPoint) -> bool:
    try:
        lat, lon = float(p.lat), float(p.lon)
    except (TypeError, ValueError):
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def world_map_svg(
    points: Sequence[MapPoint],
    kg_by_country: Mapping[str, float],
    *,
    width: int = 960,
    max_points: int = 5000,
) -> Markup:
    """The map as one inline `<svg class="chart map">` element, safe to put in the page as is.

    `points`: located seizures (single seizures, never totals), drawn as clickable dots.
    `kg_by_country`: ISO3 → kg seized there (0: seizures without a mass); countries not in it
    are neutral. See the module's docstring for the conventions.
    """
    width = max(int(width), 200)
    shapes, outline = _paths(width)
    drawn = {iso for iso, _, _ in shapes if iso}
    kg_map: dict[str, float] = {}
    for key, value in kg_by_country.items():
        code = str(key).strip().upper()
        if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
            kg_map[code] = kg_map.get(code, 0.0) + float(value)
    classes = kg_classes(kg_map.values())
    colours = _colours(len(classes))
    h_map = map_height(width)

    out = [f'<path class="map-sphere" d="{outline}" fill="{_OCEAN}" stroke="#c5ced6" stroke-width=".6"></path>']
    out.append(f'<g class="map-countries" fill="{_LAND}" stroke="{_BORDER}" stroke-width=".5">')
    for iso, name, d in shapes:
        kg = kg_map.get(iso) if iso else None
        if kg is None:
            fill, tip, extra = "", f"{name or iso}: no seizure", ""
        elif kg == 0:
            fill, tip, extra = f' fill="{_NO_MASS}"', f"{name or iso}: seizures, no mass known", ' data-kg="0"'
        else:
            colour = colours[_class_of(kg, classes)]
            fill, tip, extra = f' fill="{colour}"', f"{name or iso}: {_kg(kg)} kg", f' data-kg="{kg!r}"'
        code = f' data-iso3="{escape(iso)}"' if iso else ""
        out.append(f'<path class="country"{code}{extra}{fill} d="{d}"><title>{escape(tip)}</title></path>')
    out.append("</g>")

    located = [(i, p) for i, p in enumerate(points) if _valid(p)]
    bad = len(points) - len(located)
    heaviest = sorted(located, key=lambda ip: (-(ip[1].kg or 0.0) if _finite(ip[1].kg) else 0.0, ip[0]))
    shown = heaviest[: max(0, max_points)]
    drawn_pts = sorted(shown, key=lambda ip: (-_radius(ip[1].kg, width), ip[0]))  # small dots on top
    if drawn_pts:
        out.append(f'<g class="map-points" fill="{_POINT_FILL}" fill-opacity=".85" stroke="{_POINT_LINE}">')
    for _, p in drawn_pts:
        x, y = project(float(p.lon), float(p.lat), width=width)
        tip = p.label + (f" · {_kg(float(p.kg))} kg" if _finite(p.kg) and p.kg is not None else "")
        circle = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{_radius(p.kg, width)}"></circle>'
        if p.anchor:
            head = f'<g class="ev ev-s" data-art="{escape(p.anchor)}" data-rec="{escape(p.rid)}" tabindex="0">'
        else:
            head = '<g class="pt">'
        out.append(f"{head}<title>{escape(tip)}</title>{circle}</g>")
    if drawn_pts:
        out.append("</g>")

    legend = _Legend(h_map + 4, width)
    swatch = '<rect x="{x:.1f}" y="{y:.1f}" width="14" height="12" fill="%s" stroke="#9aa5b1" stroke-width=".5"></rect>'
    legend.item(swatch % _LAND, "no seizure")
    if any(v == 0 for v in kg_map.values()):
        legend.item(swatch % _NO_MASS, "seizures, no mass")
    for (low, high), colour in zip(classes, colours, strict=True):
        legend.item(swatch % colour, f"{_kg(low)}–{_kg(high)} kg")
    if drawn_pts:
        dot = f'<circle cx="{{cx:.1f}}" cy="{{cy:.1f}}" r="4" fill="{_POINT_FILL}" stroke="{_POINT_LINE}"></circle>'
        legend.item(dot, "a seizure where it happened (bigger: more kg)")
    if not located:
        legend.line(f"No located seizures ({bad:,} with coordinates out of range)." if bad else "No located seizures.")
    else:
        note = f"{len(shown):,} located seizure{'s' * (len(shown) != 1)} drawn"
        if len(shown) < len(located):
            note += f"; {len(located) - len(shown):,} lighter ones not drawn (at most {max_points:,})"
        if bad:
            note += f"; {bad:,} with coordinates out of range left out"
        legend.line(note + ". Click a dot for its record.")
    missing = sorted((code for code, v in kg_map.items() if code not in drawn), key=lambda c: (-kg_map[c], c))
    if missing:
        names = _country_names(missing[:8])
        listed = ", ".join(f"{names[c]} ({_kg(kg_map[c])} kg)" if kg_map[c] else f"{names[c]} (no mass)" for c in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        legend.line(f"Too small to draw at this scale: {listed}{more}.")
    legend.line("Boundaries: Made with Natural Earth (public domain), 1:110m, via world-atlas.")
    height = round(legend.bottom() + 4, 1)
    head = (
        f'<svg class="chart map" xmlns="http://www.w3.org/2000/svg" role="group" aria-label="Map of seizures"'
        f' viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' font-family="system-ui, sans-serif" font-size="11">'
    )
    return Markup(head + "".join(out) + '<g class="map-legend">' + "".join(legend.parts) + "</g></svg>")


def _finite(v: float | None) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)
