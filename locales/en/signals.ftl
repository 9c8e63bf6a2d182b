# Trading signals: the pushed message, manual signals (/signal for operators), their preview

signal-head-long = 🟢 <b>LONG { $pair }</b> · { $timeframe } · { $exchange }
signal-head-short = 🔴 <b>SHORT { $pair }</b> · { $timeframe } · { $exchange }
signal-manual = ✍️ Manual signal from the team
signal-entry = Entry: <b>{ $price }</b>
signal-stop = Stop: <b>{ $price }</b> ({ $pct })
signal-target = 🎯 TP{ $n }: <b>{ $price }</b> ({ $pct }, { $r }R)
signal-time = 🕒 { $at } · valid until <b>{ $until }</b> ({ $duration })
signal-confidence = Confidence: { $value }/100 (a score of the rules that fired, not a probability)
signal-reasons = Why: { $reasons }
signal-note = 📝 Note: { $note }
signal-commentary = 🤖 <i>Model's commentary:</i> { $text }
signal-footer = <i>Not financial advice: size your position and keep to the stop.</i>

# Reason codes (services/signals/strategy.py REASON_CODES, "manual"); an unknown code reads as signal-reason-other
signal-reason-trend-up = uptrend (price above EMA20 above a rising EMA50)
signal-reason-trend-down = downtrend (price below EMA20 below a falling EMA50)
signal-reason-trend-strong = a steep trend
signal-reason-macd-cross-up = MACD histogram turned positive
signal-reason-macd-cross-down = MACD histogram turned negative
signal-reason-rsi-cross-up = RSI crossed above its midline
signal-reason-rsi-cross-down = RSI crossed below its midline
signal-reason-ema200-up = EMA50 above EMA200
signal-reason-ema200-down = EMA50 below EMA200
signal-reason-volume-up = volume above its 20-candle average
signal-reason-near-ema = price close to EMA20 (not chasing)
signal-reason-funding-supports = funding paid by the other side
signal-reason-funding-crowded = crowded side: funding is extreme (confidence lowered)
signal-reason-manual = the team's own analysis
signal-reason-other = another rule of the strategy
