"""From what the model filled to what users get: grounding, name keys, duplicates.

`build_people(mentions, context)` is the task's `build`. For each person, in the model's order:

1. **Grounding.** The `evidence` quote is located in the article with the engine's
   `Grounder` (exact, then normalised, then fuzzy at `context.fuzzy_threshold`). A person
   whose evidence is not found goes to `rejected` ("evidence not found in the article");
   with `--keep-ungrounded` (`context.keep_ungrounded`) it is also kept, with grounding
   `ungrounded` and the flag `evidence_not_found`.
2. **Name key.** `name_key` is the name normalised as the grounder normalises text (NFKC,
   case-folded, every run of whitespace one space, curly and straight apostrophes equal):
   `"Siobhán  O’Neill"` and `"siobhán o'neill"` are one key.
3. **Duplicates.** A person listed again with the same name key and the same role (compared
   the same way) is a duplicate: it goes to `rejected` ("duplicate of p1"), never kept twice.
   The same person in two roles is two records.
4. **Flags.** `name_not_in_evidence` when neither the name nor its last word (a surname)
   is in the grounded passage: the quote may be about someone else.

`combine_chunks(parts)` is the task's `combine`: the people of every chunk of a long
article, in order. A person found twice only because two chunks overlap (same name, role
and evidence) is kept once there: that is an artefact of chunking, not a duplicate the
model wrote.
"""

from __future__ import annotations

from llm_extract.core.grounding import Grounder, contains_value, normalize_text
from llm_extract.core.task import BuildContext

from .records import PeopleExtraction, PersonRecord, RejectedPerson
from .schema import PeopleMentions, PersonMention

__all__ = ["EVIDENCE_NOT_FOUND", "build_people", "combine_chunks", "name_key"]

EVIDENCE_NOT_FOUND = "evidence not found in the article"


def name_key(name: str) -> str:
    """The comparison key of a name (or a role): normalised, case-folded, whitespace collapsed."""
    return normalize_text(name)


def _name_in(passage: str, name: str) -> bool:
    if contains_value(passage, name):
        return True
    words = name.split()
    return len(words) > 1 and contains_value(passage, words[-1])


def build_people(mentions: PeopleMentions, context: BuildContext) -> PeopleExtraction:
    """The result for one article (see the module docstring)."""
    text = context.article.text
    grounder = Grounder(text)
    people: list[PersonRecord] = []
    rejected: list[RejectedPerson] = []
    seen: dict[tuple[str, str], str] = {}
    for mention in mentions.people:
        raw = mention.model_dump(mode="json")
        key = name_key(mention.name)
        identity = (key, name_key(mention.role))
        if identity in seen:
            rejected.append(RejectedPerson(reason=f"duplicate of {seen[identity]} (same name and role)", record=raw))
            continue
        span = grounder.locate(mention.evidence, threshold=context.fuzzy_threshold)
        flags: list[str] = []
        if span is None:
            rejected.append(RejectedPerson(reason=EVIDENCE_NOT_FOUND, record=raw))
            if not context.keep_ungrounded:
                continue
            flags.append("evidence_not_found")
        elif not _name_in(text[span.start : span.end], mention.name):
            flags.append("name_not_in_evidence")
        record_id = f"p{len(people) + 1}"
        seen[identity] = record_id
        people.append(
            PersonRecord(
                **mention.model_dump(),
                id=record_id,
                name_key=key,
                span=span,
                grounding=span.status if span is not None else "ungrounded",
                flags=flags,
            )
        )
    return PeopleExtraction(
        article=context.info,
        run=context.run,
        chunks=context.chunks,
        people=people,
        rejected=rejected,
    )


def combine_chunks(parts: list[PeopleMentions]) -> PeopleMentions:
    """The answers for the chunks of a long article, as one answer (in chunk order)."""
    people: list[PersonMention] = []
    seen: set[tuple[str, str, str]] = set()
    for part in parts:
        for person in part.people:
            identity = (name_key(person.name), name_key(person.role), normalize_text(person.evidence))
            if identity not in seen:
                seen.add(identity)
                people.append(person)
    return PeopleMentions(people=people)
