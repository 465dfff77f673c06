"""The HTTP transport guard under the openai client: answer size cap, HTML pages told apart.

`GuardedTransport` wraps the real transport (below the recording one) and checks every
answer as it arrives, before the openai client reads it:

- **Size.** An answer over `max_bytes` (`ExtractorSettings.max_response_bytes`, 4 MiB by
  default) is refused while it is read, never read whole: at once when its
  `Content-Length` says so, else as soon as the bytes received pass the cap (the connection
  is then closed). The call fails with `ResponseTooLargeError`, not retried (the same
  request would get the same answer).
- **HTML.** A proxy's error page (`502 Bad Gateway` in HTML) or a web page served at the
  API's address (a 200 `text/html`) is not an API answer: it raises `HTMLPageError`, an
  `openai.APIStatusError` with the page's status, whose message says what it is ("the
  server answered an HTML page (status 502): <first 80 characters>"). A 5xx page is
  retried like any 5xx; any other status is not retried.

Both exceptions derive from `openai.OpenAIError`, which the openai client lets through
unchanged, so the model layer sees them as they are (not as "Connection error").
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

__all__ = ["GuardedTransport", "HTMLPageError", "ResponseTooLargeError", "html_snippet"]

#: How much of a non-JSON answer is read to tell what it is (and quote it).
_SNIFF_BYTES = 64 * 1024
_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<title|<!--)", re.IGNORECASE)


class ResponseTooLargeError(openai.APIError):
    """The answer was bigger than `max_response_bytes`: refused while reading, not retried."""

    def __init__(self, request: httpx2.Request, *, limit: int, received: int, announced: int | None = None) -> None:
        self.limit = limit
        self.received = received
        self.announced = announced
        size = f"{announced:,} bytes announced" if announced is not None else f"over {received:,} bytes received"
        message = (
            f"the server's answer is larger than max_response_bytes ({limit:,} bytes): {size}; "
            "refused while reading (raise max_response_bytes if such answers are expected)"
        )
        super().__init__(message, request, body=None)


class HTMLPageError(openai.APIStatusError):
    """The server answered an HTML page, not API JSON (a proxy's error page, a web UI)."""

    def __init__(self, response: httpx2.Response, snippet: str) -> None:
        self.snippet = snippet
        message = f"the server answered an HTML page (status {response.status_code}): {snippet}"
        if response.status_code < 400:
            message += " (is the base URL the API's address? it usually ends in /v1)"
        super().__init__(message, response=response, body=None)


def html_snippet(content: bytes, limit: int = 80) -> str:
    """The first `limit` characters of a page, whitespace collapsed."""
    text = " ".join(content.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like_html(content_type: str, head: bytes) -> bool:
    return "html" in content_type or bool(_HTML.match(head[:512]))


class _CappedStream(httpx2.AsyncByteStream):
    """The answer's body, refused once more than `limit` bytes came."""

    def __init__(self, inner: Any, request: httpx2.Request, limit: int, prefix: bytes = b"") -> None:
        self._inner = inner
        self._request = request
        self._limit = limit
        self._prefix = prefix

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = len(self._prefix)
        if self._prefix:
            yield self._prefix
        async for chunk in self._inner:
            received += len(chunk)
            if received > self._limit:
                await self.aclose()
                raise ResponseTooLargeError(self._request, limit=self._limit, received=received)
            yield chunk

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()


class GuardedTransport(httpx2.AsyncBaseTransport):
    """Forwards to `inner`; caps each answer at `max_bytes` and refuses HTML pages."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, *, max_bytes: int) -> None:
        self.inner = inner
        self.max_bytes = max_bytes

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        limit = self.max_bytes
        announced = _content_length(response)
        if announced is not None and announced > limit:
            await response.aclose()
            raise ResponseTooLargeError(request, limit=limit, received=0, announced=announced)
        content_type = response.headers.get("content-type", "").lower()
        if "json" in content_type:
            return _with_stream(response, request, _CappedStream(response.stream, request, limit))
        # not JSON: an error page, or a server that does not say; read the start to tell
        head = b""
        stream = response.stream
        if not isinstance(stream, httpx2.AsyncByteStream):  # a sync-only stream: nothing to guard here
            return response
        iterator = stream.__aiter__()
        try:
            while len(head) < _SNIFF_BYTES:
                head += await iterator.__anext__()
        except StopAsyncIteration:
            pass
        except BaseException:
            await response.aclose()
            raise
        if len(head) > limit:
            await response.aclose()
            raise ResponseTooLargeError(request, limit=limit, received=len(head))
        if _looks_like_html(content_type, head):
            await response.aclose()
            page = httpx2.Response(response.status_code, headers=response.headers, content=head, request=request)
            raise HTMLPageError(page, html_snippet(head))
        rest = _Rest(iterator, response.stream)
        return _with_stream(response, request, _CappedStream(rest, request, limit, prefix=head))

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Rest:
    """What is left of a stream once its start was read through `iterator`."""

    def __init__(self, iterator: AsyncIterator[bytes], stream: Any) -> None:
        self._iterator = iterator
        self._stream = stream

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterator

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


def _content_length(response: httpx2.Response) -> int | None:
    raw = response.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _with_stream(
    response: httpx2.Response, request: httpx2.Request, stream: httpx2.AsyncByteStream
) -> httpx2.Response:
    return httpx2.Response(
        response.status_code,
        headers=response.headers,
        stream=stream,
        request=request,
        extensions=response.extensions,
    )
