"""The stand-ins of demo mode (`make demo`): the product with no internet and no keys.

    async with demo_servers() as servers:   # a local Bybit and a local model on 127.0.0.1
        settings = ...(exchange_api_urls=servers.exchange_api_urls, openai_base_url=servers.openai_base_url, ...)

- The exchange serves seeded, generated markets (the default coins) whose clock follows real time,
  so candles keep forming as on a live exchange; the numbers are not real prices.
- The model is the OpenAI-compatible stand-in answering with `demo_analysis`: an analysis written
  from the `<market_data>` block it is sent (verdict, trend and momentum, levels, two scenarios, a
  risk note), in the language the system prompt asks for, streamed in pieces like a real model.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from standins.exchanges import FakeBybit, FakeClock, default_specs
from standins.openai_server import FakeOpenAI

__all__ = ["DEMO_API_KEY", "DEMO_MODEL", "DemoServers", "demo_analysis", "demo_servers"]

DEMO_API_KEY = "sk-demo-local"
DEMO_MODEL = "demo-analyst"
DEMO_CHUNKS = 8
FUTURE_CANDLES = 5_000  # a demo can run for days of 1m candles before the generated series ends

_BLOCK = re.compile(r"<(market_data|user_message)>\s*(.*?)\s*</\1>", re.DOTALL)
_NUMBER = re.compile(r"-?[\d,]*\.?\d+")


@dataclass(frozen=True)
class DemoServers:
    exchange_api_urls: dict[str, str]
    openai_base_url: str
    openai_api_key: str
    model: str
    exchange: FakeBybit
    llm: FakeOpenAI


@asynccontextmanager
async def demo_servers(*, chunks: int = DEMO_CHUNKS) -> AsyncIterator[DemoServers]:
    """Start the local exchange and model; both stop on exit."""
    exchange = FakeBybit(default_specs(), clock=FakeClock(frozen=False), future_candles=FUTURE_CANDLES)
    llm = FakeOpenAI(api_key=DEMO_API_KEY, responder=demo_analysis, chunks=chunks)
    await exchange.start()
    try:
        await llm.start()
        try:
            yield DemoServers(
                exchange_api_urls={"bybit": exchange.url},
                openai_base_url=llm.base_url,
                openai_api_key=DEMO_API_KEY,
                model=DEMO_MODEL,
                exchange=exchange,
                llm=llm,
            )
        finally:
            await llm.close()
    finally:
        await exchange.close()


TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "## {symbol} · {timeframe} — demo analysis",
        "verdict": "**Verdict:** {strength} {trend} on {timeframe}; price **{price}** ({change} in 24h).",
        "trend_head": "**Trend and momentum**",
        "emas": "- Price {position} EMA20 **{ema20}** and EMA50 **{ema50}**{side}.",
        "above": "above",
        "below": "below",
        "side_above": "",
        "side_below": "",
        "momentum": "- RSI14 {rsi14} ({rsi}); MACD histogram {hist}{cross}.",
        "cross": "; a {kind} MACD cross",
        "levels_head": "**Key levels**",
        "support": "- Support: {levels}",
        "resistance": "- Resistance: {levels}",
        "none": "none found",
        "scenarios_head": "**Scenarios**",
        "bull": "- Bullish: a close above **{up}** opens the way to **{target_up}**; invalid below **{down}**.",
        "bear": "- Bearish: a close below **{down}** opens the way to **{target_down}**; invalid above **{up}**.",
        "risk": "_Demo: generated market data, analysed by a local stand-in model. Not financial advice; "
        "crypto is volatile — use a stop._",
        "no_data": "In this demo I analyse coins with generated market data: try “BTC 4h” or “ETH vs SOL”.",
    },
    "zh": {
        "title": "## {symbol} · {timeframe} —— 演示分析",
        "verdict": "**结论：** {timeframe} 级别{strength}{trend}；价格 **{price}**（24小时 {change}）。",
        "trend_head": "**趋势与动能**",
        "emas": "- 价格{position} EMA20 **{ema20}** 和 EMA50 **{ema50}** {side}。",
        "above": "位于",
        "below": "位于",
        "side_above": "上方",
        "side_below": "下方",
        "momentum": "- RSI14 {rsi14}（{rsi}）；MACD 柱 {hist}{cross}。",
        "cross": "；MACD 出现{kind}交叉",
        "levels_head": "**关键价位**",
        "support": "- 支撑：{levels}",
        "resistance": "- 阻力：{levels}",
        "none": "未找到",
        "scenarios_head": "**情景**",
        "bull": "- 看涨：收盘站上 **{up}** 后可看向 **{target_up}**；跌破 **{down}** 则失效。",
        "bear": "- 看跌：收盘跌破 **{down}** 后可看向 **{target_down}**；站上 **{up}** 则失效。",
        "risk": "_演示：生成的行情数据，由本地替身模型分析。不构成投资建议；加密货币波动大，请设置止损。_",
        "no_data": "演示模式下我用生成的行情数据分析币种：试试“BTC 4h”或“ETH 对比 SOL”。",
    },
}


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "up": "uptrend",
        "down": "downtrend",
        "range": "sideways range",
        "range-up": "range leaning up",
        "range-down": "range leaning down",
        "weak": "weak",
        "moderate": "moderate",
        "strong": "strong",
        "overbought": "overbought",
        "oversold": "oversold",
        "neutral": "neutral",
        "bullish": "bullish",
        "bearish": "bearish",
    },
    "zh": {
        "up": "上升趋势",
        "down": "下降趋势",
        "range": "横盘震荡",
        "range-up": "震荡偏强",
        "range-down": "震荡偏弱",
        "weak": "弱",
        "moderate": "中等",
        "strong": "强",
        "overbought": "超买",
        "oversold": "超卖",
        "neutral": "中性",
        "bullish": "看涨",
        "bearish": "看跌",
    },
}


def _language(body: dict[str, Any]) -> str:
    """The language the system prompt asks for ("Answer in …")."""
    for message in body.get("messages") or []:
        if message.get("role") == "system":
            match = re.search(r"Answer in ([^.\n]+)", str(message.get("content", "")))
            if match and "Chinese" in match.group(1):
                return "zh"
    return "en"


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _number(text: str) -> float | None:
    match = _NUMBER.search(text)
    return float(match.group().replace(",", "")) if match else None


def _levels(text: str) -> list[str]:
    """ "59,075.4, 58,511.9" → ["59,075.4", "58,511.9"] (thousands separators have no space)."""
    return [part.strip() for part in re.split(r",\s+", text) if _number(part) is not None]


def _price(value: float) -> str:
    digits = 2 if abs(value) >= 1 else 6
    return f"{value:,.{digits}f}"


def _analysis(fields: dict[str, str], texts: dict[str, str], words: dict[str, str]) -> str:
    price = _number(fields.get("price", "")) or 0.0
    atr = _number(fields.get("atr14", "")) or price * 0.02
    support, resistance = _levels(fields.get("support", "")), _levels(fields.get("resistance", ""))
    up = resistance[0] if resistance else _price(price + atr)
    down = support[0] if support else _price(price - atr)
    macd = fields.get("macd", "")
    hist = macd.rpartition("histogram:")[2].strip() or "n/a"
    ema50 = _number(fields.get("ema50", "")) or price
    trend = fields.get("trend", "").replace("(", " ").replace(",", " ").split()
    momentum = fields.get("momentum", "")
    rsi = re.search(r"rsi (\w+)", momentum)
    cross = re.search(r"macd cross (bullish|bearish)", momentum)
    lines = [
        texts["title"].format(symbol=fields.get("symbol", "?"), timeframe=fields.get("timeframe", "")),
        "",
        texts["verdict"].format(
            strength=words.get(trend[1], "") if len(trend) > 1 else "",
            trend=words.get(trend[0], trend[0]) if trend else "n/a",
            timeframe=fields.get("timeframe", ""),
            price=fields.get("price", "n/a"),
            change=fields.get("change_24h", "n/a"),
        ),
        "",
        texts["trend_head"],
        texts["emas"].format(
            position=texts["above"] if price >= ema50 else texts["below"],
            side=texts["side_above"] if price >= ema50 else texts["side_below"],
            ema20=fields.get("ema20", "n/a"),
            ema50=fields.get("ema50", "n/a"),
        ),
        texts["momentum"].format(
            rsi14=fields.get("rsi14", "n/a"),
            rsi=words.get(rsi.group(1), rsi.group(1)) if rsi else "n/a",
            hist=hist,
            cross=texts["cross"].format(kind=words[cross.group(1)]) if cross else "",
        ),
        "",
        texts["levels_head"],
        texts["support"].format(levels=", ".join(f"**{level}**" for level in support) or texts["none"]),
        texts["resistance"].format(levels=", ".join(f"**{level}**" for level in resistance) or texts["none"]),
        "",
        texts["scenarios_head"],
        texts["bull"].format(
            up=up, down=down, target_up=resistance[1] if len(resistance) > 1 else _price(price + 3 * atr)
        ),
        texts["bear"].format(
            up=up, down=down, target_down=support[1] if len(support) > 1 else _price(max(price - 3 * atr, 0.0))
        ),
    ]
    return "\n".join(lines)


def demo_analysis(body: dict[str, Any]) -> str:
    """The demo model's Markdown answer, written from the market data of the last user message."""
    language = _language(body)
    texts, words = TEXTS[language], WORDS[language]
    messages = body.get("messages") or []
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    blocks = dict(_BLOCK.findall(str(last.get("content", ""))))
    data = blocks.get("market_data", "")
    views = [_fields(part) for part in re.split(r"\n\s*\n", data) if "symbol:" in part]
    if not views:
        return texts["no_data"]
    return "\n\n".join([*(_analysis(fields, texts, words) for fields in views), texts["risk"]])
