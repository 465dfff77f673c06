"""The house's rules, read from the code: the engine never imports a task; small modules; a literal __all__."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "llm_extract"
#: The generic engine and everything generic around it: none of it may import a task.
ENGINE = ("core", "model", "runs", "views", "testing", "cli", "errors.py", "settings.py", "__main__.py")


def _modules(*parts: str) -> list[Path]:
    found: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement names (top level or inside a function), absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append((node.lineno, module))
            names.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return names


def test_the_engine_never_imports_a_task() -> None:
    offending = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for path in _modules(*ENGINE)
        for line, name in _imports(path)
        if name == "llm_extract.tasks" or name.startswith("llm_extract.tasks.")
    ]
    assert offending == []


def test_the_boundary_check_sees_relative_and_nested_imports(tmp_path: Path) -> None:
    # the checker itself can fail: a module that imports a task, relatively and inside a function
    bad = PACKAGE / "core" / "_boundary_probe.py"
    bad.write_text("def f():\n    from ..tasks.security_events import TASK\n    return TASK\n", encoding="utf-8")
    try:
        assert ("llm_extract.tasks.security_events" in {n for _, n in _imports(bad)})
    finally:
        bad.unlink()


@pytest.mark.parametrize("path", _modules("."), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_600_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 600


def _literal_all(path: Path) -> list[str] | None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            value = ast.literal_eval(node.value)
            return list(value)
    return None


def test_the_package_has_a_literal_all_that_it_exports() -> None:
    import llm_extract

    names = _literal_all(PACKAGE / "__init__.py")
    assert names is not None and names == sorted(names)
    for name in names:
        assert getattr(llm_extract, name) is not None
