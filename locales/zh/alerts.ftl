# 价格提醒与市场风险推送（issue 11）

cmd-alert = 价格提醒：/alert BTC 高于 70000
cmd-alerts = 我的价格提醒

alert-usage =
    🔔 <b>价格提醒</b>
    <code>/alert BTC &gt; 70000</code> — BTC 涨破 70,000 时提醒
    <code>/alert ETH &lt; 3000</code> — ETH 跌破 3,000 时提醒
    <code>/alert SOL ±5% 1h</code> — SOL 一小时内波动 5% 时提醒
    也可以写：<code>高于</code>/<code>低于</code>、<code>above</code>/<code>below</code>、<code>70k</code>、<code>7万</code>。/alerts 查看全部。
alert-bad-pct = 波动幅度须在 0.1% 到 100% 之间（你写的是 <code>{ $value }</code>）。例如：<code>/alert SOL ±5% 1h</code>
alert-bad-window = 无法识别时间窗口 <code>{ $value }</code>。可用 5m、15m、1h、4h、1d、1w，例如 <code>/alert SOL ±5% 4h</code>
risk-bad-number = 无法识别价格 <code>{ $value }</code>。请写成 <code>70000</code>、<code>70,000</code> 或 <code>70k</code>。
alert-limit = 🔔 你已有 { $limit } 个生效的提醒，已达 { $plan } 套餐上限。可在 /alerts 删除，或通过 /buy 升级获得更多。

alert-cond-above = 高于 { $price }
alert-cond-below = 低于 { $price }
alert-cond-move = { $window } 内波动 ±{ $pct }%
alert-created = 🔔 已设置提醒：<b>{ $pair }</b> { $condition }（现价 { $current }）。触发一次后关闭，可在 /alerts 重新开启。

alert-fired-above = 🔔 <b>{ $pair }</b> 涨破 <b>{ $level }</b>（最高到 { $price }）。
alert-fired-below = 🔔 <b>{ $pair }</b> 跌破 <b>{ $level }</b>（最低到 { $price }）。
alert-fired-move = 🔔 <b>{ $pair }</b> 在 { $window } 内波动 { $change }（提醒阈值 ±{ $pct }%）：{ $reference } → { $price }。
alert-fired-footer = <i>该提醒已关闭，可点下方按钮或在 /alerts 重新开启。</i>

alerts-empty = 你还没有价格提醒。用 <code>/alert BTC &gt; 70000</code> 设置一个。
alerts-header = 🔔 <b>我的价格提醒</b>（生效 { $active } / 上限 { $limit }）
alerts-line = { $n }. <b>{ $pair }</b> { $condition } — { $state }
alert-state-armed = 监控中
alert-state-fired = 已于 { $time } 触发
alert-button-delete = ❌ { $n }
alert-button-rearm = 🔁 重新开启 { $n }
alert-button-rearm-pushed = 🔁 重新开启此提醒
alert-deleted = 提醒已删除。
alert-rearmed = 提醒已重新开启。
alert-gone = 该提醒已不存在或已在监控中。

# 订阅了风险推送的币种
risk-move = ⚡ <b>{ $coin }</b> · { $timeframe }：{ $candles } 根K线内急剧波动 { $change }（{ $atr } 倍 ATR）。现价 { $price }。
risk-volatility = 🌪 <b>{ $coin }</b> · { $timeframe }：波动率升至近期第 { $percentile } 百分位（ATR 为价格的 { $atr }%）。
risk-funding = 💸 <b>{ $coin }</b>：资金费率极端 { $rate } { -funding-period }，持仓拥挤。
risk-oi = 📊 <b>{ $coin }</b> · { $timeframe }：{ $candles } 根K线内持仓量变化 { $change }。
risk-footer = <i>风险提醒 · 不构成投资建议</i>
