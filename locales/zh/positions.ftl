# 申报持仓与预警（issue 11）

cmd-position = 申报持仓：/position add …
cmd-positions = 我的持仓与强平价

position-usage =
    📌 <b>申报持仓</b>（无需交易所密钥）：
    <code>/position add BTC long 10x entry 65000 size 0.1 sl 62000 tp 70000</code>
    方向 <code>多</code>/<code>空</code>（<code>long</code>/<code>short</code>）、杠杆 <code>10x</code> 或 <code>10倍</code>、开仓价 <code>开仓 65000</code> 必填；<code>数量</code>、<code>止损</code>、<code>止盈</code> 可选。
    我会计算逐仓强平价，并在距离强平 50% 和 80% 时、触及止损和止盈时提醒你。/positions 查看全部。
position-need-side = 请说明方向：<code>多</code> 或 <code>空</code>，例如 <code>/position add BTC 多 10倍 开仓 65000</code>
position-need-entry = 需要开仓价：<code>开仓 65000</code>
position-bad-leverage = 杠杆须在 1 到 { $max } 倍之间。
position-bad-stop-long = 做多时止损须低于开仓价。
position-bad-stop-short = 做空时止损须高于开仓价。
position-bad-tp-long = 做多时止盈须高于开仓价。
position-bad-tp-short = 做空时止盈须低于开仓价。
position-unknown-word = 无法理解这里的 <code>{ $word }</code>。
position-leverage-too-high = 该杠杆下维持保证金（{ $mmr }）超过了保证金，无法计算强平价。请降低杠杆。
position-limit = 📌 你已有 { $limit } 个持仓，已达 { $plan } 套餐上限。可在 /positions 平仓，或通过 /buy 升级获得更多。

position-created = ✅ 持仓已保存。
position-head = 📌 <b>{ $pair }</b> { $side } { $leverage }倍 · 开仓 { $entry }
position-liq = 强平价 ≈ <b>{ $liq }</b>
position-size = 数量 { $size }（≈ { $notional } USDT）
position-sl-tp = 止损 { $stop } · 止盈 { $tp }
position-mmr = <i>逐仓，维持保证金率 { $mmr }；未计手续费和追加保证金。</i>
side-long = 多
side-short = 空

position-warn-step = ⚠️ <b>{ $pair }</b> { $side } { $leverage }倍 已走完到强平 { $step }% 的距离：现价 { $price }，强平价 { $liq }。
position-warn-liq = 🛑 <b>{ $pair }</b> { $side } { $leverage }倍：价格（{ $price }）已触及强平价 { $liq }。
position-warn-sl = 🛑 <b>{ $pair }</b> { $side }：已触及止损 { $stop }（价格 { $price }）。
position-warn-tp = 🎯 <b>{ $pair }</b> { $side }：已到达止盈 { $tp }（价格 { $price }）。

positions-empty = 你还没有持仓。用 <code>/position add BTC 多 10倍 开仓 65000</code> 申报一个。
positions-header = 📌 <b>我的持仓</b>（{ $count } / 上限 { $limit }）
position-button-close = ✅ 平仓 { $n }
position-button-delete = ❌ { $n }
position-closed = 持仓已关闭。
position-deleted = 持仓已删除。
position-gone = 该持仓已不存在。
