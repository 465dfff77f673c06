"""Benchmark quote grounding on a ~1 MB article.

Run: ``python benchmarks/bench_grounding.py`` (from the repository root).

The article is built from the seed articles in ``fixtures/articles/``: their
paragraphs are shuffled and repeated until the text is ~1 MB, and every number is
replaced by a fresh one in each copy, so a quote with a number matches only its own
copy. The quotes are taken from the last copies (near the end of the article), so
an exact or normalised match is not found early by luck. Four kinds are timed:

* exact -- a verbatim sentence;
* normalized -- the same, lower-cased, re-spaced, with straight quotes and hyphens;
* fuzzy -- the same with one word changed;
* hallucinated -- sentences the article does not contain (the worst case: every
  step runs and the fuzzy step scans for its anchors over the whole text).

Each kind is timed with :func:`llm_extract.grounding.locate` (which normalises the
article on every call) and with one pre-built :class:`Grounder` (normalised once).
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llm_extract.core.grounding import Grounder, Span, locate

TARGET_CHARS = 1_000_000
GOAL_MS = 100.0
SEED = 20250112

HALLUCINATED = [
    "Iran and Russia signed an extradition treaty in 2015.",
    "Iranian border guards seized 3,700 kilograms of heroin near the Pakistani border on Friday.",
    "The two countries agreed to set up joint border patrols and a hotline between their police forces.",
    "The Iranian police chief said that Iran and Russia signed an agreement to fight drug smuggling.",
    "He said that the two sides will cooperate more in the fight against drug trafficking in the region.",
]


def build_article(rng: random.Random) -> tuple[str, list[str]]:
    """Return (~1 MB article, paragraphs of its last copy that contain numbers)."""
    paragraphs: list[str] = []
    for path in sorted((ROOT / "fixtures" / "articles").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs += [p for p in re.split(r"\n\s*\n", text) if len(p.split()) >= 8]

    def renumber(p: str) -> str:
        return re.sub(r"\d+", lambda m: str(rng.randrange(10 ** (len(m.group()) - 1), 10 ** len(m.group()))), p)

    copies: list[str] = []
    size = 0
    last: list[str] = []
    while size < TARGET_CHARS:
        order = paragraphs[:]
        rng.shuffle(order)
        last = [renumber(p) for p in order]
        copy = "\n\n".join(last)
        copies.append(copy)
        size += len(copy) + 2
    article = "\n\n".join(copies)
    return article, [p for p in last if re.search(r"\d{3}", p)]


def sentence_with_number(paragraph: str) -> str | None:
    for s in re.split(r"(?<=[.!?])\s+", paragraph):
        if re.search(r"\d{3}", s) and 8 <= len(s.split()) <= 40:
            return s
    return None


def mangle(s: str) -> str:
    s = s.lower().replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    s = s.replace("\u2013", "-").replace("`", "'")
    return re.sub(r" ", "  ", s, count=3).replace(" ", "\n", 1)


def change_word(s: str, rng: random.Random) -> str:
    words = s.split()
    idx = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) > 3]
    i = rng.choice(idx)
    words[i] = "notable" if words[i] != "notable" else "major"
    return " ".join(words)


def timed(fn: Callable[[str], Span | None], quotes: list[str]) -> tuple[list[float], list[Span | None]]:
    times: list[float] = []
    results: list[Span | None] = []
    for q in quotes:
        t0 = time.perf_counter()
        results.append(fn(q))
        times.append((time.perf_counter() - t0) * 1000)
    return times, results


def main(*, strict: bool = False) -> int:
    rng = random.Random(SEED)
    article, tail_paragraphs = build_article(rng)
    sentences = [s for p in tail_paragraphs if (s := sentence_with_number(p))]
    sentences = sentences[-8:]
    quotes = {
        "exact": sentences,
        "normalized": [mangle(s) for s in sentences],
        "fuzzy": [change_word(s, rng) for s in sentences],
        "hallucinated": HALLUCINATED,
    }
    expected = {"exact": "exact", "normalized": "normalized", "fuzzy": "fuzzy", "hallucinated": None}

    t0 = time.perf_counter()
    grounder = Grounder(article)
    _ = grounder.normalized
    build_ms = (time.perf_counter() - t0) * 1000

    print(f"article: {len(article):,} chars, {len(article.split()):,} words; "
          f"quotes taken from the last {len(article) - article.rfind(sentences[0]):,} chars")
    print(f"Grounder build (normalise + offset map): {build_ms:.1f} ms, once per article\n")
    header = f"{'kind':<13} {'n':>2}  {'locate() median':>15} {'max':>8}  {'Grounder median':>15} {'max':>8}  ok"
    print(header)
    print("-" * len(header))
    worst = 0.0
    all_ok = True
    for kind, qs in quotes.items():
        t_fn, r_fn = timed(lambda q: locate(q, article), qs)
        t_g, r_g = timed(grounder.locate, qs)
        ok = all(
            (r is None if expected[kind] is None else r is not None and r.status == expected[kind])
            and r == r2
            for r, r2 in zip(r_fn, r_g, strict=True)
        )
        if kind != "hallucinated":  # the match must be in the last copy, near the end
            ok = ok and all(r is not None and r.start > len(article) * 0.9 for r in r_g)
        all_ok &= ok
        worst = max(worst, max(t_fn), max(t_g))
        print(f"{kind:<13} {len(qs):>2}  {statistics.median(t_fn):>12.1f} ms {max(t_fn):>5.1f} ms"
              f"  {statistics.median(t_g):>12.1f} ms {max(t_g):>5.1f} ms  {'yes' if ok else 'NO'}")
    verdict = "PASS" if worst < GOAL_MS / 2 and all_ok else "FAIL"
    print(f"\nverdict: {verdict} -- worst {worst:.1f} ms per quote on a {len(article) / 1e6:.1f} MB article "
          f"(goal: well under {GOAL_MS:.0f} ms, i.e. < {GOAL_MS / 2:.0f} ms){'' if all_ok else '; WRONG RESULTS'}")
    # Wrong results always fail; the speed verdict is a figure of this machine at this moment
    # (a busy machine is slower), so it decides the exit status only with --strict.
    if not all_ok:
        return 2
    return 1 if strict and verdict != "PASS" else 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(strict="--strict" in sys.argv[1:]))
