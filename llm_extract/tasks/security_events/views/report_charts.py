"""The report's charts: the timeline of events and total kg by drug group, as SVG-ready data."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from llm_extract.runs.store import EventStore

__all__ = ["Overview", "bars", "timeline"]


def _num(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def _period(date_iso: str | None) -> tuple[date, date] | None:
    """The first and last day an ISO date of any precision (YYYY, YYYY-MM, YYYY-Www, day) covers."""
    if not date_iso:
        return None
    try:
        if re.fullmatch(r"\d{4}", date_iso):
            y = int(date_iso)
            return date(y, 1, 1), date(y, 12, 31)
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", date_iso):
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return start, start + timedelta(days=6)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", date_iso):
            y, mo = int(m[1]), int(m[2])
            start = date(y, mo, 1)
            end = date(y + (mo == 12), mo % 12 + 1, 1) - timedelta(days=1)
            return start, end
        day = date.fromisoformat(date_iso[:10])
        return day, day
    except ValueError:
        return None


# -- rows for the overview ---------------------------------------------------------------------------------
@dataclass
class Overview:
    agreements: list[dict[str, Any]] = field(default_factory=list)
    seizures: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)
    flagged: int = 0
    articles: int = 0
    anchors: dict[tuple[str, str], str] = field(default_factory=dict)  # (sha, record id) -> art-N
    unlocatable: set[str] = field(default_factory=set)


# -- charts ----------------------------------------------------------------------------------------------------
_TL_WIDTH, _TL_LEFT, _TL_RIGHT, _TL_ROW, _TL_TOP = 960, 130, 20, 14, 28


def timeline(store: EventStore, ov: Overview) -> dict[str, Any]:
    """Canonical events placed on a time axis (else, before any merge, the records themselves)."""
    db = store.connection
    events: list[dict[str, Any]] = []
    for cid, kind, date_iso, precision, summary, n_mentions, key, rid in db.execute(
        "SELECT id, kind, date_iso, date_precision, summary, n_mentions, rep_article_key, rep_record_id"
        " FROM canonical_events ORDER BY date_iso, id"
    ):
        events.append({"id": cid, "kind": kind, "date_iso": date_iso, "precision": precision, "summary": summary,
                       "mentions": n_mentions, "anchor": ov.anchors.get((key, rid), ""), "rid": rid})  # fmt: skip
    if not events:  # no merge yet: one point per record
        for kind, rows in (("agreement", ov.agreements), ("seizure", [s for s in ov.seizures if not s.get("total")])):
            for row in rows:
                events.append({"id": row["rid"], "kind": kind, "date_iso": row["date_key"], "precision": None,
                               "summary": row["rid"], "mentions": 1, "anchor": row["anchor"], "rid": row["rid"]})  # fmt: skip
    dated = [(e, p) for e in events if (p := _period(e["date_iso"])) is not None]
    undated = len(events) - len(dated)
    if not dated:
        return {
            "points": [],
            "ticks": [],
            "lanes": [],
            "height": 0,
            "width": _TL_WIDTH,
            "undated": undated,
            "total": len(events),
        }
    lo = min(p[0] for _, p in dated)
    hi = max(p[1] for _, p in dated)
    lo, hi = date(lo.year, 1, 1), date(hi.year, 12, 31)
    span = max((hi - lo).days, 1)
    inner = _TL_WIDTH - _TL_LEFT - _TL_RIGHT

    def x(d: date) -> float:
        return round(_TL_LEFT + inner * (d - lo).days / span, 1)

    years = hi.year - lo.year + 1
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 1000) if years / s <= 12)
    ticks = [{"x": x(date(y, 1, 1)), "label": str(y)} for y in range(lo.year, hi.year + 1) if (y - lo.year) % step == 0]
    if years == 1:
        ticks += [{"x": x(date(lo.year, m, 1)), "label": date(lo.year, m, 1).strftime("%b")} for m in range(2, 13)]
    points: list[dict[str, Any]] = []
    lanes: list[dict[str, Any]] = []
    y0 = _TL_TOP
    for kind, label in (("agreement", "agreements"), ("seizure", "seizures")):
        mine = sorted(((e, p) for e, p in dated if e["kind"] == kind), key=lambda ep: (ep[1][0], ep[0]["id"]))
        rows_end: list[float] = []
        placed = []
        for e, (start, end) in mine:
            x1, x2 = x(start), x(end)
            slot = next((i for i, last in enumerate(rows_end) if last + 8 <= x1), None)
            if slot is None:
                if len(rows_end) < 12:
                    rows_end.append(-1e9)
                    slot = len(rows_end) - 1
                else:
                    slot = min(range(len(rows_end)), key=lambda i: rows_end[i])
            rows_end[slot] = max(x2, x1 + 6)
            placed.append((e, x1, x2, slot))
        n_rows = max(len(rows_end), 1)
        lanes.append({"label": label, "y": y0, "height": n_rows * _TL_ROW, "kind": kind, "count": len(mine)})
        for e, x1, x2, slot in placed:
            cy = y0 + slot * _TL_ROW + _TL_ROW / 2
            points.append({**e, "x1": x1, "x2": x2, "cx": round((x1 + x2) / 2, 1), "cy": cy, "range": x2 - x1 > 3,
                           "r": min(4 + (e["mentions"] or 1) - 1, 8)})  # fmt: skip
        y0 += n_rows * _TL_ROW + 10
    return {"points": points, "ticks": ticks, "lanes": lanes, "height": y0 + 4, "width": _TL_WIDTH,
            "axis_y": y0 - 6, "undated": undated, "total": len(events), "left": _TL_LEFT}  # fmt: skip


def bars(by_group: Iterable[Any]) -> dict[str, Any]:
    rows = sorted(((g.group, g.kg) for g in by_group if g.kg and g.kg > 0), key=lambda gk: (-gk[1], gk[0]))
    width, left, right, bar = 960, 130, 110, 22
    top = max((kg for _, kg in rows), default=0.0)
    out = []
    for i, (group, kg) in enumerate(rows):
        w = (width - left - right) * kg / top if top else 0
        short = group if len(group) <= 18 else group[:17] + "…"
        y, w = 6 + i * (bar + 6), round(max(w, 1), 1)
        out.append({"group": group, "short": short, "kg": kg, "label": f"{_num(kg)} kg", "y": y, "w": w})
    return {"rows": out, "width": width, "left": left, "bar": bar, "height": 12 + len(rows) * (bar + 6)}
