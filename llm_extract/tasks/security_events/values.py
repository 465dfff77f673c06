"""Finding where the article says each value the model took from it.

For every value of a record (a quantity with its unit, a drug, a date phrase, a place, the
seizing agency, each party, each official) `ValueFinder` looks, in order, in the record's
own evidence sentence, in the sentences around it (one before, one after), and anywhere
in the article. The first place it is found gives the value's span and where it was
(`evidence` / `nearby` / `article`); a value found nowhere is `missing`.

Matching is generous on purpose, so that a correct record is not doubted for the way news
writes things: text is normalised as for grounding (case, accents, quotes, dashes,
whitespace); numbers are found as written in any form (`numbers.find_value`: "2,400",
"2.4 tonnes" for 2,400 kg is a *different* unit, "forty-two", "1.5 lakh", "395kg"); a
country party is found by any of its names and demonyms ("Iran", "Iranian", "Islamic
Republic"); a person by their surname; an agency by its acronym or most of its own words;
a drug by any synonym of the same drug, and a generic drug ("narcotics") by the generic
words news uses ("drugs", "narcotic substances").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from llm_extract.core.chunking import sentence_boundaries
from llm_extract.core.grounding import Span
from llm_extract.core.normalized_text import Normalized, normalize_text

from .records import ValueSpan

__all__ = ["Found", "ValueFinder", "agency_words", "initials"]

Where = Literal["evidence", "nearby", "article"]

_STOP = frozenset(
    """the a an of and for in on at to by from with its their his her de del la le des los las do da dos das
    national state federal provincial regional general department ministry office service directorate unit
    force forces police agency bureau authority authorities command team officers officials""".split()  # noqa: SIM905
)
GENERIC_DRUG_WORDS = (
    "drug", "drugs", "narcotic", "narcotics", "narcotic drugs", "narcotic substances", "illicit drugs",
    "substances", "contraband", "consignment", "stash", "haul",
)  # fmt: skip


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    where: Where


def initials(words: Iterable[str]) -> str:
    """'National Drug Law Enforcement Agency' → 'NDLEA' (capitalised words only)."""
    return "".join(w[0] for w in words if w[:1].isupper())


def agency_words(name: str) -> list[str]:
    """The words of an agency's name that identify it (not 'the', 'police', 'national'...)."""
    return [w for w in re.findall(r"[\w'-]+", name) if len(w) >= 3 and w.casefold() not in _STOP]


class ValueFinder:
    """Finds values in one article, preferring the evidence sentence, then its neighbours."""

    def __init__(self, text: str) -> None:
        self.text = text
        #: `_occurrences` of each needle asked for (a build asks for the same names many times)
        self._found: dict[str, tuple[tuple[int, int], ...]] = {}
        #: `regions` of each evidence span asked for (every value of a record asks again)
        self._regions: dict[tuple[int, int], list[tuple[int, int, Where]]] = {}

    @cached_property
    def sentence_starts(self) -> list[int]:
        """Where each sentence of the article starts (0 first)."""
        return [0, *sentence_boundaries(self.text)]

    @cached_property
    def _normalized(self) -> Normalized:
        return Normalized(self.text)

    # -- regions ------------------------------------------------------------------------
    def _sentence_index(self, position: int) -> int:
        return max(bisect_right(self.sentence_starts, position) - 1, 0)

    def regions(self, evidence: Span | None) -> list[tuple[int, int, Where]]:
        """(start, end, where) to search, in order of preference."""
        whole = (0, len(self.text), "article")
        if evidence is None:
            return [whole]  # type: ignore[list-item]
        key = (evidence.start, evidence.end)
        known = self._regions.get(key)
        if known is None:
            first = self._sentence_index(evidence.start)
            last = self._sentence_index(max(evidence.end - 1, evidence.start))
            lo = self.sentence_starts[max(first - 1, 0)]
            hi = self.sentence_starts[last + 2] if last + 2 < len(self.sentence_starts) else len(self.text)
            known = self._regions[key] = [(evidence.start, evidence.end, "evidence"), (lo, hi, "nearby"), whole]  # type: ignore[list-item]
        return list(known)  # a copy: callers may not share it

    @staticmethod
    def _pick(hits: Iterable[tuple[int, int]], regions: Sequence[tuple[int, int, Where]]) -> Found | None:
        found = list(hits)
        for lo, hi, where in regions:
            inside = [h for h in found if h[0] >= lo and h[1] <= hi]
            if inside:
                start, end = min(inside)
                return Found(start, end, where)
        return None

    # -- matching -----------------------------------------------------------------------
    def _occurrences(self, needle: str) -> tuple[tuple[int, int], ...]:
        """Original-text spans of a normalised needle, not inside a longer word."""
        found = self._found.get(needle)
        if found is None:
            found = self._found[needle] = tuple(self._find(needle))
        return found

    def _find(self, needle: str) -> Iterator[tuple[int, int]]:
        norm = normalize_text(needle)
        if not norm:
            return
        normalized = self._normalized
        hay = normalized.text
        i = hay.find(norm)
        while i >= 0:
            j = i + len(norm)
            left = i == 0 or not (hay[i - 1].isalnum() and norm[0].isalnum())
            right = j == len(hay) or not (hay[j].isalnum() and norm[-1].isalnum())
            if left and right:
                yield normalized.to_original(i, j)
            i = hay.find(norm, i + 1)

    def find_words(self, needles: Iterable[str], evidence: Span | None) -> Found | None:
        """The first of `needles` (any), by region preference."""
        hits: list[tuple[int, int]] = []
        known = self._found
        for needle in needles:
            if needle and needle.strip():
                hits.extend(known.get(needle) or self._occurrences(needle))
                if not needle.endswith("s") and len(needle) > 3:
                    plural = needle + "s"
                    hits.extend(known.get(plural) or self._occurrences(plural))
        return self._pick(hits, self.regions(evidence)) if hits else None

    def find_quantity(self, value: float, evidence: Span | None) -> tuple[Found | None, list[tuple[Found, str | None]]]:
        """Where `value` is written (any form), and every mention of it with its unit.

        Returns the preferred occurrence and all occurrences in the evidence and nearby
        (with the unit written after each, normalised by `numbers`), for the unit check.
        """
        from .normalize.numbers import find_value

        mentions = find_value(self.text, value)
        regions = self.regions(evidence)
        best = self._pick(((m.start, m.end) for m in mentions), regions)
        close: list[tuple[Found, str | None]] = []
        for m in mentions:
            for lo, hi, where in regions[:-1]:
                if m.start >= lo and m.end <= hi:
                    close.append((Found(m.start, m.end, where), m.unit))
                    break
        return best, close

    def find_person(self, name: str, evidence: Span | None) -> Found | None:
        """A person by full name, else surname (the last word of three letters or more)."""
        words = [w for w in re.findall(r"[\w'-]+", name) if len(w) >= 3]
        return self.find_words([name, *(words[-1:] if words else [])], evidence)

    def find_agency(self, name: str, evidence: Span | None) -> Found | None:
        """An agency by its name, its acronym, or most of its identifying words."""
        direct = self.find_words([name, initials(name.split())] if len(initials(name.split())) >= 3 else [name], evidence)
        if direct is not None:
            return direct
        words = agency_words(name) or [w for w in re.findall(r"[\w'-]+", name) if len(w) >= 4]
        regions = self.regions(evidence)
        for lo, hi, where in regions:
            found = [f for w in words if (f := self._pick(self._occurrences(w), [(lo, hi, where)])) is not None]
            # most of its own words (two thirds, and two at least when it has two), beside the evidence;
            # elsewhere in the article all of them: "Coast Guard" is not "the coast of São Paulo"
            enough = len(found) == len(words) if where == "article" else 3 * len(found) >= 2 * len(words)
            if found and enough and (len(found) >= 2 or len(words) == 1):
                return min(found, key=lambda f: f.start)
        return None

    @staticmethod
    def span(field: str, value: str, found: Found | None) -> ValueSpan:
        if found is None:
            return ValueSpan(field=field, value=value, where="missing")
        return ValueSpan(field=field, value=value, where=found.where, start=found.start, end=found.end)
