"""The pipeline for one article: article → prompt → model → validate → record.

`Extractor` is the Python API. It is generic over a `Task` (schema + prompts + build),
given as a `Task` or by name (`llm_extract.core.registry`); the default is the built-in
`security_events` task (agreements and drug seizures, `ArticleExtraction` results).

```python
from llm_extract import Extractor

ex = Extractor(model="gpt-4o-mini", replay_dir="fixtures/replay", mode="replay")
result = ex.extract(text, published=date(2025, 1, 12))
result.seizures[0].items[0].quantity        # 2400.0

async with Extractor(mode="live") as ex:    # the async path
    result = await ex.aextract(text)
```

What an article costs is planned before anything is sent: `Extractor.plan_requests(article)`
is the chunking, the prompt messages and the exact first request body of every chunk, from
the code `aextract` runs (`plan_prompts`, and `llm_extract.model.client.first_request`). The
Batch API submits these bodies (`llm_extract.runs.batch_api.submit`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pydantic import BaseModel

from llm_extract.core.articles import Article
from llm_extract.core.chunking import chunk_text
from llm_extract.core.pricing import PriceTable
from llm_extract.core.prompts import PromptSet
from llm_extract.core.registry import load_task
from llm_extract.core.results import ArticleInfo, ArticleResult, CallRecord, RunMeta
from llm_extract.core.task import BuildContext, Task
from llm_extract.errors import InputError, LLMExtractError, ModelCallError
from llm_extract.model.client import CallStats, ModelClient, ResponseCache, first_request
from llm_extract.model.replay import ReplayStore, request_hash
from llm_extract.runs.concurrency import AdaptiveLimiter
from llm_extract.settings import ExtractorSettings, Mode

if TYPE_CHECKING:
    import httpx2

__all__ = ["Extractor", "PlannedPrompt", "PlannedRequest"]

R = TypeVar("R", bound=ArticleResult)


@dataclass(frozen=True)
class PlannedPrompt:
    """The messages for one part of an article: chunk `chunk` of `of` (from 1), `text[start:end]`."""

    chunk: int
    of: int
    start: int
    end: int
    messages: list[dict[str, str]]

    def where(self) -> str:
        return f"chunk {self.chunk} of {self.of}, characters {self.start}–{self.end}"


@dataclass(frozen=True)
class PlannedRequest:
    """The first request of one part of an article: its prompt, and the exact body sent for it."""

    prompt: PlannedPrompt
    #: the chat-completions JSON body, as the live path sends it (keys in wire order)
    body: dict[str, Any]

    @property
    def hash(self) -> str:
        """The request hash of the body (the calls log's, the replay recordings')."""
        return request_hash("chat/completions", self.body)


class Extractor(Generic[R]):
    """Extracts records from articles with a language model, replayable offline.

    Every argument is keyword-only. `settings` holds every option (see
    `ExtractorSettings`); `model`, `mode`, `replay_dir`, `base_url` and `api_key` override
    it for the common cases. The environment supplies `OPENAI_API_KEY` and
    `OPENAI_BASE_URL` when they are not given. Without a key, the mode is `replay`.
    `transport` replaces the HTTP transport under the openai client (tests, proxies);
    `cache` answers requests already paid for (the batch passes its SQLite calls log).

    Raises `ConfigError` for settings that cannot work, `PromptError` for broken templates.
    """

    @overload
    def __init__(
        self: Extractor[Any],
        *,
        settings: ExtractorSettings | None = None,
        model: str | None = None,
        mode: Mode | None = None,
        replay_dir: str | Path | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        task: str | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        cache: ResponseCache | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: Extractor[R],
        *,
        settings: ExtractorSettings | None = None,
        model: str | None = None,
        mode: Mode | None = None,
        replay_dir: str | Path | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        task: Task[Any, R],
        transport: httpx2.AsyncBaseTransport | None = None,
        cache: ResponseCache | None = None,
    ) -> None: ...

    def __init__(
        self,
        *,
        settings: ExtractorSettings | None = None,
        model: str | None = None,
        mode: Mode | None = None,
        replay_dir: str | Path | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        task: Task[Any, Any] | str | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.settings = ExtractorSettings.resolve(
            {"model": model, "mode": mode, "replay_dir": replay_dir, "base_url": base_url, "api_key": api_key},
            base=settings,
        )
        self.task: Task[Any, Any] = task if isinstance(task, Task) else load_task(task)
        self.prompts = PromptSet.load(self.task.prompt_dir, response_model=self.task.response_model)
        self.mode: Mode = self.settings.resolved_mode
        self.settings = self._for_server(self.settings, transport)
        secret = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        self.store: ReplayStore | None = (
            ReplayStore(self.settings.replay_dir, secret=secret, mode=self.mode)
            if self.mode in ("replay", "record")
            else None
        )
        self._transport = transport
        #: answers requests already paid for (`run_batch` sets its SQLite calls log here)
        self.cache: ResponseCache | None = cache
        self.prices = PriceTable.load(self.settings.prices_file)
        #: calls in flight, adapted to the server (`llm_extract.runs.concurrency`), shared by this extractor's clients
        self.limiter = AdaptiveLimiter.for_settings(self.settings)
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ModelClient] = weakref.WeakKeyDictionary()

    def _for_server(self, settings: ExtractorSettings, transport: httpx2.AsyncBaseTransport | None) -> ExtractorSettings:
        """`auto` call mode resolved (`model.servers`) and the task's token cap when none is set."""
        update: dict[str, Any] = {}
        if settings.call_mode == "auto":
            mode: str = "tools"
            if self.mode in ("live", "record") and settings.base_url is not None and transport is None:
                from llm_extract.model.servers import call_mode_for, detect_server

                key = settings.api_key.get_secret_value() if settings.api_key else None
                mode = call_mode_for(detect_server(settings.base_url, api_key=key))
            update["call_mode"] = mode
        if settings.max_tokens is None and self.task.max_output_tokens is not None:
            update["max_tokens"] = self.task.max_output_tokens
        return settings.model_copy(update=update) if update else settings

    @property
    def transport(self) -> httpx2.AsyncBaseTransport | None:
        """The HTTP transport this extractor was given (tests, proxies), if any."""
        return self._transport

    # -- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> Extractor[R]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client bound to the running event loop."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def _client(self) -> ModelClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = ModelClient(
                self.settings, store=self.store, transport=self._transport, cache=self.cache, limiter=self.limiter
            )
            self._clients[loop] = client
        return client

    # -- extraction --------------------------------------------------------------------
    def article(
        self, text: str | Article, *, published: date | None = None, id: str | None = None, source: str | None = None
    ) -> Article:
        """The `Article` for `text` (checked: not empty, not over `max_article_chars`)."""
        if isinstance(text, Article):
            article = text
        else:
            article = Article.from_text(text, id=id, source=source, published=published)
        if published is not None and article.published is None:
            article = dataclasses.replace(article, published=published)
        if len(article.text) > self.settings.max_article_chars:
            raise InputError(
                article.source,
                f"the article has {len(article.text):,} characters, over the limit of "
                f"{self.settings.max_article_chars:,} (settings.max_article_chars)",
            )
        return article

    def plan_prompts(self, article: Article) -> list[PlannedPrompt]:
        """The messages of every part of `article` (checked already): the whole text, or each
        chunk of a long one. `aextract` asks the model with these, `plan_requests` plans them."""
        settings = self.settings
        chunks = chunk_text(article.text, max_chars=settings.chunk_chars, overlap=settings.chunk_overlap)
        if len(chunks) == 1:
            messages = self.prompts.messages(article.text, published=article.published)
            return [PlannedPrompt(1, 1, 0, len(article.text), messages)]
        plan = []
        for chunk in chunks:
            part = (chunk.index + 1, len(chunks))
            messages = self.prompts.messages(chunk.text, published=article.published, part=part)
            plan.append(PlannedPrompt(part[0], part[1], chunk.start, chunk.end, messages))
        return plan

    def plan_requests(
        self, text: str | Article, *, published: date | None = None, id: str | None = None, source: str | None = None
    ) -> list[PlannedRequest]:
        """The first request `aextract` sends for each part of the article (one per chunk), unsent.

        The same chunking and messages as `aextract`, and the body `ModelClient.fill` sends
        first for them (`llm_extract.model.client.first_request`): the task's response model
        in the settings' call mode, model and temperature. No network, in any mode.
        Raises `InputError` for an article `aextract` would refuse.
        """
        article = self.article(text, published=published, id=id, source=source)
        model = self.task.response_model
        return [PlannedRequest(p, first_request(self.settings, model, p.messages)) for p in self.plan_prompts(article)]

    async def aextract(
        self,
        text: str | Article,
        *,
        published: date | None = None,
        id: str | None = None,
        source: str | None = None,
        calls: list[CallRecord] | None = None,
    ) -> R:
        """Extract from one article (async). `published` anchors relative dates.

        When `calls` is given, one `CallRecord` per model call is appended to it, whether
        the extraction succeeds or fails (the batch stores them in the calls log).
        Raises `InputError`, `ReplayError` or a `ModelCallError` child naming the article.
        """
        article = self.article(text, published=published, id=id, source=source)
        plan = self.plan_prompts(article)  # the planner's prompts: those `plan_requests` plans
        if self.store is not None:
            self.store.register(sha256=article.sha256, id=article.id, source=article.source)
        settings = self.settings
        client = self._client()
        started = time.perf_counter()
        sink = calls if calls is not None else []
        try:
            if len(plan) == 1:
                mentions, stats = await client.fill(
                    response_model=self.task.response_model,
                    messages=plan[0].messages,
                    article=article,
                    prompt_version=self.prompts.version,
                    log=sink,
                )
            else:
                mentions, stats = await self._fill_chunks(client, article, plan, sink)
        finally:
            if self.store is not None:  # its name was only needed for messages during the calls
                self.store.forget(article.sha256)
        stats.latency_s = time.perf_counter() - started
        info = ArticleInfo(
            id=article.id,
            source=article.source,
            sha256=article.sha256,
            chars=len(article.text),
            published=article.published.isoformat() if article.published else None,
            url=article.url,
            title=article.title,
        )
        run = RunMeta(
            model=self.settings.model,
            mode=self.mode,
            task=self.task.name,
            prompt_version=self.prompts.version,
            calls=stats.calls,
            reasks=stats.reasks,
            retries=stats.retries,
            cached_calls=stats.cached_calls,
            usage=stats.usage,
            latency_s=round(stats.latency_s, 4),
            cost_usd=self.prices.cost(self.settings.model, stats.usage),
        )
        context = BuildContext(
            article=article,
            info=info,
            run=run,
            chunks=len(plan),
            fuzzy_threshold=settings.fuzzy_threshold,
            keep_ungrounded=settings.keep_ungrounded,
            options=self.task.option_values,
            settings={"min_confidence": settings.min_confidence},
        )
        result: R = self.task.build(mentions, context)
        return result

    async def _fill_chunks(
        self, client: ModelClient, article: Article, plan: list[PlannedPrompt], sink: list[CallRecord]
    ) -> tuple[Any, CallStats]:
        """Extract every chunk of a long article concurrently (within the call limit)."""

        async def one(part: PlannedPrompt) -> tuple[Any, CallStats]:
            try:
                return await client.fill(
                    response_model=self.task.response_model,
                    messages=part.messages,
                    article=article,
                    prompt_version=self.prompts.version,
                    log=sink,
                )
            except ModelCallError as exc:
                exc.args = (f"{exc} [{part.where()}]",)
                raise

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(part)) for part in plan]
        except* LLMExtractError as failed:  # one chunk failed: the article fails with its error
            raise failed.exceptions[0] from None
        parts = [task.result() for task in tasks]
        stats = CallStats(fills=0, log=sink)
        for _, part_stats in parts:
            stats.add(part_stats)
        return self.task.combine([mentions for mentions, _ in parts]), stats

    def extract(
        self, text: str | Article, *, published: date | None = None, id: str | None = None, source: str | None = None
    ) -> R:
        """Extract from one article (blocking). Works inside a running event loop too."""

        async def once() -> R:
            try:
                return await self.aextract(text, published=published, id=id, source=source)
            finally:
                await self.aclose()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(once())
        with ThreadPoolExecutor(max_workers=1) as pool:  # called from async code: own loop
            return pool.submit(asyncio.run, once()).result()

    def schema(self) -> dict[str, Any]:
        """The JSON schema the model is asked to fill."""
        model: type[BaseModel] = self.task.response_model
        return model.model_json_schema()
