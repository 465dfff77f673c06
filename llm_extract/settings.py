"""One validated settings object for an extraction run.

Every option lives here, typed and checked, instead of growing the signature of
`Extractor` (LangExtract's `extract()` grew ~28 parameters, some silently ignored).
`ExtractorSettings.resolve()` fills what the environment provides (`OPENAI_API_KEY`,
`OPENAI_BASE_URL`) and picks the mode: `replay` when no key is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from llm_extract.errors import ConfigError

__all__ = ["CallMode", "ExtractorSettings", "Mode"]

Mode = Literal["replay", "record", "live"]
CallMode = Literal["auto", "tools", "json", "json_schema"]


class ExtractorSettings(BaseModel):
    """Settings of an `Extractor`; unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    model: str = Field(default="gpt-4o-mini", min_length=1, description="Model name sent to the server.")
    mode: Mode | None = Field(
        default=None,
        description="replay (recorded responses, no network), record (real calls, saved) or "
        "live (real calls, nothing saved). None: replay without an API key, live with one.",
    )
    replay_dir: Path = Field(default=Path("recordings"), description="Where recordings are read and written.")
    base_url: str | None = Field(default=None, description="Any OpenAI-compatible server; env OPENAI_BASE_URL.")
    api_key: SecretStr | None = Field(default=None, description="env OPENAI_API_KEY; never written anywhere.")
    call_mode: CallMode = Field(
        default="auto",
        description="tools (tool calling), json (JSON mode), json_schema (the answer constrained to the schema by "
        "the server), or auto: json_schema for llama.cpp, vLLM and Ollama servers (told by asking them), else tools.",
    )
    max_tokens: int | None = Field(
        default=None, ge=16, description="Cap on the answer's tokens (None: the task's default, sized to its schema)."
    )
    max_reasks: int = Field(default=2, ge=0, le=10, description="Validation reasks after the first answer.")
    max_attempts: int = Field(default=5, ge=1, le=20, description="Transport attempts per model call.")
    timeout_s: float = Field(
        default=120.0, gt=0, description="Deadline of one HTTP call, from connecting to the last byte of the answer."
    )
    timeout_per_output_token_s: float = Field(
        default=0.0,
        ge=0,
        description="Added to timeout_s per token of the answer's cap (max_tokens), so that one call's deadline "
        "scales with the answer a slow local server must generate (e.g. 0.05 for 20 tokens/s).",
    )
    article_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Deadline of one article's model calls (each chunk's, reasks and retries included), counted "
        "from its first request. None: 10 times one call's deadline.",
    )
    max_response_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest answer accepted, in bytes; a bigger one is refused while it is read (not retried).",
    )
    adaptive_concurrency: bool = Field(
        default=True,
        description="Adapt the model calls in flight (AIMD, at most `concurrency`): halve on a 429, a timeout or a "
        "rising latency; add one after a run of successes. False: always `concurrency`.",
    )
    latency_backoff_factor: float | None = Field(
        default=3.0,
        gt=1,
        description="With adaptive_concurrency: halve the calls in flight when their recent latency (per output "
        "token) passes this multiple of the best seen. None: only 429s and timeouts lower it.",
    )
    retry_initial_wait_s: float = Field(default=1.0, ge=0, description="First backoff wait; doubles each retry.")
    retry_max_wait_s: float = Field(default=30.0, ge=0, description="Cap on one backoff wait.")
    retry_after_max_s: float = Field(default=120.0, ge=0, description="Cap on an honoured Retry-After.")
    temperature: float | None = Field(default=0.0, ge=0, le=2)
    max_article_chars: int = Field(
        default=1_000_000, ge=1_000, description="Longer articles are refused with a clear error."
    )
    chunk_chars: int = Field(
        default=12_000, ge=500, description="Longer articles are extracted in overlapping chunks of this size."
    )
    chunk_overlap: int = Field(default=600, ge=0, description="Characters shared by consecutive chunks.")
    fuzzy_threshold: float = Field(
        default=0.8, gt=0, le=1, description="Minimum similarity for a fuzzy evidence match (grounding.locate)."
    )
    keep_ungrounded: bool = Field(
        default=False, description="Keep records whose evidence is not in the article (flagged 'ungrounded')."
    )
    min_confidence: float | None = Field(
        default=None, ge=0, le=1, description="Records with a lower confidence go to rejected (None: keep, flagged)."
    )
    concurrency: int = Field(
        default=8,
        ge=1,
        le=1024,
        description="Articles in flight at once (a long article's chunks run together), and the most model calls "
        "in flight (see adaptive_concurrency).",
    )
    prices_file: Path | None = Field(default=None, description="JSON price table overriding the defaults.")

    def __init__(self, **values: object) -> None:
        """Build settings; a value that does not fit is a `ConfigError` listing every problem."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {_problems(exc)}") from None

    @model_validator(mode="after")
    def _check(self) -> ExtractorSettings:
        if self.chunk_overlap >= self.chunk_chars // 2:
            raise ValueError("chunk_overlap must be less than half of chunk_chars")
        return self

    @property
    def resolved_mode(self) -> Mode:
        if self.mode is not None:
            return self.mode
        return "live" if self.api_key is not None else "replay"

    @classmethod
    def resolve(
        cls,
        overrides: Mapping[str, object] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        base: ExtractorSettings | None = None,
    ) -> ExtractorSettings:
        """Settings from `base` (or defaults), the environment, then `overrides` (None = unset).

        Raises `ConfigError` with every problem listed, never a raw pydantic error.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = base.model_dump(exclude_unset=True) if base else {}
        if "api_key" not in values and env.get("OPENAI_API_KEY"):
            values["api_key"] = env["OPENAI_API_KEY"]
        if "base_url" not in values and env.get("OPENAI_BASE_URL"):
            values["base_url"] = env["OPENAI_BASE_URL"]
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        key = values.get("api_key")
        if isinstance(key, SecretStr):
            values["api_key"] = key.get_secret_value()
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {_problems(exc)}") from None
        if settings.mode in ("record", "live") and settings.api_key is None and settings.base_url is None:
            raise ConfigError(
                f"invalid settings: mode {settings.mode!r} makes real model calls: set OPENAI_API_KEY "
                "(or --base-url for a local OpenAI-compatible server)"
            )
        return settings


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors(include_url=False, include_input=False)
    )
