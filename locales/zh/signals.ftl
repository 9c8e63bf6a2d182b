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

# /signal（仅限运营者）
signal-usage =
    ✍️ <b>手动信号</b>：<code>/signal BTC long 4h entry=65000 sl=63500 tp=67000,69000 valid=12h note=突破回踩</code>
    方向 long 或 short（多/空）；周期 { $timeframes }；1-3 个止盈，用逗号分隔；有效期 30m-30d（默认 24h）；可选 conf=1-100（默认 50）；note= 之后的整行都是备注。
signal-error-usage = 需要币种、方向和周期。
signal-error-key = 我不认识 <code>{ $name }=</code>。
signal-error-missing = 缺少 <code>{ $name }=</code>。
signal-error-number = <code>{ $name }={ $value }</code> 不是我能识别的价格（例如 65000、65000.5 或 65k）。
signal-error-valid = <code>valid={ $value }</code>：请写 30m 到 30d 之间的时长，例如 12h 或 2d。
signal-error-targets = 请给出 1-{ $limit } 个止盈，用逗号分隔：<code>tp=67000,69000</code>。
signal-error-conf = <code>conf={ $value }</code>：信心分是 1 到 100 的整数。
signal-error-note = 备注有 { $length } 个字符，最多 { $limit } 个。
signal-error-timeframe = 我不认识周期 <code>{ $value }</code>。
signal-error-stop-wrong-side = ⛔ 已拒绝：止损在入场价的错误一侧（做多止损应低于入场价，做空应高于入场价）。
signal-error-target-wrong-side = ⛔ 已拒绝：有止盈在入场价的错误一侧（做多止盈应高于入场价，做空应低于入场价）。
signal-error-targets-order = ⛔ 已拒绝：止盈必须按顺序远离入场价（止盈1 最近）。
signal-preview = 👀 <b>预览</b>：确认发布前不会发送任何内容。当前订阅 { $pair } { $timeframe } 的聊天：{ $chats } 个。
signal-preview-no-chart = （没有图表：交易所未响应，信号将不带图表发送。）
signal-button-publish = ✅ 发布
signal-button-cancel = ✖️ 取消
signal-published = ✅ <b>已发布</b>，信号 #{ $id }：已为 { $chats } 个聊天排队发送。
signal-already-open = ⛔ 未发布：{ $pair } { $timeframe } 的手动{ $direction }信号仍未结束。
signal-cancelled = ✖️ <b>已取消</b>：没有发送任何内容。
signal-draft-gone = 此预览已过期或已处理。
signal-direction-long = 做多
signal-direction-short = 做空
