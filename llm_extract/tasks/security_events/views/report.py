"""One self-contained HTML report of an output directory: overview, tables, charts, evidence.

`write_report(out_dir)` reads the event store (`OUT/extract.db`) and writes
`OUT/report.html`, a single file that opens offline in any browser: its CSS, its small
vanilla JavaScript and its charts (inline SVG) are inside it, and it references nothing
outside itself (no `src`, `href` or `url()` to another file or to the network; the
article's `url`, when there is one, is shown as text, never as a link).

What it shows:

- **Overview**: counts (articles, agreements, seizures, canonical events, rejected and
  flagged records, failures, tokens, estimated cost); a table of agreements (parties with
  their ISO3 codes and emoji flags, instrument type, status, date, domains, number of
  sources = mentions of the record's canonical event) and one of seizures (drug, UNODC group,
  kg or count, country, place, date, agency, sources), both sortable (click a header) and
  filterable (a text box, and a select for the status / drug group); a timeline of the
  canonical events by date (a bar for a date known only to the month or the year), and the
  total kg seized by drug group (each canonical event counted once, as in `llm-extract
  stats`); the rejected records and the failures with their reasons.
- **Per article** (collapsed by default, in `<details>`): the article text with every
  evidence span highlighted (agreements and seizures in two colours; a passage that several
  records cite is striped and belongs to all of them); clicking (or Enter on) a highlight
  opens a side panel with the record: its fields, flags, grounding and every span with its
  text; hovering one lights up every passage of the same record. The rejected and flagged
  records are listed with their reasons.

**The article text.** Results do not contain the text, only its sha256. The report takes it
from the store (`article_texts`, store migration 4: every batch keeps the texts it
extracts); for articles stored before that, from the article's `source` path (under
`articles_root` first, then the `source` itself, relative to the current directory;
`path.jsonl:N` reads line N); and for what is still missing, from a single scan of
`articles_root` (any input `llm-extract run` accepts, matched by sha256, so JSONL articles
with their own ids are found too). A text is used only when its sha256 is the one extracted,
so every span offset is right; otherwise the article's records are listed without the text,
and the report says why.

**Escaping.** Article text and every value the model wrote are untrusted. The page is a
Jinja2 template with autoescape on, so every text node and attribute value is HTML-escaped;
the text is cut into segments in Python (`text[start:end]`, Python string indices as the
spans are) and each segment is escaped on its own. The records shown in the side panel are
JSON inside `<script type="application/json">` with `<`, `>`, `&` (and U+2028/U+2029)
written as `\\u003c`..., so no `</script>` can close the block; the script builds the panel
with `textContent` only (never `innerHTML`). Element ids are generated (`art-12`), never
taken from the data. As a second line of defence, a Content-Security-Policy allows the
page's one script by its sha256 hash and nothing else: no inline handler (`onerror=`), no
other script, no request of any kind (`default-src 'none'`).

**Size.** About 22 KB for the page itself (styles, script, charts' frames); then per article
its text (once, escaped: about its own size) plus about 1 KB of furniture, and about 2 KB
per record (its table row, its card, its panel JSON, its highlights). Measured: 11 KB per
seed article (3.4 KB of text, three records); 4.9 KB per synthetic article (0.4 KB, two
records), so 4.9 MB for 1,000 of them, written in 1.8 s with a peak of 10 MB of Python
memory, and opened by Chromium in 1.4 s (sorting or filtering 1,000 rows: under 0.4 s).
Expect 5-15 MB per 1,000 news articles. The page is written as a stream (articles and their
texts are read from the store one at a time; only the overview's table rows are held), and
articles are collapsed (`<details>`), so a browser lays out the overview until one is opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from llm_extract.runs.store import EventStore
from llm_extract.tasks.security_events.views.report_charts import Overview, _num, bars, timeline
from llm_extract.tasks.security_events.views.report_texts import Texts, segments

__all__ = ["REPORT_FILE", "json_for_script", "segments", "write_report"]

#: The report's file name in an output directory.
REPORT_FILE = "report.html"

_STORE_FILE = "extract.db"  # batch.STORE_FILE (not imported: batch pulls in the pipeline)
_ASSETS = "report_assets"


# -- small helpers ---------------------------------------------------------------------------------
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")


def json_for_script(value: Any) -> Markup:
    """JSON safe to put inside `<script type="application/json">`: no `<`, `>`, `&` in it.

    They are written as JSON escapes (`\\u003c`), which `JSON.parse` reads back as the same
    characters, so `</script>` or `<!--` in the data can never end the block.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(_JSON_UNSAFE.sub(lambda m: _JSON_ESCAPES[m.group()], text))


def plural(n: int | None, word: str, words: str | None = None) -> str:
    """ "1 seizure", "14 seizures", "1,200 mentions" (`words` for an irregular plural)."""
    count = n or 0
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def _words(value: object) -> str:
    """An enum value for a reader: "border_security" → "border security"."""
    return str(value).replace("_", " ")


def _short(title: str, limit: int = 60) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _results(store: EventStore) -> Iterator[str]:
    """Every stored result JSON, one at a time, in the order of the articles' sources (then ids).

    A stable order (the batch stores articles in the order they finish), and the order in
    which `llm-extract run` reads a directory.
    """
    keys = [k for (k,) in store.connection.execute("SELECT key FROM articles ORDER BY source, id, key")]
    for key in keys:
        raw = store.result_json(key)
        if raw is not None:
            yield raw


def _event_links(store: EventStore) -> dict[tuple[str, str, str], dict[str, Any]]:
    db = store.connection
    return {
        (kind, key, rid): {"id": cid, "mentions": n_mentions, "articles": n_articles}
        for kind, key, rid, cid, n_mentions, n_articles in db.execute(
            "SELECT m.kind, m.article_key, m.record_id, e.id, e.n_mentions, e.n_articles"
            " FROM event_mentions m JOIN canonical_events e ON e.id = m.canonical_id"
        )
    }


def _parties(a: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "name": p.get("name") or "",
            "kind": str(p.get("kind") or ""),
            "iso3": p.get("iso3") or "",
        }
        for p in a.get("parties") or []
    ]


def _date_cell(r: dict[str, Any]) -> tuple[str, str]:
    """(shown, sort key): the ISO date, else the date as written."""
    iso, written = r.get("date_iso"), r.get("date")
    if iso:
        return iso, iso
    return (written or ""), ""


def _agreement_label(a: dict[str, Any]) -> str:
    parties = " – ".join(p.get("iso3") or p.get("name") or "?" for p in a.get("parties") or [])
    return f"{parties} {a.get('instrument_type', '')} ({a.get('status', '')})"


def _item_text(it: dict[str, Any]) -> str:
    qty = it.get("quantity")
    written = " ".join(x for x in (_num(qty) if qty is not None else "", it.get("unit") or "", it.get("drug") or "") if x)
    norm = []
    if it.get("drug_name") and it.get("drug_name") != it.get("drug"):
        norm.append(it["drug_name"])
    if it.get("drug_group"):
        norm.append(it["drug_group"])
    for key, unit in (("kg", "kg"), ("count", "units"), ("litres", "l")):
        if it.get(key) is not None:
            norm.append(f"{_num(it[key])} {unit}")
    return written + (f" → {', '.join(norm)}" if norm else "")


def _seizure_label(s: dict[str, Any]) -> str:
    items = s.get("items") or []
    what = "; ".join(
        " ".join(
            x
            for x in (
                _num(it.get("quantity")) if it.get("quantity") is not None else "",
                it.get("unit") or "",
                it.get("drug") or "",
            )
            if x
        )
        for it in items
    )
    return what + (f", {s['country']}" if s.get("country") else "")


def _pass_overview(store: EventStore, links: dict[tuple[str, str, str], dict[str, Any]], texts: Texts) -> Overview:
    ov = Overview()
    for n, raw in enumerate(_results(store), 1):
        r = json.loads(raw)
        info = r["article"]
        sha, anchor = info["sha256"], f"art-{n}"
        ov.articles = n
        if not texts.in_store(sha) and not texts.locatable(info.get("source") or ""):
            ov.unlocatable.add(sha)
        head = {
            "anchor": anchor,
            "art_n": n,
            "article_id": info.get("id") or "",
            "title": r.get("title") or info.get("title") or info.get("source") or "",
        }
        # a record is named by its article's title where there is one, not by a hash id
        named = r.get("title") or info.get("title")
        head["article_label"] = _short(named) if named else head["article_id"]
        for a in r.get("agreements") or []:
            ov.anchors[(sha, a["id"])] = anchor
            ev = links.get(("agreement", sha, a["id"]))
            shown, key = _date_cell(a)
            ov.statuses[str(a.get("status") or "")] += 1
            ov.flagged += bool(a.get("flags"))
            ov.agreements.append(
                {
                    **head,
                    "rid": a["id"],
                    "parties": _parties(a),
                    "instrument_type": a.get("instrument_type") or "",
                    "status": a.get("status") or "",
                    "date": shown,
                    "date_key": key,
                    "domains": [_words(d) for d in a.get("domains") or []],
                    "background": bool(a.get("is_background")),
                    "sources": ev["mentions"] if ev else None,
                    "event": ev["id"] if ev else "",
                    "event_articles": ev["articles"] if ev else None,
                    "grounding": a.get("grounding") or "",
                    "flags": a.get("flags") or [],
                }
            )
        for s in r.get("seizures") or []:
            ov.anchors[(sha, s["id"])] = anchor
            ev = links.get(("seizure", sha, s["id"]))
            shown, key = _date_cell(s)
            items = s.get("items") or []
            groups = list(dict.fromkeys(str(it.get("drug_group") or "unrecognised") for it in items))
            for g in groups:
                ov.groups[g] += 1
            ov.flagged += bool(s.get("flags"))
            counts = [it["count"] for it in items if it.get("count") is not None]
            litres = [it["litres"] for it in items if it.get("litres") is not None]
            ov.seizures.append(
                {
                    **head,
                    "rid": s["id"],
                    "drugs": [{"written": it.get("drug") or "", "name": it.get("drug_name") or ""} for it in items],
                    "groups": groups,
                    "kg": s.get("total_kg"),
                    "count": sum(counts) if counts else None,
                    "litres": sum(litres) if litres else None,
                    "country": s.get("country") or "",
                    "place": s.get("place") or "",
                    "date": shown,
                    "date_key": key,
                    "agency": s.get("seizing_agency") or "",
                    "sources": ev["mentions"] if ev else None,
                    "event": ev["id"] if ev else "",
                    "event_articles": ev["articles"] if ev else None,
                    "grounding": s.get("grounding") or "",
                    "flags": s.get("flags") or [],
                    "confidence": s.get("confidence"),
                    "lat": s.get("lat"),
                    "lon": s.get("lon"),
                    "geo": s.get("geo_precision"),
                    "region": s.get("region_name") or s.get("region") or "",
                    "total": s.get("total_reason") if s.get("is_total") else None,
                }
            )
        for rej in r.get("rejected") or []:
            record = rej.get("record") or {}
            ov.rejected.append(
                {
                    **head,
                    "kind": rej.get("kind") or "",
                    "reason": rej.get("reason") or "",
                    "evidence": str(record.get("evidence") or ""),
                }
            )
    return ov


# -- per article ---------------------------------------------------------------------------------------------------
def _fields_agreement(a: dict[str, Any], ev: dict[str, Any] | None) -> list[list[str]]:
    parties = "; ".join(
        f"{p.get('name')} ({', '.join(x for x in (str(p.get('kind') or ''), p.get('iso3') or '') if x)})"
        for p in a.get("parties") or []
    )
    officials = "; ".join(
        ", ".join(x for x in (o.get("name"), o.get("title"), o.get("organisation")) if x) for o in a.get("officials") or []
    )
    date_shown = " → ".join(x for x in (a.get("date") or "", a.get("date_iso") or "") if x)
    if a.get("date_precision"):
        date_shown += f" ({a['date_precision']})"
    fields = [
        ["parties", parties],
        ["instrument type", str(a.get("instrument_type") or "")],
        ["status", str(a.get("status") or "")],
        ["date", date_shown],
        ["domains", ", ".join(_words(d) for d in a.get("domains") or [])],
        ["officials", officials],
        ["place", a.get("place") or ""],
        ["background", "yes (recalls an earlier agreement)" if a.get("is_background") else "no"],
        ["countries", ", ".join(a.get("countries") or [])],
    ]
    if ev:
        fields.append(
            ["canonical event", f"{ev['id']}: {plural(ev['mentions'], 'mention')} in {plural(ev['articles'], 'article')}"]
        )
    return [f for f in fields if f[1]]


def _fields_seizure(s: dict[str, Any], ev: dict[str, Any] | None) -> list[list[str]]:
    date_shown = " → ".join(x for x in (s.get("date") or "", s.get("date_iso") or "") if x)
    if s.get("date_precision"):
        date_shown += f" ({s['date_precision']})"
    fields = [["item", _item_text(it)] for it in s.get("items") or []]
    fields += [
        ["total kg", _num(s.get("total_kg"))],
        ["place", s.get("place") or ""],
        ["country", s.get("country") or ""],
        ["date", date_shown],
        ["seizing agency", s.get("seizing_agency") or ""],
        ["arrested", "" if s.get("arrested") is None else str(s["arrested"])],
        ["origin", s.get("origin") or ""],
        ["destination", s.get("destination") or ""],
    ]
    if ev:
        fields.append(
            ["canonical event", f"{ev['id']}: {plural(ev['mentions'], 'mention')} in {plural(ev['articles'], 'article')}"]
        )
    return [f for f in fields if f[1]]


def _article_view(raw: str, n: int, texts: Texts, links: dict[tuple[str, str, str], dict[str, Any]]) -> dict[str, Any]:
    r = json.loads(raw)
    info = r["article"]
    sha = info["sha256"]
    text, where = texts.get(sha, info.get("source") or "")
    records: dict[str, Any] = {}
    cards: list[dict[str, Any]] = []
    spans: list[tuple[int, int, str, str]] = []
    for kind, key in (("agreement", "agreements"), ("seizure", "seizures")):
        for rec in r.get(key) or []:
            rid = str(rec["id"])
            ev = links.get((kind, sha, rid))
            label = _agreement_label(rec) if kind == "agreement" else _seizure_label(rec)
            rec_spans = []
            for i, sp in enumerate(rec.get("spans") or []):
                start, end = int(sp["start"]), int(sp["end"])
                rec_spans.append({"start": start, "end": end, "status": sp.get("status"), "score": sp.get("score"),
                                  "own": i == 0, "text": text[start:end] if text is not None else None})  # fmt: skip
                spans.append((start, end, kind, rid))
            fields = _fields_agreement(rec, ev) if kind == "agreement" else _fields_seizure(rec, ev)
            records[rid] = {
                "id": rid,
                "kind": kind,
                "label": label,
                "fields": fields,
                "flags": list(rec.get("flags") or []),
                "grounding": rec.get("grounding") or "",
                "evidence": rec.get("evidence") or "",
                "spans": rec_spans,
                "confidence": rec.get("confidence"),
                "total": rec.get("total_reason"),
                "values": [
                    {
                        "field": v.get("field"),
                        "value": v.get("value"),
                        "where": v.get("where"),
                        "start": v.get("start"),
                        "end": v.get("end"),
                    }
                    for v in rec.get("value_spans") or []
                ],  # fmt: skip
            }
            cards.append({"id": rid, "kind": kind, "label": label, "grounding": rec.get("grounding") or "",
                          "flags": list(rec.get("flags") or []), "n_spans": len(rec_spans)})  # fmt: skip
    segs = []
    if text is not None:
        for seg in segments(text, spans):
            cls = " ".join(f"k-{k[0]}" for k in seg.kinds) + (" multi" if len(seg.records) > 1 else "")
            title = "; ".join(f"{rid}: {records[rid]['label']}" for rid in seg.records)
            segs.append({"offset": seg.offset, "text": seg.text, "rids": " ".join(seg.records), "cls": cls, "title": title})
    rejected = []
    for rej in r.get("rejected") or []:
        record = rej.get("record") or {}
        rejected.append(
            {
                "kind": rej.get("kind") or "",
                "reason": rej.get("reason") or "",
                "evidence": str(record.get("evidence") or ""),
                "record": json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True),
            }
        )
    run = r.get("run") or {}
    usage = run.get("usage") or {}
    return {
        "anchor": f"art-{n}",
        "n": n,
        "id": info.get("id") or "",
        "key": sha,
        "source": info.get("source") or "",
        "url": info.get("url") or "",
        "title": r.get("title") or info.get("title") or "",
        "published": r.get("published_iso") or info.get("published") or "",
        "published_source": r.get("published_source") or "",
        "chars": info.get("chars"),
        "model": run.get("model") or "",
        "prompt_version": run.get("prompt_version") or "",
        "mode": run.get("mode") or "",
        "calls": run.get("calls"),
        "reasks": run.get("reasks"),
        "tokens": (usage.get("input_tokens") or 0) + (usage.get("output_tokens") or 0),
        "cost": run.get("cost_usd"),
        "chunks": r.get("chunks"),
        "segments": segs if text is not None else None,
        "text_from": where if text is not None else "",
        "text_missing": where if text is None else "",
        "cards": cards,
        "n_agreements": sum(c["kind"] == "agreement" for c in cards),
        "n_seizures": sum(c["kind"] == "seizure" for c in cards),
        "flagged": [c for c in cards if c["flags"]],
        "rejected": rejected,
        "records_json": json_for_script(records),
    }


def _articles(store: EventStore, texts: Texts, links: dict[tuple[str, str, str], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for n, raw in enumerate(_results(store), 1):
        yield _article_view(raw, n, texts, links)


# -- the page -----------------------------------------------------------------------------------------------------
def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(_ASSETS, name).read_text(encoding="utf-8")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _asset(name)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["plural"] = plural
    env.filters["thousands"] = lambda v: "" if v is None else f"{v:,}"
    return env


def _csp_hash(script: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script, and nothing else.

    With it, no inline event handler (`onerror=...`) and no other inline or external script
    can run, even if some markup escaped the escaping.
    """
    import base64

    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def _world_map(seizures: list[dict[str, Any]]) -> Markup:
    """The map: single seizures where they happened (totals over a period left out)."""
    from llm_extract.tasks.security_events.views.report_map import MapPoint, world_map_svg

    singles = [s for s in seizures if not s["total"]]
    points = [
        MapPoint(
            s["lat"], s["lon"], f"{s['place'] or s['country']}: " + ", ".join(d["name"] or d["written"] for d in s["drugs"]),
            s["kg"], s["anchor"], s["rid"],
        )
        for s in singles
        if s["lat"] is not None and s["lon"] is not None and s["geo"] != "country"
    ]  # fmt: skip
    kg_by_country: dict[str, float] = {}
    seen: set[str] = set()
    for s in singles:  # each canonical event once
        event = s["event"] or f"{s['anchor']}/{s['rid']}"
        if s["country"] and event not in seen:
            seen.add(event)
            kg_by_country[s["country"]] = kg_by_country.get(s["country"], 0.0) + (s["kg"] or 0.0)
    return world_map_svg(points, kg_by_country)


def _failures(store: EventStore) -> list[dict[str, Any]]:
    rows = store.connection.execute(
        "SELECT article_id, article_key, source, kind, message, attempts, last_output, at FROM failures ORDER BY id"
    ).fetchall()
    names = ("article_id", "article_key", "source", "kind", "message", "attempts", "last_output", "at")
    return [dict(zip(names, row, strict=True)) for row in rows]


def write_report(
    out_dir: Path,
    dest: Path | None = None,
    *,
    articles_root: Path | None = None,
    update_merge: bool = True,
) -> Path:
    """Write the HTML report of the output directory `out_dir`; return its path.

    `dest` defaults to `out_dir/report.html`. `articles_root` is where to look for the
    articles' texts when their `source` paths do not resolve from the current directory (a
    directory or file of inputs, as given to `llm-extract run`). With `update_merge` (the
    default) the canonical events are recomputed first when articles were added since the
    last merge, as `export` does. Raises `StoreError` when `out_dir` has no store. The file
    is written under a temporary name and renamed when complete.
    """
    from llm_extract.tasks.security_events.merge import merge_events, merge_is_current
    from llm_extract.tasks.security_events.views.export import stats

    out_dir = Path(out_dir)
    dest = Path(dest) if dest is not None else out_dir / REPORT_FILE
    from llm_extract.tasks.security_events.tables import SecurityEventsTables

    with EventStore(out_dir / _STORE_FILE, create=False, tables=SecurityEventsTables()) as store:
        if update_merge and not merge_is_current(store):
            merge_events(store)
        links = _event_links(store)
        texts = Texts(store, Path(articles_root) if articles_root is not None else None)
        ov = _pass_overview(store, links, texts)
        texts.scan(ov.unlocatable)
        st = stats(store)
        t = st.totals
        js = "\n" + _asset("report.js")
        modes = [m for (m,) in store.connection.execute("SELECT DISTINCT mode FROM articles ORDER BY mode")]
        context = {
            "title": f"llm-extract report: {out_dir.resolve().name}",
            "out_dir": str(out_dir),
            "totals": t,
            "flagged": ov.flagged,
            "events": t.agreement_events + t.seizure_events,
            "modes": modes,
            "replay_only": modes == ["replay"],
            "agreements": ov.agreements,
            "seizures": [s for s in ov.seizures if not s["total"]],
            "period_totals": [s for s in ov.seizures if s["total"]],
            "world_map": _world_map(ov.seizures),
            "statuses": sorted(ov.statuses),
            "groups": sorted(ov.groups),
            "rejected": ov.rejected,
            "failures": _failures(store),
            "timeline": timeline(store, ov),
            "bars": bars(st.by_drug_group),
            "articles": _articles(store, texts, links),
            "n_articles": ov.articles,
            "css": Markup(_asset("report.css")),  # our own files, without "</" (a test checks)
            "js": Markup(js),
            "script_hash": _csp_hash(js),
        }
        template = _environment().get_template("report.html.j2")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        try:
            with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                for chunk in template.generate(**context):
                    fh.write(chunk)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
    return dest
