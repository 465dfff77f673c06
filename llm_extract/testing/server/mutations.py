"""Corrupted answers for the `bad_json` and `schema` faults, for any task's schema.

`break_json(completion)` cuts the tool-call arguments (or JSON-mode content) in half, so that
they are no longer JSON. `violate_schema(completion, schema)` keeps them JSON but makes them
fail `schema`, the JSON schema the request asked for (`answer_schema(request, completion)`
finds it: the called tool's `parameters`, or a `json_schema` response format). Nothing here
knows a task's field names: the answer is walked alongside its schema, every constraint
the answer satisfies and could break is listed, and the subtlest one is broken, in this
order (within a kind, the first in the answer's order):

1. a number moved just outside its bound (`exclusiveMinimum` m → m, `minimum` m → m - 1,
   `exclusiveMaximum` M → M, `maximum` M → M + 1); a `null` counts where the type allows a
   number;
2. an array below its `minItems` (or above its `maxItems`);
3. a string below its `minLength` (or above its `maxLength`);
4. a value outside its `enum` (or `const`);
5. a `required` property removed;
6. a property added where `additionalProperties` is false;
7. failing all that, or without a schema, the whole answer put inside a JSON array (inside
   an object, `{"value": ...}`, when the schema's top level is an array).

Only values whose schema is unambiguous are broken (one `anyOf`/`oneOf` branch of their
JSON type); local `$ref`s are followed. The result depends only on the completion and the
schema, so a seeded run corrupts the same answers the same way every time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeGuard

__all__ = ["answer_schema", "break_json", "echo_secret", "violate_schema"]

_Path = tuple[str | int, ...]
_DELETE = object()  # a breach that removes the property at its path
_MAX_GROWTH = 100  # longest array or string a breach may add, for maxItems/maxLength
_MAX_DEPTH = 64  # how deep `$ref`s are followed and answers walked


def _payload(body: Any) -> tuple[dict[str, Any], str] | None:
    """(container, key) of the first tool call's `arguments`, else of the message content."""
    try:
        message = body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(message, dict):
        return None
    calls = message.get("tool_calls") or []
    if calls and isinstance(calls[0], dict) and isinstance(calls[0].get("function"), dict):
        return calls[0]["function"], "arguments"
    if isinstance(message.get("content"), str):
        return message, "content"
    return None


def break_json(body: Any) -> Any:
    """A copy of a completion whose tool-call arguments (or content) are cut: invalid JSON."""
    broken = copy.deepcopy(body)
    found = _payload(broken)
    if found is not None:
        container, key = found
        text = container.get(key) or ""
        cut = text[: len(text) // 2] or "{"
        with suppress(json.JSONDecodeError):
            json.loads(cut)
            cut += '"'  # still valid (e.g. a number cut short): an unterminated string is not
        container[key] = cut
    return broken


def echo_secret(body: Any, secret: str) -> Any:
    """A copy of a completion that carries `secret` (the `echo_key` fault): appended to the
    longest string of the answer's JSON (free text, such as a quote, rather than a code), and
    as the message's content when the answer is in tool calls."""
    echoed = copy.deepcopy(body)
    found = _payload(echoed)
    if found is None:
        return echoed
    container, key = found
    try:
        answer = json.loads(container.get(key) or "null")
    except json.JSONDecodeError:
        answer = None
    strings = list(_strings(answer, ()))
    if strings:
        path, text = max(strings, key=lambda item: len(item[1]))
        answer = _replace(answer, path, f"{text} ({secret})")
        container[key] = json.dumps(answer, ensure_ascii=False)
    else:
        container[key] = f"{container.get(key) or ''} {secret}"
    if key == "arguments":
        echoed["choices"][0]["message"]["content"] = f"Authorization: {secret}"
    return echoed


def _strings(value: Any, path: _Path) -> Any:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _replace(value: Any, path: _Path, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    value[head] = _replace(value[head], rest, new)  # type: ignore[index]
    return value


def answer_schema(request: Mapping[str, Any], body: Any) -> dict[str, Any] | None:
    """The JSON schema `request` asked the answer `body` to follow, if it says.

    For a tool call: the `parameters` of the tool it calls (by name; the only tool if the
    name matches none). For content: `response_format.json_schema.schema`.
    """
    found = _payload(body)
    if found is None:
        return None
    container, key = found
    if key == "arguments":
        tools = [
            tool["function"]
            for tool in request.get("tools") or []
            if isinstance(tool, dict) and isinstance(tool.get("function"), dict)
        ]
        named = [t for t in tools if t.get("name") == container.get("name")]
        chosen = named[0] if named else tools[0] if len(tools) == 1 else None
        schema = chosen.get("parameters") if chosen is not None else None
    else:
        response_format = request.get("response_format")
        spec = response_format.get("json_schema") if isinstance(response_format, dict) else None
        schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else None


def violate_schema(body: Any, schema: Mapping[str, Any] | None = None) -> Any:
    """A copy of a completion whose arguments (or content) are valid JSON that fails `schema`.

    See the module docstring for which constraint is broken. Arguments that are not JSON
    are left as they are (they fail validation already).
    """
    mutated = copy.deepcopy(body)
    found = _payload(mutated)
    if found is not None:
        container, key = found
        try:
            arguments = json.loads(container.get(key) or "null")
        except json.JSONDecodeError:
            return mutated  # already not JSON: it fails validation as it is
        container[key] = json.dumps(_violate(arguments, schema), ensure_ascii=False)
    return mutated


# -- finding what to break ------------------------------------------------------------------


@dataclass(frozen=True)
class _Breach:
    """One way to make the answer invalid: put `value` at `path` (or delete it: `_DELETE`)."""

    rank: int  # the kind of constraint broken (module docstring); lower is subtler
    path: _Path
    value: Any


def _violate(arguments: Any, schema: Mapping[str, Any] | None) -> Any:
    breaches: list[_Breach] = []
    if schema is not None:
        _SchemaWalk(schema, breaches).visit(arguments, schema, (), 0)
    if not breaches:
        return _wrapped(arguments, schema)
    breach = min(breaches, key=lambda b: b.rank)  # the first of the subtlest kind
    return _apply(arguments, breach)


def _wrapped(arguments: Any, schema: Mapping[str, Any] | None) -> Any:
    """The answer where the schema wants another JSON type: in an array, or in an object."""
    types = schema.get("type") if schema is not None else None
    allowed = {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
    return {"value": arguments} if "array" in allowed else [arguments]


def _apply(arguments: Any, breach: _Breach) -> Any:
    if not breach.path:
        return breach.value
    target = arguments
    for step in breach.path[:-1]:
        target = target[step]
    if breach.value is _DELETE:
        del target[breach.path[-1]]
    else:
        target[breach.path[-1]] = breach.value
    return arguments


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "unknown"


def _types(branch: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a schema branch allows; None: any."""
    declared = branch.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    return None


def _accepts_type(branch: Mapping[str, Any], value: Any) -> bool:
    types = _types(branch)
    if types is None:
        return True
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


def _allows_number(branch: Mapping[str, Any]) -> bool:
    types = _types(branch)
    return types is None or bool(types & {"number", "integer"})


def _outside(values: list[Any], like: Any) -> str:
    """A string that is none of `values`, made from `like`."""
    candidate = f"{like}_invalid" if isinstance(like, str) else "invalid"
    while candidate in values:
        candidate += "_"
    return candidate


class _SchemaWalk:
    """Walks an answer alongside its JSON schema, listing the constraints it could break."""

    def __init__(self, root: Mapping[str, Any], breaches: list[_Breach]) -> None:
        self.root = root
        self.breaches = breaches

    def branches(self, node: Any, depth: int = 0) -> list[dict[str, Any]]:
        """The alternatives `node` allows: `$ref` followed, `anyOf`/`oneOf` split, `allOf` merged."""
        if not isinstance(node, dict) or depth > _MAX_DEPTH:
            return []
        ref = node.get("$ref")
        if isinstance(ref, str):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return [{**target, **rest} for target in self.branches(self.pointer(ref), depth + 1)]
        if isinstance(node.get("allOf"), list):
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for part in node["allOf"]:
                for alternative in self.branches(part, depth + 1)[:1]:
                    merged = _merge(merged, alternative)
            return self.branches(merged, depth + 1)
        for keyword in ("anyOf", "oneOf"):
            if isinstance(node.get(keyword), list):
                rest = {k: v for k, v in node.items() if k != keyword}
                return [
                    _merge(rest, alternative)
                    for option in node[keyword]
                    for alternative in self.branches(option, depth + 1)
                ]
        return [node]

    def pointer(self, ref: str) -> Any:
        """The target of a local `$ref` (`#/$defs/Name`), or None."""
        if not ref.startswith("#"):
            return None
        target: Any = self.root
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return None
            target = target[part]
        return target

    def visit(self, value: Any, node: Any, path: _Path, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        matching = [b for b in self.branches(node) if _accepts_type(b, value)]
        if len(matching) != 1:
            return  # no branch, or several: what is required here is not clear
        branch = matching[0]
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            self.number(value, branch, path)
        if isinstance(value, str):
            self.string(value, branch, path)
        self.enum(value, branch, path)
        if isinstance(value, list):
            self.array(value, branch, path, depth)
        elif isinstance(value, dict):
            self.object(value, branch, path, depth)

    def add(self, rank: int, path: _Path, value: Any) -> None:
        self.breaches.append(_Breach(rank, path, value))

    def number(self, value: float | None, branch: Mapping[str, Any], path: _Path) -> None:
        if not _allows_number(branch):
            return
        low, high = branch.get("minimum"), branch.get("maximum")
        strict_low, strict_high = branch.get("exclusiveMinimum"), branch.get("exclusiveMaximum")
        if _is_number(strict_low):
            self.add(1, path, strict_low)
        elif _is_number(low):
            self.add(1, path, low if strict_low is True else low - 1)  # `True`: JSON Schema draft 4
        elif _is_number(strict_high):
            self.add(1, path, strict_high)
        elif _is_number(high):
            self.add(1, path, high if strict_high is True else high + 1)

    def string(self, value: str, branch: Mapping[str, Any], path: _Path) -> None:
        shortest, longest = branch.get("minLength"), branch.get("maxLength")
        if _is_count(shortest) and shortest >= 1 and len(value) >= shortest:
            self.add(3, path, value[: shortest - 1])
        elif _is_count(longest) and 0 < longest + 1 - len(value) <= _MAX_GROWTH:
            self.add(3, path, value + "x" * (longest + 1 - len(value)))

    def enum(self, value: Any, branch: Mapping[str, Any], path: _Path) -> None:
        allowed = branch.get("enum")
        if "const" in branch:
            allowed = [branch["const"]]
        if isinstance(allowed, list) and value in allowed:
            self.add(4, path, _outside(allowed, value))

    def array(self, value: list[Any], branch: Mapping[str, Any], path: _Path, depth: int) -> None:
        fewest, most = branch.get("minItems"), branch.get("maxItems")
        if _is_count(fewest) and fewest >= 1 and len(value) >= fewest:
            self.add(2, path, value[: fewest - 1])
        elif _is_count(most) and value and 0 < most + 1 - len(value) <= _MAX_GROWTH:
            self.add(2, path, value + [copy.deepcopy(value[-1]) for _ in range(most + 1 - len(value))])
        items = branch.get("items")
        for index, item in enumerate(value):
            self.visit(item, items, (*path, index), depth + 1)

    def object(self, value: dict[str, Any], branch: Mapping[str, Any], path: _Path, depth: int) -> None:
        required = branch.get("required")
        for key in value:
            if isinstance(required, list) and key in required:
                self.add(5, (*path, key), _DELETE)
                break
        properties = branch.get("properties")
        extra = branch.get("additionalProperties")
        if extra is False:
            known = properties if isinstance(properties, dict) else {}
            self.add(6, (*path, _outside(list(known) + list(value), "unexpected")), "unexpected")
        for key, item in value.items():
            if isinstance(properties, dict) and key in properties:
                self.visit(item, properties[key], (*path, key), depth + 1)
            elif isinstance(extra, dict):
                self.visit(item, extra, (*path, key), depth + 1)


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Two schema objects as one: `properties` and `required` joined, else `extra` wins."""
    merged = {**base, **extra}
    if isinstance(base.get("properties"), dict) and isinstance(extra.get("properties"), dict):
        merged["properties"] = {**base["properties"], **extra["properties"]}
    if isinstance(base.get("required"), list) and isinstance(extra.get("required"), list):
        merged["required"] = list(dict.fromkeys([*base["required"], *extra["required"]]))
    return merged


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
