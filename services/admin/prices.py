"""LLM prices (LLM_PRICES: `model=in/out`, USD per 1M tokens) for the estimated cost in /stats."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens."""

    prompt: float
    completion: float


def parse_llm_prices(text: str) -> dict[str, ModelPrice]:
    """`gpt-4o-mini=0.15/0.6,deepseek-chat=0.27/1.1` → prices by model. ValueError when malformed."""
    prices: dict[str, ModelPrice] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        model, sep, pair = item.partition("=")
        prompt, slash, completion = pair.partition("/")
        if not sep or not slash or not model.strip():
            raise ValueError("expected model=input/output USD per 1M tokens, e.g. gpt-4o-mini=0.15/0.6")
        try:
            price = ModelPrice(float(prompt), float(completion))
        except ValueError:
            raise ValueError(f"not a price: {pair!r} (e.g. 0.15/0.6)") from None
        if not (0 <= price.prompt < 1e6 and 0 <= price.completion < 1e6):
            raise ValueError(f"prices are 0 or more USD per 1M tokens, got {pair!r}")
        prices[model.strip()] = price
    return prices
