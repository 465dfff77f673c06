"""llm_extract: grounded extraction of security agreements and drug seizures from news.

The pipeline, one module per step::

    articles  →  prompts  →  llm (openai + instructor, retry)  →  schema (validate)
              →  records  →  batch (records.jsonl)         replay: record / replay at the HTTP seam

Public API (imported lazily, so that `import llm_extract` and `llm-extract --help` stay fast)::

    from llm_extract import Extractor, ExtractorSettings, ArticleExtraction, LLMExtractError
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .articles import Article, iter_articles
    from .batch import BatchSummary, run_batch
    from .errors import (
        ConfigError,
        InputError,
        LLMExtractError,
        ModelCallError,
        PromptError,
        ReplayError,
        ReplayMissError,
        RequestRejectedError,
        StaleRecordingError,
        StoreError,
        TransportError,
        ValidationFailedError,
    )
    from .pipeline import Extractor
    from .records import (
        AgreementRecord,
        ArticleExtraction,
        ArticleInfo,
        ArticleResult,
        Failure,
        RunMeta,
        SeizureRecord,
        Usage,
    )
    from .schema import AgreementMention, ArticleMentions, DrugItem, SeizureMention
    from .settings import ExtractorSettings
    from .core.task import Task

_EXPORTS: dict[str, str] = {
    "Article": "articles",
    "iter_articles": "articles",
    "BatchSummary": "batch",
    "run_batch": "batch",
    "ConfigError": "errors",
    "InputError": "errors",
    "LLMExtractError": "errors",
    "ModelCallError": "errors",
    "PromptError": "errors",
    "ReplayError": "errors",
    "ReplayMissError": "errors",
    "RequestRejectedError": "errors",
    "StaleRecordingError": "errors",
    "StoreError": "errors",
    "TransportError": "errors",
    "ValidationFailedError": "errors",
    "Extractor": "pipeline",
    "AgreementRecord": "records",
    "ArticleExtraction": "records",
    "ArticleInfo": "records",
    "ArticleResult": "records",
    "Failure": "records",
    "RunMeta": "records",
    "SeizureRecord": "records",
    "Usage": "records",
    "AgreementMention": "schema",
    "ArticleMentions": "schema",
    "DrugItem": "schema",
    "SeizureMention": "schema",
    "ExtractorSettings": "settings",
    "Task": "core.task",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_extract' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
