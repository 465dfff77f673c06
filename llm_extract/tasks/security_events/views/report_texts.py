"""The report's article texts: found in the store or the input files, cut into highlighted segments."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from llm_extract.core.articles import article_from_json, iter_articles, read_article
from llm_extract.errors import InputError, LLMExtractError
from llm_extract.runs.store import EventStore

__all__ = ["Segment", "Texts", "segments"]


# -- highlighted segments ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    """A run of the article text: `text[offset:offset + len(text)]`, cited by `records` (ids)."""

    offset: int
    text: str
    records: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


def segments(text: str, spans: Iterable[tuple[int, int, str, str]]) -> list[Segment]:
    """Cut `text` into non-overlapping segments at every span boundary.

    `spans` are `(start, end, kind, record_id)` (kind 'agreement' or 'seizure'); each segment
    lists the records whose spans cover it, in the order first given, so overlapping spans
    become segments that belong to several records. Spans out of range are clipped, empty
    ones ignored. Joining the segments' texts gives `text` back.
    """
    n = len(text)
    clean: list[tuple[int, int, str, str]] = []
    for start, end, kind, rid in spans:
        s, e = max(0, min(int(start), n)), max(0, min(int(end), n))
        if e > s:
            clean.append((s, e, kind, rid))
    cuts = sorted({0, n, *(s for s, _, _, _ in clean), *(e for _, e, _, _ in clean)})
    out: list[Segment] = []
    for a, b in pairwise(cuts):
        if b <= a:
            continue
        covering = [(kind, rid) for s, e, kind, rid in clean if s <= a and b <= e]
        rids = tuple(dict.fromkeys(rid for _, rid in covering))
        kinds = tuple(dict.fromkeys(kind for kind, _ in covering))
        out.append(Segment(a, text[a:b], rids, kinds))
    return out


# -- reading the store -----------------------------------------------------------------------------------
def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_JSONL_LINE = re.compile(r"^(?P<path>.+\.jsonl):(?P<line>\d+)$", re.IGNORECASE)


class Texts:
    """Finds each article's text (see the module docstring), verified by sha256."""

    def __init__(self, store: EventStore, articles_root: Path | None) -> None:
        self.store = store
        self.root = articles_root
        self.scanned: dict[str, str] = {}

    def candidates(self, source: str) -> list[Path]:
        paths: list[Path] = []
        if not source or source.startswith("<"):
            return paths
        src = Path(source)
        if self.root is not None and self.root.is_dir() and not src.is_absolute():
            paths += [self.root / src, self.root / src.name]
        elif self.root is not None and self.root.is_dir():
            paths.append(self.root / src.name)
        paths.append(src)
        return list(dict.fromkeys(paths))

    def locatable(self, source: str) -> bool:
        """Whether a file that may hold the article exists (cheap: no read)."""
        m = _JSONL_LINE.match(source)
        return any(p.is_file() for p in self.candidates(m["path"] if m else source))

    def in_store(self, sha: str) -> bool:
        """Whether the store kept this article's text (batches since store migration 4 do)."""
        row = self.store.connection.execute("SELECT 1 FROM article_texts WHERE article_key = ?", (sha,)).fetchone()
        return row is not None

    def scan(self, wanted: set[str]) -> None:
        """Read `articles_root` once, keeping the texts of the articles in `wanted` (sha256)."""
        if self.root is None or not wanted or not self.root.exists():
            return
        for item in iter_articles([self.root]):
            if not isinstance(item, InputError) and item.sha256 in wanted and item.sha256 not in self.scanned:
                self.scanned[item.sha256] = item.text

    def _from_source(self, source: str, sha: str) -> str | None:
        m = _JSONL_LINE.match(source)
        for path in self.candidates(m["path"] if m else source):
            if not path.is_file():
                continue
            try:
                if m:
                    with path.open(encoding="utf-8-sig") as fh:
                        for number, line in enumerate(fh, 1):
                            if number == int(m["line"]):
                                text = article_from_json(json.loads(line), source).text
                                break
                        else:
                            continue
                else:
                    text = read_article(path).text
            except (LLMExtractError, OSError, ValueError):
                continue
            if _sha256(text) == sha:
                return text
        return None

    def get(self, sha: str, source: str) -> tuple[str | None, str]:
        """The text and where it came from, or (None, why not)."""
        stored = self.store.article_text(sha)
        if stored is not None and _sha256(stored) == sha:
            return stored, "the store"
        if sha in self.scanned:
            return self.scanned.pop(sha), "articles root"
        text = self._from_source(source, sha)
        if text is not None:
            return text, source
        if self.locatable(source if not (m := _JSONL_LINE.match(source)) else m["path"]):
            why = f"the file {source} has changed since it was extracted (its sha256 differs)"
        else:
            why = f"the text is not in the store and {source} was not found"
        hint = "" if self.root is not None else "; pass the articles' directory (articles_root / --articles-root)"
        return None, why + hint
