# Signal outcomes (issue 12): each chat that got a signal gets its outcome, as a reply to it

outcome-long = long
outcome-short = short
outcome-tp = ✅ <b>{ $pair }</b> · { $timeframe } · { $direction }: first target reached.
outcome-sl = 🛑 <b>{ $pair }</b> · { $timeframe } · { $direction }: stop reached.
outcome-expired = ⌛ <b>{ $pair }</b> · { $timeframe } · { $direction }: validity ended before the first target or the stop.
outcome-unfilled = ⌛ <b>{ $pair }</b> · { $timeframe } · { $direction }: entry { $entry } was not reached before the signal expired. No trade, 0 R.
outcome-exit = Exit { $price } · { $time }
outcome-result = Result: <b>{ $r } R</b> ({ $pct }) after fees and slippage ({ $costs } round trip).
# When the original message cannot be replied to (not sent to this chat yet): which signal this was
outcome-original = Signal of { $time }: entry { $entry }, stop { $stop }, first target { $target }.
