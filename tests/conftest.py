"""Shared pytest fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import ANSWERS, PREFIXES, REPLAY, seed


@pytest.fixture
def good_answer() -> dict[str, Any]:
    """A valid ArticleMentions answer for seed 003 (the corrected second turn)."""
    return json.loads((ANSWERS / f"{seed('003').stem}.json").read_text(encoding="utf-8"))["turns"][-1]


@pytest.fixture
def fast_retry() -> dict[str, Any]:
    """Settings overrides that make transport retries instant in tests."""
    return {"retry_initial_wait_s": 0.0, "retry_max_wait_s": 0.0, "retry_after_max_s": 0.05}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's key, base URL or llm_extract settings."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_EXTRACT_MODEL", "LLM_EXTRACT_REPLAY_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def seeds() -> dict[str, Any]:
    """The five seed articles, extracted by replay (prefix → ArticleExtraction)."""
    from llm_extract import Extractor
    from llm_extract.core.articles import read_article

    extractor = Extractor(mode="replay", replay_dir=REPLAY)
    return {prefix: extractor.extract(read_article(seed(prefix))) for prefix in PREFIXES}
