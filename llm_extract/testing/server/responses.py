"""OpenAI-style JSON responses: bodies, errors, `x-request-id` headers, the HTTP error handler."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["Responder", "error_body", "http_error"]


def error_body(message: str, type_: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error object: `{"error": {"message", "type", "param", "code"}}`."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class Responder:
    """Builds JSON responses, numbering them (`x-request-id`) across the whole server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 0

    def headers(self, fault: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A new `x-request-id`, `x-llm-extract-fault` for a fault, and `extra`."""
        with self._lock:
            self._next_id += 1
            number = self._next_id
        headers = {"x-request-id": f"req_replay{number:024x}"}
        if fault is not None:
            headers["x-llm-extract-fault"] = fault
        headers.update(extra or {})
        return headers

    def json(
        self, status: int, body: Any, *, fault: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return Response(
            content, status_code=status, headers=self.headers(fault, headers), media_type="application/json"
        )

    def error(
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
        return self.json(status, error_body(message, type_, param=param, code=code), fault=fault, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's errors (404, 405, an exception in a handler) as OpenAI error JSON."""
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
    content = json.dumps(error_body(message, type_), ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=status, headers=headers, media_type="application/json")
