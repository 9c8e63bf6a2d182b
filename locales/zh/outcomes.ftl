# 信号结果（issue 12）：每个收到信号的聊天都会收到结果，以回复原信号的形式发送

outcome-long = 做多
outcome-short = 做空
outcome-tp = ✅ <b>{ $pair }</b> · { $timeframe } · { $direction }：已到达第一目标。
outcome-sl = 🛑 <b>{ $pair }</b> · { $timeframe } · { $direction }：已触及止损。
outcome-expired = ⌛ <b>{ $pair }</b> · { $timeframe } · { $direction }：有效期结束，未到达第一目标或止损。
outcome-unfilled = ⌛ <b>{ $pair }</b> · { $timeframe } · { $direction }：信号到期前未到达入场价 { $entry }。未成交，0 R。
outcome-exit = 离场 { $price } · { $time }
outcome-result = 结果：<b>{ $r } R</b>（{ $pct }），已扣除手续费和滑点（往返 { $costs }）。
# 无法回复原消息时（尚未发送到该聊天）：说明是哪条信号
outcome-original = { $time } 的信号：入场 { $entry }，止损 { $stop }，第一目标 { $target }。
