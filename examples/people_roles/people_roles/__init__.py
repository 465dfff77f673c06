"""An llm_extract task: the people named in news articles, with their roles.

The worked example of `README.md` (how to write your own task):

- `schema`: what the model fills (`PeopleMentions`: name, role, organisation, evidence);
- `records`: what users get (`PeopleExtraction`, one line of `records.jsonl`);
- `build`: grounding of each person's evidence, the name key, duplicates;
- `tables`: the `people` table of the event store and its migration;
- `views`: export tables, statistics, evaluation against gold files;
- `prompts/`: `system.j2`, `user.j2` and the few-shot example, shipped inside the package.

`TASK` is what `llm-extract run --task people_roles` loads, through the entry point
`people_roles = "people_roles:TASK"` in the group `llm_extract.tasks` (see `pyproject.toml`),
or `--task people_roles:TASK` without installing anything but the import path.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from llm_extract.core.task import BuildContext, Task

from .records import PeopleExtraction
from .schema import PeopleMentions
from .tables import PeopleTables
from .views import PeopleViews

__all__ = ["TASK", "PeopleExtraction", "PeopleMentions", "people_roles_task"]

#: The templates, inside the installed package (a real directory for any normal install).
PROMPT_DIR = Path(str(resources.files(__name__).joinpath("prompts")))


def _build(mentions: PeopleMentions, context: BuildContext) -> PeopleExtraction:
    from .build import build_people

    return build_people(mentions, context)


def _combine(parts: list[PeopleMentions]) -> PeopleMentions:
    from .build import combine_chunks

    return combine_chunks(parts)


def _summarize(result: PeopleExtraction) -> Mapping[str, int]:
    return {"people": len(result.people), "rejected": len(result.rejected)}


def people_roles_task() -> Task[PeopleMentions, PeopleExtraction]:
    """The task: people, their roles and organisations, each with grounded evidence."""
    return Task(
        name="people_roles",
        response_model=PeopleMentions,
        prompt_dir=PROMPT_DIR,
        build=_build,
        combine=_combine,
        result_model=PeopleExtraction,
        tables=PeopleTables(),
        summarize=_summarize,
        views=PeopleViews(),
        description="people named in news articles, with their roles",
        count_labels={"people": "people", "rejected": "rejected people (evidence not found, duplicates)"},
    )


TASK = people_roles_task()
