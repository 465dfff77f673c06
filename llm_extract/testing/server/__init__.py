"""A local OpenAI-compatible HTTP server that answers from the replay store, with fault injection.

`llm-extract serve --fixtures DIR` serves every recording under `DIR` (the files written by
`llm_extract.replay`, searched recursively) over real HTTP, so that any OpenAI client (the
openai SDK, instructor, a user's own pipeline) can run against recorded answers, and
fail in controlled, reproducible ways: rate limits, server errors, hangs, dropped
connections, cut bodies, malformed or invalid model output.

Endpoints (under `http://HOST:PORT`):

| method | path | answer |
|---|---|---|
| POST | `/v1/chat/completions` | the recorded response for this exact request (status 200, `usage` included) |
| GET | `/v1/models`, `/v1/models/{id}` | the models requested in the recordings, OpenAI list format |
| POST | `/v1/files` | upload a file (multipart, `purpose` and `file`), kept in memory: a file object |
| GET | `/v1/files`, `/v1/files/{id}`, `/v1/files/{id}/content` | list, retrieve, download; `DELETE /v1/files/{id}` deletes |
| POST | `/v1/batches` | create a batch job over an uploaded `batch` file (`/v1/chat/completions`, `24h`) |
| GET | `/v1/batches`, `/v1/batches/{id}` | list (newest first, `limit`/`after`), retrieve |
| POST | `/v1/batches/{id}/cancel` | cancel a batch that has not finished |
| GET | `/_stats` | request, outcome and fault counters (JSON) |
| POST | `/_reset` | zeroes the counters, restarts the schedule and the seeded generators |

`POST /_reset` may carry `{"faults": SPEC, "seed": N}` to install another fault plan, and
batch settings (`batch_delay_s`, `batch_fail_rate`, `batch_schema_rate`, `batch_expire`).

Matching is exact, as in `ReplayStore`: the key is `request_hash("chat/completions", body)`
(the endpoint and the canonical JSON body: model, messages, tools, settings), and an index of
every interaction whose endpoint is `chat/completions` is built once at start. A request that
matches nothing gets what OpenAI answers to a bad request: HTTP 400 with
`{"error": {"type": "invalid_request_error", "code": "replay_miss", "message": ...}}`, the
message naming the closest recording and what differs. `stream: true` is refused (400,
`code: "streaming_unsupported"`). One exception to exact matching: after the server has
corrupted an answer (`bad_json`, `schema` faults), the client's reask (the same request with
the bad answer and the error appended) is answered with the original recorded answer, as a
model that corrects itself would; these are counted as `recovered`.

**Latency.** Each chat request waits `latency_ms ± jitter_ms` (uniform, seeded, never below
0) before it is answered; waits are asynchronous, so concurrent requests overlap.

**Faults** (chat completions only). A spec string, either rates or a schedule:

```
SPEC      := "" | "none" | RATES | "schedule:" SCHEDULE
RATES     := FAULT "=" PROBABILITY ("," FAULT "=" PROBABILITY)*     sum of probabilities <= 1
SCHEDULE  := STEP ("," STEP)*                                       STEP := "ok" | FAULT
FAULT     := KIND [":" SECONDS]
KIND      := 429 | 429_noretry | 500 | 503 | 400 | hang | reset | truncate | bad_json | schema | empty
```

e.g. `429=0.1,500=0.05,503=0.05,hang=0.02,reset=0.02,truncate=0.02,bad_json=0.03,schema=0.03,empty=0.02`
or `schedule:429,ok,500,reset,ok`. Rates: every well-formed chat request (a JSON object, not
streaming) draws one number from `random.Random(seed)` in arrival order and gets at most one
fault, by cumulative probability. Schedule: the n-th well-formed chat request gets the n-th
step, and every request after the schedule is served normally. `SECONDS` is accepted by `429`
(the `Retry-After` to send, default `retry_after_s`) and `hang` (how long to hang, default
`hang_s`). What each fault puts on the wire:

| kind | on the wire |
|---|---|
| `429` | 429, OpenAI rate-limit error JSON (`code: rate_limit_exceeded`), `Retry-After` (and `retry-after-ms`) |
| `429_noretry` | the same 429 without `Retry-After` / `retry-after-ms` |
| `500`, `503` | OpenAI server error JSON (`type: server_error`) |
| `400` | OpenAI `invalid_request_error` (context length exceeded): must not be retried |
| `hang` | no answer for `hang_s` seconds, then the normal answer (see below) |
| `reset` | the connection is aborted with a TCP RST, no response at all |
| `truncate` | 200 with the full `Content-Length`, half the body, then the connection is closed |
| `bad_json` | 200, the recorded answer with its tool-call `arguments` (or JSON-mode content) cut in half: not JSON |
| `schema` | 200, the recorded answer's arguments made invalid (valid JSON; see below) |
| `empty` | 200, the recorded answer with `"choices": []` |

A hang ends early when the client goes away, or when the server stops (the connection is
then closed without a response). `schema` sets the first seizure item's `quantity` to 0,
else the first agreement's `parties` to `[]`, else adds a seizure without items; arguments
of another schema (no `seizures`/`agreements`) are wrapped in a list.

Transport faults (429, 5xx, 400, hang, reset) are applied before the request is looked up,
as a real server's front end would; content faults (truncate, bad_json, schema, empty) need a
recording and are not applied to a miss. Every response carries `x-request-id`; fault
responses also `x-llm-extract-fault: KIND`.

**How `reset` and `truncate` reach the socket.** ASGI gives an application no way to abort a
connection (an exception before the response makes uvicorn answer 500). The server therefore
runs uvicorn with a small subclass of its h11 protocol that records each connection's asyncio
transport by peer address (`connection_made` / `connection_lost`), and the application finds
its transport through `scope["client"]` (proxy headers are off, so that address is the
socket's). `reset` sets `SO_LINGER` to zero and calls `transport.abort()`: the kernel sends an
RST, the client gets `ECONNRESET`. `truncate` sends the headers and half the body through
ASGI, then `transport.close()`: the buffered bytes are flushed and a FIN follows, so the
client sees a body shorter than its `Content-Length`. Both work only under `serve()` /
`start_server()` (with another ASGI server, `reset` fails with a 500).

Run it with `serve(config)` (blocking, prints `listening on http://HOST:PORT/v1`), or in a
background thread for tests and benchmarks: `start_server(config)` (a `ServerHandle`),
`running_server(config)` (a context manager yielding the base URL) or
`run_server_in_thread(config)` (the base URL and a stop function). The server binds only to
loopback addresses unless `allow_remote=True`.

**Files and Batches** (the OpenAI Batch API, over the same recordings). Files are kept in
memory for the server's lifetime (`POST /_reset` keeps them). A batch goes `validating` →
`in_progress` (its input checked: JSON lines with a unique `custom_id`, `method` POST, the
batch's `url`, one model, at most `batch_max_requests` lines; a bad file makes the batch
`failed` with `errors`) → `completed` once `batch_delay_s` seconds have passed since it was
created, as seen by the next request that reads it (nothing runs in the background). Each
request line is then answered exactly like `POST /v1/chat/completions` (same hash matching)
into the output file, one line per request in the real format
`{"id": "batch_req_...", "custom_id", "response": {"status_code": 200, "request_id", "body": CHAT_COMPLETION}, "error": null}`;
a request that matches no recording becomes a line of the error file
(`"response": {"status_code": 400, ...}`, `"error": {"code": "replay_miss", ...}`). Batch faults,
drawn per request line from `random.Random(f"batch:{seed}")` in file order:
`batch_fail_rate` makes a request fail (error file, `status_code` 500, code `server_error`),
`batch_schema_rate` answers it with a body that violates the schema, like the `schema` fault
(and the client's reask after it is answered with the recorded answer, counted as
`recovered`). `batch_expire=True` makes every batch expire at its deadline with only the first
half of its requests answered (the rest: error lines with code `batch_expired`); a cancelled
batch answers nothing (error lines with code `batch_cancelled`). An upload of a `batch` file
over `batch_max_bytes` is refused (400). `/_stats` counts batches and their requests under
`batches`.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import email.message
import ipaddress
import json
import logging
import math
import random
import secrets
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from llm_extract.errors import ConfigError
from llm_extract.model.replay import FORMAT, describe_changes, request_hash

__all__ = [
    "BATCH_ENDPOINT",
    "BATCH_SETTINGS",
    "CONTENT_FAULTS",
    "FAULT_KINDS",
    "TRANSPORT_FAULTS",
    "Fault",
    "FaultInjector",
    "FaultPlan",
    "Recording",
    "RecordingIndex",
    "ServerConfig",
    "ServerHandle",
    "create_app",
    "is_loopback",
    "parse_multipart",
    "run_server_in_thread",
    "running_server",
    "serve",
    "start_server",
]

logger = logging.getLogger("llm_extract.server")

CHAT_ENDPOINT = "chat/completions"

#: Faults applied before the request is looked up, like a real server's front end.
TRANSPORT_FAULTS: tuple[str, ...] = ("429", "429_noretry", "500", "503", "400", "hang", "reset")
#: Faults that alter (or cut) the recorded answer; they need a matching recording.
CONTENT_FAULTS: tuple[str, ...] = ("truncate", "bad_json", "schema", "empty")
FAULT_KINDS: tuple[str, ...] = TRANSPORT_FAULTS + CONTENT_FAULTS
#: Kinds that take a `:SECONDS` parameter, and what it means.
_PARAMETERS = {"429": "the Retry-After to send", "hang": "how long to hang"}
#: Faults whose corrupted answer makes a client reask; the reask is then answered.
_REASK_FAULTS = frozenset({"bad_json", "schema"})


# -- fault specs --------------------------------------------------------------------------


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Fault:
    """One fault to inject: its kind (see `FAULT_KINDS`) and, for `429`/`hang`, seconds."""

    kind: str
    seconds: float | None = None

    def __str__(self) -> str:
        return self.kind if self.seconds is None else f"{self.kind}:{_fmt_number(self.seconds)}"

    @classmethod
    def parse(cls, text: str) -> Fault:
        """`KIND` or `KIND:SECONDS`; raises `ConfigError` for anything else."""
        kind, sep, raw = text.strip().partition(":")
        kind = kind.strip()
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault {kind!r} in fault spec; known: {', '.join(FAULT_KINDS)}")
        if not sep:
            return cls(kind)
        if kind not in _PARAMETERS:
            raise ConfigError(f"fault {kind!r} takes no parameter (only {' and '.join(_PARAMETERS)} do)")
        seconds = _parse_float(raw, f"seconds of fault {kind!r}")
        if seconds < 0 or (kind == "hang" and seconds == 0):
            raise ConfigError(
                f"fault {kind!r}: {_PARAMETERS[kind]} must be {'> 0' if kind == 'hang' else '>= 0'}, got {raw!r}"
            )
        return cls(kind, seconds)


def _parse_float(raw: str, what: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{what}: {raw.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what}: {raw.strip()!r} is not a finite number")
    return value


@dataclass(frozen=True)
class FaultPlan:
    """A parsed fault spec: rates (`rates`) or a schedule (`schedule`), never both.

    `FaultPlan.parse(spec)` reads the grammar in the module docstring; `str(plan)` writes it
    back in canonical form.
    """

    rates: tuple[tuple[Fault, float], ...] = ()
    schedule: tuple[Fault | None, ...] | None = None

    @property
    def mode(self) -> Literal["none", "rates", "schedule"]:
        if self.schedule is not None:
            return "schedule"
        return "rates" if self.rates else "none"

    def __str__(self) -> str:
        if self.schedule is not None:
            return "schedule:" + ",".join("ok" if step is None else str(step) for step in self.schedule)
        return ",".join(f"{fault}={_fmt_number(rate)}" for fault, rate in self.rates)

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        """The plan for `spec` (None, "" or "none": no faults). Raises `ConfigError`."""
        text = (spec or "").strip()
        if text.lower() in ("", "none"):
            return cls()
        if text.lower().startswith("schedule:"):
            steps = [s.strip() for s in text[len("schedule:") :].split(",")]
            if not any(steps):
                raise ConfigError("fault spec: 'schedule:' needs at least one step (ok or a fault)")
            if any(not s for s in steps):
                raise ConfigError(f"fault spec: empty step in {text!r}")
            return cls(schedule=tuple(None if s.lower() == "ok" else Fault.parse(s) for s in steps))
        rates: list[tuple[Fault, float]] = []
        for item in text.split(","):
            name, sep, raw = item.strip().rpartition("=")
            if not sep or not name.strip():
                raise ConfigError(
                    f"fault spec: {item.strip()!r} is not FAULT=PROBABILITY "
                    "(e.g. '429=0.1,500=0.05', or 'schedule:429,ok,500')"
                )
            fault = Fault.parse(name)
            rate = _parse_float(raw, f"probability of fault {fault.kind!r}")
            if not 0 <= rate <= 1:
                raise ConfigError(f"fault spec: probability of {fault.kind!r} must be in [0, 1], got {raw.strip()!r}")
            if any(f.kind == fault.kind for f, _ in rates):
                raise ConfigError(f"fault spec: fault {fault.kind!r} given twice")
            rates.append((fault, rate))
        total = sum(rate for _, rate in rates)
        if total > 1 + 1e-9:
            raise ConfigError(f"fault spec: the probabilities add up to {total:g}, more than 1")
        return cls(rates=tuple(rates))


class FaultInjector:
    """Decides, request by request in arrival order, which fault (if any) to inject.

    Deterministic: rates draw from `random.Random(seed)`, one number per request; a
    schedule is walked step by step, then no more faults. Thread-safe.
    """

    def __init__(self, plan: FaultPlan, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.plan = plan
        self.seed = seed
        self._rng = random.Random(seed)
        self._position = 0

    @property
    def position(self) -> int:
        """How many faults were drawn (requests seen) since the start or the last reset."""
        return self._position

    def reset(self, plan: FaultPlan | None = None, seed: int | None = None) -> None:
        """Back to the first request: schedule and generator start over (optionally anew)."""
        with self._lock:
            if plan is not None:
                self.plan = plan
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)
            self._position = 0

    def draw(self) -> Fault | None:
        """The fault for the next request, or None to serve it normally."""
        with self._lock:
            index = self._position
            self._position += 1
            plan = self.plan
            if plan.schedule is not None:
                return plan.schedule[index] if index < len(plan.schedule) else None
            if not plan.rates:
                return None
            point = self._rng.random()
            cumulative = 0.0
            for fault, rate in plan.rates:
                cumulative += rate
                if point < cumulative:
                    return fault
            return None


# -- configuration ------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerConfig:
    """Everything `llm-extract serve` takes; checked on creation (`ConfigError`).

    - `fixtures`: a replay directory (searched recursively for recordings);
    - `host`, `port`: where to listen; port 0 picks a free port. A non-loopback host is
      refused unless `allow_remote` (CLI `--allow-remote`);
    - `latency_ms`, `jitter_ms`: added before each chat answer, `latency ± jitter`;
    - `faults`: the fault spec (module docstring), `seed`: for faults and jitter;
    - `hang_s`: default hang of the `hang` fault; `retry_after_s`: default Retry-After of `429`;
    - `log_level`, `access_log`: uvicorn logging; `graceful_shutdown_s`: how long stopping
      waits for requests still running before cancelling them;
    - Batch API: `batch_delay_s` (seconds from creation to completion), `batch_fail_rate` and
      `batch_schema_rate` (per request line, seeded), `batch_expire` (batches expire half
      done), `batch_max_requests` (lines per input file) and `batch_max_bytes` (bytes per
      uploaded batch file): the provider's limits, 50,000 and 200 MB, by default.
    """

    fixtures: Path
    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    faults: str | None = None
    seed: int = 0
    hang_s: float = 30.0
    retry_after_s: float = 1.0
    allow_remote: bool = False
    log_level: str = "warning"
    access_log: bool = False
    graceful_shutdown_s: float = 2.0
    batch_delay_s: float = 1.0
    batch_fail_rate: float = 0.0
    batch_schema_rate: float = 0.0
    batch_expire: bool = False
    batch_max_requests: int = 50_000
    batch_max_bytes: int = 200 * 1024 * 1024

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixtures", Path(self.fixtures))
        if not is_loopback(self.host) and not self.allow_remote:
            raise ConfigError(
                f"refusing to listen on {self.host!r}: not a loopback address, so the replay server would be "
                "reachable from the network; use 127.0.0.1, or pass --allow-remote (allow_remote=True) on purpose"
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535 (0: any free port), got {self.port}")
        for name in ("latency_ms", "jitter_ms", "retry_after_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if not math.isfinite(self.hang_s) or self.hang_s <= 0:
            raise ConfigError(f"hang_s must be > 0, got {self.hang_s!r}")
        if not math.isfinite(self.batch_delay_s) or self.batch_delay_s < 0:
            raise ConfigError(f"batch_delay_s must be a number >= 0, got {self.batch_delay_s!r}")
        for name in ("batch_fail_rate", "batch_schema_rate"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 <= value <= 1:
                raise ConfigError(f"{name} must be a probability in [0, 1], got {value!r}")
        if self.batch_fail_rate + self.batch_schema_rate > 1 + 1e-9:
            raise ConfigError("batch_fail_rate + batch_schema_rate must not exceed 1")
        for name in ("batch_max_requests", "batch_max_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.graceful_shutdown_s < 0:
            raise ConfigError(f"graceful_shutdown_s must be >= 0, got {self.graceful_shutdown_s!r}")
        if self.log_level.lower() not in ("critical", "error", "warning", "info", "debug", "trace"):
            raise ConfigError(f"unknown log level {self.log_level!r}")
        FaultPlan.parse(self.faults)  # raises ConfigError for a bad spec

    @property
    def fault_plan(self) -> FaultPlan:
        return FaultPlan.parse(self.faults)


# -- the recordings -----------------------------------------------------------------------


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


# -- mutations for content faults -----------------------------------------------------------


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


def _violate(arguments: Any) -> Any:
    if not isinstance(arguments, dict):
        return [arguments]
    seizures = arguments.get("seizures")
    agreements = arguments.get("agreements")
    if "seizures" not in arguments and "agreements" not in arguments:
        return [arguments]  # another task's schema: an array where an object is required
    for seizure in seizures if isinstance(seizures, list) else []:
        items = seizure.get("items") if isinstance(seizure, dict) else None
        if isinstance(items, list) and items and isinstance(items[0], dict):
            items[0]["quantity"] = 0  # DrugItem.quantity must be > 0
            return arguments
    for agreement in agreements if isinstance(agreements, list) else []:
        if isinstance(agreement, dict):
            agreement["parties"] = []  # AgreementMention.parties needs at least one
            return arguments
    evidence = "A seizure was reported."
    arguments["seizures"] = [*(seizures if isinstance(seizures, list) else []), {"items": [], "evidence": evidence}]
    return arguments


def violate_schema(body: Any) -> Any:
    """A copy of a completion whose arguments are valid JSON that fails `ArticleMentions`."""
    mutated = copy.deepcopy(body)
    found = _payload(mutated)
    if found is not None:
        container, key = found
        try:
            arguments = json.loads(container.get(key) or "null")
        except json.JSONDecodeError:
            return mutated  # already not JSON: it fails validation as it is
        container[key] = json.dumps(_violate(arguments), ensure_ascii=False)
    return mutated


# -- responses that act on the connection ---------------------------------------------------

Transport = asyncio.Transport
_Outcome = Literal["elapsed", "stopping", "disconnected"]


async def _until_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _settle(receive: Receive) -> None:
    """After closing a connection ourselves: let uvicorn see it lost, so it logs nothing."""
    with suppress(asyncio.TimeoutError, Exception):
        await asyncio.wait_for(_until_disconnect(receive), timeout=5.0)


class _NoResponse(Response):
    """Nothing to send: the client is gone."""

    def __init__(self) -> None:
        super().__init__(status_code=499)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


class _CloseResponse(Response):
    """Closes the connection without a response (FIN): the server going away."""

    def __init__(self, transport: Transport | None) -> None:
        super().__init__(status_code=499)
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.transport is None:
            raise RuntimeError("the server is stopping")
        self.transport.close()
        await _settle(receive)


class _ResetResponse(Response):
    """Aborts the connection with a TCP RST (SO_LINGER 0 + abort): no response at all."""

    def __init__(self, transport: Transport | None) -> None:
        super().__init__(status_code=499)
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = self.transport
        if transport is None:
            raise RuntimeError("fault 'reset' needs the server started by llm_extract.server (serve/start_server)")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await _settle(receive)


class _TruncatedResponse(Response):
    """Status and headers announce the whole body (Content-Length); half of it is sent."""

    def __init__(self, content: bytes, headers: Mapping[str, str], transport: Transport | None) -> None:
        super().__init__(content=content, status_code=200, headers=dict(headers), media_type="application/json")
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.body)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        if self.transport is not None:
            self.transport.close()  # flushes what was written, then FIN
            await _settle(receive)
        # without a transport, returning now makes uvicorn close the connection mid-body


def _tracking_protocol(registry: dict[tuple[str, int], Transport]) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, recording each connection's transport by peer address."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TrackingH11Protocol(H11Protocol):
        _peer: tuple[str, int] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                with suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._peer = self.client
            if self._peer is not None:
                registry[self._peer] = transport

        def connection_lost(self, exc: Exception | None) -> None:
            if self._peer is not None and registry.get(self._peer) is self.transport:
                del registry[self._peer]
            super().connection_lost(exc)

    return TrackingH11Protocol


# -- the Batch API: files, jobs, multipart uploads --------------------------------------------

#: What `/_stats` counts under `batches`.
_BATCH_COUNTERS: tuple[str, ...] = (
    "created", "completed", "failed", "expired", "cancelled", "requests", "answered", "errors", "schema",
)  # fmt: skip
#: The batch settings `POST /_reset` (and `ServerHandle.reset(batch=...)`) may change.
BATCH_SETTINGS: tuple[str, ...] = ("batch_delay_s", "batch_fail_rate", "batch_schema_rate", "batch_expire")
#: The one endpoint a batch of this server can target.
BATCH_ENDPOINT = "/v1/chat/completions"
_BATCH_WINDOW_S = 24 * 3600
_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


def _new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


@dataclass
class _StoredFile:
    """One uploaded (or generated) file, kept in memory."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: float

    def object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": int(self.created_at),
            "expires_at": None,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


@dataclass
class _BatchJob:
    """One batch job: the OpenAI batch object, and its parsed input once validated."""

    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    created: float
    status: str = "validating"
    model: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)  # in_progress_at, completed_at, ...
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})

    def object(self) -> dict[str, Any]:
        def at(name: str) -> int | None:
            value = self.times.get(name)
            return int(value) if value is not None else None

        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created),
            "in_progress_at": at("in_progress_at"),
            "expires_at": int(self.created + _BATCH_WINDOW_S),
            "finalizing_at": at("finalizing_at"),
            "completed_at": at("completed_at"),
            "failed_at": at("failed_at"),
            "expired_at": at("expired_at"),
            "cancelling_at": at("cancelling_at"),
            "cancelled_at": at("cancelled_at"),
            "request_counts": dict(self.counts),
            "metadata": self.metadata,
        }


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a `multipart/form-data` body: name → (filename or None, content).

    A small parser of our own (RFC 7578), so that the server needs no `python-multipart`.
    Raises `ValueError` for a body that is not multipart or has no boundary.
    """
    header = email.message.Message()
    header["content-type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        raise ValueError(f"expected multipart/form-data, got {content_type or 'no content type'}")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("multipart/form-data without a boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    fields: dict[str, tuple[str | None, bytes]] = {}
    chunks = (b"\r\n" + body).split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a multipart part without a blank line after its headers")
        part = email.message_from_bytes(head + b"\r\n\r\n")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        fields[name] = (part.get_filename(), content)
    return fields


def _jsonl_lines(objects: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(o, ensure_ascii=False).encode("utf-8") + b"\n" for o in objects)


# -- the application --------------------------------------------------------------------------


def _error_body(message: str, type_: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass
class _Counters:
    requests: int = 0
    replayed: int = 0
    recovered: int = 0
    misses: int = 0
    rejected: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    endpoints: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_BATCH_COUNTERS, 0))


class _ReplayService:
    """The state and handlers behind the app: index, faults, latency, counters."""

    def __init__(self, config: ServerConfig, index: RecordingIndex) -> None:
        self.config = config
        self.index = index
        self.injector = FaultInjector(config.fault_plan, config.seed)
        self._latency_rng = random.Random(f"latency:{config.seed}")
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._in_flight = 0
        self._faulted: set[str] = set()
        self._next_id = 0
        self.connections: dict[tuple[str, int], Transport] = {}
        self.stopping = asyncio.Event()
        # the Batch API: files and batches in memory, answered from the same index
        self._files: dict[str, _StoredFile] = {}
        self._batches: dict[str, _BatchJob] = {}
        self._batch_rng = random.Random(f"batch:{config.seed}")

    # -- routes ------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
            Route("/v1/models", self.list_models, methods=["GET"]),
            Route("/v1/models/{model:path}", self.get_model, methods=["GET"]),
            Route("/v1/files", self.create_file, methods=["POST"]),
            Route("/v1/files", self.list_files, methods=["GET"]),
            Route("/v1/files/{file_id}", self.get_file, methods=["GET"]),
            Route("/v1/files/{file_id}", self.delete_file, methods=["DELETE"]),
            Route("/v1/files/{file_id}/content", self.file_content, methods=["GET"]),
            Route("/v1/batches", self.create_batch, methods=["POST"]),
            Route("/v1/batches", self.list_batches, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self.get_batch, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", self.cancel_batch, methods=["POST"]),
            Route("/_stats", self.get_stats, methods=["GET"]),
            Route("/_reset", self.post_reset, methods=["POST"]),
        ]

    # -- counters ---------------------------------------------------------------------------
    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self._counters, name, getattr(self._counters, name) + 1)

    def _count_endpoint(self, endpoint: str) -> None:
        with self._lock:
            self._counters.endpoints[endpoint] = self._counters.endpoints.get(endpoint, 0) + 1

    def _count_fault(self, kind: str) -> None:
        with self._lock:
            self._counters.faults[kind] += 1

    def stats(self) -> dict[str, Any]:
        """What `GET /_stats` answers."""
        with self._lock:
            c = self._counters
            return {
                "requests": c.requests,
                "replayed": c.replayed,
                "recovered": c.recovered,
                "misses": c.misses,
                "rejected": c.rejected,
                "faults": dict(c.faults),
                "faults_total": sum(c.faults.values()),
                "in_flight": self._in_flight,
                "endpoints": dict(c.endpoints),
                "schedule_position": self.injector.position,
                "batches": dict(c.batches),
                "config": {
                    "faults": str(self.injector.plan) or None,
                    "seed": self.injector.seed,
                    "latency_ms": self.config.latency_ms,
                    "jitter_ms": self.config.jitter_ms,
                    "hang_s": self.config.hang_s,
                    "recordings": len(self.index),
                },
            }

    def reset(
        self,
        *,
        faults: str | None = None,
        seed: int | None = None,
        replace_faults: bool = False,
        batch: Mapping[str, Any] | None = None,
    ) -> None:
        """Zero the counters, restart the schedule and generators; optionally a new plan/seed
        and new batch settings (`BATCH_SETTINGS`). Files and batches are kept."""
        plan = FaultPlan.parse(faults) if replace_faults else None
        if batch:
            unknown = set(batch) - set(BATCH_SETTINGS)
            if unknown:
                raise ConfigError(f"not batch settings: {', '.join(sorted(unknown))}")
            self.config = dataclasses.replace(self.config, **batch)  # checked by ServerConfig
        with self._lock:
            self._counters = _Counters()
            self._faulted.clear()
            self.injector.reset(plan, seed)
            self._latency_rng = random.Random(f"latency:{self.injector.seed}")
            self._batch_rng = random.Random(f"batch:{self.injector.seed}")

    # -- helpers ----------------------------------------------------------------------------
    def _headers(self, fault: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        with self._lock:
            self._next_id += 1
            number = self._next_id
        headers = {"x-request-id": f"req_replay{number:024x}"}
        if fault is not None:
            headers["x-llm-extract-fault"] = fault
        headers.update(extra or {})
        return headers

    def _json(
        self, status: int, body: Any, *, fault: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return Response(
            content, status_code=status, headers=self._headers(fault, headers), media_type="application/json"
        )

    def _error(
        self,
        status: int,
        message: str,
        type_: str,
        *,
        param: str | None = None,
        code: str | None = None,
        fault: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return self._json(status, _error_body(message, type_, param=param, code=code), fault=fault, headers=headers)

    def _transport(self, request: Request) -> Transport | None:
        client = request.scope.get("client")
        return self.connections.get((str(client[0]), int(client[1]))) if client else None

    def _latency_s(self) -> float:
        latency, jitter = self.config.latency_ms, self.config.jitter_ms
        if latency <= 0 and jitter <= 0:
            return 0.0
        with self._lock:
            offset = self._latency_rng.uniform(-jitter, jitter) if jitter > 0 else 0.0
        return max(latency + offset, 0.0) / 1000.0

    async def _wait(self, request: Request, seconds: float) -> _Outcome:
        """Sleep `seconds`, unless the server stops or the client goes away first."""
        if self.stopping.is_set():
            return "stopping"
        waiters: dict[asyncio.Future[Any], _Outcome] = {
            asyncio.ensure_future(self.stopping.wait()): "stopping",
            asyncio.ensure_future(_until_disconnect(request.receive)): "disconnected",
            asyncio.ensure_future(asyncio.sleep(seconds)): "elapsed",
        }
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        for waiter, outcome in waiters.items():  # in priority order: stopping, disconnected, elapsed
            if waiter in done and not waiter.cancelled() and waiter.exception() is None:
                return outcome
        return "disconnected"

    def _abandon(self, request: Request, outcome: _Outcome) -> Response:
        return _CloseResponse(self._transport(request)) if outcome == "stopping" else _NoResponse()

    def _recover_reask(self, body: dict[str, Any]) -> Recording | None:
        """The recorded answer when `body` is a reask after a corrupted (faulted) answer."""
        messages = body.get("messages")
        if not self._faulted or not isinstance(messages, list):
            return None
        for size in range(len(messages) - 1, 0, -1):
            key = request_hash(CHAT_ENDPOINT, {**body, "messages": messages[:size]})
            if key in self._faulted:
                return self.index.get(key)
        return None

    def _transport_fault(self, fault: Fault, request: Request, model: str) -> Response:
        kind = fault.kind
        self._count_fault(kind)
        if kind in ("429", "429_noretry"):
            wait = self.config.retry_after_s if fault.seconds is None else fault.seconds
            headers = {
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{_fmt_number(round(wait, 3))}s",
            }
            if kind == "429":
                headers["retry-after"] = _fmt_number(round(wait, 3))
                headers["retry-after-ms"] = str(round(wait * 1000))
            return self._error(
                429,
                f"Rate limit reached for {model} in organization org-replay on requests per min (RPM): "
                f"Limit 500, Used 500, Requested 1. Please try again in {_fmt_number(round(wait, 3))}s. "
                "Visit https://platform.openai.com/account/rate-limits to learn more.",
                "requests",
                code="rate_limit_exceeded",
                fault=kind,
                headers=headers,
            )
        if kind == "500":
            return self._error(
                500,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                fault=kind,
            )
        if kind == "503":
            return self._error(503, "The server is overloaded or not ready yet.", "server_error", fault=kind)
        if kind == "400":
            return self._error(
                400,
                "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                "131072 tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                param="messages",
                code="context_length_exceeded",
                fault=kind,
            )
        if kind == "reset":
            return _ResetResponse(self._transport(request))
        raise AssertionError(f"not a transport fault: {kind}")  # pragma: no cover

    def _content_fault(self, fault: Fault, recording: Recording, request: Request) -> Response:
        kind = fault.kind
        self._count_fault(kind)
        if kind == "truncate":
            content = json.dumps(recording.response, ensure_ascii=False).encode("utf-8")
            return _TruncatedResponse(content, self._headers(kind), self._transport(request))
        if kind == "empty":
            body = {**recording.response, "choices": []} if isinstance(recording.response, dict) else recording.response
        elif kind == "bad_json":
            body = break_json(recording.response)
        else:
            body = violate_schema(recording.response)
        if kind in _REASK_FAULTS:
            with self._lock:
                self._faulted.add(recording.request_hash)
        return self._json(recording.status, body, fault=kind)

    # -- endpoints --------------------------------------------------------------------------
    async def chat_completions(self, request: Request) -> Response:
        """POST /v1/chat/completions: the recorded answer, a fault, or an OpenAI-style error."""
        self._count_endpoint(CHAT_ENDPOINT)
        self._count("requests")
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._count("rejected")
            return self._error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                "HTTP library correctly. The OpenAI API expects a JSON payload.)",
                "invalid_request_error",
            )
        if not isinstance(body, dict):
            self._count("rejected")
            return self._error(400, "The request body must be a JSON object.", "invalid_request_error")
        if body.get("stream"):
            self._count("rejected")
            return self._error(
                400,
                "streaming is not supported by the llm-extract replay server; send stream=false",
                "invalid_request_error",
                param="stream",
                code="streaming_unsupported",
            )
        fault = self.injector.draw()
        with self._lock:
            self._in_flight += 1
        try:
            return await self._answer(request, body, fault)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _answer(self, request: Request, body: dict[str, Any], fault: Fault | None) -> Response:
        delay = self._latency_s()
        if delay > 0:
            outcome = await self._wait(request, delay)
            if outcome != "elapsed":
                return self._abandon(request, outcome)
        model = str(body.get("model") or "unknown")
        if fault is not None and fault.kind == "hang":
            self._count_fault("hang")
            outcome = await self._wait(request, self.config.hang_s if fault.seconds is None else fault.seconds)
            if outcome != "elapsed":
                return self._abandon(request, outcome)
            fault = None  # hung long enough; now answer normally
        if fault is not None and fault.kind in TRANSPORT_FAULTS:
            return self._transport_fault(fault, request, model)
        key = request_hash(CHAT_ENDPOINT, body)
        recording = self.index.get(key)
        recovered = False
        if recording is None:
            recording = self._recover_reask(body)
            recovered = recording is not None
        if recording is None:
            self._count("misses")
            return self._error(
                400,
                f"llm-extract replay server: no recording matches this request (hash {key[:16]}, model {model}, "
                f"{len(body.get('messages') or [])} messages); only requests recorded exactly (same model, "
                f"messages, tools and settings) are served: {self.index.explain_miss(body)}",
                "invalid_request_error",
                code="replay_miss",
            )
        if fault is not None:
            return self._content_fault(fault, recording, request)
        self._count("recovered" if recovered else "replayed")
        return self._json(recording.status, recording.response)

    async def list_models(self, request: Request) -> Response:
        """GET /v1/models: the models requested in the recordings."""
        self._count_endpoint("models")
        return self._json(200, {"object": "list", "data": [self._model(m) for m in self.index.models]})

    async def get_model(self, request: Request) -> Response:
        """GET /v1/models/{model}."""
        self._count_endpoint("models")
        name = request.path_params["model"]
        if name not in self.index.models:
            return self._error(
                404,
                f"The model '{name}' does not exist or you do not have access to it.",
                "invalid_request_error",
                code="model_not_found",
            )
        return self._json(200, self._model(name))

    @staticmethod
    def _model(name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 0, "owned_by": "llm-extract-replay"}

    async def get_stats(self, request: Request) -> Response:
        """GET /_stats."""
        return self._json(200, self.stats())

    async def post_reset(self, request: Request) -> Response:
        """POST /_reset, optionally with `{"faults": SPEC, "seed": N}` and batch settings
        (`batch_delay_s`, `batch_fail_rate`, `batch_schema_rate`, `batch_expire`)."""
        raw = await request.body()
        try:
            options = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            options = None
        if not isinstance(options, dict) or set(options) - {"faults", "seed", *BATCH_SETTINGS}:
            return self._error(
                400,
                'the body of /_reset must be {} or {"faults": SPEC, "seed": N} (and batch settings: '
                + ", ".join(BATCH_SETTINGS)
                + ")",
                "invalid_request_error",
            )
        batch = {k: v for k, v in options.items() if k in BATCH_SETTINGS}
        for name, value in batch.items():
            wanted = bool if name == "batch_expire" else (int, float)
            if not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool)):
                return self._error(400, f"{name} has the wrong type", "invalid_request_error", param=name)
        seed = options.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            return self._error(400, "seed must be an integer", "invalid_request_error", param="seed")
        faults = options.get("faults")
        if faults is not None and not isinstance(faults, str):
            return self._error(400, "faults must be a fault spec string", "invalid_request_error", param="faults")
        try:
            self.reset(faults=faults, seed=seed, replace_faults="faults" in options, batch=batch)
        except ConfigError as exc:
            return self._error(400, str(exc), "invalid_request_error", param="faults")
        return self._json(200, self.stats())

    # -- the Batch API: files -----------------------------------------------------------------
    def _store_file(self, filename: str, purpose: str, data: bytes) -> _StoredFile:
        stored = _StoredFile(id=_new_id("file-"), filename=filename, purpose=purpose, data=data, created_at=time.time())
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def _file_or_404(self, request: Request) -> _StoredFile | Response:
        file_id = request.path_params["file_id"]
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            return self._error(404, f"No such File object: {file_id}", "invalid_request_error", param="id")
        return stored

    async def create_file(self, request: Request) -> Response:
        """POST /v1/files: a multipart upload (`purpose`, `file`), kept in memory."""
        self._count_endpoint("files")
        try:
            fields = parse_multipart(await request.body(), request.headers.get("content-type", ""))
        except ValueError as exc:
            return self._error(400, f"could not parse the multipart upload: {exc}", "invalid_request_error")
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace").strip()
        upload = fields.get("file")
        if not purpose:
            return self._error(400, "Missing required parameter: 'purpose'.", "invalid_request_error", param="purpose")
        if upload is None:
            return self._error(400, "Missing required parameter: 'file'.", "invalid_request_error", param="file")
        filename, data = upload
        if purpose == "batch" and len(data) > self.config.batch_max_bytes:
            return self._error(
                400,
                f"File is too large: {len(data):,} bytes; batch input files may hold at most "
                f"{self.config.batch_max_bytes:,} bytes.",
                "invalid_request_error",
                param="file",
                code="file_too_large",
            )
        return self._json(200, self._store_file(filename or "upload", purpose, data).object())

    async def list_files(self, request: Request) -> Response:
        """GET /v1/files (optionally `?purpose=`)."""
        self._count_endpoint("files")
        purpose = request.query_params.get("purpose")
        with self._lock:
            files = [f.object() for f in self._files.values() if purpose is None or f.purpose == purpose]
        return self._json(200, {"object": "list", "data": files, "has_more": False})

    async def get_file(self, request: Request) -> Response:
        """GET /v1/files/{id}."""
        self._count_endpoint("files")
        found = self._file_or_404(request)
        return found if isinstance(found, Response) else self._json(200, found.object())

    async def delete_file(self, request: Request) -> Response:
        """DELETE /v1/files/{id}."""
        self._count_endpoint("files")
        found = self._file_or_404(request)
        if isinstance(found, Response):
            return found
        with self._lock:
            self._files.pop(found.id, None)
        return self._json(200, {"id": found.id, "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        """GET /v1/files/{id}/content: the bytes as uploaded (or as the batch wrote them)."""
        self._count_endpoint("files")
        found = self._file_or_404(request)
        if isinstance(found, Response):
            return found
        return Response(found.data, status_code=200, headers=self._headers(), media_type="application/octet-stream")

    # -- the Batch API: batches ------------------------------------------------------------------
    def _batch_or_404(self, request: Request) -> _BatchJob | Response:
        batch_id = request.path_params["batch_id"]
        with self._lock:
            job = self._batches.get(batch_id)
        if job is None:
            return self._error(404, f"No batch found with id '{batch_id}'.", "invalid_request_error", param="batch_id")
        return job

    def _count_batch(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters.batches[name] = self._counters.batches.get(name, 0) + n

    async def create_batch(self, request: Request) -> Response:
        """POST /v1/batches: a job over an uploaded `batch` file; answered `validating`."""
        self._count_endpoint("batches")
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return self._error(400, "The request body must be a JSON object.", "invalid_request_error")
        input_file_id = body.get("input_file_id")
        endpoint = body.get("endpoint")
        window = body.get("completion_window")
        metadata = body.get("metadata")
        with self._lock:
            stored = self._files.get(input_file_id) if isinstance(input_file_id, str) else None
        if stored is None:
            return self._error(
                400, f"No such File object: {input_file_id}", "invalid_request_error", param="input_file_id"
            )
        if stored.purpose != "batch":
            return self._error(
                400,
                f"File {input_file_id} has purpose {stored.purpose!r}; a batch needs a file uploaded with purpose 'batch'.",
                "invalid_request_error",
                param="input_file_id",
            )
        if endpoint != BATCH_ENDPOINT:
            return self._error(
                400,
                f"the llm-extract replay server runs batches for {BATCH_ENDPOINT} only, not {endpoint!r}",
                "invalid_request_error",
                param="endpoint",
            )
        if window != "24h":
            return self._error(
                400, f"Invalid completion_window {window!r}: only '24h' is supported.", "invalid_request_error",
                param="completion_window",
            )  # fmt: skip
        if metadata is not None and not (
            isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        ):
            return self._error(400, "metadata must map strings to strings", "invalid_request_error", param="metadata")
        job = _BatchJob(
            id=_new_id("batch_"),
            input_file_id=stored.id,
            endpoint=endpoint,
            completion_window=window,
            metadata=metadata,
            created=time.time(),
        )
        with self._lock:
            self._batches[job.id] = job
        self._count_batch("created")
        return self._json(200, job.object())

    async def get_batch(self, request: Request) -> Response:
        """GET /v1/batches/{id}: the batch, advanced to where its clock says it is."""
        self._count_endpoint("batches")
        found = self._batch_or_404(request)
        if isinstance(found, Response):
            return found
        self._advance(found)
        return self._json(200, found.object())

    async def list_batches(self, request: Request) -> Response:
        """GET /v1/batches?limit=N&after=ID: newest first, cursor-paginated."""
        self._count_endpoint("batches")
        try:
            limit = min(max(int(request.query_params.get("limit", "20")), 1), 100)
        except ValueError:
            return self._error(400, "limit must be an integer", "invalid_request_error", param="limit")
        after = request.query_params.get("after")
        with self._lock:
            jobs = sorted(self._batches.values(), key=lambda j: j.created, reverse=True)
        if after:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        page = jobs[:limit]
        for job in page:
            self._advance(job)
        data = [j.object() for j in page]
        return self._json(
            200,
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(jobs) > limit,
            },
        )

    async def cancel_batch(self, request: Request) -> Response:
        """POST /v1/batches/{id}/cancel: `cancelling`, then `cancelled` at the next read."""
        self._count_endpoint("batches")
        found = self._batch_or_404(request)
        if isinstance(found, Response):
            return found
        self._advance(found)
        if found.status in _TERMINAL or found.status == "cancelling":
            return self._error(
                400,
                f"Cannot cancel a batch with status '{found.status}'.",
                "invalid_request_error",
                param="batch_id",
            )
        found.status = "cancelling"
        found.times["cancelling_at"] = time.time()
        return self._json(200, found.object())

    def _advance(self, job: _BatchJob, now: float | None = None) -> None:
        """Move a batch along its clock: validate, then answer every request at the deadline."""
        now = time.time() if now is None else now
        with self._lock:  # one reader advances a job at a time; the others see the result
            if job.status == "validating":
                self._validate(job, now)
            if job.status == "in_progress" and now >= job.created + self.config.batch_delay_s:
                job.times["finalizing_at"] = now
                if self.config.batch_expire:
                    self._finish(job, now, answered=len(job.lines) // 2, rest="batch_expired")
                    job.status = "expired"
                    job.times["expired_at"] = now
                else:
                    self._finish(job, now, answered=len(job.lines), rest="batch_expired")
                    job.status = "completed"
                    job.times["completed_at"] = now
                self._counters.batches[job.status] += 1
            elif job.status == "cancelling":
                self._finish(job, now, answered=0, rest="batch_cancelled")
                job.status = "cancelled"
                job.times["cancelled_at"] = now
                self._counters.batches["cancelled"] += 1

    def _validate(self, job: _BatchJob, now: float) -> None:
        """Parse the input file; `failed` with the errors OpenAI would list, else `in_progress`."""
        stored = self._files.get(job.input_file_id)
        errors: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()

        def error(code: str, message: str, line: int | None = None, param: str | None = None) -> None:
            errors.append({"code": code, "message": message, "param": param, "line": line})

        if stored is None:
            error("file_not_found", f"The input file {job.input_file_id} was deleted.")
        else:
            for number, raw in enumerate(stored.data.splitlines(), 1):
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    error("invalid_json_line", "This line is not parseable as valid JSON.", number)
                    continue
                if not isinstance(line, dict):
                    error("invalid_request", "Each line must be a JSON object.", number)
                    continue
                custom_id = line.get("custom_id")
                if not isinstance(custom_id, str) or not custom_id:
                    error("missing_required_parameter", "Missing 'custom_id'.", number, "custom_id")
                elif custom_id in seen:
                    error(
                        "duplicate_custom_id",
                        f"The custom_id {custom_id!r} is used more than once.",
                        number,
                        "custom_id",
                    )
                if line.get("method") != "POST":
                    error("invalid_method", "The 'method' must be 'POST'.", number, "method")
                if line.get("url") != job.endpoint:
                    error("mismatched_url", f"The 'url' must match the batch endpoint {job.endpoint}.", number, "url")
                body = line.get("body")
                if not isinstance(body, dict):
                    error("invalid_request", "The 'body' must be a JSON object.", number, "body")
                else:
                    models.add(str(body.get("model")))
                if isinstance(custom_id, str):
                    seen.add(custom_id)
                lines.append(line)
            if len(lines) > self.config.batch_max_requests:
                error(
                    "too_many_requests",
                    f"The input file holds {len(lines):,} requests; a batch may hold at most "
                    f"{self.config.batch_max_requests:,}.",
                )
            if len(models) > 1:
                error("mismatched_model", f"Every request of a batch must use the same model, not {sorted(models)}.")
            if not lines and not errors:
                error("empty_file", "The input file holds no request.")
        if errors:
            job.status = "failed"
            job.errors = errors[:100]
            job.times["failed_at"] = now
            self._counters.batches["failed"] += 1
            return
        job.lines = lines
        job.model = models.pop() if models else None
        job.counts["total"] = len(lines)
        job.status = "in_progress"
        job.times["in_progress_at"] = now

    def _finish(self, job: _BatchJob, now: float, *, answered: int, rest: str) -> None:
        """Answer the first `answered` requests from the recordings; the rest get `rest` errors."""
        outputs: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        rates = (self.config.batch_fail_rate, self.config.batch_schema_rate)
        for index, line in enumerate(job.lines):
            custom_id = line["custom_id"]
            line_id = _new_id("batch_req_")
            request_id = _new_id("req_")
            self._counters.batches["requests"] += 1
            if index >= answered:
                message = (
                    "This request could not be executed before the completion window expired."
                    if rest == "batch_expired"
                    else "This request was not executed because the batch was cancelled."
                )
                failures.append(
                    {
                        "id": line_id,
                        "custom_id": custom_id,
                        "response": None,
                        "error": {"code": rest, "message": message},
                    }
                )
                continue
            draw = self._batch_rng.random() if any(rates) else 1.0
            if draw < rates[0]:
                body = _error_body(
                    "The server had an error while processing your request. Sorry about that!", "server_error"
                )
                failures.append(
                    {
                        "id": line_id,
                        "custom_id": custom_id,
                        "response": {"status_code": 500, "request_id": request_id, "body": body},
                        "error": {"code": "server_error", "message": body["error"]["message"]},
                    }
                )
                continue
            body = line["body"]
            key = request_hash(CHAT_ENDPOINT, body)
            recording = self.index.get(key)
            if recording is None or body.get("stream"):
                message = (
                    "streaming is not supported in a batch"
                    if recording is not None
                    else f"llm-extract replay server: no recording matches this request (hash {key[:16]}): "
                    f"{self.index.explain_miss(body)}"
                )
                code = "streaming_unsupported" if recording is not None else "replay_miss"
                failures.append(
                    {
                        "id": line_id,
                        "custom_id": custom_id,
                        "response": {
                            "status_code": 400,
                            "request_id": request_id,
                            "body": _error_body(message, "invalid_request_error", code=code),
                        },
                        "error": {"code": code, "message": message},
                    }
                )
                self._counters.misses += 1
                continue
            answer = recording.response
            if draw < rates[0] + rates[1]:
                answer = violate_schema(answer)
                self._faulted.add(recording.request_hash)  # the client's reask gets the recorded answer
                self._counters.batches["schema"] += 1
            outputs.append(
                {
                    "id": line_id,
                    "custom_id": custom_id,
                    "response": {"status_code": recording.status, "request_id": request_id, "body": answer},
                    "error": None,
                }
            )
        self._counters.batches["answered"] += len(outputs)
        self._counters.batches["errors"] += len(failures)
        job.counts.update(completed=len(outputs), failed=len(failures))
        for kind, objects in (("output", outputs), ("error", failures)):
            if not objects:
                continue
            stored = _StoredFile(
                id=_new_id("file-"),
                filename=f"{job.id}_{kind}.jsonl",
                purpose="batch_output",
                data=_jsonl_lines(objects),
                created_at=now,
            )
            self._files[stored.id] = stored
            setattr(job, f"{kind}_file_id", stored.id)
        job.lines = []  # answered: the input stays in its file


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    if status == 404:
        message = f"Invalid URL ({request.method} {request.url.path})"
    elif status == 405:
        message = f"Method {request.method} not allowed on {request.url.path}"
    else:
        message = (
            exc.detail if isinstance(exc, HTTPException) else "The server had an error while processing your request."
        )
    type_ = "server_error" if status >= 500 else "invalid_request_error"
    content = json.dumps(_error_body(message, type_), ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def create_app(config: ServerConfig, *, index: RecordingIndex | None = None) -> Starlette:
    """The ASGI app for `config`; the recordings are indexed now, once (`ConfigError`)."""
    service = _ReplayService(config, index or RecordingIndex.load(config.fixtures))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        service.stopping.set()

    app = Starlette(
        routes=service.routes(),
        exception_handlers={HTTPException: _http_error, Exception: _http_error},
        lifespan=lifespan,
    )
    app.state.replay = service
    return app


def _service(app: Starlette) -> _ReplayService:
    service: _ReplayService = app.state.replay
    return service


# -- running it ---------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn's server, telling us when it is listening and when it starts to stop."""

    def __init__(
        self, config: uvicorn.Config, *, on_started: Callable[[], None], on_stopping: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._on_stopping = on_stopping

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_stopping()  # hung requests end now instead of holding the shutdown
        await super().shutdown(sockets=sockets)


def _bind(config: ServerConfig) -> socket.socket:
    host = config.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0, as socket.create_server leaves it): asyncio sets TCP_NODELAY
    # only on sockets that say they are TCP, and without it keep-alive requests wait ~40 ms
    # (Nagle + delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, config.port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc}") from exc
    sock.setblocking(False)
    return sock


def _base_url(config: ServerConfig, sock: socket.socket) -> str:
    host = config.host.strip("[]")
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}/v1" if ":" in host else f"http://{host}:{port}/v1"


def _uvicorn_server(
    app: Starlette, config: ServerConfig, *, on_started: Callable[[], None], in_thread: bool
) -> _Server:
    service = _service(app)
    kwargs: dict[str, Any] = {"log_config": None} if in_thread else {}
    uv_config = uvicorn.Config(
        app,
        http=_tracking_protocol(service.connections),
        loop="asyncio",
        lifespan="on",
        proxy_headers=False,  # scope["client"] must stay the socket's peer (see _tracking_protocol)
        server_header=False,
        log_level=config.log_level.lower(),
        access_log=config.access_log,
        timeout_graceful_shutdown=math.ceil(config.graceful_shutdown_s),
        **kwargs,
    )
    return _Server(uv_config, on_started=on_started, on_stopping=service.stopping.set)


def _describe(app: Starlette) -> str:
    service = _service(app)
    index = service.index
    plan = str(service.injector.plan) or "none"
    latency = (
        f"{service.config.latency_ms:g}±{service.config.jitter_ms:g} ms"
        if service.config.latency_ms or service.config.jitter_ms
        else "none"
    )
    return (
        f"replaying {len(index)} recorded request(s) from {index.directory} (models: {', '.join(index.models)}); "
        f"faults: {plan}; seed: {service.injector.seed}; latency: {latency}"
    )


def serve(config: ServerConfig, *, on_listening: Callable[[str], None] | None = None) -> None:
    """Run the server until Ctrl-C or SIGTERM (blocking).

    Once listening, calls `on_listening(base_url)`; by default prints
    `listening on http://HOST:PORT/v1` on stdout (flushed, so that a parent process can read
    the port when `port=0`) and a summary on stderr. Raises `ConfigError` for bad settings,
    unreadable recordings or an address that cannot be bound.
    """
    app = create_app(config)
    sock = _bind(config)
    base_url = _base_url(config, sock)
    if not is_loopback(config.host):
        logger.warning("listening on %s, reachable from the network (allow_remote)", config.host)

    def started() -> None:
        if on_listening is not None:
            on_listening(base_url)
            return
        print(_describe(app), file=sys.stderr, flush=True)
        print(f"listening on {base_url}", flush=True)

    server = _uvicorn_server(app, config, on_started=started, in_thread=False)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled, after a clean shutdown
        pass
    finally:
        sock.close()


class ServerHandle:
    """A server running in a background thread (see `start_server`); a context manager."""

    def __init__(self, app: Starlette, server: _Server, thread: threading.Thread, base_url: str) -> None:
        self.app = app
        self.base_url = base_url
        self._server = server
        self._thread = thread

    @property
    def root_url(self) -> str:
        """The base URL without `/v1` (where `/_stats` and `/_reset` live)."""
        return self.base_url.removesuffix("/v1")

    @property
    def port(self) -> int:
        return int(self.root_url.rsplit(":", 1)[1])

    def stats(self) -> dict[str, Any]:
        """The counters, as `GET /_stats` answers them."""
        return _service(self.app).stats()

    def reset(
        self,
        *,
        faults: str | None = None,
        seed: int | None = None,
        replace_faults: bool = False,
        batch: Mapping[str, Any] | None = None,
    ) -> None:
        """As `POST /_reset`; `replace_faults=True` installs `faults` (None: no faults);
        `batch` sets batch settings (e.g. `{"batch_fail_rate": 0}`)."""
        _service(self.app).reset(
            faults=faults, seed=seed, replace_faults=replace_faults or faults is not None, batch=batch
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (hung requests are cut) and wait for its thread. Idempotent."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(config: ServerConfig, *, startup_timeout: float = 30.0) -> ServerHandle:
    """Start the server in a daemon thread and return once it is listening.

    Logs `listening on http://HOST:PORT/v1` (logger `llm_extract.server`, INFO). Raises
    `ConfigError` for bad settings or recordings, `RuntimeError` if uvicorn fails to start.
    """
    app = create_app(config)
    sock = _bind(config)
    base_url = _base_url(config, sock)
    ready = threading.Event()
    failure: list[BaseException] = []
    server = _uvicorn_server(app, config, on_started=ready.set, in_thread=True)

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            failure.append(exc)
        finally:
            sock.close()
            ready.set()

    thread = threading.Thread(target=run, name=f"llm-extract-serve {base_url}", daemon=True)
    thread.start()
    if not ready.wait(startup_timeout) or not server.started:
        server.should_exit = True
        thread.join(5.0)
        reason = f": {failure[0]!r}" if failure else ""
        raise RuntimeError(f"the replay server did not start on {base_url}{reason}")
    logger.info("listening on %s", base_url)
    return ServerHandle(app, server, thread, base_url)


def run_server_in_thread(config: ServerConfig) -> tuple[str, Callable[[], None]]:
    """Start the server in a background thread: `(base_url, stop)`."""
    handle = start_server(config)
    return handle.base_url, handle.stop


@contextmanager
def running_server(config: ServerConfig) -> Iterator[str]:
    """`with running_server(config) as base_url:` the server runs inside the block."""
    handle = start_server(config)
    try:
        yield handle.base_url
    finally:
        handle.stop()
