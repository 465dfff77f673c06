"""Validators that make the model re-ask, and the two layers of schema."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from llm_extract.tasks.security_events.records import AgreementRecord, ArticleExtraction
from llm_extract.tasks.security_events.schema import ArticleMentions, DrugItem


def test_the_good_answer_validates(good_answer):
    mentions = ArticleMentions.model_validate(good_answer)
    assert mentions.seizures[0].items[0].quantity == 2400


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda a: a["seizures"][0]["items"][0].update(quantity=0), "quantity"),
        (lambda a: a["seizures"][0]["items"][0].update(quantity=-5), "quantity"),
        (lambda a: a["seizures"][0].update(evidence=""), "evidence"),
        (lambda a: a["seizures"][0].update(evidence="  \n "), "evidence"),
        (lambda a: a["agreements"][0].update(parties=[]), "parties"),
        (lambda a: a["seizures"][0].update(items=[]), "items"),
        (lambda a: a["agreements"][0].update(status="rumoured"), "status"),
        (lambda a: a["agreements"][0].update(domains=["astrology"]), "domains"),
        (lambda a: a["seizures"][0].update(arrested=-1), "arrested"),
        (lambda a: a["seizures"][0]["items"][0].update(quantity="2,400"), "quantity"),
    ],
)
def test_what_cannot_be_right_is_rejected(good_answer, mutate, field):
    answer = copy.deepcopy(good_answer)
    mutate(answer)
    with pytest.raises(ValidationError) as info:
        ArticleMentions.model_validate(answer)
    assert field in str(info.value)


def test_null_lists_mean_nothing_found():
    mentions = ArticleMentions.model_validate({"agreements": None, "seizures": None})
    assert mentions.agreements == [] and mentions.seizures == []


@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_any_positive_quantity_is_accepted(value):
    assert DrugItem(drug="heroin", quantity=value, unit="kg").quantity == value


@given(st.floats(max_value=0, allow_nan=False))
def test_no_non_positive_quantity_is_accepted(value):
    with pytest.raises(ValidationError):
        DrugItem(drug="heroin", quantity=value, unit="kg")


def test_the_record_keeps_the_model_fields_and_adds_its_own(good_answer):
    model_fields = set(ArticleMentions.model_fields["agreements"].annotation.__args__[0].model_fields)
    assert model_fields < set(AgreementRecord.model_fields)
    assert {"run", "article"} <= set(ArticleExtraction.model_fields)
    assert "run" not in model_fields and "id" not in model_fields
