"""Few-shot leakage: records copied from the prompt's example instead of the article.

Small models copy the example they were shown (its drugs and quantities, its parties) into
articles that mention neither. Grounding rejects a copied evidence sentence; this catches
the harder case, a record whose *values* come from the example while its evidence is some
sentence of the article (the headline, say):

- a seizure whose items (drug and quantity) are the example's, with none of those
  quantities written anywhere in the article;
- an agreement whose parties are the example's, none of them named in the article;
- any record whose evidence is a sentence of the example and not of the article.

Such a record is rejected with the reason "copied from the prompt's example".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from llm_extract.core.grounding import locate
from llm_extract.core.normalized_text import normalize_text

from .schema import AgreementMention, SeizureMention

__all__ = ["Example", "load_example"]

REASON = "copied from the prompt's example, not from the article"


@dataclass(frozen=True)
class Example:
    """The few-shot example's text and values."""

    text: str = ""
    items: frozenset[tuple[str, float]] = field(default_factory=frozenset)
    parties: frozenset[frozenset[str]] = field(default_factory=frozenset)

    def seizure_leaked(self, m: SeizureMention, quantity_in_article: bool) -> bool:
        if not self.items or quantity_in_article:
            return False
        mine = {(normalize_text(i.drug), float(i.quantity)) for i in m.items if i.quantity is not None}
        return bool(mine) and mine <= self.items

    def agreement_leaked(self, m: AgreementMention, parties_in_article: bool) -> bool:
        if not self.parties or parties_in_article:
            return False
        return frozenset(normalize_text(p.name) for p in m.parties) in self.parties

    def evidence_leaked(self, evidence: str, article_text: str) -> bool:
        if not self.text:
            return False
        return locate(evidence, self.text) is not None and locate(evidence, article_text) is None


@lru_cache(maxsize=8)
def load_example(prompt_dir: Path) -> Example:
    """The example of a prompt directory (`example_article.txt`, `example_output.json`)."""
    article, output = prompt_dir / "example_article.txt", prompt_dir / "example_output.json"
    if not article.is_file() or not output.is_file():
        return Example()
    data = json.loads(output.read_text(encoding="utf-8"))
    items = frozenset(
        (normalize_text(i["drug"]), float(i["quantity"]))
        for s in data.get("seizures") or []
        for i in s.get("items") or []
        if i.get("quantity") is not None
    )
    parties = frozenset(
        frozenset(normalize_text(p["name"]) for p in a.get("parties") or []) for a in data.get("agreements") or []
    )
    return Example(text=article.read_text(encoding="utf-8"), items=items, parties=parties)
