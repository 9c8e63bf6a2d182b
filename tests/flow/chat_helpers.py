"""Shared pieces of the chat-analyst flow tests."""

from __future__ import annotations

from typing import Any

from services.format import format_number, format_price
from services.market import MarketService, MarketView
from standins.openai_server import echo_answer
from standins.telegram import FakeMessage, FakeTelegramServer, FakeUser
from tests.harness import RunningBot


def language_aware_answer(body: dict[str, Any]) -> str:
    """The fake model answers in the language the system prompt asks for, echoing the data it saw."""
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    heading = "## 行情分析" if "Simplified Chinese" in system else "## Market analysis"
    return heading + "\n\n" + echo_answer(body)


async def expected_view(exchange_url: str, coin: str, timeframe: str) -> MarketView:
    """The same market view computed independently (real ccxt against the same fake exchange)."""
    async with MarketService(["bybit"], api_urls={"bybit": exchange_url}) as market:
        return await market.snapshot(coin, timeframe)


def key_numbers(view: MarketView) -> dict[str, str]:
    ind = view.analysis.indicators
    return {
        "price": format_price(view.ticker.price),
        "rsi14": format_number(ind.rsi14),
        "ema20": format_price(ind.ema20),
        "ema50": format_price(ind.ema50),
    }


async def ask(
    app: RunningBot, tg: FakeTelegramServer, user: FakeUser, text: str, timeout: float = 20
) -> list[FakeMessage]:
    """Send a question and wait until the bot is idle again; returns the new bot messages."""
    before = len(tg.bot_messages(user))
    await tg.send_message(user, text)
    await tg.wait_until(
        lambda: len(tg.bot_messages(user)) > before and app.resources.inflight.count == 0,
        timeout=timeout,
        what=f"an answer to {text[:30]!r}",
    )
    return tg.bot_messages(user)[before:]
