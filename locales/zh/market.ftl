# /price 和 /chart（issue 3）

market-usage-price =
    💹 <b>快速报价</b>：/price <code>币种</code>

    例如：<code>/price BTC</code> · <code>/price eth</code> · <code>/price SOLUSDT</code>
market-usage-chart =
    📈 <b>K线图</b>：/chart <code>币种</code> [<code>周期</code>]

    例如：<code>/chart BTC</code> · <code>/chart ETH 4h</code> · <code>/chart SOL 1d</code>
    支持的周期：{ $timeframes }（默认 { $default }）。

# 资金费率一律按每 8 小时表示（services/format.py 把各交易所的费率统一换算）。
-funding-period = / 8小时

# /price
price-header = 💹 <b>{ $pair }</b> · { $exchange }
price-last = 价格：<b>{ $price }</b> { $quote }
price-change = 24小时：{ $change } · 最高 { $high } · 最低 { $low }
price-change-short = 24小时：{ $change }
price-volume = 24小时成交额：{ $volume } { $quote }
price-funding = 资金费率：{ $rate } { -funding-period } · { $next }后结算（{ $time }）
price-funding-short = 资金费率：{ $rate } { -funding-period }
price-funding-unavailable = 资金费率：暂时无法获取。
price-spot-only = <i>仅有现货，没有永续合约，所以没有资金费率。</i>
price-open-interest = 持仓量：{ $value } { $quote }
price-updated = <i>更新于 { $time }</i>

# /chart 图片说明
chart-caption-header = 📈 <b>{ $pair }</b> · { $timeframe } · { $exchange }
chart-caption-price = 价格 <b>{ $price }</b> · 24小时 { $change }
chart-caption-price-only = 价格 <b>{ $price }</b>
chart-caption-trend = 趋势：{ $trend }（{ $strength }）· RSI { $rsi }
chart-caption-trend-only = 趋势：{ $trend } · RSI { $rsi }
chart-caption-levels = 支撑 { $support } · 阻力 { $resistance }
chart-caption-levels-at-high = 支撑 { $support } · 上方暂无阻力（处于高点）
chart-caption-levels-at-low = 下方暂无支撑（处于低点）· 阻力 { $resistance }
chart-caption-funding = 资金费率 { $rate } { -funding-period }
chart-caption-note = <i>最新K线 { $time } · 不构成投资建议</i>
trend-up = ↗ 上涨
trend-down = ↘ 下跌
trend-range = ↔ 震荡
trend-range-up = ↗ 震荡偏强
trend-range-down = ↘ 震荡偏弱
strength-weak = 弱
strength-moderate = 中等
strength-strong = 强
rsi-overbought = 超买
rsi-oversold = 超卖
rsi-value-state = { $value }（{ $state }）

# 出错时
market-unknown-coin = 🤔 在 { $exchanges } 上找不到 <b>{ $coin }</b>。
market-did-you-mean = 你要找的是不是 { $suggestions }？点下面的按钮即可。
market-coin-hint = 请发送币种代码，例如 <code>BTC</code>、<code>ETH</code> 或 <code>SOL</code>。
market-bad-timeframe =
    ⏱ 不支持 <b>{ $timeframe }</b> 这个周期。
    可用周期：{ $supported }，例如 <code>{ $example }</code>
market-not-enough-data = 📉 <b>{ $pair }</b> 的 { $timeframe } 历史数据还不够做分析（可能是新上线的币），换个更短的周期试试。
market-exchange-down = ⚠️ 暂时连不上交易所（{ $exchanges }），请过一分钟再试。
market-exchange-down-wait = ⚠️ 暂时连不上交易所（{ $exchanges }），请{ $wait }后再试。
