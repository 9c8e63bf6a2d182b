"""The market data handed to the model: numbers from the analysis, as `key: value` lines."""

from __future__ import annotations

from services.chat import numbers as n
from services.market import MarketView


def describe(view: MarketView) -> str:
    a = view.analysis
    ind = a.indicators
    lines = [
        f"symbol: {view.resolved.base}/{view.resolved.quote}",
        f"exchange: {view.exchange}",
        f"timeframe: {view.timeframe}",
        f"as_of_utc: {view.as_of.strftime('%Y-%m-%d %H:%M')}",
        f"price: {n.price(view.ticker.price)}",
        f"change_24h: {n.pct(view.ticker.change_24h_pct)}",
        f"volume_24h_usdt: {n.compact(view.ticker.volume_24h)}",
        f"ema20: {n.price(ind.ema20)}",
        f"ema50: {n.price(ind.ema50)}",
        f"ema200: {n.price(ind.ema200) if ind.ema200 is not None else 'n/a'}",
        f"macd: {n.price(ind.macd)} signal: {n.price(ind.macd_signal)} histogram: {n.price(ind.macd_hist)}",
        f"rsi7: {n.number(ind.rsi7)}",
        f"rsi14: {n.number(ind.rsi14)}",
        f"atr14: {n.price(ind.atr)} ({n.pct(ind.atr_pct, signed=False)} of price)",
        f"bollinger_20_2: lower {n.price(ind.bb_lower)} mid {n.price(ind.bb_middle)} upper {n.price(ind.bb_upper)}",
        f"volume_vs_20_mean: {n.number(ind.volume_ratio, 2)}x ({a.volume.state})",
        f"trend: {a.trend.direction} ({a.trend.label}, score {a.trend.score:+.2f})",
        f"momentum: rsi {a.momentum.rsi_state}; macd cross {a.momentum.macd_cross or 'none'}"
        + (f" {a.momentum.macd_cross_bars_ago} candles ago" if a.momentum.macd_cross_bars_ago is not None else "")
        + f"; divergence {a.momentum.divergence or 'none'}",
        f"volatility: {a.volatility.regime} (ATR percentile {n.number(a.volatility.percentile, 0)}"
        + (", bollinger squeeze" if a.volatility.bb_squeeze else "")
        + ")",
        "support: " + (", ".join(n.price(level.price) for level in a.levels.support[:3]) or "none found"),
        "resistance: " + (", ".join(n.price(level.price) for level in a.levels.resistance[:3]) or "none found"),
    ]
    d = a.derivatives
    if d is not None:
        lines.append(
            f"perp_funding_rate: {n.pct(d.funding_rate * 100 if d.funding_rate is not None else None, 4)}"
            f" per interval ({d.funding_bias or 'n/a'}{', extreme' if d.funding_extreme else ''})"
        )
        lines.append(f"open_interest_usdt: {n.compact(d.open_interest_value)}")
    return "\n".join(lines)


def market_block(views: list[MarketView]) -> str:
    return "\n\n".join(describe(view) for view in views)
