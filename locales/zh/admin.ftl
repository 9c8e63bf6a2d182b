# 运营命令（issue 14）：/admin、/stats、/user、/grant、/revoke、/plan、/ban、/unban、/audit

admin-menu =
    🛠 <b>运营菜单</b>
    /stats：数据统计 · /audit [n] [用户]：审计日志
    /user &lt;id|@用户名&gt;：用户资料，附带操作按钮
    /broadcast &lt;all|free|vip|pro|en|zh&gt; &lt;文本&gt;：群发消息（或回复某条消息，复制发送）
    /grant、/revoke、/plan、/ban、/unban、/refund：格式见下方按钮。
admin-button-stats = 📊 统计
admin-button-audit = 📜 审计日志
admin-button-users = 👤 查找用户
admin-button-credits = 💳 积分、套餐、封禁
admin-help-users =
    发送 <code>/user 123456789</code>（Telegram id）或 <code>/user @username</code>。
    资料下方有按钮：封禁或解封、设置套餐、发放或扣回积分、该用户的审计日志。
admin-help-credits =
    <code>/grant &lt;用户&gt; &lt;积分&gt; &lt;原因&gt;</code>：发放积分
    <code>/revoke &lt;用户&gt; &lt;积分&gt; &lt;原因&gt;</code>：扣回积分（余额不会低于零）
    <code>/plan &lt;用户&gt; &lt;free|vip|pro&gt; &lt;天数&gt;</code>：从现在起设置套餐
    <code>/ban &lt;用户&gt; [原因]</code>、<code>/unban &lt;用户&gt;</code>
    <code>/refund &lt;charge_id&gt; [force]</code>：退还 Stars 付款
admin-never = 从未
admin-yes = 是
admin-no = 否
admin-no-user = 数据库中没有用户 { $user }（对方需要先启动机器人）。
admin-repeated = 这条命令已经执行过，本次未做任何更改。

admin-usage-user = 用法：<code>/user &lt;id|@用户名&gt;</code>，例如 <code>/user 123456789</code> 或 <code>/user @ann</code>。
admin-usage-grant = 用法：<code>/grant &lt;用户&gt; &lt;积分&gt; &lt;原因&gt;</code>，例如 <code>/grant @ann 50 客服补偿</code>（积分 1 至 1,000,000）。
admin-usage-revoke = 用法：<code>/revoke &lt;用户&gt; &lt;积分&gt; &lt;原因&gt;</code>，例如 <code>/revoke 123456789 20 误发</code>。
admin-usage-plan = 用法：<code>/plan &lt;用户&gt; &lt;free|vip|pro&gt; &lt;天数&gt;</code>，例如 <code>/plan @ann vip 30</code>（天数 1 至 3650；<code>free</code> 无需天数）。
admin-usage-ban = 用法：<code>/ban &lt;用户&gt; [原因]</code>，例如 <code>/ban @spammer 刷屏</code>。
admin-usage-unban = 用法：<code>/unban &lt;用户&gt;</code>，例如 <code>/unban 123456789</code>。
admin-usage-audit = 用法：<code>/audit [n] [用户]</code>，例如 <code>/audit</code>、<code>/audit 20</code> 或 <code>/audit 20 @ann</code>（n 最多 50）。

# /stats
stats-title = 📊 <b>统计</b> · { $time }
stats-users = 👥 用户：{ $total } · 1 天活跃 { $day } · 7 天 { $week } · 30 天 { $month } · 今日新增 { $new }
stats-user-flags = 🚫 已封禁 { $banned } · 屏蔽了机器人 { $blocked }
stats-questions = 💬 提问：今日 { $today } · 7 天 { $week }
stats-llm = 🤖 LLM（30 天）：{ $requests } 次请求 · 输入 { $prompt } tokens，输出 { $completion } · 约 ${ $cost }（内置分析师回答：{ $rules }）
stats-llm-unpriced = ⚠️ LLM_PRICES 中没有这些模型的价格：{ $models }（未计入费用）
stats-credits = 💳 积分：售出 { $sold } · 消耗 { $spent } · 退款扣回 { $refunded } · 发放 { $granted } · 扣回 { $revoked }
stats-stars = ⭐ Stars：{ $payments } 笔付款 · 总额 { $gross } ⭐ · 已退款 { $refunded } ⭐
stats-plans = 🎟 有效套餐：{ $plans }
stats-plans-none = 🎟 有效套餐：无
stats-feeds = 📡 订阅了推送的聊天：私聊 { $private } · 群组 { $groups } · 频道 { $channels } · 信号推送 { $signals } · 风险推送 { $risk }
stats-alerts = 🔔 生效的价格提醒 { $alerts } · 监控中的仓位 { $positions }
stats-signals = 📈 信号：7 天 { $week } · 未平 { $open } · 已送达 { $delivered }
stats-outbox = 📮 发送队列：积压 { $backlog }（最早 { $oldest }）· 最近一小时 429 次数 { $telegram }（因此等待重试的队列消息：{ $limited }）

# /user
user-title = 👤 <b>{ $name }</b> { $username } · id <code>{ $tg }</code>（#{ $id }）
user-seen = 语言 { $language } · 注册于 { $joined } · 最近活跃 { $seen }
user-plan = 套餐：{ $plan }
user-plan-until = 套餐：{ $plan }，有效期至 { $until }
user-credits = 积分：可用 { $available }（共获得 { $total }，已用 { $used }）
user-questions = 提问：{ $count }（计入的对话 { $dialogs }），最近一次 { $last }
user-invites = 已邀请：{ $invited } · 邀请人 { $inviter }
user-flags = 已封禁：{ $banned } · 屏蔽了机器人：{ $blocked }
user-transactions = <b>最近交易</b>
user-button-ban = 🚫 封禁
user-button-unban = ✅ 解封
user-button-grant = ➕ 发放
user-button-revoke = ➖ 扣回
user-button-vip = VIP 30 天
user-button-pro = Pro 30 天
user-button-free = 免费版
user-button-audit = 📜 审计
user-button-refresh = 🔄 刷新
user-grant-hint = 补全后发送：<code>/grant { $tg } 100 原因</code>
user-revoke-hint = 补全后发送：<code>/revoke { $tg } 100 原因</code>

# /grant, /revoke, /plan, /ban, /unban
grant-done = ✅ 已向 <code>{ $user }</code> 发放 { $amount } 积分。余额 { $before } → { $after }。
revoke-done = ✅ 已从 <code>{ $user }</code> 扣回 { $amount } 积分。余额 { $before } → { $after }。
revoke-refused = ❌ 未扣回：用户 <code>{ $user }</code> 只有 { $balance } 积分，少于 { $amount }。余额不会低于零。
plan-set = ✅ 用户 <code>{ $user }</code> 现在使用 { $plan }。
plan-set-until = ✅ 用户 <code>{ $user }</code> 使用 { $plan }，有效期至 { $until }。
plan-unknown = ❌ 没有名为“{ $plan }”的套餐。
ban-done = 🚫 用户 <code>{ $user }</code> 已被封禁：之后只会收到一句礼貌的提示。
ban-already = 用户 <code>{ $user }</code> 之前已被封禁。
ban-refused-admin = ❌ 用户 <code>{ $user }</code> 是运营人员，不能封禁。
unban-done = ✅ 用户 <code>{ $user }</code> 已解封。
unban-already = 用户 <code>{ $user }</code> 并未被封禁。

# /audit
audit-title = 📜 <b>审计日志</b>，最近 { $count } 条
audit-title-user = 📜 <code>{ $user }</code> 的<b>审计日志</b>，最近 { $count } 条
audit-empty = 审计日志为空。
audit-empty-user = 没有关于 <code>{ $user }</code> 的审计记录。
audit-line = { $time } · <code>{ $actor }</code> · <b>{ $action }</b> · { $target } · { $details }
audit-more = …

# 账本记录（/balance、/user）
tx-admin-grant = 客服发放
tx-admin-revoke = 客服扣回

# 被封禁的用户无论发送什么，都只会收到这一句
banned-notice = 抱歉，此账号已无法继续使用本机器人。
