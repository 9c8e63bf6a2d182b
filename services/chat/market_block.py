"""The market data handed to the model: numbers from the analysis, as `key: value` lines.

Every number goes through `services.format`, the formatter of every answer the user sees, so the
model quotes exactly what /price and /chart show. The block is English for the model whatever the
user's language (amounts in the English unit style, funding per 8h, "—" for a missing value).
"""

from __future__ import annotations

from services import format as fmt
from services.market import MarketView


def _prices(values: list[float]) -> str:
    return ", ".join(fmt.format_price(value) for value in values[:3]) or "none found"


def describe(view: MarketView) -> str:
    a = view.analysis
    ind = a.indicators
    momentum = a.momentum
    ago = f" {momentum.macd_cross_bars_ago} candles ago" if momentum.macd_cross_bars_ago is not None else ""
    cross = f"{momentum.macd_cross or 'none'}{ago}"
    squeeze = ", bollinger squeeze" if a.volatility.bb_squeeze else ""
    lines = [
        f"symbol: {view.resolved.base}/{view.resolved.quote}",
        f"exchange: {fmt.exchange_name(view.exchange)}",
        f"timeframe: {view.timeframe}",
        f"as_of_utc: {view.as_of.strftime('%Y-%m-%d %H:%M')}",
        f"price: {fmt.format_price(view.ticker.price)}",
        f"change_24h: {fmt.format_pct(view.ticker.change_24h_pct)}",
        f"volume_24h_usdt: {fmt.format_compact(view.ticker.volume_24h)}",
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
        f"trend: {a.trend.direction} ({a.trend.label}, score {a.trend.score:+.2f})",
        f"momentum: rsi {momentum.rsi_state}; macd cross {cross}; divergence {momentum.divergence or 'none'}",
        f"volatility: {a.volatility.regime} (ATR percentile {fmt.format_number(a.volatility.percentile, 0)}{squeeze})",
        f"support: {_prices([level.price for level in a.levels.key_support])}",  # the chart's levels
        f"resistance: {_prices([level.price for level in a.levels.key_resistance])}",
    ]
    d = a.derivatives
    if d is not None:
        extreme = ", extreme" if d.funding_extreme else ""
        lines.append(
            f"perp_funding_rate: {fmt.format_funding(d.funding_8h)} per 8h ({d.funding_bias or fmt.MISSING}{extreme})"
        )
        lines.append(f"open_interest_usdt: {fmt.format_compact(d.open_interest_value)}")
    return "\n".join(lines)


def market_block(views: list[MarketView]) -> str:
    return "\n\n".join(describe(view) for view in views)
