"""Quantity parsing (number, unit, kilograms) on quantity phrases from real news reports.

Run: ``python benchmarks/bench_numbers.py [--data PATH] [--repeat 3] [--all]`` (from the repository root).

The data, ``benchmarks/data/numbers.jsonl``, is 1,499 quantity phrases copied as written
(typos, spacing, separators, scripts) from drug-seizure reports in English, Spanish,
Portuguese, French, German, Italian, Arabic, Persian, Bengali, Tamil, Swahili, Indonesian,
Bulgarian and Romanian, each labelled with its ``value``, ``unit`` (kg, g, mg, tonne, lb,
oz, litre, ml, gallon, tablet, pill, capsule, packet, plant, piece, bottle, bag, or
``unknown`` for containers outside that list), ``kg`` (``value`` × the unit's factor for a
mass, else ``null``) and ``kind`` (mass / count / volume). 22 rows are ``ambiguous`` and
carry the other reading in ``alt_reading`` (US short tons given in lb, comma decimals
that may be thousands, ...). Each row keeps ``outlet``, ``url`` and a ``note``. See
``benchmarks/data/README.md``.

What is measured, per phrase:

* ``find_quantities(text)``: the phrase's quantity is its FIRST mention (a range's lower
  bound, which is what the labels give; a compound such as "1 kg 73 grams" is one mention
  when the parser merges it). Right when the mention's value equals the gold value
  (relative 1e-6) and its unit equals the gold unit (gold ``unknown`` = no unit); its kg
  (``to_kg(value, unit)``, ``None`` for counts and volumes) must match the gold ``kg``.
* ``found among the mentions``: the gold value is one of the phrase's mentions (or their
  ``alt_value``) — what ``find_value`` needs to ground a model's number, whatever the
  order.
* ``parse_number(text)``: the value alone, where the phrase is one number with a unit.

An ambiguous row whose first mention matches its ``alt_reading`` (value and unit) is
counted apart ("the other reading"), as is a row whose value is right but whose unit word
the parser does not know or maps elsewhere (the unit test is then the only failure).
Failures are printed by cause (no number, separators read the other way, scale word
missed, compound or list split into several mentions, other value; unit missing or other
unit) and by kind (mass / count / volume).

Time per phrase: median of ``--repeat`` passes. The script exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llm_extract.tasks.security_events.normalize import to_kg  # noqa: E402
from llm_extract.tasks.security_events.normalize.numbers import QuantityMention, find_quantities, parse_number  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "numbers.jsonl"
KINDS = ("mass", "count", "volume")
OTHER_READING = "the other reading of an ambiguous row"
SAME_MASS = "the same mass in another unit (a compound merged into its larger unit)"


def load(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def gold_unit(row: dict[str, object]) -> str | None:
    return None if row["unit"] == "unknown" else str(row["unit"])


def kg_of(m: QuantityMention | None) -> float | None:
    return to_kg(m.value, m.unit) if m is not None and m.unit else None


@dataclass
class Judged:
    row: dict[str, object]
    mentions: list[QuantityMention]
    value: bool
    unit: bool
    kg: bool
    anywhere: bool
    parsed: float | None
    cause: str | None  # None when value, unit and kg are right

    @property
    def right(self) -> bool:
        return self.cause is None


def judge(row: dict[str, object]) -> Judged:
    text = str(row["text"])
    mentions = find_quantities(text)
    first = mentions[0] if mentions else None
    gold_value = float(row["value"])  # type: ignore[arg-type]
    value = first is not None and close(first.value, gold_value)
    unit = first is not None and first.unit == gold_unit(row)
    kg = first is not None and close(kg_of(first), row["kg"] if row["kg"] is None else float(row["kg"]))  # type: ignore[arg-type]
    anywhere = any(close(m.value, gold_value) or (m.alt_value is not None and close(m.alt_value, gold_value))
                   for m in mentions)  # fmt: skip
    parsed = parse_number(text)
    cause: str | None = None
    if not (value and unit and kg):
        cause = _cause(row, first, mentions, value, unit)
    return Judged(row, mentions, value, unit, kg, anywhere, parsed, cause)


def _cause(row: dict[str, object], first: QuantityMention | None, mentions: list[QuantityMention],
           value: bool, unit: bool) -> str:  # fmt: skip
    alt = row.get("alt_reading")
    if (
        first is not None
        and isinstance(alt, dict)
        and close(first.value, float(alt["value"]))
        and first.unit == (None if alt["unit"] == "unknown" else alt["unit"])
    ):
        return OTHER_READING
    if first is None:
        return "value: no number found"
    if row["kg"] is not None and close(kg_of(first), float(row["kg"])):  # type: ignore[arg-type]
        return SAME_MASS
    if not value:
        gold = float(row["value"])  # type: ignore[arg-type]
        ratio = first.value / gold if gold else math.inf
        if len(mentions) > 1 and any(close(m.value, gold) for m in mentions[1:]):
            return "value: the right number is not the first mention"
        if any(math.isclose(ratio, r, rel_tol=1e-6) for r in (1000.0, 0.001)) and re.search(r"\d[.,]\d", str(row["text"])):
            return "value: separator read the other way (×1000 or ÷1000)"
        if ratio > 0 and abs(math.log10(ratio)) >= 2 and math.isclose(math.log10(ratio), round(math.log10(ratio)), abs_tol=1e-6):
            return "value: a power of ten off (scale word or digit group missed)"
        if len(mentions) > 1:
            return "value: a compound or list read as several mentions"
        return "value: another number"
    if not unit:
        if first.unit is None:
            return "unit: value right, no unit read"
        if gold_unit(row) is None:
            return "unit: value right, a unit read where the label has none (unknown container)"
        return "unit: value right, another unit"
    return "kg: value and unit right, kilograms differ"


def time_per_phrase(rows: list[dict[str, object]], repeat: int) -> tuple[float, float, float]:
    """(first call in ms, median µs per find_quantities, median µs per parse_number)."""
    started = time.perf_counter()
    find_quantities("seized 2,400 kg of methamphetamine")
    first = (time.perf_counter() - started) * 1e3
    finds, parses = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        for row in rows:
            find_quantities(str(row["text"]))
        finds.append((time.perf_counter() - started) / len(rows))
        started = time.perf_counter()
        for row in rows:
            parse_number(str(row["text"]))
        parses.append((time.perf_counter() - started) / len(rows))
    return first, statistics.median(finds) * 1e6, statistics.median(parses) * 1e6


def _pct(right: int, n: int) -> str:
    return f"{right:>5}/{n:<5} {100 * right / n:6.2f} %" if n else "    -/0           -  "


def _line(j: Judged) -> str:
    row = j.row
    got = ", ".join(f"{m.value:g} {m.unit or '-'}" + (f" [{m.currency}]" if m.currency else "") for m in j.mentions)
    gold = f"{row['value']:g} {row['unit']}" + (f" = {row['kg']:g} kg" if row["kg"] is not None else "")  # type: ignore[str-format]
    return f"    {str(row['text'])[:56]!r:<58} gold {gold}{'?' if row['ambiguous'] else ''} -> {got or 'nothing'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="JSONL of quantity phrases (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="timing passes (default: %(default)s)")
    parser.add_argument("--all", action="store_true", help="print every failure, not only the first 8 per cause")
    args = parser.parse_args()

    rows = load(args.data)
    first_ms, find_us, parse_us = time_per_phrase(rows, max(1, args.repeat))
    judged = [judge(row) for row in rows]
    n = len(judged)
    print(
        f"data: {args.data} ({n} phrases, {len({str(r['text']) for r in rows})} distinct, "
        f"{sum(bool(r['ambiguous']) for r in rows)} ambiguous with an alt_reading)"
    )
    print(
        "scoring: the first mention of find_quantities(text): value (rel. 1e-6), unit (gold 'unknown' = none), "
        "to_kg(value, unit) vs kg\n"
    )
    header = (
        f"{'':<24} {'rows':>5}  {'value':>19}  {'unit':>19}  {'kg (mass rows)':>19}  {'all right':>19}  "
        f"{'among mentions':>19}  {'parse_number':>19}"
    )
    print(header)
    for name, part in [("all", judged), *((f"kind {k}", [j for j in judged if j.row["kind"] == k]) for k in KINDS)]:
        mass = [j for j in part if j.row["kind"] == "mass"]
        parsed = sum(j.parsed is not None and close(j.parsed, float(j.row["value"])) for j in part)  # type: ignore[arg-type]
        print(
            f"{name:<24} {len(part):>5}  {_pct(sum(j.value for j in part), len(part))}  "
            f"{_pct(sum(j.unit for j in part), len(part))}  {_pct(sum(j.kg for j in mass), len(mass))}  "
            f"{_pct(sum(j.right for j in part), len(part))}  {_pct(sum(j.anywhere for j in part), len(part))}  "
            f"{_pct(parsed, len(part))}"
        )
    print(f"\n{'by gold unit':<24} {'rows':>5}  {'all right':>19}")
    for unit, count in Counter(str(r["unit"]) for r in rows).most_common():
        part = [j for j in judged if j.row["unit"] == unit]
        print(f"{unit:<24} {count:>5}  {_pct(sum(j.right for j in part), len(part))}")

    causes: dict[str, list[Judged]] = defaultdict(list)
    for j in judged:
        if j.cause:
            causes[j.cause].append(j)
    other = len(causes.get(OTHER_READING, []))
    same = len(causes.get(SAME_MASS, []))
    unit_only = sum(len(v) for k, v in causes.items() if k.startswith("unit:"))
    print(
        f"\nwrong rows: {sum(len(v) for v in causes.values())} ({other} take the other reading of an ambiguous "
        f"row, {same} give the same mass in another unit; {unit_only} have the right value and only the unit "
        "differs)"
    )
    print(f"  {'cause':<76} {'rows':>5}  " + "  ".join(f"{k:>6}" for k in KINDS))
    for name, members in sorted(causes.items(), key=lambda kv: -len(kv[1])):
        by_kind = Counter(str(j.row["kind"]) for j in members)
        print(f"  {name:<76} {len(members):>5}  " + "  ".join(f"{by_kind[k]:>6}" for k in KINDS))
    for name, members in sorted(causes.items(), key=lambda kv: -len(kv[1])):
        print(f"\n  {name} ({len(members)}):")
        for j in members if args.all else members[:8]:
            print(_line(j))
        if not args.all and len(members) > 8:
            print(f"    ... {len(members) - 8} more (--all)")

    print(
        f"\ntime: first call {first_ms:.1f} ms; per phrase find_quantities {find_us:.0f} µs, parse_number "
        f"{parse_us:.0f} µs (median of {max(1, args.repeat)} passes)"
    )
    right = sum(j.right for j in judged)
    print(
        f"result: value, unit and kg right for {100 * right / n:.2f} % of the phrases "
        f"({100 * (right + other + same) / n:.2f} % counting the other reading of ambiguous rows and the same mass "
        f"in another unit); value right {100 * sum(j.value for j in judged) / n:.2f} %"
    )


if __name__ == "__main__":
    main()
