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
    from .core.articles import Article, iter_articles
    from .runs.runner import BatchSummary, run_batch
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
    from .core.pipeline import Extractor
    from .core.results import ArticleInfo, ArticleResult, Failure, RunMeta, Usage
    from .tasks.security_events.records import AgreementRecord, ArticleExtraction, SeizureRecord
    from .tasks.security_events.schema import AgreementMention, ArticleMentions, DrugItem, SeizureMention
    from .settings import ExtractorSettings
    from .core.task import Task

_EXPORTS: dict[str, str] = {
    "Article": "core.articles",
    "iter_articles": "core.articles",
    "BatchSummary": "runs.runner",
    "run_batch": "runs.runner",
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
    "Extractor": "core.pipeline",
    "AgreementRecord": "tasks.security_events.records",
    "ArticleExtraction": "tasks.security_events.records",
    "ArticleInfo": "core.results",
    "ArticleResult": "core.results",
    "Failure": "core.results",
    "RunMeta": "core.results",
    "SeizureRecord": "tasks.security_events.records",
    "Usage": "core.results",
    "AgreementMention": "tasks.security_events.schema",
    "ArticleMentions": "tasks.security_events.schema",
    "DrugItem": "tasks.security_events.schema",
    "SeizureMention": "tasks.security_events.schema",
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
