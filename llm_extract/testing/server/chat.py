"""`POST /v1/chat/completions` and `GET /v1/models`: recorded answers, with latency and faults."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from llm_extract.model.replay import request_hash
from llm_extract.testing.server.connections import Connections, ServerSlots
from llm_extract.testing.server.faults import EARLY_FAULTS, REASK_FAULTS, Fault, FaultInjector, FaultResponses
from llm_extract.testing.server.recordings import CHAT_ENDPOINT, CorruptedAnswers, RecordingIndex
from llm_extract.testing.server.responses import Responder
from llm_extract.testing.server.stats import Counters

__all__ = ["ChatService", "Latency"]


class Latency:
    """The wait before each chat answer: `latency_ms ± jitter_ms` (uniform, seeded, >= 0)."""

    def __init__(self, latency_ms: float, jitter_ms: float, seed: int) -> None:
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self._lock = threading.Lock()
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Start the jitter over from `seed`."""
        with self._lock:
            self._rng = random.Random(f"latency:{seed}")

    def next_s(self) -> float:
        """The wait of the next request, in seconds."""
        latency, jitter = self.latency_ms, self.jitter_ms
        if latency <= 0 and jitter <= 0:
            return 0.0
        with self._lock:
            offset = self._rng.uniform(-jitter, jitter) if jitter > 0 else 0.0
        return max(latency + offset, 0.0) / 1000.0


class ChatService:
    """Answers chat completions from the recordings, drawing a fault for each request."""

    def __init__(
        self,
        *,
        index: RecordingIndex,
        injector: FaultInjector,
        faults: FaultResponses,
        latency: Latency,
        corrupted: CorruptedAnswers,
        counters: Counters,
        connections: Connections,
        responder: Responder,
        slots: ServerSlots | None = None,
        rate_limit: tuple[int, int | None] | None = None,
    ) -> None:
        self.index = index
        self.slots = slots or ServerSlots(None)
        #: (after, count): the chat requests answered 429 whatever the plan (`ServerConfig.rate_limit_after`)
        self.rate_limit = rate_limit
        counters.queue_length = lambda: self.slots.queued
        self.injector = injector
        self.faults = faults
        self.latency = latency
        self.corrupted = corrupted
        self.counters = counters
        self.connections = connections
        self.responder = responder

    def routes(self) -> list[Route]:
        return [
            Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
            Route("/v1/models", self.list_models, methods=["GET"]),
            Route("/v1/models/{model:path}", self.get_model, methods=["GET"]),
        ]

    async def chat_completions(self, request: Request) -> Response:
        """POST /v1/chat/completions: the recorded answer, a fault, or an OpenAI-style error."""
        self.counters.count_endpoint(CHAT_ENDPOINT)
        self.counters.count("requests")
        error = self.responder.error
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.counters.count("rejected")
            return error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                "HTTP library correctly. The OpenAI API expects a JSON payload.)",
                "invalid_request_error",
            )
        if not isinstance(body, dict):
            self.counters.count("rejected")
            return error(400, "The request body must be a JSON object.", "invalid_request_error")
        if body.get("stream"):
            self.counters.count("rejected")
            return error(
                400,
                "streaming is not supported by the llm-extract replay server; send stream=false",
                "invalid_request_error",
                param="stream",
                code="streaming_unsupported",
            )
        fault = self._rate_limited(self.injector.position) or self.injector.draw()
        key = request_hash(CHAT_ENDPOINT, body)
        self.counters.count_request(key)
        if fault is not None and fault.kind in ("429", "429_noretry"):  # a front end's answer: no slot needed
            with self.counters.in_flight():
                return await self._answer(request, body, fault, key)
        outcome = await self.slots.acquire(request, self.connections.stopping)
        if outcome != "elapsed":
            return self.connections.abandon(request, outcome)
        try:
            with self.counters.in_flight():
                return await self._answer(request, body, fault, key)
        finally:
            self.slots.release()

    def _rate_limited(self, position: int) -> Fault | None:
        """The 429 of a server that started rate-limiting (`rate_limit_after`), for this request."""
        if self.rate_limit is None:
            return None
        after, count = self.rate_limit
        if position >= after and (count is None or position < after + count):
            self.injector.draw()  # keeps the plan's arrival order
            return Fault("429")
        return None

    async def _answer(self, request: Request, body: dict[str, Any], fault: Fault | None, key: str) -> Response:
        delay = self.latency.next_s()
        if delay > 0:
            outcome = await self.connections.wait(request, delay)
            if outcome != "elapsed":
                return self.connections.abandon(request, outcome)
        model = str(body.get("model") or "unknown")
        if fault is not None and fault.kind == "hang":
            self.counters.count_fault("hang")
            abandoned = await self.faults.hang(fault, request)
            if abandoned is not None:
                return abandoned
            fault = None  # hung long enough; now answer normally
        if fault is not None and fault.kind in EARLY_FAULTS:
            self.counters.count_fault(fault.kind)
            return self.faults.transport(fault, request, model)
        recording = self.index.get(key)
        recovered = False
        if recording is None:
            recording = self.corrupted.recover(body)
            recovered = recording is not None
        if recording is None:
            self.counters.count("misses")
            return self.responder.error(
                400,
                f"llm-extract replay server: no recording matches this request (hash {key[:16]}, model {model}, "
                f"{len(body.get('messages') or [])} messages); only requests recorded exactly (same model, "
                f"messages, tools and settings) are served: {self.index.explain_miss(body)}",
                "invalid_request_error",
                code="replay_miss",
            )
        if fault is not None:
            self.counters.count_fault(fault.kind)
            if fault.kind in REASK_FAULTS:
                self.corrupted.add(recording.request_hash)
            return self.faults.content(fault, recording, request)
        self.counters.count("recovered" if recovered else "replayed")
        return self.responder.json(recording.status, recording.response)

    async def list_models(self, request: Request) -> Response:
        """GET /v1/models: the models requested in the recordings."""
        self.counters.count_endpoint("models")
        return self.responder.json(200, {"object": "list", "data": [self._model(m) for m in self.index.models]})

    async def get_model(self, request: Request) -> Response:
        """GET /v1/models/{model}."""
        self.counters.count_endpoint("models")
        name = request.path_params["model"]
        if name not in self.index.models:
            return self.responder.error(
                404,
                f"The model '{name}' does not exist or you do not have access to it.",
                "invalid_request_error",
                code="model_not_found",
            )
        return self.responder.json(200, self._model(name))

    @staticmethod
    def _model(name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 0, "owned_by": "llm-extract-replay"}
