"""llm_extract: grounded, replayable extraction of structured records from news with a language model.

The house, data flowing one way::

    core/     articles → chunking → prompts → (model) → task build: grounding, results, the Task protocol
    model/    the openai + instructor client, transport retries, record / replay at the HTTP seam
    runs/     the worker loop, run outputs, the event store, the provider Batch API
    views/    report, export, stats, eval (generic parts; a task adds its own)
    tasks/    built-in tasks, each packaged like a user's (security_events: agreements and seizures)
    testing/  the local OpenAI-compatible server, scripted answers, synthetic corpora
    cli/      the `llm-extract` command line

Public API (imported lazily, so that `import llm_extract` and `llm-extract --help` stay fast)::

    from llm_extract import Extractor, ExtractorSettings, ArticleExtraction, LLMExtractError
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.articles import Article, iter_articles
    from .core.pipeline import Extractor
    from .core.registry import available_tasks, load_task
    from .core.results import ArticleInfo, ArticleResult, Failure, RunMeta, Usage
    from .core.task import BuildContext, Task, TaskTables, TaskViews
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
    from .runs.runner import BatchSummary, run_batch
    from .runs.store import EventStore
    from .settings import ExtractorSettings
    from .tasks.security_events.records import AgreementRecord, ArticleExtraction, SeizureRecord
    from .tasks.security_events.schema import AgreementMention, ArticleMentions, DrugItem, SeizureMention

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
    "BuildContext": "core.task",
    "TaskTables": "core.task",
    "TaskViews": "core.task",
    "load_task": "core.registry",
    "available_tasks": "core.registry",
    "EventStore": "runs.store",
}

__all__ = [
    "AgreementMention",
    "AgreementRecord",
    "Article",
    "ArticleExtraction",
    "ArticleInfo",
    "ArticleMentions",
    "ArticleResult",
    "BatchSummary",
    "BuildContext",
    "ConfigError",
    "DrugItem",
    "EventStore",
    "Extractor",
    "ExtractorSettings",
    "Failure",
    "InputError",
    "LLMExtractError",
    "ModelCallError",
    "PromptError",
    "ReplayError",
    "ReplayMissError",
    "RequestRejectedError",
    "RunMeta",
    "SeizureMention",
    "SeizureRecord",
    "StaleRecordingError",
    "StoreError",
    "Task",
    "TaskTables",
    "TaskViews",
    "TransportError",
    "Usage",
    "ValidationFailedError",
    "available_tasks",
    "iter_articles",
    "load_task",
    "run_batch",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_extract' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
