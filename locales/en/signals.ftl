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

# /signal (operators only)
signal-usage =
    ✍️ <b>Manual signal</b>: <code>/signal BTC long 4h entry=65000 sl=63500 tp=67000,69000 valid=12h note=Breakout retest</code>
    Direction long or short (多/空); timeframe { $timeframes }; 1-3 targets, comma-separated; valid 30m-30d (default 24h); optional conf=1-100 (default 50); note= takes the rest of the line.
signal-error-usage = I need a coin, a direction and a timeframe.
signal-error-key = I don't know <code>{ $name }=</code>.
signal-error-missing = <code>{ $name }=</code> is missing.
signal-error-number = <code>{ $name }={ $value }</code> is not a price I can read (write it like 65000, 65000.5 or 65k).
signal-error-valid = <code>valid={ $value }</code>: write a duration from 30m to 30d, like 12h or 2d.
signal-error-targets = Give 1-{ $limit } targets, comma-separated: <code>tp=67000,69000</code>.
signal-error-conf = <code>conf={ $value }</code>: the confidence is a whole number from 1 to 100.
signal-error-note = The note has { $length } characters; at most { $limit }.
signal-error-timeframe = I don't know the timeframe <code>{ $value }</code>.
signal-error-stop-wrong-side = ⛔ Refused: the stop is on the wrong side of the entry (a long's stop is below the entry, a short's above).
signal-error-target-wrong-side = ⛔ Refused: a target is on the wrong side of the entry (a long's targets are above the entry, a short's below).
signal-error-targets-order = ⛔ Refused: the targets must move away from the entry in order (TP1 nearest).
signal-preview = 👀 <b>Preview</b>: nothing is sent until you publish. Chats subscribed to { $pair } { $timeframe } now: { $chats }.
signal-preview-no-chart = (No chart: the exchange did not answer; the signal goes out without one.)
signal-button-publish = ✅ Publish
signal-button-cancel = ✖️ Cancel
signal-published = ✅ <b>Published</b> as signal #{ $id }: queued for { $chats ->
        [one] 1 chat
       *[other] { $chats } chats
    }.
signal-already-open = ⛔ Not published: a manual { $direction } signal for { $pair } { $timeframe } is still open.
signal-cancelled = ✖️ <b>Cancelled</b>: nothing was sent.
signal-draft-gone = This preview has expired or was already handled.
signal-direction-long = long
signal-direction-short = short
