"""Prompts: Jinja2 templates rendered into chat messages, and their version.

A task's prompt directory holds:

- `system.j2`: the instructions and the few-shot example (it may `{% include %}` others);
  rendered once per `PromptSet`, so it is byte-identical for every article and comes
  first — providers' prompt caching discounts it;
- `user.j2`: the article, fenced between `<article>` and `</article>` as data;
- `example_article.txt` + `example_output.json` (optional): the few-shot example. The output
  is validated against the task's schema when the prompts load, so the example cannot
  drift from the schema.

`PromptSet.version` is the first 12 hex digits of a sha256 over every file of the directory
(names and bytes) and the JSON schema the model fills: any edit to a template or to the
schema gives a new version, stored on every record.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from llm_extract.errors import PromptError

__all__ = ["ARTICLE_CLOSE", "PromptSet", "fence_article"]

ARTICLE_CLOSE = "</article>"


_CLOSING_TAG = re.compile(r"<\s*/\s*(article\b[^>]*)>", re.IGNORECASE)


def fence_article(text: str) -> str:
    """The article text, made safe to place between `<article>` and `</article>`.

    A closing tag inside the article (in any case or spacing: `</ARTICLE>`, `< /article >`)
    would end the data fence early, so it is written `</ article>` instead (the only change
    ever made to the text).
    """
    return _CLOSING_TAG.sub(lambda m: "</ " + m.group(1) + ">", text)


@dataclass(frozen=True)
class PromptSet:
    """The rendered, versioned prompts of one task."""

    directory: Path
    version: str
    system: str
    _user_template: Any  # jinja2.Template

    @classmethod
    def load(cls, directory: Path, *, response_model: type[BaseModel]) -> PromptSet:
        """Load and check the templates in `directory`; raise `PromptError` naming the file."""
        import jinja2

        if not (directory / "system.j2").is_file() or not (directory / "user.j2").is_file():
            raise PromptError(f"{directory}: a prompt directory needs system.j2 and user.j2")
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(directory)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )
        tool_name = response_model.__name__
        example = _load_example(directory, response_model)
        try:
            system = env.get_template("system.j2").render(tool_name=tool_name, example=example).strip()
            user_template = env.get_template("user.j2")
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or directory
            raise PromptError(f"{where}: {exc}") from exc
        version = _version(directory, response_model.model_json_schema())
        return cls(directory=directory, version=version, system=system, _user_template=user_template)

    def messages(self, text: str, *, published: date | None = None, part: tuple[int, int] | None = None) -> list[dict[str, str]]:
        """The chat messages for one article (or `part=(n, total)` of a long one, n from 1):
        the fixed system prompt, then the article."""
        user = self._user_template.render(
            text=fence_article(text),
            published=published.isoformat() if published else None,
            part=part,
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def _load_example(directory: Path, response_model: type[BaseModel]) -> dict[str, str] | None:
    article_path = directory / "example_article.txt"
    output_path = directory / "example_output.json"
    if not article_path.exists() and not output_path.exists():
        return None
    try:
        article = article_path.read_text(encoding="utf-8").strip()
        output = json.loads(output_path.read_text(encoding="utf-8"))
        response_model.model_validate(output)
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise PromptError(f"{directory}: the few-shot example is not usable: {exc}") from exc
    return {"article": article, "output": json.dumps(output, ensure_ascii=False)}


def _version(directory: Path, schema: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode())
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]
