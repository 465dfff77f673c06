"""Long articles: overlapping, sentence-aware chunks that keep their character offsets.

An article longer than `max_chars` is cut into chunks that end at a sentence (or paragraph)
boundary where one exists, each overlapping the previous one by about `overlap` characters,
so that a sentence cut at a boundary is whole in one of the two chunks. Every chunk knows
where it starts in the article, so spans found in a chunk map back to the whole text.

The sentence boundaries are a regular expression (end punctuation, optional closing quote or
bracket, then whitespace; or a blank line), not a sentence-segmentation library: a chunk
boundary only has to fall *between* sentences most of the time, the overlap covers the
rest, and evidence is located in the whole article afterwards anyway.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

__all__ = ["Chunk", "chunk_text", "sentence_boundaries"]

_BOUNDARY = re.compile(r"(?:[.!?…][\"'”’)\]]*\s+|\n\s*\n\s*)")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A slice of an article: `text == article[start:end]`."""

    index: int
    start: int
    end: int
    text: str


def sentence_boundaries(text: str) -> list[int]:
    """Offsets where a sentence starts (after end punctuation and whitespace)."""
    return [m.end() for m in _BOUNDARY.finditer(text)]


def chunk_text(text: str, *, max_chars: int, overlap: int) -> list[Chunk]:
    """Split `text` into chunks of at most `max_chars`, overlapping by about `overlap`.

    >>> [(c.start, c.end) for c in chunk_text("One. Two. Three.", max_chars=10, overlap=0)]
    [(0, 10), (10, 16)]
    """
    if max_chars <= 0 or overlap < 0 or overlap >= max_chars:
        raise ValueError("need max_chars > overlap >= 0")
    if len(text) <= max_chars:
        return [Chunk(0, 0, len(text), text)]
    bounds = sentence_boundaries(text)
    chunks: list[Chunk] = []
    start = 0
    while start < len(text):
        limit = start + max_chars
        if limit >= len(text):
            end = len(text)
        else:
            # the last sentence start within the window, if it keeps at least half of it
            i = bisect_right(bounds, limit) - 1
            end = bounds[i] if i >= 0 and bounds[i] > start + max_chars // 2 else _soft_cut(text, start, limit)
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if end >= len(text):
            break
        # next chunk starts at a sentence start about `overlap` characters before `end`
        j = bisect_left(bounds, end - overlap)
        nxt = bounds[j] if j < len(bounds) and bounds[j] < end else end - overlap
        start = max(nxt, start + 1)
    return chunks


def _soft_cut(text: str, start: int, limit: int) -> int:
    """No sentence boundary in the window: cut after the last whitespace, else hard."""
    space = text.rfind(" ", start + 1, limit)
    return space + 1 if space > start else limit
