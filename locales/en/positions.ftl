# Declared positions and their warnings (issue 11)

cmd-position = Declare a position: /position add …
cmd-positions = Your positions and liquidation prices

position-usage =
    📌 <b>Declare a position</b> (no exchange keys needed):
    <code>/position add BTC long 10x entry 65000 size 0.1 sl 62000 tp 70000</code>
    Side <code>long</code>/<code>short</code> (<code>多</code>/<code>空</code>), leverage <code>10x</code>, <code>entry</code> required; <code>size</code>, <code>sl</code>, <code>tp</code> optional.
    I compute the isolated-margin liquidation price and warn you at 50 % and 80 % of the way there, at your stop and at your take-profit. /positions lists them.
position-need-side = Say whether it is <code>long</code> or <code>short</code>, e.g. <code>/position add BTC long 10x entry 65000</code>
position-need-entry = I need the entry price: <code>entry 65000</code>
position-bad-leverage = Leverage must be between 1x and { $max }x.
position-bad-stop-long = For a long the stop must be below the entry.
position-bad-stop-short = For a short the stop must be above the entry.
position-bad-tp-long = For a long the take-profit must be above the entry.
position-bad-tp-short = For a short the take-profit must be below the entry.
position-unknown-word = I don't understand <code>{ $word }</code> here.
position-leverage-too-high = At this leverage the maintenance margin ({ $mmr }) exceeds the margin: the position has no liquidation price. Use less leverage.
position-limit = 📌 You have { $limit } open positions, the most the { $plan } plan allows. Close one in /positions, or upgrade with /buy for more.

position-created = ✅ Position saved.
position-head = 📌 <b>{ $pair }</b> { $side } { $leverage }x · entry { $entry }
position-liq = Liquidation ≈ <b>{ $liq }</b>
position-size = Size { $size } (≈ { $notional } USDT)
position-sl-tp = Stop { $stop } · Take-profit { $tp }
position-mmr = <i>Isolated margin, maintenance rate { $mmr }; fees and added margin not included.</i>
side-long = long
side-short = short

position-warn-step = ⚠️ <b>{ $pair }</b> { $side } { $leverage }x is { $step }% of the way to liquidation: price { $price }, liquidation { $liq }.
position-warn-liq = 🛑 <b>{ $pair }</b> { $side } { $leverage }x: the price ({ $price }) reached the liquidation price { $liq }.
position-warn-sl = 🛑 <b>{ $pair }</b> { $side }: your stop { $stop } was hit (price { $price }).
position-warn-tp = 🎯 <b>{ $pair }</b> { $side }: your take-profit { $tp } was reached (price { $price }).

positions-empty = You have no open positions. Declare one with <code>/position add BTC long 10x entry 65000</code>.
positions-header = 📌 <b>Your positions</b> ({ $count } of { $limit })
position-button-close = ✅ Close { $n }
position-button-delete = ❌ { $n }
position-closed = Position closed.
position-deleted = Position deleted.
position-gone = That position no longer exists.
