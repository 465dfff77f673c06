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
| GET | `/v1/files`, `/v1/files/{id}`, `/v1/files/{id}/content` | list, retrieve, download (`DELETE`: delete) |
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
           | slow_body | huge | echo_key | echo_400 | html
```

e.g. `429=0.1,500=0.05,503=0.05,hang=0.02,reset=0.02,truncate=0.02,bad_json=0.03,schema=0.03,empty=0.02`
or `schedule:429,ok,500,reset,ok`. Rates: every well-formed chat request (a JSON object, not
streaming) draws one number from `random.Random(seed)` in arrival order and gets at most one
fault, by cumulative probability. Schedule: the n-th well-formed chat request gets the n-th
step, and every request after the schedule is served normally. `SECONDS` is accepted by `429`
(the `Retry-After` to send, default `retry_after_s`), `hang` (how long to hang, default
`hang_s`), `slow_body` (seconds between bytes), and, not seconds, by `huge` (megabytes) and
`html` (the HTTP status). What each fault puts on the wire:

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
| `slow_body[:S]` | 200, status and headers at once, then the recorded answer a byte every `S` seconds (default 1) |
| `huge[:MB]` | 200, a chat completion of `MB` megabytes (default 50), streamed without `Content-Length` |
| `echo_key` | 200, the recorded answer with the request's `Authorization` value in its longest string and content |
| `echo_400` | 400 whose message quotes the request's `Authorization` header |
| `html[:STATUS]` | a proxy's HTML error page (`text/html`), status 502 by default (`html:200`: a web page) |

The last five (`HOSTILE_FAULTS`) model a broken or hostile server rather than a glitch;
`FAULT_KINDS` are the glitches, `ALL_FAULT_KINDS` both (what a spec may name and `/_stats`
counts).

A hang ends early when the client goes away, or when the server stops (the connection is
then closed without a response). `schema` breaks one constraint of the JSON schema the
request asked for (the called tool's `parameters`, or a `json_schema` response format),
whatever the task: the first number in the answer that has a bound is moved just outside it,
else an array with `minItems` is cut below it, else a string below its `minLength`, else a
value is put outside its `enum`, else a required property is removed; without a schema, or
with nothing to break, the arguments are wrapped in a list (see `mutations.py`).

Transport faults (429, 5xx, 400, hang, reset, and huge, echo_400, html) are applied before
the request is looked up, as a real server's front end would; content faults (truncate,
bad_json, schema, empty, and slow_body, echo_key) need a recording and are not applied to a
miss. Every response carries `x-request-id`; fault
responses also `x-llm-extract-fault: KIND`.

**Capacity.** `slots=N` (`--slots N`) processes at most N chat requests at once, the others
queued in arrival order, as `llama-server -np N` does; a request whose client goes away while
it waits leaves the queue. `rate_limit_after=K` (`--429-after K`) answers 429 to every chat
request after the first K (only the next `rate_limit_count` ones with `--429-for M`), whatever
the fault plan: a server that starts rate-limiting. A 429 is answered at once, without a slot.
`/_stats` also gives `repeats` (requests whose body had come before: the same request sent
again), `max_in_flight` (the most answered at once) and `queued` (waiting for a slot now).

**Layout.** `config.py` (`ServerConfig`), `faults.py` (fault specs, the seeded injector,
what each fault sends), `mutations.py` (the corrupted answers of `bad_json` and `schema`),
`recordings.py` (the index of recordings, reasks after a corrupted answer), `connections.py`
(transports, stop signal, interruptible waits), `responses.py` (OpenAI-style JSON and
errors), `chat.py` (chat completions, models), `files_batches.py` and `batch_jobs.py` (the
Batch API), `stats.py` (counters, `/_stats`, `/_reset`), `app.py` (the app assembled, and
running it).

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
`{"id": "batch_req_...", "custom_id", "response": {"status_code": 200, "request_id", "body": ...}, "error": null}`;
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

from llm_extract.testing.server.app import ReplayServer as ReplayServer
from llm_extract.testing.server.app import (
    ServerHandle,
    create_app,
    run_server_in_thread,
    running_server,
    serve,
    start_server,
)
from llm_extract.testing.server.config import BATCH_SETTINGS, ServerConfig, is_loopback
from llm_extract.testing.server.connections import Transport as Transport
from llm_extract.testing.server.faults import (
    ALL_FAULT_KINDS,
    CONTENT_FAULTS,
    FAULT_KINDS,
    HOSTILE_FAULTS,
    TRANSPORT_FAULTS,
    Fault,
    FaultInjector,
    FaultPlan,
)
from llm_extract.testing.server.files_batches import BATCH_ENDPOINT, parse_multipart
from llm_extract.testing.server.mutations import answer_schema as answer_schema
from llm_extract.testing.server.mutations import break_json as break_json
from llm_extract.testing.server.mutations import violate_schema as violate_schema
from llm_extract.testing.server.recordings import CHAT_ENDPOINT as CHAT_ENDPOINT
from llm_extract.testing.server.recordings import Recording, RecordingIndex
from llm_extract.testing.server.recordings import logger as logger

__all__ = [
    "ALL_FAULT_KINDS",
    "BATCH_ENDPOINT",
    "BATCH_SETTINGS",
    "CONTENT_FAULTS",
    "FAULT_KINDS",
    "HOSTILE_FAULTS",
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

