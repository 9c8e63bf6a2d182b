"""Callback-data factories (prefix + typed fields, ≤ 64 bytes packed)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageCallback(CallbackData, prefix="lang"):
    code: str


class BuyCallback(CallbackData, prefix="buy"):
    kind: str  # "package" | "plan"
    code: str


class HistoryCallback(CallbackData, prefix="hist"):
    page: int


class CreditsMenuCallback(CallbackData, prefix="cmenu"):
    action: str  # "buy" | "invite"


class AskCallback(CallbackData, prefix="ask"):
    """A question asked by tapping an example or a "did you mean" button."""

    q: str


class MarketCallback(CallbackData, prefix="mkt"):
    """A "did you mean" button of /price or /chart: run the command for the suggested coin."""

    action: str  # "price" | "chart"
    coin: str
    timeframe: str = ""
