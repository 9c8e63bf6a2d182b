rules-label = _🤖 自动分析 —— 由 Coinsight 内置规则根据交易所实时数据生成（未配置AI模型）。_
rules-fallback-label = _⚠️ AI分析师暂时不可用，以下是 Coinsight 基于同一实时数据的自动分析。_
rules-title = **{ $symbol } · { $timeframe }** —— { $price }（24小时 { $change }），数据来自 { $exchange }
rules-strength-weak = 弱
rules-strength-moderate = 中等
rules-strength-strong = 强
rules-trend-up = 📈 **趋势：**上涨（{ $strength }）。
rules-trend-down = 📉 **趋势：**下跌（{ $strength }）。
rules-trend-range = ↔️ **趋势：**区间震荡，方向不明（价格位于 EMA20 与 EMA50 之间）。
rules-trend-range-up = ↗️ **趋势：**尚未形成持续趋势，但价格走强 —— 站上 EMA20 与 EMA50。
rules-trend-range-down = ↘️ **趋势：**尚未形成持续趋势，但价格走弱 —— 跌破 EMA20 与 EMA50。
rules-above = 高于
rules-below = 低于
rules-emas = EMA20 { $ema20 }，EMA50 { $ema50 }；价格{ $position } EMA50。
rules-rsi-overbought = **动能：**RSI14 { $rsi14 }（RSI7 { $rsi7 }）—— 超买，可能回调。
rules-rsi-oversold = **动能：**RSI14 { $rsi14 }（RSI7 { $rsi7 }）—— 超卖，可能反弹。
rules-rsi-neutral = **动能：**RSI14 { $rsi14 }（RSI7 { $rsi7 }）—— 中性。
rules-macd-bullish = MACD { $bars ->
        [0] 在最新一根K线上
       *[other] 在 { $bars } 根K线前
    }金叉。
rules-macd-bearish = MACD { $bars ->
        [0] 在最新一根K线上
       *[other] 在 { $bars } 根K线前
    }死叉。
rules-divergence-bullish = RSI 正在形成底背离。
rules-divergence-bearish = RSI 正在形成顶背离。
rules-levels = **关键价位：**{ $support }；{ $resistance }。
rules-support = 支撑 { $levels }
rules-resistance = 阻力 { $levels }
rules-support-none = 下方暂无支撑：价格处于最近 { $candles } 根K线的最低位
rules-resistance-none = 上方暂无阻力：价格处于最近 { $candles } 根K线的最高位
rules-volatility-low = **波动率：**低（ATR 为价格的 { $atr }）—— 可能酝酿突破。
rules-volatility-normal = **波动率：**正常（ATR 为价格的 { $atr }）。
rules-volatility-high = **波动率：**高（ATR 为价格的 { $atr }）—— 请放宽止损或减小仓位。
rules-funding = **永续合约：**资金费率 { $rate } { -funding-period }，{ $oi }。
rules-funding-extreme = **永续合约：**资金费率 { $rate } { -funding-period }，处于极端水平 —— 仓位拥挤；{ $oi }。
rules-oi = 持仓量 { $oi } USDT
rules-oi-none = 持仓量暂无数据
rules-scenario-bull = 🟢 **看涨情景：**收盘站上 **{ $trigger }**，目标 **{ $target }**；跌破 { $invalid } 则失效。
rules-scenario-bull-atr = 🟢 **看涨情景：**上方暂无阻力，收盘站上 **{ $trigger }**（现价上方一个ATR），目标 **{ $target }**；跌破 { $invalid } 则失效。
rules-scenario-bear-atr = 🔴 **看跌情景：**下方暂无支撑，收盘跌破 **{ $trigger }**（现价下方一个ATR），目标 **{ $target }**；站上 { $invalid } 则失效。
rules-scenario-bear = 🔴 **看跌情景：**收盘跌破 **{ $trigger }**，目标 **{ $target }**；站上 { $invalid } 则失效。
rules-risk = _⚠️ 不构成投资建议。加密货币波动剧烈：请谨慎控制仓位，并务必设置止损。_

chat-need-coin = 你想看哪个币？例如 <i>BTC</i>、<i>ETH 1h</i> 或 <i>以太坊 日线</i>，也可以点下面的示例：
chat-example-btc = BTC 4小时
chat-example-eth = ETH 日线
chat-example-sol = SOL 1小时
chat-unknown-coin = 在 { $exchanges } 上找不到 <b>{ $query }</b>。
chat-did-you-mean = 你是不是想找：{ $suggestions }？点一下就能问它。
chat-exchange-down = 📡 暂时无法连接交易所，没有实时数据可供分析。请一分钟后再试 —— 本次不扣费。
chat-not-enough-data = <b>{ $symbol }</b> 的 { $timeframe } 历史数据还不够做分析，请换一个更短的周期。
chat-injection = 我是 Coinsight 市场分析师 —— 我不会透露内部指令，只聊行情。问我任何币种吧，例如：<i>比特币4小时走势如何？</i>
chat-busy = ⏳ 我还在回答你上一个问题，完成后再处理下一个。
chat-queued = ⏳ 收到 —— 当前回答结束后马上处理这个问题。
chat-new = 🆕 已开始新对话。你想看哪个币？
chat-answer-failed = ⚠️ 这次回答没能完成，请再试一次 —— 本次不扣费。
