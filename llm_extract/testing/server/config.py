"""The server's settings (`ServerConfig`, what `llm-extract serve` takes) and `is_loopback`."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from pathlib import Path

from llm_extract.errors import ConfigError
from llm_extract.testing.server.faults import FaultPlan

__all__ = ["BATCH_SETTINGS", "ServerConfig", "is_loopback"]

#: The batch settings `POST /_reset` (and `ServerHandle.reset(batch=...)`) may change.
BATCH_SETTINGS: tuple[str, ...] = ("batch_delay_s", "batch_fail_rate", "batch_schema_rate", "batch_expire")


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
    - `slots`: at most this many chat requests processed at once, the others queued in arrival
      order (like `llama-server -np N`; None: no limit; CLI `--slots`);
    - `rate_limit_after`, `rate_limit_count`: chat requests number `rate_limit_after + 1` ...
      `rate_limit_after + rate_limit_count` (all of them from there when the count is None) are
      answered 429 (with `Retry-After: retry_after_s`), whatever the fault plan: a server
      that starts rate-limiting (CLI `--429-after K`, `--429-for M`);
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
    slots: int | None = None
    rate_limit_after: int | None = None
    rate_limit_count: int | None = None

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
        for name in ("slots", "rate_limit_count"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be >= 1 (or None), got {value!r}")
        if self.rate_limit_after is not None and self.rate_limit_after < 0:
            raise ConfigError(f"rate_limit_after must be >= 0 (or None), got {self.rate_limit_after!r}")
        if self.graceful_shutdown_s < 0:
            raise ConfigError(f"graceful_shutdown_s must be >= 0, got {self.graceful_shutdown_s!r}")
        if self.log_level.lower() not in ("critical", "error", "warning", "info", "debug", "trace"):
            raise ConfigError(f"unknown log level {self.log_level!r}")
        FaultPlan.parse(self.faults)  # raises ConfigError for a bad spec

    @property
    def fault_plan(self) -> FaultPlan:
        return FaultPlan.parse(self.faults)
