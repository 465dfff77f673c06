"""The same event across articles: canonical agreements and seizures.

The same agreement (or seizure) reported by several articles becomes one **canonical
event** linked to every mention (table `event_mentions`). `merge_events(store)` recomputes
them from scratch over every record in the store; the result depends only on the records,
never on the order in which articles were added.

**Each mention gets a period** (whole days, inclusive) in which the event took place:

- its `date_iso` when it has one: the day, the ISO week, the month or the year;
- an undated agreement that is news (not background): the *news window*, the 7 days before
  the article's publication date (`published_iso`) up to it, so two undated reports match
  only when published within 7 days of each other;
- an undated background agreement: any time up to the article's publication;
- an undated seizure: the 30 days before the publication up to it;
- with no publication date either: any time.

A period is *precise* when it spans at most 40 days for an agreement (a day, a week, a month,
the news window of an article dated to the day or month) or 7 days for a seizure (a day or
a week); *vague* when it is bounded but longer (a year, a month for a seizure); *open*
otherwise.

**Two mentions match** when they are in different articles, both grounded (evidence found
in the article) and:

- agreements: the same set of parties (each party's ISO3 country, else its casefolded name),
  the same `instrument_type`, the same status family (*concluded*: signed, renewed,
  implemented; *intent*: agreed, discussed, planned), and overlapping periods (for two dates:
  equal at the coarser precision of the two). The background flag does not matter: a
  background mention of a concluded agreement links to the agreement it recalls, and to the
  report of its signing when there is one;
- seizures: the same country (a seizure with no known country never matches), the same set
  of drugs (canonical drug name, else the drug as written), each drug's quantity within 5 %
  (kg for masses, else the count or litres in the same unit kind), and periods at most 2 days
  apart; when either date is unknown the quantities must be equal exactly. A seizure with no
  stated quantity never matches another article's (dates alone are not evidence of the same
  event), and totals over a period (`is_total`) are statistics, never merged into events.

**Grouping**, within a bucket of mentions that could match (agreements: parties,
instrument type, status family; seizures: country, drugs):

1. mentions with *precise* periods are grouped by union-find over matching pairs (so
   matching is transitive among them);
2. each mention with a *vague* period joins the group it matches a member of, when exactly
   one group has such a member (and that group has no mention from its own article);
   otherwise it stays apart, and such mentions are grouped among themselves by union-find;
3. the same for mentions with *open* periods, against every group formed so far.

A vague or open mention (a year, "the MoU signed earlier") therefore never bridges two
events that its vagueness would make indistinguishable, and is never linked when it could
recall more than one event.

**Canonical ids** are stable for the same data: `agr-` or `sei-` and the first 12 hex
digits of the sha256 of the earliest mention's kind, article key and record id (mentions
ordered by publication date, article key, then record order in the article). The
**representative** mention, whose values summarise the event (date, status, quantities),
is the one with the most precise date (ties: a non-background mention, then the earliest).
`first_date_iso` is the earliest date any mention gives.

**Cost.** Mentions are only compared within their bucket, and within a bucket only where
periods can meet (a sweep over periods sorted by start), so the merge stays near-linear:
about 11 s for 50,000 articles (190,000 records, synthetic and denser than real news) on one
core, mostly reading and writing the store. `merge_is_current(store)` tells whether
articles were added since the last merge.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from llm_extract.runs.store import EventStore
from llm_extract.tasks.security_events.normalize import PartialDate

__all__ = [
    "AGREEMENT_NEWS_WINDOW_DAYS",
    "AGREEMENT_PRECISE_DAYS",
    "CONCLUDED",
    "INTENT",
    "MergeSummary",
    "SEIZURE_DATE_SLACK_DAYS",
    "SEIZURE_NEWS_WINDOW_DAYS",
    "SEIZURE_PRECISE_DAYS",
    "SEIZURE_TOLERANCE",
    "merge_events",
    "merge_is_current",
    "status_family",
]

AGREEMENT_NEWS_WINDOW_DAYS = 7
AGREEMENT_PRECISE_DAYS = 40
SEIZURE_NEWS_WINDOW_DAYS = 30
SEIZURE_PRECISE_DAYS = 7
SEIZURE_DATE_SLACK_DAYS = 2
SEIZURE_TOLERANCE = 0.05

CONCLUDED = frozenset({"signed", "renewed", "implemented"})
INTENT = frozenset({"agreed", "discussed", "planned"})

_OPEN_START = -(10**9)
_OPEN_END = 10**9
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3, None: 4}
_MERGE_STATE = "merge_state"

Kind = Literal["agreement", "seizure"]
Level = int  # 0 precise, 1 vague, 2 open


class MergeSummary(BaseModel):
    """What `merge_events` found."""

    agreements: int = 0
    seizures: int = 0
    agreement_events: int = 0
    seizure_events: int = 0
    merged_events: int = 0
    """Canonical events with mentions from more than one article."""
    attached: int = 0
    """Vague or open mentions linked to the one event they match."""

    @property
    def canonical(self) -> int:
        """Canonical events of both kinds."""
        return self.agreement_events + self.seizure_events

    @property
    def mentions(self) -> int:
        """Records of both kinds."""
        return self.agreements + self.seizures


def status_family(status: str) -> str:
    """`concluded` (signed, renewed, implemented) or `intent` (agreed, discussed, planned)."""
    return "concluded" if status in CONCLUDED else "intent"


# -- mentions ---------------------------------------------------------------------------------
@dataclass(slots=True)
class _Mention:
    kind: Kind
    article_key: str
    record_id: str
    ordinal: int
    published_iso: str | None
    is_background: bool
    date_iso: str | None
    date_precision: str | None
    bucket: tuple[Any, ...] | None  # None: never matches anything
    start: int = 0
    end: int = 0
    level: Level = 0
    # agreements
    countries: list[str] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    instrument_type: str | None = None
    status: str | None = None
    # seizures
    quantities: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    drugs: list[str] = field(default_factory=list)
    total_kg: float | None = None
    link: str = "representative"

    @property
    def order(self) -> tuple[Any, ...]:
        return (self.published_iso is None, self.published_iso or "", self.article_key, self.ordinal)

    @property
    def dated(self) -> bool:
        return self.date_iso is not None


class _Days:
    """ISO partial date → (first day, last day) as ordinals; cached for one merge run."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, int] | None] = {}

    def __call__(self, iso: str | None) -> tuple[int, int] | None:
        if iso is None:
            return None
        if iso not in self._cache:
            try:
                pd = PartialDate.from_iso(iso)
                self._cache[iso] = (pd.as_date().toordinal(), pd.last_date().toordinal())
            except ValueError:
                self._cache[iso] = None
        return self._cache[iso]


def _period(m: _Mention, days: _Days, window: int, precise: int) -> None:
    own, published = days(m.date_iso), days(m.published_iso)
    if own is not None:
        m.start, m.end = own
    elif published is None:
        m.start, m.end = _OPEN_START, _OPEN_END
    elif m.is_background:
        m.start, m.end = _OPEN_START, published[1]
    else:
        m.start, m.end = published[0] - window, published[1]
    if m.start == _OPEN_START or m.end == _OPEN_END:
        m.level = 2
    else:
        m.level = 0 if m.end - m.start + 1 <= precise else 1


def _load_agreements(db: Any, days: _Days) -> list[_Mention]:
    parties: dict[tuple[str, str], list[tuple[str, str | None]]] = defaultdict(list)
    for key, rid, name, iso3 in db.execute(
        "SELECT article_key, record_id, name, iso3 FROM agreement_parties ORDER BY article_key, record_id, ordinal"
    ):
        parties[(key, rid)].append((name, iso3))
    mentions = []
    for key, rid, ordinal, instrument, status, date_iso, precision, background, grounding, countries, published in db.execute(
        "SELECT a.article_key, a.record_id, a.ordinal, a.instrument_type, a.status, a.date_iso, a.date_precision,"
        " a.is_background, a.grounding, a.countries, ar.published_iso"
        " FROM agreements a JOIN articles ar ON ar.key = a.article_key"
    ):
        who = parties.get((key, rid), [])
        party_keys = frozenset(iso3 or " ".join(name.casefold().split()) for name, iso3 in who)
        family = status_family(status)
        grounded = grounding != "ungrounded" and bool(party_keys)
        m = _Mention(
            kind="agreement",
            article_key=key,
            record_id=rid,
            ordinal=ordinal,
            published_iso=published,
            is_background=bool(background),
            date_iso=date_iso,
            date_precision=precision,
            bucket=(tuple(sorted(party_keys)), instrument, family) if grounded else None,
            countries=json.loads(countries),
            parties=[name for name, _ in who],
            instrument_type=instrument,
            status=status,
        )
        _period(m, days, AGREEMENT_NEWS_WINDOW_DAYS, AGREEMENT_PRECISE_DAYS)
        mentions.append(m)
    return mentions


def _item_key(drug: str, drug_name: str | None) -> str:
    return drug_name if drug_name and drug_name != "unspecified" else " ".join(drug.casefold().split())


def _load_seizures(db: Any, days: _Days) -> list[_Mention]:
    items: dict[tuple[str, str], dict[str, tuple[str, float | None]]] = defaultdict(dict)
    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, rid, drug, quantity, unit, drug_name, unit_kind, kg, litres, count in db.execute(
        "SELECT article_key, record_id, drug, quantity, unit, drug_name, unit_kind, kg, litres, count"
        " FROM seizure_items ORDER BY article_key, record_id, ordinal"
    ):
        ik = _item_key(drug, drug_name)
        if unit_kind == "mass":
            kind, value = "kg", kg
        elif unit_kind == "volume":
            kind, value = "l", litres
        elif unit_kind == "count":
            kind, value = "count", count
        else:
            kind, value = f"unit:{(unit or '').casefold()}", quantity
        record = items[(key, rid)]
        if ik in record:  # the same drug twice in a seizure: add up, in the same unit kind
            old_kind, old_value = record[ik]
            if old_kind == kind and old_value is not None and value is not None:
                value = old_value + value
            else:
                kind, value = "mixed", None
        record[ik] = (kind, value)
        if ik not in names[(key, rid)]:
            names[(key, rid)].append(ik)
    mentions = []
    for key, rid, ordinal, country, date_iso, precision, total_kg, grounding, published in db.execute(
        "SELECT s.article_key, s.record_id, s.ordinal, s.country, s.date_iso, s.date_precision, s.total_kg,"
        " s.grounding, ar.published_iso FROM seizures s JOIN articles ar ON ar.key = s.article_key"
        " WHERE NOT s.is_total"  # a total over a period is a statistic, not an event: never merged
    ):
        quantities = items.get((key, rid), {})
        # a seizure without any stated quantity has nothing to match on but its date: it stays apart
        measured = any(value is not None for _, value in quantities.values())
        grounded = grounding != "ungrounded" and country is not None and measured
        m = _Mention(
            kind="seizure",
            article_key=key,
            record_id=rid,
            ordinal=ordinal,
            published_iso=published,
            is_background=False,
            date_iso=date_iso,
            date_precision=precision,
            bucket=(country, tuple(sorted(quantities))) if grounded else None,
            countries=[country] if country else [],
            quantities=quantities,
            drugs=names.get((key, rid), []),
            total_kg=total_kg,
        )
        _period(m, days, SEIZURE_NEWS_WINDOW_DAYS, SEIZURE_PRECISE_DAYS)
        mentions.append(m)
    return mentions


# -- matching -----------------------------------------------------------------------------------
def _agreements_match(a: _Mention, b: _Mention) -> bool:
    return a.article_key != b.article_key and a.start <= b.end and b.start <= a.end


def _close(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if tolerance == 0.0:
        return math.isclose(a, b, rel_tol=1e-9)
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def _seizures_match(a: _Mention, b: _Mention) -> bool:
    slack = SEIZURE_DATE_SLACK_DAYS
    if a.article_key == b.article_key or a.start > b.end + slack or b.start > a.end + slack:
        return False
    tolerance = SEIZURE_TOLERANCE if a.dated and b.dated else 0.0
    for drug, (kind, value) in a.quantities.items():
        other_kind, other_value = b.quantities[drug]  # same bucket: same drugs
        if kind != other_kind or kind == "mixed" or not _close(value, other_value, tolerance):
            return False
    return True


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _components(
    members: Sequence[_Mention], match: Callable[[_Mention, _Mention], bool], slack: int, overlap_only: bool
) -> list[list[_Mention]]:
    """Union-find over matching pairs, found by a sweep over periods sorted by start.

    `overlap_only`: `match` is "periods meet and the articles differ" (agreements). Then the
    periods still open at a mention's start all meet each other and it (a clique), so they
    are already one group as soon as they come from two articles: one union per mention
    suffices, and the sweep is O(n log n). Otherwise every pair whose periods meet is tried.
    """
    ordered = sorted(members, key=lambda m: (m.start, m.order))
    uf = _UnionFind(len(ordered))
    if overlap_only:
        active: list[tuple[int, int]] = []  # heap of (end, index)
        per_article: dict[str, list[int]] = defaultdict(list)  # active indexes by article
        for i, b in enumerate(ordered):
            while active and active[0][0] + slack < b.start:
                _, j = heapq.heappop(active)
                gone = ordered[j].article_key
                per_article[gone].remove(j)
                if not per_article[gone]:
                    del per_article[gone]
            others = [a for a in per_article if a != b.article_key]
            if len(per_article) >= 2:  # the active ones are one group already
                uf.union(i, per_article[others[0]][0])
            elif others:  # all from one other article: possibly separate groups
                for j in per_article[others[0]]:
                    uf.union(i, j)
            heapq.heappush(active, (b.end, i))
            per_article[b.article_key].append(i)
    else:
        for i, a in enumerate(ordered):
            for j in range(i + 1, len(ordered)):
                b = ordered[j]
                if b.start > a.end + slack:
                    break
                if uf.find(i) != uf.find(j) and match(a, b):
                    uf.union(i, j)
    groups: dict[int, list[_Mention]] = defaultdict(list)
    for i, m in enumerate(ordered):
        groups[uf.find(i)].append(m)
    return list(groups.values())


@dataclass
class _Group:
    members: list[_Mention]
    articles: set[str]
    min_start: int
    max_end: int

    @classmethod
    def of(cls, members: list[_Mention]) -> _Group:
        return cls(members, {m.article_key for m in members}, min(m.start for m in members), max(m.end for m in members))

    def add(self, m: _Mention) -> None:
        self.members.append(m)
        self.articles.add(m.article_key)
        self.min_start = min(self.min_start, m.start)
        self.max_end = max(self.max_end, m.end)


def _cluster_bucket(
    members: Sequence[_Mention], match: Callable[[_Mention, _Mention], bool], slack: int, overlap_only: bool
) -> tuple[list[list[_Mention]], int]:
    """Group one bucket's mentions: precise by union-find, then vague, then open (see module doc)."""
    by_level: dict[int, list[_Mention]] = defaultdict(list)
    for m in members:
        by_level[m.level].append(m)
    groups = [_Group.of(c) for c in _components(by_level[0], match, slack, overlap_only)]
    attached = 0
    for level in (1, 2):
        # a mention of this level attaches to the groups formed before it (never to its peers)
        settled = sorted(groups, key=lambda g: (g.min_start, g.members[0].order))
        starts = [g.min_start for g in settled]
        widest = max((g.max_end - g.min_start for g in settled), default=0)
        leftovers: list[_Mention] = []
        pending: list[tuple[_Group, _Mention]] = []
        for m in by_level[level]:
            found: _Group | None = None
            ambiguous = False
            for k in range(bisect_right(starts, m.end + slack) - 1, -1, -1):
                g = settled[k]
                if g.min_start < m.start - slack - widest:
                    break  # no earlier group can reach m
                if g.max_end + slack < m.start or m.article_key in g.articles:
                    continue
                if any(match(m, other) for other in g.members):
                    if found is not None:
                        ambiguous = True
                        break
                    found = g
            if found is not None and not ambiguous:
                pending.append((found, m))
            else:
                leftovers.append(m)
        for g, m in pending:  # attached after the scan, so that no mention sees another's
            m.link = "attached"
            g.add(m)
            attached += 1
        groups.extend(_Group.of(c) for c in _components(leftovers, match, slack, overlap_only))
    return [g.members for g in groups], attached


# -- canonical events -----------------------------------------------------------------------------
def _canonical_id(first: _Mention) -> str:
    digest = hashlib.sha256(f"{first.kind}|{first.article_key}|{first.record_id}".encode()).hexdigest()
    return ("agr-" if first.kind == "agreement" else "sei-") + digest[:12]


def _representative(members: Sequence[_Mention]) -> _Mention:
    return min(members, key=lambda m: (_PRECISION_RANK.get(m.date_precision, 4), m.is_background, m.level, m.order))


def _first_date(members: Iterable[_Mention]) -> str | None:
    dated = [m for m in members if m.dated]
    if not dated:
        return None
    return min(dated, key=lambda m: (m.start, _PRECISION_RANK.get(m.date_precision, 4), m.order)).date_iso


def _summary(rep: _Mention, n_mentions: int, n_articles: int) -> str:
    if rep.kind == "agreement":
        who = "–".join(rep.countries) if rep.countries else " / ".join(rep.parties)
        head = f"{who} {rep.instrument_type} ({rep.status})"
    else:
        quantity = f"{rep.total_kg:,.6g} kg " if rep.total_kg is not None else ""
        head = f"{rep.countries[0] if rep.countries else '?'}: {quantity}{', '.join(rep.drugs)}"
    when = f", {rep.date_iso}" if rep.date_iso else ""
    mentions = f"{n_mentions} mention" + ("" if n_mentions == 1 else "s")
    articles = f"{n_articles} article" + ("" if n_articles == 1 else "s")
    return f"{head}{when}; {mentions} in {articles}"


def _event_rows(
    groups: Iterable[list[_Mention]],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    events, links, merged = [], [], 0
    for members in groups:
        members.sort(key=lambda m: m.order)
        first, rep = members[0], _representative(members)
        cid = _canonical_id(first)
        articles = {m.article_key for m in members}
        merged += len(articles) > 1
        published = sorted(m.published_iso for m in members if m.published_iso)
        events.append(
            (
                cid,
                rep.kind,
                rep.article_key,
                rep.record_id,
                rep.date_iso,
                rep.date_precision,
                _first_date(members),
                published[0] if published else None,
                published[-1] if published else None,
                json.dumps(rep.countries),
                json.dumps(rep.parties, ensure_ascii=False) if rep.kind == "agreement" else None,
                rep.instrument_type,
                rep.status,
                status_family(rep.status) if rep.status else None,
                json.dumps(rep.drugs, ensure_ascii=False) if rep.kind == "seizure" else None,
                rep.total_kg,
                len(members),
                len(articles),
                sum(m.is_background for m in members),
                _summary(rep, len(members), len(articles)),
            )
        )
        for m in members:
            link = "representative" if m is rep else ("attached" if m.link == "attached" else "matched")
            links.append((cid, m.kind, m.article_key, m.record_id, int(m.is_background), link))
    return events, links, merged


def _cluster(
    mentions: list[_Mention], match: Callable[[_Mention, _Mention], bool], slack: int, overlap_only: bool
) -> tuple[list[list[_Mention]], int]:
    buckets: dict[tuple[Any, ...], list[_Mention]] = defaultdict(list)
    groups: list[list[_Mention]] = []
    for m in mentions:
        if m.bucket is None:
            groups.append([m])
        else:
            buckets[m.bucket].append(m)
    attached = 0
    for bucket in sorted(buckets):
        found, n = _cluster_bucket(buckets[bucket], match, slack, overlap_only)
        groups.extend(found)
        attached += n
    return groups, attached


def merge_events(store: EventStore) -> MergeSummary:
    """Recompute every canonical event from the records in `store`, and write them.

    Replaces the `canonical_events` and `event_mentions` tables in one transaction, and
    records the state of the store they were computed on (see `merge_is_current`).
    Deterministic: the same records give the same events, ids and links, whatever the order
    in which the articles were added.
    """
    from .tables import ensure_tables

    ensure_tables(store)
    days = _Days()
    with store.snapshot() as db:
        state = store.data_state()
        agreements = _load_agreements(db, days)
        seizures = _load_seizures(db, days)
    agreement_groups, attached_a = _cluster(agreements, _agreements_match, 0, overlap_only=True)
    seizure_groups, attached_s = _cluster(seizures, _seizures_match, SEIZURE_DATE_SLACK_DAYS, overlap_only=False)
    events_a, links_a, merged_a = _event_rows(agreement_groups)
    events_s, links_s, merged_s = _event_rows(seizure_groups)
    events = sorted(events_a + events_s)
    links = sorted(links_a + links_s, key=lambda row: (row[1], row[2], row[3]))
    with store.transaction() as db:
        db.execute("DELETE FROM event_mentions")
        db.execute("DELETE FROM canonical_events")
        db.executemany(f"INSERT INTO canonical_events VALUES ({', '.join('?' * 20)})", events)
        db.executemany("INSERT INTO event_mentions VALUES (?, ?, ?, ?, ?, ?)", links)
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_MERGE_STATE, state))
    return MergeSummary(
        agreements=len(agreements),
        seizures=len(seizures),
        agreement_events=len(events_a),
        seizure_events=len(events_s),
        merged_events=merged_a + merged_s,
        attached=attached_a + attached_s,
    )


def merge_is_current(store: EventStore) -> bool:
    """Whether the canonical events were computed on the store as it is now."""
    return store.get_meta(_MERGE_STATE) == store.data_state()
