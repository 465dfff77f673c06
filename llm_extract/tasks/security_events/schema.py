"""What the model fills: a small schema, strings as written, few enums.

This is the schema sent to the model as a tool. It stays small on purpose: every field
costs prompt tokens and accuracy, and deterministic code (grounding, normalisation) does the
rest better. Values are kept *as written* in the article ("2,400 kilograms", "on Sunday");
`llm_extract.records` holds what users get, with run metadata and (later) spans and
normalised values.

Validators reject what cannot be right, so that instructor re-asks the model with the
error: a zero or negative quantity, empty evidence, an agreement with no party, a seizure
with no drug item.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = [
    "AgreementMention",
    "AgreementStatus",
    "ArticleMentions",
    "Domain",
    "DrugItem",
    "InstrumentType",
    "Official",
    "Party",
    "PartyKind",
    "SeizureMention",
]

#: A string with surrounding whitespace removed that must not be empty.
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class PartyKind(StrEnum):
    state = "state"
    agency = "agency"
    organisation = "organisation"


class InstrumentType(StrEnum):
    mou = "mou"
    agreement = "agreement"
    treaty = "treaty"
    protocol = "protocol"
    joint_statement = "joint_statement"
    mechanism = "mechanism"
    other = "other"


class AgreementStatus(StrEnum):
    signed = "signed"
    agreed = "agreed"
    discussed = "discussed"
    planned = "planned"
    implemented = "implemented"
    renewed = "renewed"


class Domain(StrEnum):
    narcotics = "narcotics"
    terrorism = "terrorism"
    extremism = "extremism"
    organized_crime = "organized_crime"
    border_security = "border_security"
    cyber = "cyber"
    human_trafficking = "human_trafficking"
    arms_trafficking = "arms_trafficking"
    smuggling = "smuggling"
    policing = "policing"
    intelligence_sharing = "intelligence_sharing"
    training = "training"
    technology = "technology"
    migration = "migration"
    disaster_management = "disaster_management"
    other = "other"


def _compact_schema(schema: dict[str, Any]) -> None:
    """Make the schema sent with every call shorter without changing what it allows.

    Drops the properties' auto-generated titles ("Evidence" for `evidence`) and defaults, and
    writes a nullable scalar as `{"type": ["string", "null"]}` instead of an `anyOf`. They
    cost prompt tokens on every call and tell the model nothing the property names and the
    `required` list do not. (The models' own titles stay: the tool is named after the top one.)
    """
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        prop.pop("default", None)  # optional fields are not in "required": the default adds nothing
        options = prop.get("anyOf")
        if (
            isinstance(options, list)
            and len(options) == 2
            and options[1] == {"type": "null"}
            and isinstance(options[0].get("type"), str)
        ):
            # {"anyOf": [{"type": "string"}, {"type": "null"}]} → {"type": ["string", "null"]}
            merged = {**options[0], "type": [options[0]["type"], "null"]}
            del prop["anyOf"]
            schema["properties"][name] = {**merged, **prop}


class _Mention(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False, json_schema_extra=_compact_schema)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """Pydantic's JSON schema, computed once per class and arguments.

        instructor asks for the tool schema on every call, and generating it takes longer
        than everything else we do per article; the schema of a class never changes.
        """
        key = (cls, args, tuple(sorted(kwargs.items(), key=lambda kv: kv[0])))
        cached = _SCHEMAS.get(key)
        if cached is None:
            cached = _SCHEMAS[key] = super().model_json_schema(*args, **kwargs)
        return copy.deepcopy(cached)


#: Generated JSON schemas, by (class, arguments) of `model_json_schema`.
_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


class Party(_Mention):
    """A party to an agreement, named as the article names it."""

    name: NonEmpty = Field(description="As written, e.g. 'Iran', 'Russian National Guard'.")
    kind: PartyKind


class Official(_Mention):
    name: NonEmpty
    title: str | None = None
    organisation: str | None = None


class AgreementMention(_Mention):
    """One agreement, MoU or cooperation arrangement between states or agencies."""

    parties: list[Party] = Field(min_length=1, description="Every party, at least one.")
    instrument_type: InstrumentType
    status: AgreementStatus
    date: str | None = Field(default=None, description="As written, or null.")
    domains: list[Domain] = Field(default_factory=list)
    officials: list[Official] = Field(default_factory=list)
    place: str | None = None
    is_background: bool = Field(default=False, description="True when the article only recalls an older agreement.")
    evidence: NonEmpty = Field(description="One sentence of the article, verbatim.")


class DrugItem(_Mention):
    drug: NonEmpty = Field(description="As written, e.g. 'hashish'.")
    quantity: float | None = Field(default=None, gt=0, description="The number, without thousands separators.")
    unit: str | None = Field(default=None, description="As written: 'kilograms', 'tons', 'tablets', 'litres'.")


class SeizureMention(_Mention):
    """One interception of drugs (not an aggregate over a period, not a burning ceremony)."""

    items: list[DrugItem] = Field(min_length=1, description="One item per drug seized.")
    place: str | None = None
    date: str | None = Field(default=None, description="As written, or null.")
    seizing_agency: str | None = None
    arrested: int | None = Field(default=None, ge=0)
    origin: str | None = None
    destination: str | None = None
    is_total: bool = Field(default=False, description="A sum over a period, not one seizure.")
    evidence: NonEmpty = Field(description="One sentence of the article, verbatim.")


class ArticleMentions(_Mention):
    """Agreements and drug seizures reported in one news article.

    Strict at the top: both lists must be there (empty when the article has none) and no
    other key is allowed, so that junk such as `{"title": "ArticleMentions", "type": "json"}`
    is a validation error that is re-asked, never an empty success.
    """

    model_config = ConfigDict(extra="forbid", use_enum_values=False, json_schema_extra=_compact_schema)

    title: str | None = None
    published: str | None = Field(default=None, description="The article's publication date as written, or null.")
    agreements: list[AgreementMention]
    seizures: list[SeizureMention]

    @field_validator("agreements", "seizures", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        # Some models send null for "nothing found"; that is an empty list, not an error.
        return [] if value is None else value
