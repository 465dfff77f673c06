"""The recordings the server answers from: every chat-completions interaction under a directory.

`RecordingIndex.load(directory)` reads every replay file (`llm_extract.model.replay.FORMAT`)
under `directory`, recursively, and indexes its `chat/completions` interactions by request
hash, once, at start. `explain_miss` says why a request matches nothing (the closest
recording and what differs). `CorruptedAnswers` remembers the requests whose answer a fault
corrupted, so that the client's reask is answered with the recorded answer.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_extract.errors import ConfigError
from llm_extract.model.replay import FORMAT, describe_changes, request_hash

__all__ = ["CHAT_ENDPOINT", "CorruptedAnswers", "Recording", "RecordingIndex"]

logger = logging.getLogger("llm_extract.server")

#: The endpoint of the interactions the server serves (the `endpoint` of a recorded request).
CHAT_ENDPOINT = "chat/completions"


@dataclass(frozen=True)
class Recording:
    """One recorded chat-completions exchange."""

    request_hash: str
    request: dict[str, Any]
    status: int
    response: Any
    path: Path


def _first_user_message(body: Mapping[str, Any]) -> str | None:
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user":
            return json.dumps(message.get("content"), sort_keys=True, ensure_ascii=False)
    return None


class RecordingIndex:
    """Every chat-completions recording under a directory, by request hash."""

    def __init__(self, directory: Path, recordings: Mapping[str, Recording], *, skipped: int = 0) -> None:
        self.directory = directory
        self._by_hash = dict(recordings)
        self.skipped = skipped
        self._by_article: dict[str, list[Recording]] = {}
        for recording in self._by_hash.values():
            key = _first_user_message(recording.request)
            if key is not None:
                self._by_article.setdefault(key, []).append(recording)

    @classmethod
    def load(cls, directory: Path) -> RecordingIndex:
        """Reads every `*.json` recording under `directory` (recursively).

        JSON files that are not recordings (another `format`) are skipped; an unreadable
        recording, a missing directory or no recording at all is a `ConfigError`.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise ConfigError(f"--fixtures: {directory} is not a directory of recordings")
        recordings: dict[str, Recording] = {}
        skipped = 0
        files = 0
        for path in sorted(directory.rglob("*.json")):
            if path.name.startswith(".tmp-"):
                continue
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ConfigError(f"cannot read recording {path}: {exc}") from exc
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                skipped += 1
                continue
            files += 1
            for interaction in doc.get("interactions") or []:
                try:
                    request = interaction["request"]
                    response = interaction["response"]
                    endpoint, body = request["endpoint"], request["body"]
                except (KeyError, TypeError):
                    raise ConfigError(f"{path}: an interaction lacks request.endpoint/body or response") from None
                if endpoint != CHAT_ENDPOINT or not isinstance(body, dict):
                    continue
                key = interaction.get("request_hash") or request_hash(endpoint, body)
                if key in recordings:
                    if recordings[key].response != response.get("body"):
                        logger.warning(
                            "request %s is recorded in %s and %s; serving the first",
                            key[:12],
                            recordings[key].path,
                            path,
                        )
                    continue
                recordings[key] = Recording(
                    request_hash=key,
                    request=body,
                    status=int(response.get("status", 200)),
                    response=response.get("body"),
                    path=path,
                )
        if not recordings:
            raise ConfigError(
                f"--fixtures: no chat-completions recordings (JSON files in format {FORMAT}) under {directory}"
                + (f" ({files} recording file(s) without chat interactions)" if files else "")
            )
        return cls(directory, recordings, skipped=skipped)

    def __len__(self) -> int:
        return len(self._by_hash)

    def get(self, key: str) -> Recording | None:
        return self._by_hash.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_hash

    @property
    def models(self) -> list[str]:
        """The model names requested in the recordings, sorted."""
        return sorted({str(r.request["model"]) for r in self._by_hash.values() if r.request.get("model")})

    def explain_miss(self, body: Mapping[str, Any]) -> str:
        """Why `body` matches nothing: the closest recording and what differs, if any."""
        key = _first_user_message(body)
        candidates = self._by_article.get(key, []) if key is not None else []
        if not candidates:
            return (
                f"no recording under {self.directory} has this article (first user message); "
                f"record it with a key: llm-extract run ARTICLE --record --replay-dir {self.directory}"
            )
        paths = sorted({str(c.path) for c in candidates})
        changes = describe_changes([c.request for c in candidates], dict(body))
        return f"the recording of this article ({', '.join(paths)}) differs: {'; '.join(changes)}"



class CorruptedAnswers:
    """The requests whose recorded answer the server corrupted (`bad_json`, `schema` faults).

    The client's reask of such a request (the same request with the bad answer and the
    error appended) is answered with the original recorded answer, as a model that corrects
    itself would. Thread-safe.
    """

    def __init__(self, index: RecordingIndex) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._hashes: set[str] = set()

    def add(self, key: str) -> None:
        """Remember that the answer to the request with hash `key` was corrupted."""
        with self._lock:
            self._hashes.add(key)

    def clear(self) -> None:
        with self._lock:
            self._hashes.clear()

    def recover(self, body: Mapping[str, Any]) -> Recording | None:
        """The recorded answer when `body` is a reask after a corrupted answer, else None."""
        messages = body.get("messages")
        with self._lock:
            hashes = set(self._hashes)
        if not hashes or not isinstance(messages, list):
            return None
        for size in range(len(messages) - 1, 0, -1):
            key = request_hash(CHAT_ENDPOINT, {**body, "messages": messages[:size]})
            if key in hashes:
                return self._index.get(key)
        return None
