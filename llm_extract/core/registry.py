"""Choosing a task by name: built-ins, entry points, or a `module:attribute` path.

`load_task(spec)` resolves, in order:

1. a built-in name (`security_events`);
2. an installed plugin: an entry point in the `llm_extract.tasks` group, e.g. in the
   plugin's `pyproject.toml`::

       [project.entry-points."llm_extract.tasks"]
       people = "people_task:TASK"

3. `package.module:attribute`, importable from `sys.path`.

The attribute is a `Task`, or a function of no arguments that returns one. Anything else,
or an import that fails, is a `ConfigError` naming the task. Built-ins are named here as
strings: the engine never imports a task's code until it is chosen.
"""

from __future__ import annotations

import dataclasses
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from llm_extract.core.task import Task
from llm_extract.errors import ConfigError

__all__ = ["BUILTIN_TASKS", "DEFAULT_TASK", "ENTRY_POINT_GROUP", "available_tasks", "load_recorded", "load_task"]

#: Built-in tasks, name → `module:attribute`.
BUILTIN_TASKS: dict[str, str] = {"security_events": "llm_extract.tasks.security_events:TASK"}
DEFAULT_TASK = "security_events"
ENTRY_POINT_GROUP = "llm_extract.tasks"


def _plugins() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_tasks() -> dict[str, str]:
    """Every task that can be chosen by name: built-ins, then installed plugins."""
    return {**BUILTIN_TASKS, **{k: v for k, v in _plugins().items() if k not in BUILTIN_TASKS}}


def _resolve(path: str, spec: str) -> Task[Any, Any]:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"task {spec!r}: expected a task name or 'module:attribute'")
    try:
        module = import_module(module_name)
    except Exception as exc:  # an import error in a plugin must read as one line
        raise ConfigError(f"task {spec!r}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ConfigError(f"task {spec!r}: {module_name} has no attribute {attribute!r}") from None
    if not isinstance(value, Task) and callable(value):
        value = value()
    if not isinstance(value, Task):
        raise ConfigError(f"task {spec!r}: {path} is a {type(value).__name__}, not an llm_extract Task")
    return value if value.spec else dataclasses.replace(value, spec=path)


def load_recorded(name: str | None, spec: str | None) -> Task[Any, Any]:
    """The task a store or batch state recorded: by name, else by the path it was loaded from."""
    try:
        return load_task(name)
    except ConfigError:
        if spec and spec != name:
            return load_task(spec)
        raise


def load_task(spec: str | None = None) -> Task[Any, Any]:
    """The task named `spec` (default: the built-in `security_events`)."""
    name = spec or DEFAULT_TASK
    if name in BUILTIN_TASKS:
        return _resolve(BUILTIN_TASKS[name], name)
    plugins = _plugins()
    if name in plugins:
        return _resolve(plugins[name], name)
    if ":" in name:
        return _resolve(name, name)
    known = ", ".join(sorted(available_tasks()))
    raise ConfigError(f"unknown task {name!r} (known: {known}; or give 'module:attribute')")
