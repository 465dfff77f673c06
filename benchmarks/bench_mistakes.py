"""How many of a noisy model's mistakes the pipeline catches, and how often it doubts right records.

    python benchmarks/bench_mistakes.py [--seeds N] [--cases FILE] [--only KIND,...] [--examples N]

Over every article of `tests/data/noisy/` (the five seeds and the articles written after real news,
each with its perfect answer), injects each kind of mistake of `llm_extract.testing.noisy` with N seeds
(default 8), serves each answer through the real pipeline (`Harness`: a scripted OpenAI transport,
`Extractor` in record mode) and prints per kind: injected, caught (rejected / flagged with the right flag
/ marked / merged / fuzzy), missed, pre-flagged (the clean record already carried the flag), and examples
of misses. Then, for the perfect answers: correct records, records doubted (a flag that is not a note, a
rejection), with which flags, and the false-alarm rate, with the verdicts of
`tests/data/noisy/known_flags.json`. Goals: at least 95 % of the mistakes caught, at most 3 % of the
correct records doubted; printed as "met" / "NOT met". Exit status 0 either way.

The harness (`Case`, `load_cases`, `Harness`, `judge`, `clean_flags`) lives here, beside the figures it
makes; `tests/test_noisy_model.py` imports it for its fixed cases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llm_extract.testing.noisy import CORE, INJECTORS, NOTES, Mistake, inject  # noqa: E402

CASES = ROOT / "tests" / "data" / "noisy" / "cases.json"
GOAL_CAUGHT, GOAL_FALSE_ALARMS = 0.95, 0.03
Answer = dict[str, Any]
Rec = dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    mistake: Mistake
    outcome: str  # caught / missed / pre-flagged
    how: str  # rejected / flag:<name> / marked / merged / fuzzy, or why it was missed
    flags: tuple[str, ...] = ()

    @property
    def caught(self) -> bool:
        return self.outcome == "caught"


# -- serving answers through the real pipeline ----------------------------------------------------------------------
@dataclass
class Case:
    """An article with its perfect answer; `meta` is its `cases.json` row (url, outlet, countries, note)."""

    stem: str
    path: Path
    text: str
    answer: Answer
    meta: dict[str, Any] = field(default_factory=dict)

    def article(self) -> Any:
        from llm_extract.core.articles import Article

        return Article.from_text(self.text, source=str(self.path))


def load_cases(manifest: Path) -> list[Case]:
    """The cases of a `cases.json` (its paths are relative to it)."""
    rows, base = json.loads(manifest.read_text(encoding="utf-8"))["cases"], manifest.parent
    read = lambda p: (base / p).resolve().read_text(encoding="utf-8")  # noqa: E731
    return [Case(r["stem"], (base / r["article"]).resolve(), read(r["article"]), json.loads(read(r["answer"])), r) for r in rows]


class Harness:
    """Serves scripted answers to the real pipeline as a model behind the OpenAI API would: `Extractor` in
    record mode over an `httpx2.MockTransport` that answers each request with the answer given to
    `extract_many`, in the chat-completions wire format (one tool call); `replay_dir` keeps the recordings."""

    def __init__(self, replay_dir: Path | None = None, *, model: str = "gpt-4o-mini") -> None:
        import httpx2

        from llm_extract.core.pipeline import Extractor

        self._tmp = None if replay_dir is not None else tempfile.TemporaryDirectory(prefix="noisy-replay-")
        self.replay_dir = Path(replay_dir or self._tmp.name)  # type: ignore[union-attr]
        self._answer: Answer | None = None
        self.calls = 0
        transport = httpx2.MockTransport(self._respond)
        self.extractor = Extractor(
            mode="record", model=model, api_key="noisy-no-key", replay_dir=self.replay_dir, transport=transport
        )

    def _respond(self, request: Any) -> Any:
        import httpx2

        from llm_extract.testing import chat_completion

        body, self.calls = json.loads(request.content), self.calls + 1
        tool = body["tools"][0]["function"]["name"] if body.get("tools") else "ArticleMentions"
        return httpx2.Response(
            200, json=chat_completion(self._answer, tool=tool, call_id=f"call_noisy_{self.calls}", prompt_tokens=2900)
        )

    def extract_many(self, jobs: Iterable[tuple[Case, Answer]]) -> list[Any]:
        """Extract each (case, answer) in order, on one event loop."""

        async def run() -> list[Any]:
            out = []
            try:
                for case, answer in jobs:
                    self._answer = answer
                    out.append(await self.extractor.aextract(case.article()))
            finally:
                await self.extractor.aclose()
            return out

        return asyncio.run(run())

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


# -- judging ----------------------------------------------------------------------------------------------------------
def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "").casefold()).strip()


def _key(kind: str, rec: Rec) -> tuple[Any, ...]:
    """What identifies a record as the model wrote it, in a mention dict or a record's dump."""
    common = (_norm(rec.get("evidence")), _norm(rec.get("date")), _norm(rec.get("place")))
    if kind == "seizure":
        items = tuple((_norm(i["drug"]), i.get("quantity"), _norm(i.get("unit"))) for i in rec["items"])
        who = (_norm(rec.get("seizing_agency")), rec.get("arrested"), _norm(rec.get("origin")), _norm(rec.get("destination")))
        return (*common, items, *who)
    parties = tuple((_norm(p["name"]), _norm(p["kind"])) for p in rec["parties"])
    officials = tuple(_norm(o["name"]) for o in rec.get("officials") or [])
    return (*common, parties, _norm(rec["instrument_type"]), _norm(rec["status"]), officials, bool(rec.get("is_background")))


def _kept(result: Any, kind: str) -> list[Any]:
    return list(result.seizures if kind == "seizure" else result.agreements)


def find_record(result: Any, kind: str, mention: Rec, text: str) -> tuple[str, list[Any]]:
    """Where a record as the model wrote it ended up: `rejected`, `kept`, `absorbed` (merged into records
    whose spans cover its evidence) or `lost`."""
    from llm_extract.core.grounding import locate

    key = _key(kind, mention)
    if rejected := [r for r in result.rejected if r.kind == kind and _key(kind, r.record) == key]:
        return "rejected", rejected
    if kept := [r for r in _kept(result, kind) if _key(kind, r.model_dump(mode="json")) == key]:
        return "kept", kept
    span = locate(mention["evidence"], text)
    near = [r for r in _kept(result, kind) if span and any(s.start < span.end and span.start < s.end for s in r.spans)]
    return ("absorbed", near) if near else ("lost", [])


def judge(mistake: Mistake, text: str, clean_answer: Answer, clean: Any, mutated: Answer, noisy: Any) -> Verdict:
    """Whether the pipeline caught `mistake`: its record in the noisy output against its clean twin."""
    from llm_extract.core.grounding import locate

    kind, lists, expect = mistake.record, mistake.record + "s", set(mistake.expect)
    wanted, twin_flags = {e.partition(":")[2] for e in expect if e.startswith("flag:")}, set()
    if mistake.original is not None:
        where, twins = find_record(clean, kind, clean_answer[lists][mistake.original], text)
        twin_flags = {f for t in twins for f in t.flags} if where in ("kept", "absorbed") else set()
    if "merged" in expect:
        extra = len(_kept(noisy, kind)) - len(_kept(clean, kind))
        return Verdict(mistake, "caught", "merged") if extra <= 0 else Verdict(mistake, "missed", f"kept apart (+{extra} record)")
    where, found = find_record(noisy, kind, mutated[lists][mistake.index], text)
    if where == "rejected":
        return Verdict(mistake, "caught", "rejected", (found[0].reason,))
    if not found:
        return Verdict(mistake, "missed", f"the record was {where}")
    flags = tuple(sorted({f for r in found for f in r.flags}))
    new = [f for f in flags if f not in twin_flags]
    if hit := sorted({f.partition(":")[0] for f in new} & wanted):
        return Verdict(mistake, "caught", f"flag:{hit[0]}", flags)
    if "marked" in expect and all(r.is_total for r in found):
        return Verdict(mistake, "caught", "marked", flags)
    if "fuzzy" in expect and all(r.grounding == "fuzzy" for r in found):
        right = locate(clean_answer[lists][mistake.original]["evidence"], text) if mistake.original is not None else None
        on_it = right is not None and all(
            r.spans and r.spans[0].start < right.end and right.start < r.spans[0].end for r in found
        )
        return Verdict(mistake, "caught" if on_it else "missed", "fuzzy" if on_it else "fuzzy, on another sentence", flags)
    if {f.partition(":")[0] for f in twin_flags} & wanted:
        return Verdict(mistake, "pre-flagged", "the clean record already carried the flag", flags)
    grounding = f", grounding {found[0].grounding}" if "fuzzy" in expect else ""
    return Verdict(mistake, "missed", (f"{where}, flags {new}" if new else f"{where}, no new flag") + grounding, flags)


# -- doubts on the perfect answers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CleanFlag:
    """A doubt on a record of a perfect answer (a flag that is not a note, a rejection, a record lost or
    merged); `verdict`: `justified` or `false_alarm` when listed as known, else `new`."""

    stem: str
    record: str
    evidence: str
    flag: str
    verdict: str
    why: str = ""


def load_known_flags(path: Path) -> list[dict[str, str]]:
    """The known flags on perfect answers (`tests/data/noisy/known_flags.json`)."""
    return list(json.loads(path.read_text(encoding="utf-8"))["flags"])


def clean_flags(case: Case, result: Any, known: Sequence[dict[str, str]] = ()) -> list[CleanFlag]:
    """Every doubt on the records of `case`'s perfect answer, with its known verdict."""

    def doubt(record: str, evidence: str, flag: str) -> CleanFlag:
        name = flag.partition(":")[0]
        for k in known:
            if k["stem"] == case.stem and k["flag"] == name and _norm(evidence).startswith(_norm(k["evidence"])):
                return CleanFlag(case.stem, record, evidence, flag, k["verdict"], k["why"])
        return CleanFlag(case.stem, record, evidence, flag, "new")

    out = [doubt(f"rejected {r.kind}", str(r.record.get("evidence", "")), f"rejected:{r.reason}") for r in result.rejected]
    for rec in [*result.agreements, *result.seizures]:
        out += [doubt(rec.id, rec.evidence, f) for f in rec.flags if f.partition(":")[0] not in NOTES]
    written = len(case.answer["agreements"]) + len(case.answer["seizures"])
    if (kept := len(result.agreements) + len(result.seizures) + len(result.rejected)) != written:
        out.append(doubt("-", "", f"records:{written} written, {kept} in the output"))
    return out


def _rate(caught: int, judged: int) -> float:
    return caught / judged if judged else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8, help="injections per kind and article (default 8)")
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--only", default="", help="comma-separated kinds (default: all)")
    parser.add_argument("--examples", type=int, default=2, help="examples of misses shown per kind")
    args = parser.parse_args(argv)
    kinds = [k for k in (*CORE, *(k for k in INJECTORS if k not in CORE)) if not args.only or k in args.only.split(",")]
    cases = load_cases(args.cases)
    known_file = args.cases.parent / "known_flags.json"
    known = load_known_flags(known_file) if known_file.is_file() else []
    started = time.perf_counter()
    harness = Harness()

    # the perfect answers
    cleans = harness.extract_many([(c, c.answer) for c in cases])
    correct = sum(len(c.answer["agreements"]) + len(c.answer["seizures"]) for c in cases)
    doubts = [d for case, result in zip(cases, cleans, strict=True) for d in clean_flags(case, result, known)]
    records = [rec for r in cleans for rec in (*r.agreements, *r.seizures)]
    notes = Counter(f.partition(":")[0] for rec in records for f in rec.flags if f.partition(":")[0] in NOTES)

    # the mistakes
    table: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for case, clean in zip(cases, cleans, strict=True):
        jobs, mistakes = [], []
        for kind in kinds:
            for seed in range(args.seeds):
                done = inject(kind, case.answer, case.text, random.Random(f"{case.stem}:{kind}:{seed}"))
                if done is not None:
                    jobs.append((case, done[0]))
                    mistakes.append(done)
        for (mutated, mistake), noisy in zip(mistakes, harness.extract_many(jobs), strict=True):
            verdict = judge(mistake, case.text, case.answer, clean, mutated, noisy)
            row = table[mistake.kind]
            row["injected"] += 1
            row[verdict.outcome] += 1
            row[verdict.how.partition(":")[0]] += verdict.caught
            line = f"{case.stem}: {mistake.description} -> {verdict.how}"
            if verdict.outcome == "missed" and len(examples[mistake.kind]) < args.examples and line not in examples[mistake.kind]:
                examples[mistake.kind].append(line)
    harness.close()
    elapsed = time.perf_counter() - started

    # the report
    print(f"{len(cases)} articles, {args.seeds} seeds per kind and article, {elapsed:.1f} s")
    print()
    columns = [("injected", 9), ("caught", 8), ("rejected", 9), ("flag", 6), ("marked", 7), ("merged", 7), ("fuzzy", 6)]
    columns += [("missed", 7), ("pre-flagged", 12)]
    head = f"{'kind':<28}" + "".join(f"{name:>{width}}" for name, width in columns) + f"{'rate':>8}"
    print(head)
    print("-" * len(head))
    totals = {"core": Counter(), "all": Counter()}
    for kind in kinds:
        row = table[kind]
        judged = row["injected"] - row["pre-flagged"]
        cells = "".join(f"{row[name]:>{width}}" for name, width in columns)
        print(f"{kind:<28}{cells}{_rate(row['caught'], judged):>8.1%}" + ("" if INJECTORS[kind].checked else "  (no check)"))
        for scope in ("core", "all") if kind in CORE else ("all",):
            totals[scope].update({"caught": row["caught"], "judged": judged, "fuzzy": row["fuzzy"]})
    print("-" * len(head))
    for scope, label in (("core", "the brief's kinds"), ("all", "all kinds")):
        t = totals[scope]
        rate, strict = _rate(t["caught"], t["judged"]), _rate(t["caught"] - t["fuzzy"], t["judged"])
        print(f"caught, {label}: {t['caught']}/{t['judged']} = {rate:.1%} (goal >= {GOAL_CAUGHT:.0%}: "
              f"{'met' if rate >= GOAL_CAUGHT else 'NOT met'}); {strict:.1%} if a fuzzy paraphrase counts as missed")  # fmt: skip
    print()
    print("missed, examples:")
    for kind in kinds:
        for line in examples[kind]:
            print(f"  [{kind}] {line}")
    print()
    doubted = {(d.stem, d.record) for d in doubts}
    unjustified = {(d.stem, d.record) for d in doubts if d.verdict != "justified"}
    for label, which in (("with any doubt", doubted), ("with a doubt not listed as justified", unjustified)):
        rate = _rate(len(which), correct)
        verdict = "met" if rate <= GOAL_FALSE_ALARMS else "NOT met"
        print(f"perfect answers: {correct} correct records, {len(which)} {label}: {rate:.1%} "
              f"(goal <= {GOAL_FALSE_ALARMS:.0%}: {verdict})")  # fmt: skip
    for d in doubts:
        print(f"  [{d.verdict}] {d.stem} {d.record} {d.evidence[:50]!r}: {d.flag}")
    print("notes (no penalty) on perfect answers: " + (", ".join(f"{k} x{v}" for k, v in sorted(notes.items())) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
