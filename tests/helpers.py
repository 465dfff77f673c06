"""Test helpers: paths to the fixtures, and a scripted OpenAI-compatible transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "fixtures" / "articles"
REPLAY = ROOT / "fixtures" / "replay"
ANSWERS = ROOT / "fixtures" / "answers"
PREFIXES = ("000", "001", "002", "003", "004")
AT = "2025-01-01T00:00:00+00:00"
FAKE_KEY = "sk-test-FAKEKEY0123456789abcdefSECRET"


def seed(stem_prefix: str) -> Path:
    """The seed article whose file name starts with `stem_prefix` ('003')."""
    (path,) = ARTICLES.glob(f"{stem_prefix}_*.txt")
    return path


def completion(arguments: Any, *, tool: str = "ArticleMentions", prompt_tokens: int = 100, completion_tokens: int = 20) -> dict[str, Any]:
    """A chat.completion body with one tool call, as the OpenAI API returns it."""
    from llm_extract.testing import chat_completion

    return chat_completion(arguments, tool=tool, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


class Script:
    """A fake OpenAI server: answers each request with the next scripted step.

    A step is a dict (a completion body, status 200), an `httpx2.Response`, or a callable
    taking the request. Every request is kept in `requests` (headers and parsed body).
    """

    def __init__(self, steps: list[Any]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx2.Request] = []
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        self.bodies.append(json.loads(request.content))
        if not self.steps:
            raise AssertionError(f"unexpected request #{len(self.requests)}")
        step = self.steps.pop(0)
        if callable(step) and not isinstance(step, httpx2.Response):
            step = step(request)
        if isinstance(step, httpx2.Response):
            return step
        return httpx2.Response(200, json=step)

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)



def make_settings(**overrides: Any) -> Any:
    from llm_extract import ExtractorSettings

    return ExtractorSettings.resolve(overrides, environ={})


Factory = Callable[..., Any]
