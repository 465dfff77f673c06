"""Token prices: tokens → an estimated cost in US dollars, per article and per run.

The default table holds list prices per million tokens (input, cached input, output) of
common OpenAI models as published when this table was written; prices change, so check
yours and override them with a JSON file (`--prices FILE`, `ExtractorSettings.prices_file`):

```json
{"gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
 "llama3.1": {"input": 0, "output": 0}}
```

A model is matched by its exact name, else by the longest table entry its name starts with
(`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`). An unknown model has no price (`None`), never a
guessed one. The OpenAI Batch API bills half these prices.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llm_extract.core.results import Usage
from llm_extract.errors import ConfigError

__all__ = ["DEFAULT_PRICES", "Price", "PriceTable"]


class Price(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0, description="Defaults to the input price.")

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        dollars = (usage.input_tokens - cached) * self.input + cached * cached_price + usage.output_tokens * self.output
        return dollars / 1_000_000


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(input=0.15, cached_input=0.075, output=0.60),
    "gpt-4o": Price(input=2.50, cached_input=1.25, output=10.00),
    "gpt-4.1": Price(input=2.00, cached_input=0.50, output=8.00),
    "gpt-4.1-mini": Price(input=0.40, cached_input=0.10, output=1.60),
    "gpt-4.1-nano": Price(input=0.10, cached_input=0.025, output=0.40),
    "o4-mini": Price(input=1.10, cached_input=0.275, output=4.40),
    "gpt-5": Price(input=1.25, cached_input=0.125, output=10.00),
    "gpt-5-mini": Price(input=0.25, cached_input=0.025, output=2.00),
    "gpt-5-nano": Price(input=0.05, cached_input=0.005, output=0.40),
}


class PriceTable:
    """Prices by model name, with longest-prefix matching."""

    def __init__(self, prices: dict[str, Price] | None = None) -> None:
        self._prices = dict(DEFAULT_PRICES if prices is None else prices)

    @classmethod
    def load(cls, path: Path | None) -> PriceTable:
        """The default table, updated by the entries of a JSON file when one is given."""
        table = dict(DEFAULT_PRICES)
        if path is None:
            return cls(table)
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("the file must hold a JSON object of model → prices")
            table.update({name: Price.model_validate(value) for name, value in raw.items()})
        except (OSError, ValueError, ValidationError) as exc:
            raise ConfigError(f"{path}: not a usable price table: {exc}") from exc
        return cls(table)

    def price(self, model: str) -> Price | None:
        if model in self._prices:
            return self._prices[model]
        matches = [name for name in self._prices if model.startswith(name)]
        return self._prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, usage: Usage) -> float | None:
        """Estimated cost in USD, or None when the model has no price."""
        price = self.price(model)
        return round(price.cost(usage), 8) if price is not None else None
