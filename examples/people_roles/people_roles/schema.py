"""What the model fills: the people an article names, with their roles, as written.

This is the schema sent to the model as a tool (named after the top model: `PeopleMentions`).
It stays small on purpose: every field costs prompt tokens on every call, and deterministic
code (`build`) does the rest: grounding the evidence, normalising the name, dropping
duplicates. Values are strings *as written* in the article.

Validators reject what cannot be right (an empty name or evidence), so that the engine
re-asks the model with the error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = ["NonEmpty", "PeopleMentions", "PersonMention"]

#: A string with surrounding whitespace removed that must not be empty.
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class PersonMention(BaseModel):
    """One person the article names, in one role."""

    model_config = ConfigDict(extra="ignore")

    name: NonEmpty = Field(description="The person's name as written, e.g. 'Siobhán O'Neill'.")
    role: NonEmpty = Field(description="Their role or title as written, e.g. 'chief executive'.")
    organisation: str | None = Field(
        default=None, description="The organisation they hold the role in, as written, or null."
    )
    evidence: NonEmpty = Field(description="The one sentence of the article that names them in this role, verbatim.")

    @field_validator("organisation", mode="before")
    @classmethod
    def _blank_is_null(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class PeopleMentions(BaseModel):
    """The people named in one news article, with their roles."""

    model_config = ConfigDict(extra="ignore")

    people: list[PersonMention] = Field(default_factory=list)

    @field_validator("people", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        # some models send null for "nobody named": that is an empty list, not an error
        return [] if value is None else value
