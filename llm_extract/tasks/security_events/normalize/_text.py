"""Helpers shared by the normalisers: lazily compiled patterns and text folding."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    pass


UnitKind = Literal["mass", "count", "volume", "unknown"]
Precision = Literal["year", "month", "week", "day"]


class _LazyRegex:
    """A regular expression compiled on first use, so importing this module stays cheap."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def rx(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.rx.fullmatch(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.rx.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text)

    def split(self, text: str) -> list[str]:
        return self.rx.split(text)

    def sub(self, replacement: str, text: str) -> str:
        return self.rx.sub(replacement, text)


# ---------------------------------------------------------------------------
# text folding shared by the lookups
# ---------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


@lru_cache(maxsize=16384)
def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: ``"Türkiye's"`` → ``"turkiye"``.

    Dots vanish ("U.S." → "us", "Kg." → "kg"), every other run of punctuation or
    dashes becomes one space, a leading "the" and a trailing possessive go.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_APOSTROPHES).casefold().replace("&", " and ").replace(".", "")
    text = re.sub(r"[^\w']+|_", " ", text)
    text = re.sub(r"'s?(?=\s|$)", "", text)  # possessive: "iran's", "countries'"
    text = re.sub(r"\s+", " ", text).strip(" '")
    text = re.sub(r"^the ", "", text)
    return re.sub(r"\bst\b", "saint", text)
