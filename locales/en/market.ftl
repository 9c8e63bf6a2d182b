# /price and /chart (issue 3)

market-usage-price =
    💹 <b>Quick price</b>: /price <code>coin</code>

    Examples: <code>/price BTC</code> · <code>/price eth</code> · <code>/price SOLUSDT</code>
market-usage-chart =
    📈 <b>Chart</b>: /chart <code>coin</code> [<code>timeframe</code>]

    Examples: <code>/chart BTC</code> · <code>/chart ETH 4h</code> · <code>/chart SOL 1d</code>
    Timeframes: { $timeframes } (default { $default }).

# Funding is always stated per 8 hours (services/format.py normalises every rate to it).
-funding-period = per 8h

# /price
price-header = 💹 <b>{ $pair }</b> · { $exchange }
price-last = Price: <b>{ $price }</b> { $quote }
price-change = 24h: { $change } · high { $high } · low { $low }
price-change-short = 24h: { $change }
price-volume = 24h volume: { $volume } { $quote }
price-funding = Funding: { $rate } { -funding-period } · next in { $next } ({ $time })
price-funding-short = Funding: { $rate } { -funding-period }
price-funding-unavailable = Funding: not available right now.
price-spot-only = <i>Spot only: no perpetual contract, so no funding rate.</i>
price-open-interest = Open interest: { $value } { $quote }
price-updated = <i>Updated { $time }</i>

# /chart caption
chart-caption-header = 📈 <b>{ $pair }</b> · { $timeframe } · { $exchange }
chart-caption-price = Price <b>{ $price }</b> · 24h { $change }
chart-caption-price-only = Price <b>{ $price }</b>
chart-caption-trend = Trend: { $trend } ({ $strength }) · RSI { $rsi }
chart-caption-trend-only = Trend: { $trend } · RSI { $rsi }
chart-caption-levels = Support { $support } · Resistance { $resistance }
chart-caption-levels-at-high = Support { $support } · no resistance above (at the high)
chart-caption-levels-at-low = No support below (at the low) · Resistance { $resistance }
chart-caption-funding = Funding { $rate } { -funding-period }
chart-caption-note = <i>Last candle { $time } · not financial advice</i>
trend-up = ↗ up
trend-down = ↘ down
trend-range = ↔ sideways
trend-range-up = ↗ no trend yet, pushing up
trend-range-down = ↘ no trend yet, pressing down
strength-weak = weak
strength-moderate = moderate
strength-strong = strong
rsi-overbought = overbought
rsi-oversold = oversold
rsi-value-state = { $value }, { $state }

# When something is off
market-unknown-coin = 🤔 I can't find <b>{ $coin }</b> on { $exchanges }.
market-did-you-mean = Did you mean { $suggestions }? Tap below.
market-coin-hint = Send a ticker such as <code>BTC</code>, <code>ETH</code> or <code>SOL</code>.
market-bad-timeframe =
    ⏱ <b>{ $timeframe }</b> is not a timeframe I support.
    Use one of: { $supported } — e.g. <code>{ $example }</code>
market-not-enough-data = 📉 <b>{ $pair }</b> doesn't have enough { $timeframe } history for an analysis yet (a new listing?). Try a shorter timeframe.
market-exchange-down = ⚠️ I can't reach the exchange right now ({ $exchanges }). Please try again in a minute.
market-exchange-down-wait = ⚠️ I can't reach the exchange right now ({ $exchanges }). Please try again in { $wait }.
