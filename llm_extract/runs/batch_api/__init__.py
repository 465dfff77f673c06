"""Extraction through the OpenAI Batch API: submit, status, collect (and resubmit).

The Batch API answers chat-completion requests within 24 hours at half the price. This package
puts it behind the same pipeline as the live path, so that a record made through a batch is
the record a live run makes:

- **submit** (`submit.py`) writes one request per article (per chunk for a long article) with
  *exactly* the body the live path sends for its first call: the request planner of the live
  path (`Extractor.plan_requests`) gives the chunks, their prompt messages and the
  chat-completions body that `ModelClient.fill` sends first for them (instructor's own
  preparation of the same arguments, for the task's response model in its call mode), with
  nothing sent. Its request hash is kept beside it. Requests are written to JSONL input files
  in the Batch API format, split under the provider's limits (`max_requests`, `max_bytes` per
  file; an article's chunks stay in one file), uploaded (`files.create`, purpose `batch`) and
  run as batch jobs (`batches.create`, `/v1/chat/completions`, `24h`) (`client.py`).
- **status** (`status.py`) retrieves every job and reports its progress.
- **collect** (`collect.py`) downloads output and error files, then feeds every article whose
  requests are all answered to the worker loop of `llm-extract run`
  (`llm_extract.runs.runner.process`), with an extractor whose transport answers each first
  request from the batch output (`answers.py`, matched by request hash, so a prompt, schema,
  model or settings change since submit is refused, never silently paid for live).
  Validation, reasks, chunk combination, grounding, normalisation and result building are
  thus the live path's own code, and results go to the store and `records.jsonl` as
  `run_batch` writes them. A batch answer that fails validation continues as the live path
  would: instructor re-asks the model, live, with the error (`live_fallback=False` lists the
  article instead). Collecting twice changes nothing. Requests that failed, expired or were
  cancelled are listed; `resubmit` sends them again.

Cost: the Batch API bills half the list price, so `run.cost_usd` of a collected article is
50 % of the price-table cost of its batch-answered calls plus the full cost of any live reask.

Files in OUT_DIR (besides `records.jsonl`, `errors.jsonl` and `extract.db`), see `state.py`:

```
batch_jobs.json                    the state: parts, their jobs (batch and file ids, status,
                                   request counts, times), rewritten atomically at each change
batch/part-00001.jsonl             the uploaded input (Batch API request lines)
batch/part-00001.map.jsonl         one line per article: id, source, sha256, published, url,
                                   title, text, and its requests (custom_id, chunk, of, start,
                                   end, request hash)
batch/part-00001.retry1.jsonl      a resubmission of the part's failed requests
batch/<batch_id>.output.jsonl      downloaded output / error files
batch/<batch_id>.errors.jsonl
batch/part-00001.collected         sha256 of every article collected from the part
```

`custom_id` is the article id when it is safe (`[A-Za-z0-9._-]`, at most 64 characters) and
not used by another article in OUT_DIR, else a sanitised id with 12 hex digits of the
article's sha256; a chunk of a long article is `<id>#chunk<k>` (k from 1).

Python API (each has an `a...` coroutine twin):

```python
from llm_extract import Extractor
from llm_extract.runs.batch_api import submit, status, collect, resubmit

ex = Extractor(mode="live")                       # OPENAI_API_KEY / OPENAI_BASE_URL
submit(["articles/"], Path("out"), extractor=ex)  # -> SubmitSummary
status(Path("out"), extractor=ex)                 # -> list[JobStatus]
collect(Path("out"), extractor=ex)                # -> CollectSummary (when jobs are done)
resubmit(Path("out"), extractor=ex)               # failed / expired requests, again
```
"""

from __future__ import annotations

from llm_extract.errors import BatchError
from llm_extract.runs.batch_api.collect import BATCH_OUTCOME as BATCH_OUTCOME
from llm_extract.runs.batch_api.collect import RUN_MODE as RUN_MODE
from llm_extract.runs.batch_api.collect import CollectSummary, FailedRequest, acollect, collect
from llm_extract.runs.batch_api.state import (
    BATCH_DIR,
    BATCH_DISCOUNT,
    BATCH_ENDPOINT,
    JOBS_FILE,
    MAX_FILE_BYTES,
    MAX_FILE_REQUESTS,
    BatchState,
    load_state,
)
from llm_extract.runs.batch_api.state import FORMAT as FORMAT
from llm_extract.runs.batch_api.state import TERMINAL as TERMINAL
from llm_extract.runs.batch_api.state import JobRecord as JobRecord
from llm_extract.runs.batch_api.state import Part as Part
from llm_extract.runs.batch_api.status import JobStatus, astatus, extractor_for, status
from llm_extract.runs.batch_api.submit import (
    BatchRequest,
    SubmitSummary,
    aresubmit,
    asubmit,
    build_requests,
    resubmit,
    submit,
)
from llm_extract.runs.batch_api.submit import abuild_requests as abuild_requests

# The public names, as before the split. The `X as X` imports above (TERMINAL, RUN_MODE,
# BATCH_OUTCOME, FORMAT, JobRecord, Part, abuild_requests) stay importable from here too.
__all__ = [
    "BATCH_DIR",
    "BATCH_DISCOUNT",
    "BATCH_ENDPOINT",
    "JOBS_FILE",
    "MAX_FILE_BYTES",
    "MAX_FILE_REQUESTS",
    "BatchError",
    "BatchRequest",
    "BatchState",
    "CollectSummary",
    "FailedRequest",
    "JobStatus",
    "SubmitSummary",
    "acollect",
    "aresubmit",
    "astatus",
    "asubmit",
    "build_requests",
    "collect",
    "extractor_for",
    "load_state",
    "resubmit",
    "status",
    "submit",
]
