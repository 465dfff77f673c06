"""Grounding: find the verbatim ``evidence`` quote of a record in its article.

Every record the model fills carries a quote copied from the article. This module
turns that quote into a character span of the *original* article text, with an
alignment status, in three steps (the first that succeeds wins):

1. ``"exact"`` -- ``str.find`` of the quote (outer whitespace stripped), so
   ``text[span.start:span.end] == quote.strip()``.
2. ``"normalized"`` -- the same after normalising both sides: Unicode NFKC, case
   folding, every run of whitespace (line breaks, tabs, no-break and thin spaces)
   equal to one space and ignored at the ends, ' ’ ‘ ` ´ ʼ equal (so the seeds'
   ``Moscow`s`` matches ``Moscow's``), " “ ” „ ‟ equal, - ‐ ‑ ‒ – — ― − equal,
   soft hyphens and zero-width characters dropped. A quote the model wrapped in
   quotation marks or ended with a period the article does not have is retried
   without them. The article is normalised once into a copy plus an offset map back
   to the original, so the span is in original coordinates and starts and ends on
   the first and last matched original characters (never on whitespace).
3. ``"fuzzy"`` -- a word-level alignment that tolerates a word or two changed,
   dropped or added (see :func:`locate` for the algorithm and the threshold). A
   fuzzy match must keep every number, negation and proper noun of the quote:
   a changed number, name or "not" is a different fact, not a copying slip.

Otherwise the quote is not in the article and the result is ``None``.

Use :class:`Grounder` to locate many quotes in one article: it normalises the article
once (lazily, on the first quote that is not an exact match) and reuses it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from llm_extract.core.normalized_text import Normalized, normalize_text

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_FUZZY_WORDS",
    "Grounder",
    "Span",
    "contains_value",
    "locate",
    "locate_all",
    "normalize_text",
]

DEFAULT_THRESHOLD: float = 0.8
"""Default minimum similarity of a fuzzy match (see :func:`locate`)."""

MIN_FUZZY_WORDS: int = 3
"""Quotes with fewer word tokens than this are matched exactly or normalised only."""

Status = Literal["exact", "normalized", "fuzzy"]


class Span(BaseModel):
    """Where a quote was found: ``text[start:end]`` is the matched passage.

    ``status`` says how it matched; ``score`` is 1.0 for exact and normalised
    matches and the word-level similarity (0-1) for fuzzy ones.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    status: Status
    score: float = Field(ge=0.0, le=1.0)


# --------------------------------------------------------------------------- #
# Normalisation tables (small literals: no work at import time)
# --------------------------------------------------------------------------- #

_TOKEN_RE = re.compile(r"(?<!\d)\d{1,3}(?:[, ]\d{3})+(?!\d)|\w+")
_GROUPED_NUMBER_RE = re.compile(r"(?<![\d.,])\d{1,3}(?:[, ]\d{3})+(?![\d])")
_NUMBER_SEPARATORS = str.maketrans("", "", ", ")
_WORD_RE = re.compile(r"\w+")
_SENTENCE_OPENERS = frozenset(".!?:;\"'([\u201c\u2018\u201e\u00ab")

_CARDINALS: dict[str, str] = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
}  # fmt: skip
_NUMBER_WORDS: dict[str, str] = {
    **_CARDINALS,
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
    "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th", "eleventh": "11th", "twelfth": "12th",
}  # fmt: skip
_CARDINAL_RE = re.compile(r"\b(?:" + "|".join(_CARDINALS) + r")\b")
_MAGNITUDES = frozenset({"hundred", "thousand", "million", "billion", "trillion", "dozen", "dozens"})
_NEGATIONS = frozenset({"not", "no", "never", "nor", "neither", "cannot", "without"})
_STOPWORDS = frozenset({
    "the", "and", "for", "with", "that", "this", "from", "was", "were", "are", "has", "have", "had",
    "his", "her", "its", "their", "they", "them", "will", "would", "said", "also", "which", "who",
    "been", "into", "than", "then", "there", "after", "over", "about", "more", "other", "such",
    "all", "any", "but", "not", "our", "out", "can",
})  # fmt: skip
_EDGE_PUNCT_LEAD = "\"'("
_EDGE_PUNCT_TRAIL = "\"').,;:!?"

# Fuzzy search tuning.
_MAX_ANCHOR_CANDIDATES = 8  # anchor words whose frequency is counted
_MAX_ANCHORS = 6  # rarest anchors actually used
_MAX_ANCHOR_HITS = 8_000  # cap on anchor occurrences scanned per quote
_MAX_WINDOWS = 6  # candidate windows aligned per quote
_MAX_EXHAUSTIVE_WORDS = 48  # longer quotes: partial_ratio alignment + edge shifts
_EDGE_SHIFT = 8


@lru_cache(maxsize=4096)
def _token_key(tok: str) -> str:
    """Comparison key of a normalised token: "2,400" -> "2400", "four" -> "4"."""
    if tok[0].isdigit():
        return tok.translate(_NUMBER_SEPARATORS)
    return _NUMBER_WORDS.get(tok, tok)


def _is_numeric(key: str) -> bool:
    return key in _MAGNITUDES or any(c.isdigit() for c in key)


def _negation_count(keys: list[str]) -> int:
    n = 0
    for i, k in enumerate(keys):
        if k in _NEGATIONS or (k == "t" and i > 0 and keys[i - 1].endswith("n")):
            n += 1  # "not", "no", ... and "don't" -> ["don", "t"]
    return n


def _proper_nouns(quote: str) -> set[str]:
    """Token keys of the capitalised words of ``quote`` that do not start a sentence.

    A word starts a sentence when it opens the quote or follows (across spaces)
    one of ``. ! ? : ;``, an opening quotation mark or a bracket.
    """
    text = unicodedata.normalize("NFKC", quote)
    found: set[str] = set()
    for m in _WORD_RE.finditer(text):
        w = m.group()
        if len(w) < 2 or not w[0].isupper():
            continue
        k = m.start() - 1
        while k >= 0 and text[k].isspace():
            k -= 1
        if k >= 0 and text[k] not in _SENTENCE_OPENERS:
            found.add(_token_key(normalize_text(w)))
    return found


@dataclass(frozen=True, slots=True)
class _Query:
    """A quote prepared for fuzzy matching."""

    norm: str
    keys: list[str]
    offsets: list[int]  # start of each token in ``norm``
    numbers: frozenset[str]
    negations: int
    proper: frozenset[str]


def _prepare_query(quote: str, norm: str) -> _Query:
    keys: list[str] = []
    offsets: list[int] = []
    for m in _TOKEN_RE.finditer(norm):
        keys.append(_token_key(m.group()))
        offsets.append(m.start())
    return _Query(
        norm=norm,
        keys=keys,
        offsets=offsets,
        numbers=frozenset(k for k in keys if _is_numeric(k)),
        negations=_negation_count(keys),
        proper=frozenset(_proper_nouns(quote)),
    )


def _canonical_numbers(norm: str) -> str:
    """Digit grouping removed and cardinal words as digits: "2,400" -> "2400", "four" -> "4"."""
    norm = _GROUPED_NUMBER_RE.sub(lambda m: m.group().translate(_NUMBER_SEPARATORS), norm)
    return _CARDINAL_RE.sub(lambda m: _CARDINALS[m.group()], norm)


def _find_word(hay: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``hay`` not inside a longer word or number."""
    i = hay.find(needle)
    while i >= 0:
        j = i + len(needle)
        left_ok = i == 0 or not (hay[i - 1].isalnum() and needle[0].isalnum())
        right_ok = j == len(hay) or not (hay[j].isalnum() and needle[-1].isalnum())
        if left_ok and right_ok:
            return True
        i = hay.find(needle, i + 1)
    return False


def contains_value(passage: str, needle: str) -> bool:
    """Whether a value as written (a quantity, a drug word) appears in ``passage``.

    Both sides are normalised like quotes (case, whitespace, quotes, dashes, NFKC)
    and digit grouping is ignored, so ``"2,400"``, ``"2400"`` and ``"2 400"`` are
    equal, a cardinal word equals its digits (``"four"`` and ``"4"``), and
    ``"Methamphetamine"`` matches ``"methamphetamine"``. The needle must
    not be part of a longer word or number (``"meth"`` is not in
    ``"methamphetamine"``, ``"400"`` is not in ``"2,400"``). Units are not
    converted: ``"2.4 tonnes"`` does not match ``"2,400 kg"``.
    """
    n = _canonical_numbers(normalize_text(needle))
    if not n:
        return False
    return _find_word(_canonical_numbers(normalize_text(passage)), n)


def _query_variants(norm_quote: str) -> list[str]:
    """The normalised quote, then (if different) without edge quotes/period."""
    variants = [norm_quote]
    stripped = norm_quote
    for _ in range(3):
        stripped = stripped.strip(" " + _EDGE_PUNCT_LEAD).rstrip(" " + _EDGE_PUNCT_TRAIL)
    if stripped != norm_quote and any(c.isalnum() for c in stripped):
        variants.append(stripped)
    return variants


# --------------------------------------------------------------------------- #
# Grounder
# --------------------------------------------------------------------------- #


class Grounder:
    """Locate many quotes in one article, normalising the article only once.

    >>> g = Grounder("Tehran and Moscow`s  role")
    >>> g.locate("Moscow's role")
    Span(start=11, end=25, status='normalized', score=1.0)
    """

    def __init__(self, text: str) -> None:
        self.text: str = text
        self._norm: Normalized | None = None
        self._counts: dict[str, int] = {}

    @property
    def normalized(self) -> Normalized:
        """The normalised article and its offset map (built on first use)."""
        if self._norm is None:
            self._norm = Normalized(self.text)
        return self._norm

    # -- public ----------------------------------------------------------- #

    def locate(self, quote: str, *, threshold: float = DEFAULT_THRESHOLD) -> Span | None:
        """Locate ``quote`` in the article; see :func:`locate`."""
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        q = quote.strip()
        if not q:
            return None
        i = self.text.find(q)
        if i >= 0:
            return Span(start=i, end=i + len(q), status="exact", score=1.0)
        nq = normalize_text(q)
        if not nq:
            return None
        norm = self.normalized
        for variant in _query_variants(nq):
            j = norm.find(variant)
            if j >= 0:
                s, e = norm.to_original(j, j + len(variant))
                return Span(start=s, end=e, status="normalized", score=1.0)
        return self._fuzzy(q, nq, threshold)

    def locate_all(self, quote: str) -> list[Span]:
        """All non-overlapping exact or normalised occurrences, in text order."""
        q = quote.strip()
        if not q:
            return []
        spans: list[Span] = []
        i = self.text.find(q)
        while i >= 0:
            spans.append(Span(start=i, end=i + len(q), status="exact", score=1.0))
            i = self.text.find(q, i + len(q))
        nq = normalize_text(q)
        if not nq:
            return spans
        norm = self.normalized
        for variant in _query_variants(nq):
            found: list[Span] = []
            j = norm.find(variant)
            while j >= 0:
                s, e = norm.to_original(j, j + len(variant))
                if not any(s < x.end and x.start < e for x in spans):
                    found.append(Span(start=s, end=e, status="normalized", score=1.0))
                j = norm.find(variant, j + len(variant))
            if found or spans:
                spans.extend(found)
                break
        return sorted(spans, key=lambda sp: sp.start)

    # -- fuzzy ------------------------------------------------------------ #

    def _anchor_hits(self, query: _Query) -> list[tuple[int, int, float]]:
        """Occurrences of rare quote words: (estimated quote start, anchor id, weight)."""
        ntext = self.normalized.text
        first_offset: dict[str, int] = {}
        for key, off in zip(query.keys, query.offsets, strict=True):
            end = _TOKEN_RE.match(query.norm, off)
            surface = query.norm[off : end.end()] if end else key
            is_number = surface[0].isdigit()
            if (is_number or (len(surface) >= 3 and surface not in _STOPWORDS)) and surface not in first_offset:
                first_offset[surface] = off
        if not first_offset:  # only short/common words: use them all
            for key, off in zip(query.keys, query.offsets, strict=True):
                first_offset.setdefault(key, off)
        candidates = sorted(first_offset, key=lambda w: (not w[0].isdigit(), -len(w)))
        counts = self._counts
        counted: list[tuple[int, str]] = []
        for w in candidates[:_MAX_ANCHOR_CANDIDATES]:
            if w not in counts:
                counts[w] = ntext.count(w)
            counted.append((counts[w], w))
        counted = sorted((c, w) for c, w in counted if c > 0)
        hits: list[tuple[int, int, float]] = []
        total = 0
        for anchor_id, (count, word) in enumerate(counted[:_MAX_ANCHORS]):
            if anchor_id >= 2 and total + count > _MAX_ANCHOR_HITS:
                break
            total += count
            weight = 1.0 / count
            off = first_offset[word]
            lw = len(word)
            p = ntext.find(word)
            while p >= 0:
                before = ntext[p - 1] if p else " "
                after = ntext[p + lw] if p + lw < len(ntext) else " "
                if not before.isalnum() and not after.isalnum():
                    hits.append((p - off, anchor_id, weight))
                p = ntext.find(word, p + 1)
        return hits

    @staticmethod
    def _clusters(hits: list[tuple[int, int, float]], tol: int) -> list[tuple[int, int]]:
        """Windows of estimated quote starts, as (lo, hi), where most anchors agree.

        Ranked by the number of distinct anchors within ``tol`` chars of each other,
        then by their rarity; at most ``_MAX_WINDOWS`` non-overlapping ones.
        """
        if not hits:
            return []
        hits.sort()
        need = min(2, len({a for _, a, _ in hits}))
        scored: list[tuple[int, float, int, int]] = []
        inside: dict[int, int] = {}
        weight = 0.0
        j = 0
        n = len(hits)
        for i in range(n):
            est = hits[i][0]
            while j < n and hits[j][0] - est <= tol:
                a = hits[j][1]
                c = inside.get(a, 0)
                if not c:
                    weight += hits[j][2]
                inside[a] = c + 1
                j += 1
            if len(inside) >= need:
                scored.append((-len(inside), -weight, i, j))
            a = hits[i][1]
            inside[a] -= 1
            if not inside[a]:
                del inside[a]
                weight -= hits[i][2]
        scored.sort()
        chosen: list[tuple[int, int]] = []
        for _, _, i, j in scored:
            lo, hi = hits[i][0], hits[j - 1][0]
            if any(lo <= c_hi + tol and c_lo <= hi + tol for c_lo, c_hi in chosen):
                continue
            chosen.append((lo, hi))
            if len(chosen) >= _MAX_WINDOWS:
                break
        return chosen

    def _fuzzy(self, quote: str, norm_quote: str, threshold: float) -> Span | None:
        query = _prepare_query(quote, norm_quote)
        n = len(query.keys)
        if n < MIN_FUZZY_WORDS:
            return None
        norm = self.normalized
        ntext = norm.text
        tol = len(norm_quote) // 4 + 16
        slack = len(norm_quote) // 4 + 16
        min_len = max(1, math.ceil(n * threshold - 1e-9))
        max_len = math.floor(n / threshold + 1e-9)
        # An alignment reaching the threshold has at least this many equal words.
        need_matched = math.ceil(n * (2 * threshold - 1) / threshold - 1e-9)
        qset = set(query.keys)

        best: tuple[float, int, int, int] | None = None  # (score, -start, nstart, nend)
        for lo, hi in self._clusters(self._anchor_hits(query), tol):
            w0 = max(0, lo - slack)
            w1 = min(len(ntext), hi + len(norm_quote) + slack)
            while w0 > 0 and ntext[w0 - 1].isalnum():
                w0 -= 1
            while w1 < len(ntext) and ntext[w1].isalnum():
                w1 += 1
            toks = [(_token_key(m.group()), m.start(), m.end()) for m in _TOKEN_RE.finditer(ntext, w0, w1)]
            wkeys = [k for k, _, _ in toks]
            matched = [i for i, k in enumerate(wkeys) if k in qset]
            if len(matched) < need_matched:
                continue
            found = self._best_in_window(query, wkeys, matched, min_len, max_len, threshold)
            if found is None:
                continue
            score, a, b = found
            cand = (score, -toks[a][1], toks[a][1], toks[b - 1][2])
            if best is None or cand > best:
                best = cand
        if best is None:
            return None
        score, _, ns, ne = best
        # Keep edge punctuation the quote has too (a closing period or quote mark).
        if norm_quote[-1] in _EDGE_PUNCT_TRAIL and ne < len(ntext) and ntext[ne] == norm_quote[-1]:
            ne += 1
        if norm_quote[0] in _EDGE_PUNCT_LEAD and ns > 0 and ntext[ns - 1] == norm_quote[0]:
            ns -= 1
        s, e = norm.to_original(ns, ne)
        return Span(start=s, end=e, status="fuzzy", score=score)

    @staticmethod
    def _best_in_window(
        query: _Query,
        wkeys: list[str],
        matched: list[int],
        min_len: int,
        max_len: int,
        threshold: float,
    ) -> tuple[float, int, int] | None:
        """Best token range ``[a, b)`` of the window that passes the fact guards."""
        ids: dict[str, int] = {}
        q_ids = [ids.setdefault(k, len(ids)) for k in query.keys]
        w_ids = [ids.setdefault(k, len(ids)) for k in wkeys]
        n = len(q_ids)
        if n <= _MAX_EXHAUSTIVE_WORDS:
            # Every range that starts and ends on a quote word (an optimal range
            # does) and whose length can reach the threshold.
            pairs = [
                (a, b_last + 1) for x, a in enumerate(matched) for b_last in matched[x:] if min_len <= b_last + 1 - a <= max_len
            ]
        else:
            # Long quote: the best window of the quote's length (rapidfuzz's
            # partial_ratio over token sequences), then its edges moved by up to
            # _EDGE_SHIFT tokens onto quote words.
            al = fuzz.partial_ratio_alignment(q_ids, w_ids)
            if al is None:
                return None
            starts = [a for a in matched if abs(a - al.dest_start) <= _EDGE_SHIFT]
            ends = [b + 1 for b in matched if abs(b + 1 - al.dest_end) <= _EDGE_SHIFT]
            pairs = [(a, b) for a in starts for b in ends if min_len <= b - a <= max_len]
        scored: list[tuple[float, int, int, int]] = []
        for a, b in pairs:
            sim = Levenshtein.normalized_similarity(q_ids, w_ids[a:b], score_cutoff=threshold)
            if sim >= threshold:
                scored.append((sim, -abs(b - a - n), -a, b))
        if not scored:
            return None
        # Judge only the best alignment: falling back to a shorter range would let a
        # quote dodge the guards by leaving the changed word (a "not") outside it.
        sim, _, neg_a, b = max(scored)
        a = -neg_a
        keys = wkeys[a:b]
        keyset = set(keys)
        if not query.numbers <= keyset or not query.proper <= keyset:
            return None
        if _negation_count(keys) != query.negations:
            return None
        return sim, a, b


# --------------------------------------------------------------------------- #
# Functional API
# --------------------------------------------------------------------------- #


def locate(quote: str, text: str, *, threshold: float = DEFAULT_THRESHOLD) -> Span | None:
    """Find ``quote`` in ``text``; return its span in ``text`` or ``None``.

    Tries an exact match, then a normalised one (see the module docstring), then a
    fuzzy one.

    Fuzzy algorithm. The quote and the article are normalised and split into word
    tokens (punctuation ignored; a grouped number such as "2,400" is one token, equal
    to "2400"). Up to six of the quote's rarest words found in the article (numbers
    and long words first, stop-words skipped) are looked up with ``str.find``; each
    occurrence votes for where the quote would start, and the few places where most
    distinct anchors agree become candidate windows (so a 1 MB article costs a few
    ``str.count``/``str.find`` scans, not an alignment over the whole text). In each
    window every token range that starts and ends on a quote word is scored with the
    token-level Levenshtein similarity ``1 - edits / max(len(quote), len(range))``
    (rapidfuzz), and the best range that keeps the quote's facts wins: every number
    of the quote must be in it, every capitalised non-sentence-initial word (a name)
    too, and the count of negations ("not", "no", "never", "n't", ...) must be
    equal. The span is snapped to the first and last matched word in the original
    text (plus a closing period or quote mark the quote also has). Quotes of fewer
    than ``MIN_FUZZY_WORDS`` words are never matched fuzzily.

    Threshold. ``threshold`` is the minimum fuzzy similarity, default 0.8, tuned on
    ~800 one- and two-word edits of the seed articles' sentences and on hallucinated
    and mixed sentences (see ``tests/test_grounding.py``). A word changed, dropped
    or added costs one edit, so 0.8 allows one edit per five words: one in a 5-word
    quote, two in 10, three in 15 (a quote that only dropped a comma or a bracket,
    or wrote "2400" or "4" for "2,400" or "four", scores 1.0). On the seeds it
    passed all 594 one-word edits (changed, dropped, added) of 5+ word sentences and
    97% of 184 two-word changes of 8+ word sentences (the rest: 8-9 word quotes at
    0.75-0.78, and one that lost a "not"); 0.85 would lose 5% of the one-word edits.
    Rejected:

    * hallucinated sentences on the same topic: they share a few words with the
      article and score about 0.35-0.7 ("Iran and Russia inked security agreements
      on extradition and joint patrols." 0.55 against "Iran and Russia inked
      security agreements in many areas ...");
    * a sentence with a clause grafted from another: "Iranian forces successfully
      seized 2,400 kilograms of methamphetamine in Sistan-Baluchestan Province."
      scores 0.67 (of 96 random splices of two seed sentences, 5 passed: 12+ words
      of one sentence with 2-4 words of another);
    * whatever the threshold, a changed number ("2,400" -> "4,200", "four" ->
      "six", "2024" -> "2023"), a changed or added name ("Iran and Russia" ->
      "Iran and Turkey") and a dropped or added negation: a different fact.

    Not caught: one changed ordinary word that changes the meaning ("cooperation
    in the field of education" -> "... of training"): a fuzzy span is weaker
    evidence than an exact one, and its ``status`` and ``score`` say so.

    Args:
        quote: The evidence as copied by the model.
        text: The article.
        threshold: Minimum similarity (0-1] for a fuzzy match.

    Returns:
        A :class:`Span` with ``text[start:end]`` the matched passage, or ``None``
        for an empty quote or one that is not in the article.
    """
    return Grounder(text).locate(quote, threshold=threshold)


def locate_all(quote: str, text: str) -> list[Span]:
    """All non-overlapping exact or normalised occurrences of ``quote`` in ``text``.

    Exact occurrences are listed if any exist, plus normalised occurrences that do
    not overlap them; sorted by position. Fuzzy matches are never included.
    """
    return Grounder(text).locate_all(quote)
