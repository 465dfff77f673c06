"""The task protocol: what a task must give the engine, and what it may give.

The engine (articles → prompts → model → validation → build → store → views) is generic
over a `Task`. A task is a frozen dataclass of plain values and functions; the built-in
`security_events` task (agreements and drug seizures) is built exactly like a user's.

Must give:

- `name`: its registry name, recorded with every result and in the store;
- `response_model`: the pydantic model the model fills (small: strings as written);
- `prompt_dir`: a directory with `system.j2` and `user.j2` (and optionally a few-shot
  example), see `llm_extract.core.prompts`;
- `result_model`: the result type (a subclass of `ArticleResult`), one line of
  `records.jsonl`; views read stored results back through it;
- `build(answer, context) -> result`: grounding, normalisation and checks;
- `combine(answers) -> answer`: joins the answers for the chunks of a long article.

May give (each `None` by default, and the engine then does without):

- `tables`: `TaskTables`, the task's own store tables with their own migrations and the
  rows of one result (the engine's tables hold only generic columns);
- `summarize(result) -> {name: count}`: counts for the run summary ("seizures": 2);
- `views`: `TaskViews`, the task's export tables, statistics, HTML report, cross-article
  merge and evaluation against gold annotations;
- `options`: a pydantic model of the task's own options, validated when the task is
  chosen (`Task.configure`); `build` sees them as `context.options`.

Generic code never reads a task's fields by name: whatever a task's result holds, the
engine stores its JSON, its generic metadata and what the task's own hooks return.
"""

from __future__ import annotations

import dataclasses
import functools
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from llm_extract.core.articles import Article
from llm_extract.core.results import ArticleInfo, ArticleResult, RunMeta
from llm_extract.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

    from llm_extract.runs.store import EventStore, Migration

__all__ = [
    "BuildContext",
    "Task",
    "TaskTables",
    "TaskViews",
    "builtin_prompt_dir",
]

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
    #: the task's own options (an instance of `Task.options`), or None
    options: BaseModel | None = None
    #: engine settings a task may honour (e.g. `min_confidence`), by name
    settings: Mapping[str, Any] = field(default_factory=dict)


class TaskTables(Protocol):
    """A task's own tables in the event store (`OUTDIR/extract.db`).

    `migrations` are applied in order, recorded under the task's name in the store's
    `migrations` table, like the engine's own. Every table should reference
    `articles(key) ON DELETE CASCADE`, so that re-extracting an article replaces its rows.
    """

    @property
    def migrations(self) -> Sequence[Migration]: ...

    @property
    def tables(self) -> Sequence[str]:
        """The task's table names (counted by `EventStore.counts`)."""
        ...

    def article_columns(self, result: Any) -> Mapping[str, Any]:
        """Values for columns of `articles` that the task's migrations added (may be empty)."""
        ...

    def write(self, db: sqlite3.Connection, key: str, result: Any) -> None:
        """Insert the rows of one result (inside the engine's transaction)."""
        ...


class TaskViews(Protocol):
    """The task's parts of the views of an output directory. Every method is optional:
    a views object may leave out what it does not provide (checked with `hasattr`)."""

    def export_tables(self, store: EventStore) -> Mapping[str, tuple[Sequence[str], Iterator[Mapping[str, Any]]]]:
        """Flat tables for `llm-extract export`: name → (columns, rows)."""
        ...

    def stats(self, store: EventStore) -> tuple[BaseModel, list[Table]]:
        """Statistics for `llm-extract stats`: a model (for --json) and tables to print."""
        ...

    def report(self, out_dir: Path, dest: Path, *, articles_root: Path | None, update_merge: bool) -> Path:
        """Write the task's HTML report of `out_dir` to `dest` (self-contained, escaped)."""
        ...

    def merge(self, store: EventStore) -> int:
        """Merge the same event across articles; returns the number of canonical events."""
        ...

    def evaluate(self, gold_dir: Path, run_dirs: Sequence[Path]) -> tuple[BaseModel, list[Table], list[str]]:
        """Score runs against gold annotations: a report model (for --json), tables, warnings."""
        ...


@dataclass(frozen=True)
class Task(Generic[M, R]):
    """A schema for the model to fill, the prompts that ask for it, and how to build results."""

    name: str
    response_model: type[M]
    prompt_dir: Path
    build: Callable[[M, BuildContext], R]
    combine: Callable[[list[M]], M]
    result_model: type[R]
    tables: TaskTables | None = None
    summarize: Callable[[R], Mapping[str, int]] | None = None
    views: Any = None  # a TaskViews (structural: any object with some of its methods)
    options: type[BaseModel] | None = None
    option_values: BaseModel | None = None
    description: str = ""
    #: the answer's token cap when the settings give none (`max_tokens`), sized to the schema:
    #: a small model that repeats itself then stops at the cap, not at the server's limit
    max_output_tokens: int | None = None
    #: how it was chosen (`module:attribute`), set by the registry and recorded in the store,
    #: so that a directory written by a task given as a path can be reopened
    spec: str | None = None
    #: how the summary names the task's counts ({"rejected": "rejected records (evidence not found)"})
    count_labels: Mapping[str, str] = field(default_factory=dict)

    def configure(self, values: Mapping[str, Any] | None) -> Task[M, R]:
        """This task with its own options set (validated by `options`).

        Raises `ConfigError` naming the task when the values do not fit.
        """
        if not values:
            return self
        if self.options is None:
            raise ConfigError(f"task {self.name!r} takes no options (got {', '.join(sorted(values))})")
        try:
            parsed = self.options.model_validate(dict(values))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "options"
            raise ConfigError(f"task {self.name!r}: option {where}: {first['msg']}") from None
        return dataclasses.replace(self, option_values=parsed)

    def counts(self, result: R) -> dict[str, int]:
        """The task's summary counts for one result (empty when it gives none)."""
        if self.summarize is None:
            return {}
        return {str(k): int(v) for k, v in self.summarize(result).items()}

    def view(self, name: str) -> Callable[..., Any] | None:
        """One of the task's view hooks (`export_tables`, `stats`, `report`, `merge`, `evaluate`)."""
        return getattr(self.views, name, None) if self.views is not None else None


@functools.cache
def builtin_prompt_dir(name: str) -> Path:
    """The directory of a built-in task's templates.

    In an installed wheel they ship inside the package (`llm_extract/prompts/NAME`); in a
    source checkout they are the repository's top-level `prompts/NAME`. Found once per name
    (a task's build asks for it with every article).
    """
    packaged = Path(str(resources.files("llm_extract"))) / "prompts" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "prompts" / name
