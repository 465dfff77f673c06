"""Articles in: the text to extract from, its identity, and reading it from disk.

An `Article` is immutable: its `sha256` is the hash of its text, and its `id` is the id
given by the caller or the first 16 hex digits of that hash, so the same text always gets
the same id. `iter_articles` walks its inputs lazily and yields either an `Article` or an
`InputError` naming the file (and line) and the problem, so that one bad input never stops
a batch and is never silently skipped.

Inputs:
- `.txt` / `.md` files: the text as is (UTF-8);
- `.html` / `.htm` files: the main text, extracted with trafilatura (boilerplate removed);
- `.jsonl` files: one article per line, `{"id", "text", "published"?, "url"?, "title"?}`; an
  id given twice (in any of the inputs) for two different texts is an `InputError` on the
  second line ("duplicate id X (first at FILE:LINE)"), never two results with one id (the
  same text twice is the same article, extracted once);
- `-`: standard input, read as JSONL when its first character is `{`, else as one article;
- directories: walked recursively in sorted order, taking the suffixes above (and
  reporting `.docx`, `.pdf` and other formats that are not read);
- text files may be UTF-8 (with or without a BOM) or UTF-16/UTF-32 with a BOM.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from llm_extract.errors import InputError

__all__ = ["SUFFIXES", "Article", "article_from_json", "html_to_text", "iter_articles", "iter_jsonl", "read_article"]

#: File suffixes read as plain-text articles.
TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
#: Every suffix taken from a directory.
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
#: Formats people keep articles in that are not read: reported by name (never called
#: "binary", never skipped in a directory without a word).
UNSUPPORTED_SUFFIXES: dict[str, str] = {
    ".docx": "a Word document", ".doc": "a Word document", ".odt": "an OpenDocument text", ".rtf": "an RTF document",
    ".pdf": "a PDF", ".epub": "an EPUB book", ".xlsx": "an Excel workbook", ".xls": "an Excel workbook",
    ".pptx": "a PowerPoint file",
}  # fmt: skip
_CONVERT_HINT = "convert it to text first (e.g. pandoc -t plain, pdftotext) or to .html"
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
)  # fmt: skip


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Article:
    """One article: its text and where it came from."""

    text: str
    source: str = "<text>"
    id: str = ""
    published: date | None = None
    url: str | None = None
    title: str | None = None
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


def _decode(data: bytes, source: str) -> str:
    """UTF-8 (with or without a BOM), or UTF-16/32 announced by their byte-order mark."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                problem = f"starts with a {encoding} byte-order mark but is not {encoding} text"
                raise InputError(source, problem) from exc
    if b"\x00" in data[:8192]:
        raise InputError(source, "looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            source,
            f"is not UTF-8 text (invalid byte at offset {exc.start}); convert it to UTF-8 first: "
            f"{_conversion_hint(data)}",
        ) from exc


def _conversion_hint(data: bytes) -> str:
    """An iconv command with the encoding the bytes most likely are in.

    charset-normalizer's candidates with the least "chaos"; among equally clean ones,
    WINDOWS-1252 first (Western European news, where a byte such as 0xE3 is "ã" of "São":
    WINDOWS-1250 would read it as "ă"), so the hint does not garble the text it is for.
    """
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(data[:65536]))
    except ImportError:  # pragma: no cover - a dependency of trafilatura
        matches = []
    if not matches:
        return "iconv -f <its encoding> -t UTF-8"
    cleanest = min(m.chaos for m in matches)
    tied = [m.encoding for m in matches if m.chaos == cleanest]
    chosen = "cp1252" if "cp1252" in tied else tied[0]
    if chosen in ("utf_8", "ascii"):
        return "iconv -f <its encoding> -t UTF-8"
    names = {"cp1252": "WINDOWS-1252", "cp1256": "WINDOWS-1256", "cp1251": "WINDOWS-1251", "cp1250": "WINDOWS-1250"}
    name = names.get(chosen, chosen.replace("_", "-").upper())
    return f"iconv -f {name} -t UTF-8 (the encoding is a guess: check the result)"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file ({exc.strerror or exc})") from exc


def read_article(path: Path) -> Article:
    """Read one text (or HTML) file as an article, or raise `InputError` naming the file."""
    kind = UNSUPPORTED_SUFFIXES.get(path.suffix.lower())
    if kind is not None:
        raise InputError(str(path), f"is {kind} ({path.suffix.lower()}): not supported; {_CONVERT_HINT}")
    text = _decode(_read_bytes(path), str(path))
    if path.suffix.lower() in HTML_SUFFIXES:
        text = html_to_text(text, str(path))
    if not text.strip():
        raise InputError(str(path), "the file is empty" if not text else "the file holds only whitespace")
    return Article(text=text, source=str(path))


def html_to_text(html: str, source: str) -> str:
    """The main text of an HTML page (trafilatura), or `InputError` when there is none."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True)
    if not text or not text.strip():
        raise InputError(source, "no article text found in the HTML page")
    return text


def _parse_published(value: object, where: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InputError(where, f"'published' must be an ISO date string, not {type(value).__name__}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InputError(where, f"'published' is not an ISO date (YYYY-MM-DD): {value!r}") from None


def article_from_json(obj: object, where: str) -> Article:
    """One article from a JSON object `{"id", "text", "published"?, "url"?, "title"?}`."""
    if not isinstance(obj, dict):
        raise InputError(where, "each line must be a JSON object with at least a 'text' field")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(where, "the 'text' field is missing or empty")
    raw_id = obj.get("id")
    if raw_id is not None and not isinstance(raw_id, (str, int)):
        raise InputError(where, "'id' must be a string or a number")
    url, title = obj.get("url"), obj.get("title")
    return Article(
        text=text,
        source=str(raw_id) if raw_id is not None else where,
        id=str(raw_id) if raw_id is not None else "",
        published=_parse_published(obj.get("published"), where),
        url=url if isinstance(url, str) else None,
        title=title if isinstance(title, str) else None,
    )


#: ids given in the inputs so far: id → (where it was first given, sha256 of that text)
SeenIds = dict[str, tuple[str, str]]


def iter_jsonl(lines: Iterable[str], source: str, *, seen: SeenIds | None = None) -> Iterator[Article | InputError]:
    """Articles from JSONL lines; a bad line becomes an `InputError` naming `source:line`.

    An id given again for a different text (in these lines, or in `seen`: the ids of other
    inputs of the same run) is an `InputError` on the later line.
    """
    ids: SeenIds = {} if seen is None else seen
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            obj = json.loads(line)
            article = article_from_json(obj, where)
        except json.JSONDecodeError as exc:
            yield InputError(where, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except InputError as exc:
            yield exc
            continue
        if obj.get("id") is not None:  # an id was given
            first = ids.setdefault(article.id, (where, article.sha256))
            if first[1] != article.sha256:
                yield InputError(where, f"duplicate id {article.id!r} (first at {first[0]}) with a different text")
                continue
        yield article


def _iter_jsonl_file(path: Path, seen: SeenIds) -> Iterator[Article | InputError]:
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield InputError(str(path), f"cannot read the file ({exc.strerror or exc})")
        return
    with fh:
        def lines() -> Iterator[str]:
            for number, raw in enumerate(fh, 1):
                try:
                    yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    yield "\x00not utf-8"  # reported as invalid JSON on that line
        yield from iter_jsonl(lines(), str(path), seen=seen)


def _iter_stdin(seen: SeenIds) -> Iterator[Article | InputError]:
    data = sys.stdin.buffer.read()
    try:
        text = _decode(data, "<stdin>")
    except InputError as exc:
        yield exc
        return
    if text.lstrip().startswith("{"):
        yield from iter_jsonl(text.split("\n"), "<stdin>", seen=seen)  # not splitlines(): U+2028 may be in a string
    elif not text.strip():
        yield InputError("<stdin>", "standard input is empty")
    else:
        yield Article(text=text, source="<stdin>")


def iter_articles(paths: Iterable[str | Path]) -> Iterator[Article | InputError]:
    """Yield the articles under `paths` (files, or directories walked recursively).

    Directories are read in sorted order and only files with a suffix in `SUFFIXES` are
    taken from them (files in a format we do not read, `UNSUPPORTED_SUFFIXES`, are reported
    as errors, never skipped silently); a file named explicitly is read whatever its suffix. Problems come out
    as `InputError` items, in order, instead of exceptions. An id given twice for two texts, in
    any of the JSONL inputs, is an `InputError` on its second line.
    """
    seen: SeenIds = {}
    for raw in paths:
        if str(raw) == "-":
            yield from _iter_stdin(seen)
            continue
        path = Path(raw)
        if path.is_dir():
            try:
                wanted = SUFFIXES | UNSUPPORTED_SUFFIXES.keys()
                files = sorted(p for p in path.rglob("*") if p.suffix.lower() in wanted)
            except OSError as exc:
                yield InputError(str(path), f"cannot list the directory ({exc.strerror or exc})")
                continue
            for file in files:
                if file.is_file():
                    yield from _read_one(file, seen)
                elif not file.is_dir():  # a broken link, a socket...: said, never skipped silently
                    yield InputError(str(file), "is not a readable regular file (a broken link?)")
        elif path.exists():
            yield from _read_one(path, seen)
        else:
            yield InputError(str(path), "no such file or directory")


def _read_one(path: Path, seen: SeenIds) -> Iterator[Article | InputError]:
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from _iter_jsonl_file(path, seen)
        return
    try:
        yield read_article(path)
    except InputError as exc:
        yield exc
