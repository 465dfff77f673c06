"""The secrets a run must never write, and their redaction wherever text leaves the process.

A secret is a value the client sends to authenticate: the API key (so the `Authorization:
Bearer ...` header's value too), and the user and password of a base URL
(`http://user:pass@host/v1`). A server may echo any of them back, in an answer or in an
error message, and that text then flows into records, the store, errors, reports and logs.
So every value in use is registered here (`register`, by `ModelClient` when it is made),
and replaced by `<redacted>`, exactly and whatever its shape (`localkey123` looks like no
known key format), in:

- what the model layer returns: the model's answer before it is parsed (so the validated
  object, `last_output` and reask prompts never hold it), error messages, and the request,
  response and error of every `CallRecord`;
- what the store writes (`llm_extract.runs.store.redact_secrets`, a second line of defence)
  and the replay recordings;
- every log record of the process, whichever library logs it (`install_log_redaction`:
  a log record factory that redacts the formatted message and any traceback text).

Values shorter than `MIN_SECRET_CHARS` (6) are not redacted: placeholders such as `none`,
`EMPTY` (vLLM's) or `dummy` are no secret, and replacing every `none` in a prompt or an
answer would mangle it (and make recordings that never replay). Each value is also
redacted in the forms it takes in JSON (escaped), in a URL (percent-encoded) and in a Basic
`Authorization` header (base64 of `user:password`).

Credentials in a base URL are never sent as Basic auth and never printed: `split_credentials`
takes them out of the URL given to the openai client; the password is used as the API key
when no key is set (`http://:KEY@host/v1` works like `--base-url http://host/v1` with
`OPENAI_API_KEY=KEY`), and the user name is not used.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import traceback
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "MIN_SECRET_CHARS",
    "REDACTED",
    "contains_secret",
    "install_log_redaction",
    "known_secrets",
    "redact",
    "redact_json",
    "register_secrets",
    "split_credentials",
]

REDACTED = "<redacted>"
#: Shorter values are not redacted (they would mangle the text, and protect nothing).
MIN_SECRET_CHARS = 6

_lock = threading.Lock()
#: every form of every registered secret, longest first (replaced in that order)
_forms: tuple[str, ...] = ()


def _variants(value: str) -> set[str]:
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe="")}
    return {f for f in forms if len(f) >= MIN_SECRET_CHARS}


def register_secrets(*values: str | None, user: str | None = None, password: str | None = None) -> None:
    """Add secrets to redact from now on, in this process (idempotent; `None` and short values
    are ignored). `user` and `password` are a base URL's: their Basic-auth form is added too."""
    global _forms
    found: set[str] = set()
    for value in (*values, user, password):
        if value and len(value) >= MIN_SECRET_CHARS:
            found |= _variants(value)
    if user is not None or password is not None:
        basic = base64.b64encode(f"{user or ''}:{password or ''}".encode()).decode()
        if len(f"{user or ''}{password or ''}") >= MIN_SECRET_CHARS:
            found.add(basic)
    if not found:
        return
    with _lock:
        merged = set(_forms) | found
        _forms = tuple(sorted(merged, key=lambda f: (-len(f), f)))
    install_log_redaction()


def known_secrets() -> tuple[str, ...]:
    """Every registered form of every secret, longest first."""
    return _forms


def _all_forms(extra: Iterable[str]) -> tuple[str, ...]:
    extra_forms: set[str] = set()
    for value in extra:
        if value and len(value) >= MIN_SECRET_CHARS:
            extra_forms |= _variants(value)
    if not extra_forms:
        return _forms
    return tuple(sorted(set(_forms) | extra_forms, key=lambda f: (-len(f), f)))


def contains_secret(text: str, extra: Iterable[str] = ()) -> bool:
    """Whether `text` holds a registered secret (or one of `extra`)."""
    return any(form in text for form in _all_forms(extra))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every registered secret (and every one of `extra`) replaced by `<redacted>`."""
    for form in _all_forms(extra):
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact_json(obj: Any, extra: Iterable[str] = ()) -> Any:
    """A JSON value with every secret in any string (keys included) replaced; `obj` itself
    when it holds none."""
    forms = _all_forms(extra)
    if not forms:
        return obj
    text = json.dumps(obj, ensure_ascii=False)
    if not any(form in text for form in forms):
        return obj
    return json.loads(redact(text, extra))


def split_credentials(url: str | None) -> tuple[str | None, str | None, str | None]:
    """`(url without user and password, user, password)`; the user and password decoded.

    >>> split_credentials("http://bob:s%40cret@localhost:8000/v1")
    ('http://localhost:8000/v1', 'bob', 's@cret')
    >>> split_credentials("http://localhost:8000/v1")
    ('http://localhost:8000/v1', None, None)
    """
    if not url or "@" not in url:
        return url, None, None
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return url, None, None
    if "@" not in netloc:
        return url, None, None
    userinfo, _, hostport = netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, unquote(user) or None, (unquote(password) or None) if sep else None


# -- logs -----------------------------------------------------------------------------------------

_installed = False


def install_log_redaction() -> None:
    """Redact secrets from every log record made from now on, whatever the logger (idempotent).

    A log record factory (`logging.setLogRecordFactory`) wraps the current one: when the
    formatted message holds a secret, the record's message is the redacted text (and its
    arguments are dropped); when the record carries an exception whose text holds one, the
    traceback is formatted now, redacted, and kept as the record's `exc_text` (what standard
    formatters print) while the exception itself is dropped.
    """
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        forms = _forms
        if forms:
            _redact_record(record, forms)
        return record

    logging.setLogRecordFactory(factory)


def _redact_record(record: logging.LogRecord, forms: tuple[str, ...]) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format is logging's to report, not ours
        message = str(record.msg)
    if any(form in message for form in forms):
        record.msg = redact(message)
        record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if any(form in text for form in forms):
            record.exc_text = redact(text)
            record.exc_info = None
    if record.stack_info and any(form in record.stack_info for form in forms):
        record.stack_info = redact(record.stack_info)
