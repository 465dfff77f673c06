"""The Files and Batches endpoints (the OpenAI Batch API over the same recordings).

`/v1/files`: multipart uploads (`parse_multipart`, no `python-multipart` needed), kept in
memory (`batch_jobs.FileStore`); `/v1/batches`: jobs over an uploaded `batch` file, moved
along their clock by `batch_jobs.BatchRunner` whenever a request reads them.
"""

from __future__ import annotations

import email.message
import json
import threading
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from llm_extract.testing.server.batch_jobs import TERMINAL, BatchJob, BatchRunner, FileStore, StoredFile, new_id
from llm_extract.testing.server.responses import Responder
from llm_extract.testing.server.stats import Counters

__all__ = ["BATCH_ENDPOINT", "BatchesEndpoints", "FilesEndpoints", "parse_multipart"]

#: The one endpoint a batch of this server can target.
BATCH_ENDPOINT = "/v1/chat/completions"


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



class FilesEndpoints:
    """`/v1/files`: upload (multipart), list, retrieve, download and delete files."""

    def __init__(self, files: FileStore, counters: Counters, responder: Responder, *, max_batch_bytes: int) -> None:
        self.files = files
        self.counters = counters
        self.responder = responder
        self.max_batch_bytes = max_batch_bytes

    def routes(self) -> list[Route]:
        return [
            Route("/v1/files", self.create_file, methods=["POST"]),
            Route("/v1/files", self.list_files, methods=["GET"]),
            Route("/v1/files/{file_id}", self.get_file, methods=["GET"]),
            Route("/v1/files/{file_id}", self.delete_file, methods=["DELETE"]),
            Route("/v1/files/{file_id}/content", self.file_content, methods=["GET"]),
        ]

    def _file_or_404(self, request: Request) -> StoredFile | Response:
        file_id = request.path_params["file_id"]
        stored = self.files.get(file_id)
        if stored is None:
            return self.responder.error(404, f"No such File object: {file_id}", "invalid_request_error", param="id")
        return stored

    async def create_file(self, request: Request) -> Response:
        """POST /v1/files: a multipart upload (`purpose`, `file`), kept in memory."""
        self.counters.count_endpoint("files")
        error = self.responder.error
        try:
            fields = parse_multipart(await request.body(), request.headers.get("content-type", ""))
        except ValueError as exc:
            return error(400, f"could not parse the multipart upload: {exc}", "invalid_request_error")
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace").strip()
        upload = fields.get("file")
        if not purpose:
            return error(400, "Missing required parameter: 'purpose'.", "invalid_request_error", param="purpose")
        if upload is None:
            return error(400, "Missing required parameter: 'file'.", "invalid_request_error", param="file")
        filename, data = upload
        if purpose == "batch" and len(data) > self.max_batch_bytes:
            return error(
                400,
                f"File is too large: {len(data):,} bytes; batch input files may hold at most "
                f"{self.max_batch_bytes:,} bytes.",
                "invalid_request_error",
                param="file",
                code="file_too_large",
            )
        return self.responder.json(200, self.files.add(filename or "upload", purpose, data).object())

    async def list_files(self, request: Request) -> Response:
        """GET /v1/files (optionally `?purpose=`)."""
        self.counters.count_endpoint("files")
        files = [f.object() for f in self.files.list(request.query_params.get("purpose"))]
        return self.responder.json(200, {"object": "list", "data": files, "has_more": False})

    async def get_file(self, request: Request) -> Response:
        """GET /v1/files/{id}."""
        self.counters.count_endpoint("files")
        found = self._file_or_404(request)
        return found if isinstance(found, Response) else self.responder.json(200, found.object())

    async def delete_file(self, request: Request) -> Response:
        """DELETE /v1/files/{id}."""
        self.counters.count_endpoint("files")
        found = self._file_or_404(request)
        if isinstance(found, Response):
            return found
        self.files.delete(found.id)
        return self.responder.json(200, {"id": found.id, "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        """GET /v1/files/{id}/content: the bytes as uploaded (or as the batch wrote them)."""
        self.counters.count_endpoint("files")
        found = self._file_or_404(request)
        if isinstance(found, Response):
            return found
        headers = self.responder.headers()
        return Response(found.data, status_code=200, headers=headers, media_type="application/octet-stream")


class BatchesEndpoints:
    """`/v1/batches`: create, list, retrieve and cancel batch jobs."""

    def __init__(self, runner: BatchRunner, files: FileStore, counters: Counters, responder: Responder) -> None:
        self.runner = runner
        self.files = files
        self.counters = counters
        self.responder = responder
        self._lock = threading.Lock()
        self._jobs: dict[str, BatchJob] = {}

    def routes(self) -> list[Route]:
        return [
            Route("/v1/batches", self.create_batch, methods=["POST"]),
            Route("/v1/batches", self.list_batches, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self.get_batch, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", self.cancel_batch, methods=["POST"]),
        ]

    def _batch_or_404(self, request: Request) -> BatchJob | Response:
        batch_id = request.path_params["batch_id"]
        with self._lock:
            job = self._jobs.get(batch_id)
        if job is None:
            return self.responder.error(
                404, f"No batch found with id '{batch_id}'.", "invalid_request_error", param="batch_id"
            )
        return job

    async def create_batch(self, request: Request) -> Response:
        """POST /v1/batches: a job over an uploaded `batch` file; answered `validating`."""
        self.counters.count_endpoint("batches")
        error = self.responder.error
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return error(400, "The request body must be a JSON object.", "invalid_request_error")
        input_file_id = body.get("input_file_id")
        endpoint = body.get("endpoint")
        window = body.get("completion_window")
        metadata = body.get("metadata")
        stored = self.files.get(input_file_id) if isinstance(input_file_id, str) else None
        if stored is None:
            return error(
                400, f"No such File object: {input_file_id}", "invalid_request_error", param="input_file_id"
            )
        if stored.purpose != "batch":
            return error(
                400,
                f"File {input_file_id} has purpose {stored.purpose!r}; "
                "a batch needs a file uploaded with purpose 'batch'.",
                "invalid_request_error",
                param="input_file_id",
            )
        if endpoint != BATCH_ENDPOINT:
            return error(
                400,
                f"the llm-extract replay server runs batches for {BATCH_ENDPOINT} only, not {endpoint!r}",
                "invalid_request_error",
                param="endpoint",
            )
        if window != "24h":
            return error(
                400, f"Invalid completion_window {window!r}: only '24h' is supported.", "invalid_request_error",
                param="completion_window",
            )  # fmt: skip
        if metadata is not None and not (
            isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        ):
            return error(400, "metadata must map strings to strings", "invalid_request_error", param="metadata")
        job = BatchJob(
            id=new_id("batch_"),
            input_file_id=stored.id,
            endpoint=endpoint,
            completion_window=window,
            metadata=metadata,
            created=time.time(),
        )
        with self._lock:
            self._jobs[job.id] = job
        self.counters.count_batch("created")
        return self.responder.json(200, job.object())

    async def get_batch(self, request: Request) -> Response:
        """GET /v1/batches/{id}: the batch, advanced to where its clock says it is."""
        self.counters.count_endpoint("batches")
        found = self._batch_or_404(request)
        if isinstance(found, Response):
            return found
        self.runner.advance(found)
        return self.responder.json(200, found.object())

    async def list_batches(self, request: Request) -> Response:
        """GET /v1/batches?limit=N&after=ID: newest first, cursor-paginated."""
        self.counters.count_endpoint("batches")
        try:
            limit = min(max(int(request.query_params.get("limit", "20")), 1), 100)
        except ValueError:
            return self.responder.error(400, "limit must be an integer", "invalid_request_error", param="limit")
        after = request.query_params.get("after")
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)
        if after:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        page = jobs[:limit]
        for job in page:
            self.runner.advance(job)
        data = [j.object() for j in page]
        return self.responder.json(
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
        self.counters.count_endpoint("batches")
        found = self._batch_or_404(request)
        if isinstance(found, Response):
            return found
        self.runner.advance(found)
        if found.status in TERMINAL or found.status == "cancelling":
            return self.responder.error(
                400,
                f"Cannot cancel a batch with status '{found.status}'.",
                "invalid_request_error",
                param="batch_id",
            )
        found.status = "cancelling"
        found.times["cancelling_at"] = time.time()
        return self.responder.json(200, found.object())
