# 交易信号：推送的消息、手动信号（运营者的 /signal）及其预览

signal-head-long = 🟢 <b>做多 { $pair }</b> · { $timeframe } · { $exchange }
signal-head-short = 🔴 <b>做空 { $pair }</b> · { $timeframe } · { $exchange }
signal-manual = ✍️ 团队手动信号
signal-entry = 入场：<b>{ $price }</b>
signal-stop = 止损：<b>{ $price }</b>（{ $pct }）
signal-target = 🎯 止盈{ $n }：<b>{ $price }</b>（{ $pct }，{ $r }R）
signal-time = 🕒 { $at } · 有效至 <b>{ $until }</b>（{ $duration }）
signal-confidence = 信心分：{ $value }/100（触发规则的评分，并非概率）
signal-reasons = 依据：{ $reasons }
signal-note = 📝 备注：{ $note }
signal-commentary = 🤖 <i>模型点评：</i>{ $text }
signal-footer = <i>不构成投资建议：请控制仓位并严格止损。</i>

# 规则代码（services/signals/strategy.py 的 REASON_CODES 及 "manual"）；未知代码显示为 signal-reason-other
signal-reason-trend-up = 上升趋势（价格高于 EMA20，EMA20 高于上行的 EMA50）
signal-reason-trend-down = 下降趋势（价格低于 EMA20，EMA20 低于下行的 EMA50）
signal-reason-trend-strong = 趋势陡峭
signal-reason-macd-cross-up = MACD 柱转正
signal-reason-macd-cross-down = MACD 柱转负
signal-reason-rsi-cross-up = RSI 上穿中线
signal-reason-rsi-cross-down = RSI 下穿中线
signal-reason-ema200-up = EMA50 高于 EMA200
signal-reason-ema200-down = EMA50 低于 EMA200
signal-reason-volume-up = 成交量高于 20 根 K 线均量
signal-reason-near-ema = 价格靠近 EMA20（未追高追低）
signal-reason-funding-supports = 资金费由对手方支付
signal-reason-funding-crowded = 同向拥挤：资金费率极端（已降低信心分）
signal-reason-manual = 团队自己的分析
signal-reason-other = 策略的其他规则
