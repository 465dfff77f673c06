"""Articles in: the text to extract from, its identity, and reading it from disk.

An `Article` is immutable: its `sha256` is the hash of its text, and its `id` is the id
given by the caller or the first 16 hex digits of that hash, so the same text always gets
the same id. `iter_articles` walks files and directories lazily and yields either an
`Article` or an `InputError` naming the file and the problem, so that one bad file never
stops a batch and is never silently skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .errors import InputError

__all__ = ["Article", "SUFFIXES", "iter_articles", "read_article"]

#: File suffixes read as plain-text articles.
SUFFIXES = frozenset({".txt", ".md"})


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Article:
    """One article: its text and where it came from."""

    text: str
    source: str = "<text>"
    id: str = ""
    published: date | None = None
    sha256: str = field(default="", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", _sha256(self.text))
        if not self.id:
            object.__setattr__(self, "id", self.sha256[:16])

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        id: str | None = None,
        source: str | None = None,
        published: date | None = None,
    ) -> Article:
        """An article from a string; `source` defaults to the id when one is given."""
        if not text.strip():
            raise InputError(source or id or "<text>", "the article is empty")
        return cls(text=text, source=source or id or "<text>", id=id or "", published=published)


def read_article(path: Path) -> Article:
    """Read one UTF-8 text file as an article, or raise `InputError` naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file ({exc.strerror or exc})") from exc
    if b"\x00" in data[:8192]:
        raise InputError(str(path), "looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            str(path),
            f"is not UTF-8 text (invalid byte at offset {exc.start}); convert it to UTF-8 first",
        ) from exc
    if not text.strip():
        raise InputError(str(path), "the file is empty" if not text else "the file holds only whitespace")
    return Article(text=text, source=str(path))


def iter_articles(paths: Iterable[str | Path]) -> Iterator[Article | InputError]:
    """Yield the articles under `paths` (files, or directories walked recursively).

    Directories are read in sorted order and only files with a suffix in `SUFFIXES` are
    taken from them; a file named explicitly is read whatever its suffix. Problems come out
    as `InputError` items, in order, instead of exceptions.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                files = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES)
            except OSError as exc:
                yield InputError(str(path), f"cannot list the directory ({exc.strerror or exc})")
                continue
            for file in files:
                if file.is_file():
                    yield from _read_one(file)
        elif path.exists():
            yield from _read_one(path)
        else:
            yield InputError(str(path), "no such file or directory")


def _read_one(path: Path) -> Iterator[Article | InputError]:
    try:
        yield read_article(path)
    except InputError as exc:
        yield exc
