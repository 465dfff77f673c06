"""Record and replay model responses at the HTTP seam, matched on what was asked.

The openai client sends its requests through an httpx2 transport from this module:

- `replay`: `ReplayTransport` answers from the `ReplayStore` and never touches the network;
- `record`: `RecordingTransport` forwards to the real server and saves each successful answer;
- `live`: `RecordingTransport` without a store, forwarding only.

Matching is on the request itself (endpoint and the full JSON body: model, messages, tool
schema, settings), unlike vcrpy's default that ignores the body. A request that is not
recorded is never answered by something else: if the article has a recording but the
request changed (prompt, schema, model), `StaleRecordingError` says what changed; if it has
none, `ReplayMissError` says how to record it. Reasks replay deterministically: a reask is
a different request (it carries the failed answer and the error), recorded in turn.

Store layout: one human-readable JSON file per article, `<replay_dir>/<sha256[:16]>.json`,
named by the article's content hash:

```json
{"format": "llm-extract-replay/1",
 "article": {"id": "...", "source": "...", "sha256": "..."},
 "interactions": [{"request_hash": "...", "request": {"endpoint": "chat/completions", "body": {...}},
                   "response": {"status": 200, "body": {...}}}]}
```

Only request bodies and response bodies are stored: never a header, so never the API key
or an Authorization header, and any occurrence of the key (or of any secret registered in
`llm_extract.model.secrets`: a base URL's credentials) in a body is redacted too.

In replay mode the recordings directory must exist: `ReplayStore(..., mode="replay")` (or
`require_directory()`) raises one `ConfigError` saying how to record, instead of a miss per
article.

Each article's recording is read and parsed once while the article is extracted: from its
first call (the file as it is then) until `forget` (its calls are done), its reasks and
chunks are served from that reading. So a recording added or edited before an article's
first call, by another run or by a `--record` run of this process, is what that article
gets; nothing is kept between articles (memory stays flat). A request is hashed once: the
transport reuses the hash the client computed of the same bytes
(`llm_extract.model.requests.sent_request_hash`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from llm_extract.errors import ConfigError, ReplayError, ReplayMissError, StaleRecordingError
from llm_extract.model.requests import request_hash, sent_request_hash
from llm_extract.model.secrets import redact_json

__all__ = [
    "ARTICLE_HEADER",
    "FORMAT",
    "RecordingTransport",
    "ReplayStore",
    "ReplayTransport",
    "describe_changes",
    "request_hash",
]

#: Request header through which the pipeline tells the transport which article a call is
#: for. It is removed before anything is sent to a real server.
ARTICLE_HEADER = "x-llm-extract-article"
FORMAT = "llm-extract-replay/1"
REDACTED = "<redacted>"


def _endpoint(path: str) -> str:
    """'/v1/chat/completions' → 'chat/completions', whatever the server's base path."""
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-2:])


@dataclass(frozen=True)
class ArticleRef:
    id: str
    source: str
    sha256: str


def _responses(doc: dict[str, Any]) -> dict[Any, Any]:
    """A recording's responses by request hash (the first of a hash wins, as a scan in file
    order finds). Only they are kept: the requests, most of the file, are freed at once."""
    responses: dict[Any, Any] = {}
    for interaction in doc.get("interactions", []):
        if isinstance(interaction, dict) and "response" in interaction:
            responses.setdefault(interaction.get("request_hash"), interaction["response"])
    return responses


class ReplayStore:
    """Recordings on disk, one JSON file per article (see the module docstring)."""

    def __init__(self, directory: Path, *, secret: str | None = None, mode: str | None = None) -> None:
        """Recordings in `directory`; `secret` is redacted from what is saved. With
        `mode="replay"` the directory must exist (`require_directory`)."""
        self.directory = Path(directory)
        self._secret = secret or None
        self._articles: dict[str, ArticleRef] = {}
        #: the recorded responses (by request hash) read for the registered articles, until `forget`
        self._read: dict[str, dict[Any, Any]] = {}
        self._fresh: set[str] = set()
        self._lock = threading.Lock()
        if mode == "replay":
            self.require_directory()

    def require_directory(self) -> None:
        """Raise one `ConfigError` when the recordings directory does not exist (replay mode)."""
        if not self.directory.is_dir():
            raise ConfigError(
                f"replay mode: the recordings directory {self.directory} does not exist; "
                "record first with --record, or give --replay-dir"
            )

    # -- identity -------------------------------------------------------------------
    def path_for(self, sha256: str) -> Path:
        return self.directory / f"{sha256[:16]}.json"

    def register(self, *, sha256: str, id: str, source: str) -> None:
        """Tell the store which article a content hash belongs to (for messages and files)."""
        self._articles[sha256] = ArticleRef(id=id, source=source, sha256=sha256)

    def forget(self, sha256: str) -> None:
        """Drop what `register` kept, and the recording read for the article, once its calls
        are done (memory stays flat; the next extraction of it reads the file again)."""
        with self._lock:
            self._articles.pop(sha256, None)
            self._read.pop(sha256, None)

    def describe(self, sha256: str) -> str:
        ref = self._articles.get(sha256)
        if ref is None:
            return f"article {sha256[:16]}"
        return f"article {ref.id} ({ref.source})" if ref.source != ref.id else f"article {ref.id}"

    # -- reading ----------------------------------------------------------------------
    def load(self, sha256: str) -> dict[str, Any] | None:
        path = self.path_for(sha256)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise ReplayError(f"replay: cannot read recording {path}: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ReplayError(f"replay: {path} is not a recording in format {FORMAT}")
        return doc

    def recorded(self, sha256: str, key: str) -> dict[str, Any] | None:
        """The recorded response for the request of hash `key`, or None (no recording, or none
        of that request: `lookup` says which). The file is read once while the article is
        registered (until `forget`), else at every call."""
        responses = self._read.get(sha256)
        if responses is None:
            doc = self.load(sha256)
            if doc is None:
                return None
            responses = _responses(doc)
            with self._lock:
                if sha256 in self._articles:
                    self._read[sha256] = responses
        return responses.get(key)

    def lookup(
        self, sha256: str, endpoint: str, body: Any, *, model_hint: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """The recorded response for this exact request, or a clear `ReplayError` (`key`: the
        request's hash, when it is known already)."""
        key = key if key is not None else request_hash(endpoint, body)
        found = self.recorded(sha256, key)
        if found is not None:
            return found
        doc = self.load(sha256)
        who = self.describe(sha256)
        if doc is None:
            raise ReplayMissError(
                f"replay: nothing recorded for {who} in {self.directory}/. "
                f"Record it with a key: llm-extract run {self._source(sha256)} --record "
                f"--model {model_hint or 'MODEL'} --replay-dir {self.directory}",
                article=who,
            )
        responses = _responses(doc)
        if key in responses:  # recorded since the first reading
            return responses[key]  # type: ignore[no-any-return]
        recorded = [i["request"]["body"] for i in doc.get("interactions", []) if "request" in i]
        changes = describe_changes(recorded, body)
        raise StaleRecordingError(
            f"replay: the recording for {who} ({self.path_for(sha256)}) does not match the request "
            f"that would be sent now: {'; '.join(changes)}. It was recorded for another prompt, "
            f"schema, model or settings, and is not served. Re-record it: llm-extract run "
            f"{self._source(sha256)} --record --model {model_hint or 'MODEL'} --replay-dir {self.directory}",
            article=who,
            changes=changes,
        )

    def _source(self, sha256: str) -> str:
        """What to give `llm-extract run` to record the article: its file (a JSONL file for
        `file.jsonl:3`), `-` for standard input, else a placeholder (an id is not a path)."""
        ref = self._articles.get(sha256)
        return record_target(ref.source if ref else None)

    # -- writing ----------------------------------------------------------------------
    def save(self, sha256: str, endpoint: str, body: Any, status: int, response_body: Any) -> None:
        """Record one successful exchange. The first one of an article in this store
        instance starts its file afresh, so re-recording replaces an old recording."""
        key = request_hash(endpoint, body)  # of the request as sent, so that it replays
        body = self._redact(body)
        response_body = self._redact(response_body)
        with self._lock:
            self._read.pop(sha256, None)  # read again at its next lookup
            doc = None if sha256 not in self._fresh else self.load(sha256)
            self._fresh.add(sha256)
            if doc is None:
                ref = self._articles.get(sha256, ArticleRef(id=sha256[:16], source="", sha256=sha256))
                doc = {"format": FORMAT, "article": ref.__dict__, "interactions": []}
            interactions = [i for i in doc["interactions"] if i.get("request_hash") != key]
            interactions.append(
                {
                    "request_hash": key,
                    "request": {"endpoint": endpoint, "body": body},
                    "response": {"status": status, "body": response_body},
                }
            )
            doc["interactions"] = interactions
            self._write(self.path_for(sha256), doc)

    def _write(self, path: Path, doc: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, ensure_ascii=False, indent=2)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _redact(self, obj: Any) -> Any:
        return redact_json(obj, (self._secret,) if self._secret else ())


_JSONL_LINE = re.compile(r"^(?P<file>.+\.jsonl):\d+$", re.IGNORECASE)


def record_target(source: str | None) -> str:
    """The PATHS argument that records an article of this source (see `ReplayStore._source`)."""
    if not source or source in ("<text>",):
        return "ARTICLE"
    if source == "<stdin>":
        return "-"
    match = _JSONL_LINE.match(source)
    if match:
        return match["file"]
    path = Path(source)
    if path.suffix.lower() == ".jsonl" or path.exists() or path.suffix.lower() in _ARTICLE_SUFFIXES:
        return source
    return "ARTICLE"  # an id given in a JSONL line or by the caller: not a path


_ARTICLE_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})


def describe_changes(recorded: list[Any], body: Any) -> list[str]:
    """What differs between the request about to be sent and the closest recorded one."""
    if not recorded:
        return ["the recording holds no request"]
    if not isinstance(body, dict):
        return ["the request body is not a JSON object"]
    size = len(body.get("messages", []))
    same_turn = [r for r in recorded if isinstance(r, dict) and len(r.get("messages", [])) == size]
    if not same_turn:
        return [
            f"no recorded request has {len(body.get('messages', []))} messages "
            "(the conversation took another path, e.g. a reask that was not recorded)"
        ]
    closest = same_turn[0]
    changes: list[str] = []
    if closest.get("model") != body.get("model"):
        changes.append(f"model changed ({closest.get('model')} → {body.get('model')})")
    old_msgs, new_msgs = closest.get("messages", []), body.get("messages", [])
    for index, (old, new) in enumerate(zip(old_msgs, new_msgs, strict=False)):
        if old != new:
            role = new.get("role", "?") if isinstance(new, dict) else "?"
            what = {"system": "system prompt", "user": "user message (article or prompt)"}.get(
                role, f"{role} message"
            )
            changes.append(f"{what} #{index} changed")
    for field in ("tools", "tool_choice", "response_format"):
        if closest.get(field) != body.get(field):
            changes.append("tool schema changed" if field == "tools" else f"{field} changed")
    other = sorted(
        k
        for k in set(closest) | set(body)
        if k not in {"model", "messages", "tools", "tool_choice", "response_format"} and closest.get(k) != body.get(k)
    )
    changes.extend(f"setting {k!r} changed ({closest.get(k)!r} → {body.get(k)!r})" for k in other)
    return changes or ["the request differs in a way not itemised here"]


def _read_request(request: httpx2.Request) -> tuple[str, str, Any]:
    sha = request.headers.get(ARTICLE_HEADER, "")
    endpoint = _endpoint(request.url.path)
    try:
        body = json.loads(request.content or b"null")
    except json.JSONDecodeError:
        body = request.content.decode("utf-8", "replace")
    return sha, endpoint, body


class ReplayTransport(httpx2.AsyncBaseTransport):
    """Answers every request from the store; never opens a connection."""

    def __init__(self, store: ReplayStore) -> None:
        self.store = store

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        sha = request.headers.get(ARTICLE_HEADER, "")
        if not sha:
            raise ReplayError("replay: a request carried no article id; replay serves only llm_extract calls")
        endpoint = _endpoint(request.url.path)
        key = sent_request_hash(request.content, endpoint)  # the client's hash of these very bytes
        body: Any = None
        if key is None:
            _, _, body = _read_request(request)
            key = request_hash(endpoint, body)
        recorded = self.store.recorded(sha, key)
        if recorded is None:  # no recording, or a stale one: `lookup` says which
            if body is None:
                _, _, body = _read_request(request)
            model = body.get("model") if isinstance(body, dict) else None
            recorded = self.store.lookup(sha, endpoint, body, model_hint=model, key=key)
        return httpx2.Response(
            recorded.get("status", 200),
            json=recorded["body"],
            headers={"x-llm-extract-replay": "1"},
            request=request,
        )


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Forwards to the real server (`inner`); with a store, saves each successful answer."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, store: ReplayStore | None = None) -> None:
        self.inner = inner
        self.store = store

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        sha = request.headers.get(ARTICLE_HEADER, "")
        if ARTICLE_HEADER in request.headers:
            del request.headers[ARTICLE_HEADER]
        response = await self.inner.handle_async_request(request)
        if self.store is None or not sha or response.status_code != 200:
            return response
        content = await response.aread()
        await response.aclose()
        try:
            response_body = json.loads(content)
        except json.JSONDecodeError:
            response_body = None
        if response_body is not None:
            _, endpoint, body = _read_request(request)
            self.store.save(sha, endpoint, body, response.status_code, response_body)
        dropped = {"content-encoding", "content-length", "transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]
        return httpx2.Response(response.status_code, headers=headers, content=content, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()
