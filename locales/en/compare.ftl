# Comparisons ("compare BTC and ETH", "BTC vs ETH"): the rule-based answer, the data table and the chart caption.
compare-title = **{ $pairs } · { $timeframe }** — side by side on { $exchange }
compare-row-price = Price
compare-row-change-24h = 24h
compare-row-change-window = { $candles } candles
compare-row-trend = Trend
compare-row-rsi = RSI14
compare-row-atr = ATR
compare-row-funding = Funding 8h
compare-row-support = To support
compare-row-resistance = To resistance
compare-trend-up = up
compare-trend-down = down
compare-trend-range = range
compare-ratio-up = trending up ({ $strength }): { $stronger } is gaining on { $weaker }
compare-ratio-down = trending down ({ $strength }): { $stronger } is gaining on { $weaker }
compare-ratio-range = moving sideways: neither coin is gaining on the other
compare-ratio-unknown = too short a history to read its trend
compare-relative = **Relative strength:** the { $ratio } ratio went from { $start } to { $end } ({ $change }) over the last { $candles } candles; lately it is { $trend }.
compare-correlation-high = **Correlation:** { $value } over { $candles } candles — they move closely together, so holding both adds little diversification.
compare-correlation-moderate = **Correlation:** { $value } over { $candles } candles — they often move together, with their own swings.
compare-correlation-low = **Correlation:** { $value } over { $candles } candles — they move mostly independently.
compare-correlation-negative = **Correlation:** { $value } over { $candles } candles — they tend to move in opposite directions.
compare-correlation-unknown = **Correlation:** not enough shared candles to measure it.
compare-verdict-leader = ⚖️ **Verdict:** { $stronger } is the stronger of the two on the { $timeframe } — { $stronger_change } vs { $weaker_change } over the window. Favour { $stronger } for longs and { $weaker } for shorts while the { $ratio } ratio keeps this direction.
compare-verdict-earlier = ⚖️ **Verdict:** { $stronger } was the stronger of the two over the window on the { $timeframe } — { $stronger_change } vs { $weaker_change } — but the { $ratio } ratio has gone sideways lately: no relative-strength edge right now; trade each on its own levels.
compare-verdict-none = ⚖️ **Verdict:** no clear leader on the { $timeframe } — { $first } { $first_change } vs { $second } { $second_change } over the window; trade each on its own levels.
compare-caption-title = 📊 <b>{ $pairs }</b> · { $timeframe } · { $exchange }
compare-caption-changes = Rebased to 100 over { $candles } candles: { $changes }
compare-caption-correlation = Correlation { $value } · { $ratio } ratio { $change }
compare-caption-note = <i>Last candle { $time } · not financial advice</i>
compare-verdict-many = ⚖️ **Verdict:** { $stronger } is the strongest of the three on the { $timeframe } ({ $changes } over the window){ $weakest ->
        [yes] , { $weaker } the weakest.
       *[no] .
    }
compare-verdict-none-many = ⚖️ **Verdict:** no clear leader among { $coins } on the { $timeframe } ({ $changes } over the window); trade each on its own levels.
