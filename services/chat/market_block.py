"""The market data handed to the model: numbers from the analysis, as `key: value` lines.

Every number goes through `services.format`, the formatter of every answer the user sees, so the
model quotes exactly what /price and /chart show. The block is English for the model whatever the
user's language (funding per 8h, "—" for a missing value); amounts are in the English unit style,
followed by the answer language's when it differs ("2.29B (22.87亿)"): one unit style per language.
"""

from __future__ import annotations

from services import format as fmt
from services.market import MarketView
from services.market.analysis import trend_key

# A side without a level, in words (no digits: readers of the block take digits for levels).
_NO_SUPPORT = "none below: the price is at the low of the lookback"
_NO_RESISTANCE = "none above: the price is at the high of the lookback"
# After the trend's key (up, down, range, range-up, range-down), what it means in words.
_TRENDS = {
    "up": "",
    "down": "",
    "range": ": sideways, the price is between EMA20 and EMA50",
    "range-up": ": no sustained trend yet, the price is pushing up above EMA20 and EMA50",
    "range-down": ": no sustained trend yet, the price is pressing down below EMA20 and EMA50",
}


def _prices(values: list[float], none: str) -> str:
    return ", ".join(fmt.format_price(value) for value in values[:3]) or none


def _candles_ago(bars: int) -> str:
    return "on the latest candle" if bars == 0 else f"{bars} candle ago" if bars == 1 else f"{bars} candles ago"


def _amount(value: float | None, locale: str) -> str:
    """An amount in the English unit style, and in the answer's own after it when that differs
    ("456.7M (4.57亿)"), so a Chinese answer can quote amounts the way Chinese texts write them."""
    english = fmt.format_compact(value)
    own = fmt.format_compact(value, locale)
    return english if own == english else f"{english} ({own})"


def describe(view: MarketView, locale: str = "en") -> str:
    a = view.analysis
    ind = a.indicators
    momentum = a.momentum
    ago = f" {_candles_ago(momentum.macd_cross_bars_ago)}" if momentum.macd_cross_bars_ago is not None else ""
    cross = f"{momentum.macd_cross or 'none'}{ago}"
    squeeze = ", bollinger squeeze" if a.volatility.bb_squeeze else ""
    lines = [
        f"symbol: {view.resolved.base}/{view.resolved.quote}",
        f"exchange: {fmt.exchange_name(view.exchange)}",
        f"timeframe: {view.timeframe}",
        f"as_of_utc: {view.as_of.strftime('%Y-%m-%d %H:%M')}",
        f"price: {fmt.format_price(view.ticker.price)}",
        f"change_24h: {fmt.format_pct(view.ticker.change_24h_pct)}",
        f"volume_24h_usdt: {_amount(view.ticker.volume_24h, locale)}",
        f"ema20: {fmt.format_price(ind.ema20)}",
        f"ema50: {fmt.format_price(ind.ema50)}",
        f"ema200: {fmt.format_price(ind.ema200)}",
        f"macd: {fmt.format_price(ind.macd)} signal: {fmt.format_price(ind.macd_signal)}"
        f" histogram: {fmt.format_price(ind.macd_hist)}",
        f"rsi7: {fmt.format_number(ind.rsi7)}",
        f"rsi14: {fmt.format_number(ind.rsi14)}",
        f"atr14: {fmt.format_price(ind.atr)} ({fmt.format_share(ind.atr_pct)} of price)",
        f"bollinger_20_2: lower {fmt.format_price(ind.bb_lower)} mid {fmt.format_price(ind.bb_middle)}"
        f" upper {fmt.format_price(ind.bb_upper)}",
        f"volume_vs_20_mean: {fmt.format_number(ind.volume_ratio, 2)}x ({a.volume.state})",
        f"trend: {trend_key(a.trend)} ({a.trend.label}, score {a.trend.score:+.2f}){_TRENDS[trend_key(a.trend)]}",
        f"momentum: rsi {momentum.rsi_state}; macd cross {cross}; divergence {momentum.divergence or 'none'}",
        f"volatility: {a.volatility.regime} (ATR percentile {fmt.format_number(a.volatility.percentile, 0)}{squeeze})",
        f"support: {_prices([lv.price for lv in a.levels.key_support], _NO_SUPPORT)}",  # the chart's levels
        f"resistance: {_prices([lv.price for lv in a.levels.key_resistance], _NO_RESISTANCE)}",
    ]
    d = a.derivatives
    if d is not None:
        extreme = ", extreme" if d.funding_extreme else ""
        lines.append(
            f"perp_funding_rate: {fmt.format_funding(d.funding_8h)} per 8h ({d.funding_bias or fmt.MISSING}{extreme})"
        )
        lines.append(f"open_interest_usdt: {_amount(d.open_interest_value, locale)}")
    return "\n".join(lines)


def market_block(views: list[MarketView], horizon: str | None = None, locale: str = "en") -> str:
    """The block of every view; `horizon` (a `Horizon.note`) first when the question names one;
    amounts also in the unit style of the answer's language (`locale`)."""
    block = "\n\n".join(describe(view, locale) for view in views)
    return f"question_horizon: {horizon}\n\n{block}" if horizon else block
