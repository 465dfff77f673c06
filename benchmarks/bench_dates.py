"""Date and period resolution as the pipeline applies it, on date phrases from real news reports.

Run: ``python benchmarks/bench_dates.py [--data PATH] [--repeat 3] [--all]`` (from the repository root).

The data, ``benchmarks/data/dates.jsonl``, is 623 date and period phrases copied as written
from drug-seizure reports of 53 countries (English, Spanish, Portuguese, French, German,
Italian, Indonesian, Bulgarian, Telugu), each with the article's dateline (``null`` for 15
absolute phrases whose page date was not visible), the expected inclusive ``start`` and
``end`` days, a ``precision`` (day, week, month, quarter, half, year, range), the country of
the seizure, and its provenance (``outlet``, ``url``, ``note``). See
``benchmarks/data/README.md`` for the rules the labels follow.

What is measured: ``dates.resolve(text, anchor, "caller", country=country)``, the call
``build.py`` makes for a record's date, with ``anchor = PartialDate.of(dateline)`` (what it
makes of a caller's publication date) and the seizure's country (for fiscal years).

Scoring, per row: *exact* when ``(start, end)`` equals the gold range; *within a day* when
both ends are at most one day off; *precision* when ``DateValue.precision`` equals the gold
precision. Single days (gold precision ``day``; the weekday rule: the latest such weekday on
or before the dateline) and periods (everything else) are reported apart.

Conventions. The periods module chose, and documents, rules that differ from the labels on
some rows. A row whose range differs ONLY in one of these ways is counted apart, not as a
failure of the resolver (it is not counted as exact either):

* ``cut at the dateline``: a calendar unit that contains the dateline ("this year", "this
  week", "in 2019" in a 2019 article, "in March" in a March article, "the first six months
  of this year") ends on the dateline ("an article reports what has happened"); the labels
  give the whole unit.
* ``through the dateline``: "earlier this week", "in the last week", "in the last two days"
  run up to and including the dateline; the labels stop the day before.
* ``parts of a period``: early / mid / late, start / middle / end ("mid-2019", "at the start
  of this week") use the module's bounds (mid-year = May–August, start of a week =
  Monday–Wednesday); the labels use others (June–July, Monday–Tuesday).

and for precision only: a unit cut at the dateline keeps the unit's precision ("so far this
year" is ``year``; the labels say ``range``), and fiscal or statistical years are ``year``
(the labels say ``range``).

Failures (rows neither exact nor a convention) are printed grouped by the phrase's pattern
(the first that applies: other language, numeric date, a date in brackets, time of day,
weekday, today / yesterday, "N ago", fiscal year, since / so far, last / this / past unit,
part of a period, holiday or event, month and day, year, other), each with whether the
resolver gave nothing (``date_unresolved``) or another range.

Time per phrase: median of ``--repeat`` passes over all rows. The script exits 0 whatever
the figures (it is a measurement, not a gate).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llm_extract.tasks.security_events.dates import DateValue, resolve  # noqa: E402
from llm_extract.tasks.security_events.normalize import PartialDate  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "dates.jsonl"
ONE_DAY = timedelta(days=1)

CONVENTIONS = ("cut at the dateline", "through the dateline", "parts of a period")
PRECISION_CONVENTIONS = ("cut unit keeps its precision", "fiscal year is 'year'")

_WEEKDAY = re.compile(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day|\b(?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo)\b|"
    r"\b(?:segunda|ter[cç]a|quarta|quinta|sexta)(?:-feira)?\b|\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b|"
    r"\b(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)\b|\b(?:senin|selasa|rabu|kamis|jumat|sabtu|minggu)\b",
    re.IGNORECASE,
)
_FOREIGN = re.compile(
    r"\b(?:ayer|hoy|anoche|ontem|hoje|nesta|neste|esta|este|el|la|las|los|del|de|pasado|pasada|desde|hace|durante|"
    r"jornada|año|ano|mes|semana|até|em|en|dans|le|dernier|derni[eè]re|année|depuis|im|vom|vergangenen|letzten|"
    r"jahr|woche|anfang|ende|pada|lalu|tahun|dall|inizio|anno|scorso|enero|febrero|marzo|abril|mayo|junio|julio|"
    r"agosto|septiembre|octubre|noviembre|diciembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|"
    r"novembro|dezembro|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)\b|"
    r"(?-i:\bam [A-Z])|[^\x00-\u024f\u2010-\u205f]",  # German "am Mittwoch", not "8 am"
    re.IGNORECASE,
)
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("other language", _FOREIGN),
    ("numeric date", re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b(?![-/]\d)")),
    ("a date in brackets", re.compile(r"[(\[]\s*(?:\d|[A-Z][a-z]{2})")),
    (
        "time of day",
        re.compile(
            r"\b(?:\d{1,2}[:.]\d{2}|\d{1,2}\s*(?:a\.?m|p\.?m)\b\.?|morning|night|dawn|evening|afternoon|early hours|"
            r"midnight|noon|tonight|overnight)",
            re.IGNORECASE,
        ),
    ),
    ("weekday", _WEEKDAY),
    ("today / yesterday", re.compile(r"\b(?:today|yesterday|tomorrow)\b", re.IGNORECASE)),
    ("N ago / before", re.compile(r"\b(?:ago|before|earlier|later|previous|that year)\b", re.IGNORECASE)),
    ("fiscal year", re.compile(r"fiscal|financial|\bFY|\bBS\b|iranian|nowruz|\b\d{4}\s*[-/]\s*\d{2}\b", re.IGNORECASE)),
    ("since / so far", re.compile(r"\b(?:since|so far|to date|until|till|through)\b", re.IGNORECASE)),
    (
        "last / this / past unit",
        re.compile(
            r"\b(?:last|this|past|previous|current|next|coming)\b.*\b(?:days?|weeks?|weekend|months?|years?|hours?|"
            r"quarter|half)\b",
            re.IGNORECASE,
        ),
    ),
    ("part of a period", re.compile(r"\b(?:early|mid|middle|late|start|beginning|end|first|second)\b", re.IGNORECASE)),
    ("holiday or event", re.compile(r"christmas|eve\b|new year|ramadan|eid|diwali|election|poll|ahead of", re.IGNORECASE)),
    (
        "month and day",
        re.compile(
            r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.{0,2}\s+\d{1,2}\b|"
            r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
            re.IGNORECASE,
        ),
    ),
    ("year", re.compile(r"\b(?:19|20)\d{2}\b")),
)
_PARTS = re.compile(r"\b(?:early|mid|middle|late|start|beginning|end)\b", re.IGNORECASE)
_FISCAL = re.compile(r"fiscal|financial|\bFY|\bBS\b|iranian|year (?:to|ending)|\b\d{4}\s*[-/]\s*\d{2}\b", re.IGNORECASE)


def load(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def anchor_of(row: dict[str, object]) -> PartialDate | None:
    dateline = row["dateline"]
    return PartialDate.of(date.fromisoformat(str(dateline))) if dateline else None


def resolve_row(row: dict[str, object]) -> DateValue:
    anchor = anchor_of(row)
    country = row["country"] if isinstance(row["country"], str) else None
    return resolve(str(row["text"]), anchor, "caller" if anchor else None, country=country)


def pattern_of(text: str) -> str:
    for name, regex in PATTERNS:
        if regex.search(text):
            return name
    return "other"


@dataclass
class Judged:
    row: dict[str, object]
    got: DateValue
    start: date
    end: date
    exact: bool
    within_day: bool
    precision: bool
    convention: str | None  # the range differs only by a documented convention
    precision_convention: str | None

    @property
    def single(self) -> bool:
        return self.row["precision"] == "day"


def convention_of(row: dict[str, object], got: DateValue, start: date, end: date) -> str | None:
    if got.start is None or got.end is None or (got.start, got.end) == (start, end):
        return None
    dateline = date.fromisoformat(str(row["dateline"])) if row["dateline"] else None
    if dateline is not None and got.start == start:
        if got.end == dateline and end > dateline:
            return "cut at the dateline"
        if got.end == dateline and end == dateline - ONE_DAY:
            return "through the dateline"
    if _PARTS.search(str(row["text"])) and got.start <= end and start <= got.end:
        return "parts of a period"
    return None


def precision_convention_of(row: dict[str, object], got: DateValue) -> str | None:
    if got.precision == row["precision"] or row["precision"] != "range" or got.start is None:
        return None
    dateline = date.fromisoformat(str(row["dateline"])) if row["dateline"] else None
    if got.precision == "year" and _FISCAL.search(str(row["text"])):
        return "fiscal year is 'year'"
    if got.precision in ("week", "month", "quarter", "half", "year") and dateline is not None and got.end == dateline:
        return "cut unit keeps its precision"
    return None


def judge(row: dict[str, object], got: DateValue) -> Judged:
    start, end = date.fromisoformat(str(row["start"])), date.fromisoformat(str(row["end"]))
    exact = (got.start, got.end) == (start, end)
    within = got.start is not None and got.end is not None
    within = within and abs((got.start - start).days) <= 1 and abs((got.end - end).days) <= 1  # type: ignore[operator]
    return Judged(
        row, got, start, end, exact, within, got.precision == row["precision"],
        None if exact else convention_of(row, got, start, end), precision_convention_of(row, got),
    )  # fmt: skip


def time_per_phrase(rows: list[dict[str, object]], repeat: int) -> tuple[float, float]:
    """(first call in ms, median µs per phrase)."""
    started = time.perf_counter()
    resolve("so far this year", PartialDate.of(date(2024, 6, 5)), "caller", country="IND")
    first = (time.perf_counter() - started) * 1e3
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        for row in rows:
            resolve_row(row)
        passes.append((time.perf_counter() - started) / len(rows))
    return first, statistics.median(passes) * 1e6


def _pct(right: int, n: int) -> str:
    return f"{right:>4}/{n:<4} {100 * right / n:6.2f} %" if n else "   -/0          -  "


def _line(j: Judged) -> str:
    got = j.got
    answer = "nothing (date_unresolved)" if got.start is None else f"{got.start}..{got.end} {got.precision}"
    gold = f"{j.start}..{j.end} {j.row['precision']}"
    note = f"  [{str(j.row['note'])[:60]}]" if j.row.get("note") else ""
    return f"    {str(j.row['text'])[:58]!r:<60} dateline {j.row['dateline']} {j.row['country']}: gold {gold} -> {answer}{note}"


def _table(title: str, part: list[Judged]) -> None:
    n = len(part)
    conv = sum(j.exact or j.convention is not None for j in part)
    prec_conv = sum(j.precision or j.precision_convention is not None for j in part)
    print(
        f"{title:<30} {n:>5}  {_pct(sum(j.exact for j in part), n)}  {_pct(conv, n)}  "
        f"{_pct(sum(j.within_day for j in part), n)}  {_pct(sum(j.precision for j in part), n)}  "
        f"{_pct(prec_conv, n)}  {sum(j.got.start is None for j in part):>5}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="JSONL of date phrases (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="timing passes (default: %(default)s)")
    parser.add_argument("--all", action="store_true", help="print every failure, not only the first 8 per pattern")
    args = parser.parse_args()

    rows = load(args.data)
    first_ms, per_us = time_per_phrase(rows, max(1, args.repeat))
    judged = [judge(row, resolve_row(row)) for row in rows]
    n = len(judged)
    singles = [j for j in judged if j.single]
    periods = [j for j in judged if not j.single]
    weekday = [j for j in singles if _WEEKDAY.search(str(j.row["text"]))]
    print(
        f"data: {args.data} ({n} phrases, {len({str(r['text']) for r in rows})} distinct, "
        f"{len({r['country'] for r in rows})} countries, {sum(r['dateline'] is None for r in rows)} without a dateline)"
    )
    print("call: dates.resolve(text, PartialDate.of(dateline), 'caller', country=row country)\n")
    print(
        f"{'':<30} {'rows':>5}  {'exact range':>16}  {'exact or conv.':>16}  {'within a day':>16}  "
        f"{'precision':>16}  {'prec. or conv.':>16}  {'unres':>5}"
    )
    _table("all", judged)
    _table("single days", singles)
    _table("  of which weekday phrases", weekday)
    _table("periods", periods)
    for kind in ("week", "month", "quarter", "half", "year", "range"):
        part = [j for j in periods if j.row["precision"] == kind]
        if part:
            _table(f"  gold {kind}", part)

    print("\nrows whose range differs from the label only by a convention of the periods module (not failures, not exact):")
    counts = Counter(j.convention for j in judged if j.convention)
    explained = {
        "cut at the dateline": "a unit containing the dateline ends on it ('this year', 'this week', 'in 2019')",
        "through the dateline": "'earlier this week', 'in the last N days' include the dateline",
        "parts of a period": "early/mid/late, start/end with the module's bounds (mid-year = May-Aug)",
    }
    for name in CONVENTIONS:
        examples = ", ".join([repr(str(j.row["text"])) for j in judged if j.convention == name][:4])
        print(f"  {counts[name]:>4}  {name:<22} {explained[name]}; e.g. {examples}")
    pcounts = Counter(j.precision_convention for j in judged if j.precision_convention and not j.precision)
    print("precision differs only by a convention: " + "; ".join(f"{pcounts[name]} {name}" for name in PRECISION_CONVENTIONS))

    failures = [j for j in judged if not j.exact and j.convention is None]
    by_pattern: dict[str, list[Judged]] = defaultdict(list)
    for j in failures:
        by_pattern[pattern_of(str(j.row["text"]))].append(j)
    all_by_pattern = Counter(pattern_of(str(j.row["text"])) for j in judged)
    print(
        f"\nfailures by pattern ({len(failures)} rows neither exact nor a convention; "
        f"{sum(j.got.start is None for j in failures)} of them unresolved):"
    )
    print(f"  {'pattern':<26} {'rows':>5} {'failed':>7} {'unresolved':>11} {'other range':>12}")
    for name, _ in [*PATTERNS, ("other", None)]:
        members = by_pattern.get(name, [])
        if all_by_pattern[name]:
            unresolved = sum(j.got.start is None for j in members)
            print(f"  {name:<26} {all_by_pattern[name]:>5} {len(members):>7} {unresolved:>11} {len(members) - unresolved:>12}")
    for name, _ in [*PATTERNS, ("other", None)]:
        members = by_pattern.get(name, [])
        if not members:
            continue
        print(f"\n  {name} ({len(members)}):")
        for j in members if args.all else members[:8]:
            print(_line(j))
        if not args.all and len(members) > 8:
            print(f"    ... {len(members) - 8} more (--all)")

    print(
        f"\ntime: first call {first_ms:.0f} ms (loads the tables); per phrase {per_us:.0f} µs "
        f"(median of {max(1, args.repeat)} passes)"
    )
    right = sum(j.exact for j in judged)
    conv = sum(j.exact or j.convention is not None for j in judged)
    print(
        f"result: exact {100 * right / n:.2f} %; exact or a documented convention {100 * conv / n:.2f} %; "
        f"single days {100 * sum(j.exact for j in singles) / len(singles):.2f} %, "
        f"periods {100 * sum(j.exact or j.convention is not None for j in periods) / len(periods):.2f} % "
        "with conventions"
    )


if __name__ == "__main__":
    main()
