# 积分、套餐、支付、邀请和管理员退款（issue 5）

cmd-paysupport = 支付帮助
cmd-history = 全部积分明细

# 商品
package-name-starter = 入门包
package-name-standard = 标准包
package-name-premium = 高级包
package-name-pro = 专业包
plan-name-free = 免费版
plan-name-vip = VIP
plan-name-pro = Pro
plan-no-expiry = 长期有效

# /buy
buy-title =
    🛒 <b>积分与套餐</b>

    每天都有免费提问次数；超出部分用积分支付。套餐可以让你每天有更多免费提问、更多信号订阅和价格提醒。
buy-packages-header = <b>积分包</b>
buy-package-line = • { $title }：<b>{ $credits }</b> 积分，{ $price } ⭐
buy-package-line-bonus = • { $title }：<b>{ $credits }</b> 积分（含赠送 { $bonus }），{ $price } ⭐
buy-recommended = 🔥 <i>最划算</i>
buy-package-button = { $title } · { $credits } 积分 · { $price } ⭐
buy-package-button-recommended = 🔥 { $title } · { $credits } 积分 · { $price } ⭐
buy-plans-header = <b>套餐</b>
buy-plan-line = • { $title }：每天 { $questions } 次免费提问，最多 { $feeds } 个订阅和 { $alerts } 个价格提醒，{ $days } 天 { $price } ⭐
buy-plan-button = 👑 { $title } 套餐 · { $days } 天 · { $price } ⭐
buy-nothing-on-sale = 暂时没有在售的商品，请稍后再来。
buy-terms = <i>条款：使用 Telegram Stars ⭐ 支付。积分永久有效，不可转让。套餐为订阅制：每 30 天自动续订，直到你取消（/plan 或在 Telegram 中），已付费的周期结束前套餐一直有效。未使用的购买可以退款，详见 /paysupport。付款即表示你同意以上条款。</i>
buy-not-on-sale = 抱歉，该商品已下架。发送 /buy 查看在售商品。
buy-higher-plan-active = 你的 { $current } 套餐正在生效，权益比这个更多。请直接续费 { $current }。

# 发票（纯文本，不含 HTML）
invoice-title-package = { $title }：{ $credits } 积分
invoice-title-plan = { $title } 套餐，{ $days } 天
invoice-package-description = { $credits } 个 Coinsight 积分{ $bonus ->
        [0] {""}
       *[other] （含赠送 { $bonus } 积分）
    }。积分用于每日免费次数之外的提问，永久有效。
invoice-plan-description = Coinsight { $title } 套餐 { $days } 天：每天更多免费提问，更多信号订阅和价格提醒。

# 预结账拒绝（纯文本，由 Telegram 显示）
precheckout-unknown-invoice = 此账单已失效，请发送 /buy 重新购买。
precheckout-wrong-user = 此账单属于其他用户。发送 /buy 获取你自己的账单。
precheckout-already-paid = 此账单已支付。发送 /balance 查看你的积分。
precheckout-not-on-sale = 抱歉，该商品已下架。发送 /buy 查看在售商品。
precheckout-banned = 你的账号已被停用，无法在此付款。
precheckout-amount-mismatch = 账单生成后价格有变动，请发送 /buy 重新购买。
precheckout-higher-plan-active = 你的账号已开通更高级的套餐，无需购买此套餐。发送 /balance 查看。
precheckout-unavailable = 支付暂时不可用，没有扣款，请一分钟后再试。

# 收据
receipt-credits =
    ✅ <b>付款成功</b>：{ $amount } ⭐

    +{ $credits } 积分。当前余额：<b>{ $balance }</b> 积分。
    感谢支持！关于本次付款的问题请发送 /paysupport
receipt-plan =
    ✅ <b>付款成功</b>：{ $amount } ⭐

    你的 <b>{ $plan }</b> 套餐有效期至 <b>{ $until }</b>。
    感谢支持！关于本次付款的问题请发送 /paysupport
receipt-subscription =
    ✅ <b>付款成功</b>：{ $amount } ⭐

    你的 <b>{ $plan }</b> 套餐有效期至 <b>{ $until }</b>。订阅每 30 天自动续订，直到你取消：见 /plan。
    感谢支持！关于本次付款的问题请发送 /paysupport
receipt-renewal =
    ✅ <b>订阅已续订</b>：{ $amount } ⭐

    你的 <b>{ $plan }</b> 套餐现已有效至 <b>{ $until }</b>。管理订阅：/plan
payment-unmatched =
    ⚠️ 已收到你的付款，但无法对应到订单。款项不会丢失：请发送 /paysupport 并附上简短说明和以下付款编号，工作人员会为你处理：
    <code>{ $charge }</code>

# /balance 和 /history
balance-title = 💼 <b>我的余额</b>
balance-plan = 套餐：<b>{ $plan }</b>
balance-plan-until = 套餐：<b>{ $plan }</b>，有效期至 { $until }
balance-plan-expired = <i>你的付费套餐已到期，发送 /buy 续费。</i>
balance-free = 今日剩余免费提问：<b>{ $left }</b> / { $total }
balance-credits = 积分：<b>{ $credits }</b>（免费次数用完后每次提问 { $cost } 积分）
balance-recent-header = <b>最近明细</b>
balance-footer = /buy 充值 · /history 全部明细 · /invite 邀请赚积分
history-title = 📜 <b>积分明细</b>，第 { $page } 页
history-empty = 暂无记录。
history-page-empty = 没有更多记录了。
history-prev = ◀ 较新
history-next = 较早 ▶
tx-line = { $amount } · { $what } · { $time } · 余额 { $balance }
tx-purchase = 购买
tx-refund = 退款
tx-question = 提问
tx-hold-release = 提问未完成，已退回
tx-invite-first = 邀请奖励
tx-invite-purchase = 邀请奖励（好友购买）
tx-invite-purchase-refund = 邀请奖励扣回（退款）
tx-other = { $category }

# /paysupport
paysupport =
    🛟 <b>支付帮助</b>

    这里的付款使用 Telegram Stars，由本机器人处理，Telegram 官方客服无法处理，但我们可以。
    如果付款后没收到积分或套餐、被重复扣款，或想为未使用的购买申请退款，请发送 <code>/paysupport</code> 加上简短说明，例如：
    <code>/paysupport 付款后没有收到积分</code>
    请附上下方列表中的付款编号，工作人员会尽快联系你。
paysupport-payments-header = <b>最近的付款</b>
paysupport-no-payments = 你还没有付款记录。
paysupport-payment-line =
    • { $time }：{ $what }，{ $amount } ⭐，{ $status }
      编号：<code>{ $charge }</code>
paysupport-what-credits = { $title }，{ $credits } 积分
paysupport-what-plan = { $title } 套餐
paysupport-status-paid = 已支付
paysupport-status-refunded = 已退款
paysupport-sent = ✅ 你的请求已发送给工作人员，他们会通过 Telegram 联系你。
paysupport-unavailable = 抱歉，暂时联系不到工作人员，请稍后再试；你的付款是安全的。
paysupport-request =
    🛟 <b>支付帮助请求</b>
    来自：{ $name }（{ $username }，id <code>{ $telegram_id }</code>）

    { $request }

    { $payments }

# 只能在私聊中使用的命令
private-only = 余额和付款属于个人信息，请在与我的私聊中使用此命令。
private-only-button = 打开私聊

# 积分用完（聊天流程）
out-of-credits =
    🪫 <b>今天的免费提问已用完</b>，{ $available ->
        [0] 积分也已用完。
       *[other] 剩余 { $available } 积分，每次提问需要 { $cost } 积分。
    }

    可以用 Telegram Stars 购买积分或套餐，也可以邀请好友免费赚积分。免费次数在 UTC 00:00（北京时间 08:00）重置。
out-of-credits-buy = 🛒 购买积分
out-of-credits-invite = 🎁 邀请好友

# /invite
invite-text =
    🎁 <b>邀请好友，赚取积分</b>

    你的专属链接：
    { $link }

    每位通过此链接开始使用的好友完成首次提问后，你将获得 <b>{ $reward }</b> 积分；好友购买积分时，你还能获得其购买量的 <b>{ $percent }%</b>。

    已通过你的链接加入：<b>{ $invited }</b> 人
    已赚取积分：<b>{ $earned }</b>
invite-share-button = 📤 分享我的链接
invite-share-text = Coinsight 帮你分析任意加密货币，提供实时数据和K线图。来试试：
invite-joined = 🎉 <b>{ $name }</b> 通过你的邀请链接加入了。对方完成首次提问后你将获得 { $reward } 积分，对方购买积分时你还能获得 { $percent }%。
invite-reward-first = 🎁 你邀请的好友完成了首次提问：你获得 <b>{ $credits }</b> 积分。当前余额：{ $balance }。
invite-reward-purchase = 🎁 你邀请的好友购买了积分：你获得 <b>{ $credits }</b> 积分。当前余额：{ $balance }。

# /refund（管理员）
refund-usage = 用法：<code>/refund 付款编号</code>；即使部分积分已被使用也要退款，请用 <code>/refund 付款编号 force</code>。
refund-unknown = 找不到付款编号为 <code>{ $charge }</code> 的付款。
refund-not-paid = 付款 <code>{ $charge }</code> 未支付，无需退款。
refund-already = ↩️ 付款 <code>{ $charge }</code> 已经退过款，未做任何更改。
refund-credits-spent =
    ⚠️ 未退款：该用户已用掉本次付款所得 { $credits } 积分中的 { $shortfall } 积分，只能扣回 { $debit } 积分。
    如仍要退还 { $amount } ⭐，请发送：
    <code>/refund { $charge } force</code>
refund-telegram-error = ❌ Telegram 拒绝了退款（{ $error }），未做任何更改。
refund-done = ✅ 已向用户 <code>{ $user }</code> 退还 { $amount } ⭐（付款 #{ $payment }，<code>{ $charge }</code>）。
refund-done-credits = 扣回积分：{ $debited } / { $credits }。用户当前余额：{ $balance }。
refund-done-shortfall = 有 { $shortfall } 积分已被使用，未能扣回。
refund-done-plan = 当前套餐：{ $plan }。
refund-done-plan-until = 当前套餐：{ $plan }，有效期至 { $until }。
refund-done-inviter = 已扣回邀请人的奖励：{ $credits } 积分。
refund-done-renewal-stopped = 该订阅的续订已停止：不会再扣费。
refund-done-renewal-failed = ⚠️ Telegram 拒绝停止该订阅的续订：除非用户自行取消，否则会再次扣费。

# 以 Telegram Stars 订阅出售的套餐（/buy → Telegram 付款页面的链接）
subscribe-offer =
    👑 <b>{ $plan }</b> 套餐：每 { $days } 天 { $price } ⭐，以 Telegram Stars 订阅方式付款。
    在你取消之前（/plan 或在 Telegram 中）会自动续订；已付费的周期结束前套餐一直有效。
subscribe-button = 订阅：{ $price } ⭐
subscription-canceled-notice = 你的 <b>{ $plan }</b> 订阅已取消，不会再续订。套餐有效期至 <b>{ $until }</b>。
subscription-resumed-notice = 你的 <b>{ $plan }</b> 订阅已恢复：将于 <b>{ $until }</b> 续订。
subscription-failed-notice = 你的 <b>{ $plan }</b> 订阅续订付款未成功，订阅已结束。套餐有效期至 <b>{ $until }</b>；发送 /buy 重新订阅。
subscription-failed-ended-notice = 你的 <b>{ $plan }</b> 订阅续订付款未成功，订阅和套餐均已结束。发送 /buy 重新订阅。
subscription-replaced-notice = 你的 <b>{ $new }</b> 订阅取代了 <b>{ $plan }</b>：{ $plan } 将不再续订（已付费至 { $until }）。
subscription-replaced-failed = 无法停止你的 <b>{ $plan }</b> 订阅的续订（新套餐已取代它）。请在 /plan 或 Telegram 中取消（设置 → 我的 Stars）。

# /plan
plan-view-title = 👑 <b>你的套餐</b>
plan-view-plan = 套餐：<b>{ $plan }</b>
plan-view-until = 套餐：<b>{ $plan }</b>，有效期至 { $until }
plan-view-none = 暂无订阅。发送 /buy 订阅套餐。
plan-view-renews = 订阅：{ $plan }，将于 { $until } 续订（每 30 天）。
plan-view-canceled = 订阅：{ $plan }，已取消：不会再续订，套餐有效期至 { $until }。
plan-view-canceled-in-telegram = 订阅：{ $plan }，已在 Telegram 中取消：不会再续订，套餐有效期至 { $until }。如需恢复，请在 Telegram 中重新开启（设置 → 我的 Stars）。
plan-view-ended = 订阅：{ $plan }，已结束。发送 /buy 重新订阅。
plan-cancel-button = 取消续订
plan-resume-button = 恢复续订
plan-renewal-canceled = 已取消续订。已付费的周期结束前套餐一直有效。
plan-renewal-resumed = 已恢复续订。
plan-renewal-stale = 此按钮已过期，请重新发送 /plan。
plan-renewal-ended = 此订阅已结束。发送 /buy 重新订阅。
plan-renewal-in-telegram = 你是在 Telegram 中取消的此订阅，只有你本人可以在 Telegram 中重新开启：设置 → 我的 Stars。
plan-renewal-failed = Telegram 未接受此更改，没有任何变化；请稍后再试。
