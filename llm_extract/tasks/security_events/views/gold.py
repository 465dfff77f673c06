"""The gold annotation format of the built-in task (`fixtures/gold/README.md`), validated."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from llm_extract.errors import InputError
from llm_extract.tasks.security_events.normalize import DrugName, PartialDate
from llm_extract.tasks.security_events.schema import AgreementStatus, Domain, InstrumentType

if TYPE_CHECKING:  # pragma: no cover
    pass


__all__ = ["GOLD_VERSION", "GoldAgreement", "GoldArticle", "GoldArticleRef", "GoldItem", "GoldParty", "GoldSeizure", "load_gold"]

GOLD_VERSION: Literal[1] = 1

_ISO3 = re.compile(r"[A-Z]{3}")


def _check_iso3(value: str) -> str:
    if not _ISO3.fullmatch(value):
        raise ValueError(f"not an ISO 3166-1 alpha-3 code (three capital letters): {value!r}")
    return value


def _check_date(value: str) -> str:
    PartialDate.from_iso(value)  # ValueError: "not an ISO partial date: ..."
    return value


Iso3 = Annotated[str, AfterValidator(_check_iso3)]
IsoDate = Annotated[str, AfterValidator(_check_date)]


class _Gold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldParty(_Gold):
    """A party: its name, its country (ISO3, null for organisations) and other names it goes by."""

    name: str = Field(min_length=1)
    iso3: Iso3 | None = None
    aliases: list[str] = Field(default_factory=list)


class GoldAgreement(_Gold):
    parties: list[GoldParty] = Field(min_length=1)
    instrument_type: InstrumentType
    status: AgreementStatus
    date_iso: IsoDate | None = Field(description="At the precision the text gives; null when it gives none.")
    is_background: bool
    domains: list[Domain] | None = Field(default=None, description="Recorded, not scored.")
    evidence: str | None = Field(default=None, description="A short verbatim snippet, for tie-breaks.")
    note: str | None = None


class GoldItem(_Gold):
    """One drug of a seizure: canonical name and at most one quantity (kg, count or litres)."""

    drug_name: DrugName
    kg: float | None = Field(default=None, gt=0)
    count: float | None = Field(default=None, gt=0)
    litres: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_quantity(self) -> GoldItem:
        if sum(q is not None for q in (self.kg, self.count, self.litres)) > 1:
            raise ValueError("give at most one of kg, count, litres")
        return self


class GoldSeizure(_Gold):
    items: list[GoldItem] = Field(min_length=1)
    country: Iso3 | None
    date_iso: IsoDate | None = Field(description="At the precision the text gives; null when it gives none.")
    place: str | None = Field(default=None, description="Recorded, not scored.")
    seizing_agency: str | None = Field(default=None, description="Recorded, not scored.")
    evidence: str | None = None
    note: str | None = None


class GoldArticleRef(_Gold):
    """Which article: any of stem, sha256, id (the stem defaults to the gold file's name)."""

    stem: str | None = None
    sha256: str | None = None
    id: str | None = None
    published: str | None = Field(default=None, description="Recorded, not scored.")

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError("sha256 must be 64 lower-case hex digits")
        return value


class GoldArticle(_Gold):
    """One gold file: an article and every agreement and seizure a careful reader finds in it."""

    version: Literal[1] = GOLD_VERSION
    article: GoldArticleRef = Field(default_factory=GoldArticleRef)
    note: str | None = None
    agreements: list[GoldAgreement] = Field(default_factory=list)
    seizures: list[GoldSeizure] = Field(default_factory=list)
    file: str = Field(default="", description="Set by load_gold: the gold file's path.")


def load_gold(gold_dir: Path) -> list[GoldArticle]:
    """Every `*.json` gold file in `gold_dir`, sorted by name; `InputError` naming a bad file."""
    gold_dir = Path(gold_dir)
    if not gold_dir.is_dir():
        raise InputError(str(gold_dir), "not a directory of gold files")
    paths = sorted(gold_dir.glob("*.json"))
    if not paths:
        raise InputError(str(gold_dir), "no gold files (*.json)")
    golds: list[GoldArticle] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(str(path), f"not a readable JSON file: {exc}") from None
        if not isinstance(data, dict):
            raise InputError(str(path), "a gold file holds one JSON object")
        data.pop("file", None)
        try:
            gold = GoldArticle.model_validate(data)
        except ValidationError as exc:
            raise InputError(str(path), "not a valid gold file: " + validation_errors(exc)) from None
        ref = gold.article
        if ref.stem is None:
            ref = ref.model_copy(update={"stem": path.stem})
        gold = gold.model_copy(update={"article": ref, "file": str(path)})
        for key in (f"sha256:{ref.sha256}" if ref.sha256 else None, f"id:{ref.id}" if ref.id else None):
            if key is not None:
                if key in seen:
                    raise InputError(str(path), f"the same article as {seen[key]} ({key})")
                seen[key] = str(path)
        golds.append(gold)
    return golds


def validation_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# predictions (read leniently)
# --------------------------------------------------------------------------------------------
