"""Replaying the five seed articles gives the records a reader expects (issue acceptance)."""

from __future__ import annotations

import pytest
from helpers import REPLAY, seed

from llm_extract import ArticleExtraction, Extractor
from llm_extract.core.articles import read_article


@pytest.fixture(scope="module")
def results() -> dict[str, ArticleExtraction]:
    extractor = Extractor(mode="replay", replay_dir=REPLAY)
    return {prefix: extractor.extract(read_article(seed(prefix))) for prefix in ("000", "001", "002", "003", "004")}


def _parties(agreement) -> set[str]:
    return {p.name for p in agreement.parties}


def test_003_methamphetamine_seizure_in_sistan_baluchestan(results):
    (seizure,) = results["003"].seizures  # mentioned twice in the article, one record
    (item,) = seizure.items
    assert item.drug == "methamphetamine"
    assert item.quantity == 2400
    assert item.unit == "kilograms"
    assert "Sistan" in (seizure.place or "")
    assert "2,400 kilograms of methamphetamine" in seizure.evidence


def test_003_needed_one_reask_and_counts_it(results):
    run = results["003"].run
    assert (run.calls, run.reasks, run.retries) == (2, 1, 0)
    assert run.usage.input_tokens > 0 and run.usage.output_tokens > 0


def test_001_iran_russia_security_agreements_signed(results):
    signed = [a for a in results["001"].agreements if a.status == "signed" and {"Iran", "Russia"} <= _parties(a)]
    assert signed, results["001"].agreements
    assert any("police" in d or "cyber" in d for a in signed for d in a.domains)
    assert any("National Guard" in " ".join(_parties(a)) for a in results["001"].agreements)


def test_002_iran_kyrgyzstan_interior_ministries_agreement(results):
    current = [a for a in results["002"].agreements if not a.is_background and a.status == "signed"]
    assert any("Kyrgyz" in " ".join(_parties(a)) and "Interior" in " ".join(_parties(a)) for a in current)
    background_2016 = [a for a in results["002"].agreements if a.is_background and a.date and "2016" in a.date]
    assert background_2016


def test_000_december_2010_mou_is_background(results):
    (mou,) = [a for a in results["000"].agreements if a.date and "December 2010" in a.date]
    assert mou.is_background
    assert mou.instrument_type == "mou" and mou.status == "signed"
    assert {"Iran", "Russia"} <= _parties(mou)
    assert {"Mohammad Najjar", "Viktor Ivanov"} <= {o.name for o in mou.officials}
    assert not results["000"].seizures


def test_004_iran_turkey_security_agreement_implemented(results):
    (agreement,) = [a for a in results["004"].agreements if a.instrument_type == "agreement"]
    assert {"Iran", "Turkey"} <= _parties(agreement)
    assert agreement.status in ("implemented", "renewed")
    assert not agreement.is_background


def test_every_record_names_its_source_and_hash(results):
    for prefix, result in results.items():
        assert result.article.source.endswith(seed(prefix).name)
        assert len(result.article.sha256) == 64
        assert result.run.prompt_version and result.run.mode == "replay"
        ids = [r.id for r in [*result.agreements, *result.seizures]]
        assert len(ids) == len(set(ids))


def test_every_evidence_is_verbatim_in_its_article(results):
    for prefix, result in results.items():
        text = read_article(seed(prefix)).text
        for record in [*result.agreements, *result.seizures]:
            assert record.evidence in text, (prefix, record.id)
