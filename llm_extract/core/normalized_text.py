"""Text normalised for matching, with an offset map back to the original.

Unicode NFKC, case folding, every run of whitespace (line breaks, tabs, no-break and thin
spaces) one space and ignored at the ends, apostrophes, double quotes and dashes each
folded to one character, soft hyphens and zero-width characters dropped. `Normalized`
keeps, for every character of the normalised copy, where it came from in the original, so
a match found in the copy is a span of the original text.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache

__all__ = ["Normalized", "normalize_text"]

_APOSTROPHES = "'\u2019\u2018\u201b`\u00b4\u02bc\u2032"
_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u2033'
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_IGNORED = "\u00ad\u200b\u200c\u200d\u2060\ufeff"

_CHAR_TABLE: dict[int, str | None] = {
    **{ord(c): "'" for c in _APOSTROPHES},
    **{ord(c): '"' for c in _DOUBLE_QUOTES},
    **{ord(c): "-" for c in _DASHES},
    **{ord(c): " " for c in _SPACES},
    **{ord(c): None for c in _IGNORED},
}
# Anything but printable ASCII (and the backtick, an apostrophe here) needs more than
# lower(): whitespace other than " ", control and non-ASCII characters.
_SPECIAL_RE = re.compile(r"[^ -_a-~]+")
_SPACE_RUN_RE = re.compile(r" {2,}")


# Word tokens for fuzzy alignment; "2,400" and "2 400" are one token.
def _norm_group(group: str) -> str:
    """Normalise one base character plus its combining marks (non-ASCII path)."""
    out = group.translate(_CHAR_TABLE)
    out = unicodedata.normalize("NFKC", out).casefold()
    out = out.translate(_CHAR_TABLE)
    if out.startswith(" ") and not group.isspace():
        return ""  # a spacing accent (NFKC("¸") == " \u0327"): ignored
    if "  " in out:
        out = _SPACE_RUN_RE.sub(" ", out)
    return out


# --------------------------------------------------------------------------- #
# Normalised text with an offset map
# --------------------------------------------------------------------------- #


class Normalized:
    """A normalised copy of a text plus a piecewise map back to the original.

    The map is a list of segments sorted by normalised offset. A *linear* segment
    maps normalised chars one-to-one onto original chars; a *block* segment maps all
    its normalised chars onto one original range (a collapsed whitespace run, a
    ligature expanded by NFKC, a base letter with combining marks).
    """

    __slots__ = ("_linear", "_nstarts", "_oends", "_ostarts", "text")

    def __init__(self, original: str) -> None:
        pieces: list[str] = []
        nstarts: list[int] = []
        ostarts: list[int] = []
        oends: list[int] = []
        linear: list[bool] = []
        npos = 0
        last_space = True  # drops leading whitespace

        def emit(out: str, o0: int, o1: int, is_linear: bool) -> None:
            nonlocal npos, last_space
            if last_space and out.startswith(" "):
                out = out[1:]
                if is_linear:
                    o0 += 1
            if not out:
                return
            pieces.append(out)
            nstarts.append(npos)
            ostarts.append(o0)
            oends.append(o1)
            linear.append(is_linear)
            npos += len(out)
            last_space = out.endswith(" ")

        def emit_ascii_slow(a: int, b: int) -> None:
            """Printable ASCII with runs of spaces: collapse each run to one."""
            p = a
            for m in _SPACE_RUN_RE.finditer(original, a, b):
                emit(original[p : m.start()].lower(), p, m.start(), True)
                emit(" ", m.start(), m.end(), False)
                p = m.end()
            emit(original[p:b].lower(), p, b, True)

        def emit_special(a: int, b: int) -> None:
            run = original[a:b]
            if run.isspace():
                emit(" ", a, b, b - a == 1)
                return
            i = a
            while i < b:
                j = i + 1
                while j < b and unicodedata.combining(original[j]):
                    j += 1
                out = _norm_group(original[i:j])
                emit(out, i, j, len(out) == 1 and j - i == 1)
                i = j

        pos = 0
        for m in _SPECIAL_RE.finditer(original):
            s, e = m.span()
            if s > pos and unicodedata.combining(original[s]) and original[s - 1] != " ":
                s -= 1  # keep an ASCII base letter with its combining marks
            if s > pos:
                # Fast path: printable ASCII without backticks only needs lower().
                chunk = original[pos:s].lower()
                if "  " in chunk:
                    emit_ascii_slow(pos, s)
                else:
                    o0 = pos
                    if last_space and chunk[0] == " ":
                        chunk = chunk[1:]
                        o0 += 1
                    if chunk:
                        pieces.append(chunk)
                        nstarts.append(npos)
                        ostarts.append(o0)
                        oends.append(s)
                        linear.append(True)
                        npos += len(chunk)
                        last_space = chunk[-1] == " "
            emit_special(s, e)
            pos = e
        if pos < len(original):
            emit_ascii_slow(pos, len(original))

        self.text: str = "".join(pieces)
        self._nstarts = nstarts
        self._ostarts = ostarts
        self._oends = oends
        self._linear = linear

    def orig_start(self, j: int) -> int:
        """Original index of the first original char behind normalised char ``j``."""
        k = bisect_right(self._nstarts, j) - 1
        if self._linear[k]:
            return self._ostarts[k] + (j - self._nstarts[k])
        return self._ostarts[k]

    def orig_end(self, j: int) -> int:
        """Original index just past the last original char behind normalised char ``j``."""
        k = bisect_right(self._nstarts, j) - 1
        if self._linear[k]:
            return self._ostarts[k] + (j - self._nstarts[k]) + 1
        return self._oends[k]

    def is_boundary(self, j: int) -> bool:
        """Whether normalised offset ``j`` does not split the output of one original char.

        (NFKC and case folding can expand one char: "ß" -> "ss", "ﬁ" -> "fi".)
        """
        if j <= 0 or j >= len(self.text):
            return True
        k = bisect_right(self._nstarts, j) - 1
        return self._linear[k] or self._nstarts[k] == j

    def find(self, needle: str, start: int = 0) -> int:
        """``str.find`` in the normalised text, skipping matches that split a char."""
        j = self.text.find(needle, start)
        while j >= 0 and not (self.is_boundary(j) and self.is_boundary(j + len(needle))):
            j = self.text.find(needle, j + 1)
        return j

    def to_original(self, nstart: int, nend: int) -> tuple[int, int]:
        """Map the normalised range ``[nstart, nend)`` (non-empty) to original offsets."""
        return self.orig_start(nstart), self.orig_end(nend - 1)


def normalize_text(text: str) -> str:
    """Return ``text`` as the normalised matcher sees it.

    NFKC, case-folded, quotes/apostrophes/dashes unified, whitespace runs collapsed
    to one space and stripped at both ends, soft hyphens and zero-width chars dropped.
    A short string (a name, a needle) is normalised once and remembered.
    """
    if len(text) <= _REMEMBER_UP_TO:
        return _normalize_short(text)
    return Normalized(text).text.strip()


#: Strings up to this length have their `normalize_text` remembered (names and needles, asked again and again).
_REMEMBER_UP_TO = 160


@lru_cache(maxsize=16384)
def _normalize_short(text: str) -> str:
    return Normalized(text).text.strip()


# --------------------------------------------------------------------------- #
# Helpers for fuzzy matching and values
# --------------------------------------------------------------------------- #
