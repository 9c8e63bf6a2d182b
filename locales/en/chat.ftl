rules-label = _🤖 Automatic analysis — written by Coinsight's built-in rules from live exchange data (no AI model is configured)._
rules-fallback-label = _⚠️ The AI analyst is unavailable right now, so this is Coinsight's automatic analysis of the same live data._
rules-title = **{ $symbol } · { $timeframe }** — { $price } ({ $change } 24h) on { $exchange }
rules-strength-weak = weak
rules-strength-moderate = moderate
rules-strength-strong = strong
rules-trend-up = 📈 **Trend:** up ({ $strength }).
rules-trend-down = 📉 **Trend:** down ({ $strength }).
rules-trend-range = ↔️ **Trend:** sideways range, no clear direction (price between EMA20 and EMA50).
rules-trend-range-up = ↗️ **Trend:** no sustained trend yet, but the price is pushing up — above EMA20 and EMA50.
rules-trend-range-down = ↘️ **Trend:** no sustained trend yet, but the price is pressing down — below EMA20 and EMA50.
rules-above = above
rules-below = below
rules-emas = EMA20 { $ema20 }, EMA50 { $ema50 }; price is { $position } EMA50.
rules-rsi-overbought = **Momentum:** RSI14 { $rsi14 } (RSI7 { $rsi7 }) — overbought, pullbacks are likely.
rules-rsi-oversold = **Momentum:** RSI14 { $rsi14 } (RSI7 { $rsi7 }) — oversold, bounces are likely.
rules-rsi-neutral = **Momentum:** RSI14 { $rsi14 } (RSI7 { $rsi7 }) — neutral.
rules-macd-bullish = MACD crossed up { $bars ->
        [0] on the latest candle
        [one] { $bars } candle ago
       *[other] { $bars } candles ago
    }.
rules-macd-bearish = MACD crossed down { $bars ->
        [0] on the latest candle
        [one] { $bars } candle ago
       *[other] { $bars } candles ago
    }.
rules-divergence-bullish = A bullish RSI divergence is forming.
rules-divergence-bearish = A bearish RSI divergence is forming.
rules-levels = **Key levels:** { $support }; { $resistance }.
rules-support = support { $levels }
rules-resistance = resistance { $levels }
rules-support-none = no support below: the price is at its lowest of the last { $candles } candles
rules-resistance-none = no resistance above: the price is at its highest of the last { $candles } candles
rules-volatility-low = **Volatility:** low (ATR { $atr } of price) — a breakout may be building.
rules-volatility-normal = **Volatility:** normal (ATR { $atr } of price).
rules-volatility-high = **Volatility:** high (ATR { $atr } of price) — use wider stops or smaller size.
rules-funding = **Perp:** funding { $rate } { -funding-period }, { $oi }.
rules-funding-extreme = **Perp:** funding { $rate } { -funding-period } is extreme — crowded positioning; { $oi }.
rules-oi = open interest { $oi } USDT
rules-oi-none = open interest not reported
rules-scenario-bull = 🟢 **Bullish scenario:** a close above **{ $trigger }** targets **{ $target }**; invalid below { $invalid }.
rules-scenario-bull-atr = 🟢 **Bullish scenario:** with no resistance overhead, a close above **{ $trigger }** (one ATR above the price) targets **{ $target }**; invalid below { $invalid }.
rules-scenario-bear-atr = 🔴 **Bearish scenario:** with no support underneath, a close below **{ $trigger }** (one ATR under the price) targets **{ $target }**; invalid above { $invalid }.
rules-scenario-bear = 🔴 **Bearish scenario:** a close below **{ $trigger }** targets **{ $target }**; invalid above { $invalid }.
rules-risk = _⚠️ Not financial advice. Crypto is volatile: size positions carefully and always use a stop._

chat-need-coin = Which coin do you mean? Name one, like <i>BTC</i>, <i>ETH 1h</i> or <i>以太坊 日线</i> — or tap an example:
chat-example-btc = BTC 4h
chat-example-eth = ETH daily
chat-example-sol = SOL 1h
chat-unknown-coin = I can't find <b>{ $query }</b> on { $exchanges }.
chat-did-you-mean = Did you mean: { $suggestions }? Tap one to ask about it.
chat-exchange-down = 📡 I can't reach the exchanges right now, so I have no live data to analyse. Please try again in a minute — nothing was charged.
chat-not-enough-data = <b>{ $symbol }</b> doesn't have enough { $timeframe } history for an analysis yet. Try a shorter timeframe.
chat-injection = I'm Coinsight, a market analyst — I keep my instructions to myself and only talk markets. Ask me about a coin, e.g. <i>how does BTC look on the 4h?</i>
chat-busy = ⏳ I'm still answering your previous question — I'll take the next one when it's done.
chat-queued = ⏳ Got it — I'll answer this right after the current one.
chat-new = 🆕 New conversation started. What would you like to look at?
chat-answer-failed = ⚠️ I couldn't finish that answer. Please try again — nothing was charged.
