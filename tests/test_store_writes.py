"""The store's faster writes write the same text: redaction's quick test, the JSON columns."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest

from llm_extract.runs.store import _SECRET, EventStore, redact_secrets
from llm_extract.tasks.security_events.tables import _json, _text

#: token bodies, joined to their prefixes below (no key-shaped string in the source)
_LOWER, _UPPER = "abcdefghijklmnopqrstu", "ABCDEFGHIJKLMNOPQRST"

TEXTS = [
    "",
    "no token here, only a risk- and a ask-",
    '{"h": "Bearer abcdefghijkl"}',
    "BEARER   ABCDEFGH12345678 and bearer short",
    "key sk-" + "proj-0123456789abcdefXYZ end",
    "SK-" + _UPPER + " upper",
    "\u017fk-" + _LOWER + " (a long s matches s when case is ignored)",
    "\u212ak-" + _LOWER + " (a Kelvin sign matches k)",
    "b\u0301earer abcdefghijklmnop",
    "xsk-" + _LOWER + " (no word boundary)",
]


@pytest.mark.parametrize("text", TEXTS)
def test_redaction_with_its_quick_test_is_the_patterns(text: str) -> None:
    assert redact_secrets(text) == (_SECRET.sub(lambda m: f"{m[1]}<redacted>" if m[1] else "<redacted>", text) or text)


class _Kind(StrEnum):
    STATE = "state"


@pytest.mark.parametrize(
    "value",
    [[], ["IRN"], ["IRN", "OMN"], ['é"\\\n\u2028\x00', "x"], ["\ud800"], [1, "a"], [_Kind.STATE], {"a": [1.5, None]}, "s"],
)
def test_the_json_columns_are_json_dumps(value: object) -> None:
    assert _json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_an_enum_member_is_stored_as_its_value() -> None:
    assert _text(_Kind.STATE) == "state" and type(_text(_Kind.STATE)) is str and _text("plain") == "plain"


def test_the_recorded_task_is_checked_on_every_write(tmp_path, seeds) -> None:
    from llm_extract.errors import StoreError

    result = seeds["003"]
    with EventStore(tmp_path / "x.db", tables=None, task="security_events") as store:
        store.add_result(result, extracted_at="2025-01-01T00:00:00+00:00")
        other = result.model_copy(update={"run": result.run.model_copy(update={"task": "other"})})
        with pytest.raises(StoreError, match="task 'security_events', not 'other'"):
            store.add_result(other, extracted_at="2025-01-01T00:00:00+00:00")
