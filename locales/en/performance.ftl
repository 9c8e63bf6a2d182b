# Track record: /performance, the weekly digest, /digest
cmd-performance = Track record of the signals

performance-title = 📊 <b>Signal track record</b> — { $scope }
performance-all-coins = all coins
performance-all-timeframes = all timeframes
performance-period-30d = last 30 days
performance-period-90d = last 90 days
performance-period-all = all time
performance-none = No signal has closed in this selection yet.
performance-strategy = <b>{ $strategy } v{ $version }</b>: { $signals ->
    [one] 1 closed signal
   *[other] { $signals } closed signals
} ({ $wins } won, { $losses } lost)
performance-unfilled = { $count } limit entries were never reached: no trade, left out of the figures.
performance-too-few = Only { $trades } graded trades: too few for the figures to mean anything (at least { $needed } are needed).
performance-undefined = n/a
performance-win-rate = Win rate: { $value } (n={ $n })
performance-average-r = Average result: { $value } R (n={ $n })
performance-profit-factor = Profit factor: { $value } (n={ $n })
performance-expectancy = Expectancy: { $value }% per signal (n={ $n })
performance-max-drawdown = Max drawdown: { $value } R (n={ $n })
performance-sharpe = Sharpe, per signal, not annualised: { $value } (n={ $n })
performance-sortino = Sortino, per signal, not annualised: { $value } (n={ $n })
performance-kelly = Kelly fraction: { $value } (n={ $n })
performance-footer = <i>After fees and slippage, from every closed signal; each figure can be recomputed from the stored signals. Past results, not a forecast.</i>
performance-usage =
    Usage: <code>/performance [coin] [timeframe] [30d|90d|all]</code>
    Example: <code>/performance btc 4h 90d</code>

digest-title = 🗓 <b>Weekly signal digest</b> — { $coins }
digest-week = { $count ->
    [one] 1 signal closed this week.
   *[other] { $count } signals closed this week.
}
digest-period = Track record over the last 90 days:
digest-usage =
    Usage: <code>/digest on</code> or <code>/digest off</code> — a weekly track record of this chat's signal feed.
    For a channel you linked, from this private chat: <code>/digest on Channel title</code>.
digest-on = 🗓 Weekly digest on: every Monday this chat gets the track record of its signal feed's coins.
digest-off = Weekly digest off.
digest-no-feed = This chat has no signal feed yet: subscribe first, e.g. <code>/subscribe BTC 4h</code>.
