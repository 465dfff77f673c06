"""Tasks: what to extract. A schema, its prompt templates and its post-processing.

The pipeline (`llm_extract.pipeline`) is generic over a `Task`; the built-in task,
`security_events`, extracts agreements and drug seizures. A task's `combine` joins the
answers for the chunks of a long article, and its `build` turns what the model filled (an
instance of `response_model`) into the result users get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from llm_extract.core.articles import Article
from llm_extract.core.results import ArticleInfo, ArticleResult, RunMeta
from llm_extract.tasks.security_events.records import ArticleExtraction
from llm_extract.tasks.security_events.schema import ArticleMentions

__all__ = ["SECURITY_EVENTS", "BuildContext", "Task", "builtin_prompt_dir", "security_events_task"]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=ArticleResult)


@dataclass(frozen=True)
class BuildContext:
    """What a task's `build` gets besides the model's answer."""

    article: Article
    info: ArticleInfo
    run: RunMeta
    chunks: int
    fuzzy_threshold: float
    keep_ungrounded: bool


@dataclass(frozen=True)
class Task(Generic[M, R]):
    """A schema for the model to fill, the prompts that ask for it, and how to build results."""

    name: str
    response_model: type[M]
    prompt_dir: Path
    build: Callable[[M, BuildContext], R]
    combine: Callable[[list[M]], M]


def builtin_prompt_dir(name: str) -> Path:
    """The directory of a built-in task's templates.

    In an installed wheel they ship inside the package (`llm_extract/prompts/NAME`); in a
    source checkout they are the repository's top-level `prompts/NAME`.
    """
    packaged = Path(str(resources.files("llm_extract"))) / "prompts" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "prompts" / name


def _build_security_events(mentions: ArticleMentions, context: BuildContext) -> ArticleExtraction:
    from llm_extract.tasks.security_events.build import BuildOptions, build_extraction

    options = BuildOptions(fuzzy_threshold=context.fuzzy_threshold, keep_ungrounded=context.keep_ungrounded)
    return build_extraction(
        mentions, context.article, context.info, context.run, options=options, chunks=context.chunks
    )


def _combine_security_events(parts: list[ArticleMentions]) -> ArticleMentions:
    from llm_extract.tasks.security_events.build import combine_chunks

    return combine_chunks(parts)


def security_events_task() -> Task[ArticleMentions, ArticleExtraction]:
    """The built-in task: agreements and drug seizures."""
    return Task(
        name="security_events",
        response_model=ArticleMentions,
        prompt_dir=builtin_prompt_dir("security_events"),
        build=_build_security_events,
        combine=_combine_security_events,
    )


SECURITY_EVENTS = security_events_task()
