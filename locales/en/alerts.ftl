# Price alerts and market-risk pushes (issue 11)

cmd-alert = Price alert: /alert BTC above 70000
cmd-alerts = Your price alerts

alert-usage =
    🔔 <b>Price alerts</b>
    <code>/alert BTC &gt; 70000</code> — when BTC rises above 70,000
    <code>/alert ETH &lt; 3000</code> — when ETH falls below 3,000
    <code>/alert SOL ±5% 1h</code> — when SOL moves 5 % within an hour
    Also: <code>above</code>/<code>below</code>, <code>高于</code>/<code>低于</code>, <code>70k</code>, <code>7万</code>. /alerts lists them.
alert-bad-pct = The move must be between 0.1 % and 100 % (you wrote <code>{ $value }</code>). Example: <code>/alert SOL ±5% 1h</code>
alert-bad-window = I don't know the window <code>{ $value }</code>. Use 5m, 15m, 1h, 4h, 1d or 1w, e.g. <code>/alert SOL ±5% 4h</code>
risk-bad-number = <code>{ $value }</code> is not a price I can read. Write it like <code>70000</code>, <code>70,000</code> or <code>70k</code>.
alert-limit = 🔔 You have { $limit } active alerts, the most the { $plan } plan allows. Delete or let one fire (/alerts), or upgrade with /buy for more.

alert-cond-above = above { $price }
alert-cond-below = below { $price }
alert-cond-move = moves ±{ $pct }% within { $window }
alert-created = 🔔 Alert set: <b>{ $pair }</b> { $condition } (now { $current }). It fires once; re-arm it in /alerts.

alert-fired-above = 🔔 <b>{ $pair }</b> rose above <b>{ $level }</b> (reached { $price }).
alert-fired-below = 🔔 <b>{ $pair }</b> fell below <b>{ $level }</b> (reached { $price }).
alert-fired-move = 🔔 <b>{ $pair }</b> moved { $change } within { $window } (alert at ±{ $pct }%): { $reference } → { $price }.
alert-fired-footer = <i>This alert is now off; re-arm it with the button below or in /alerts.</i>

alerts-empty = You have no price alerts. Set one with <code>/alert BTC &gt; 70000</code>.
alerts-header = 🔔 <b>Your price alerts</b> ({ $active } of { $limit } active)
alerts-line = { $n }. <b>{ $pair }</b> { $condition } — { $state }
alert-state-armed = armed
alert-state-fired = fired { $time }
alert-button-delete = ❌ { $n }
alert-button-rearm = 🔁 Re-arm { $n }
alert-button-rearm-pushed = 🔁 Re-arm this alert
alert-deleted = Alert deleted.
alert-rearmed = Alert armed again.
alert-gone = That alert no longer exists or is already armed.

# Market risk for coins with a risk feed
risk-move = ⚡ <b>{ $coin }</b> · { $timeframe }: sudden move { $change } over { $candles ->
        [one] { $candles } candle
       *[other] { $candles } candles
    } ({ $atr }× ATR). Price { $price }.
risk-volatility = 🌪 <b>{ $coin }</b> · { $timeframe }: volatility jumped to percentile { $percentile } of its recent range (ATR { $atr }% of price).
risk-funding = 💸 <b>{ $coin }</b>: extreme funding { $rate } { -funding-period } — crowded positioning.
risk-oi = 📊 <b>{ $coin }</b> · { $timeframe }: open interest { $change } over { $candles ->
        [one] { $candles } candle
       *[other] { $candles } candles
    }.
risk-footer = <i>Risk alert · not financial advice</i>
