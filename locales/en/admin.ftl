# Operators' commands (issue 14): /admin, /stats, /user, /grant, /revoke, /plan, /ban, /unban, /audit

admin-menu =
    🛠 <b>Operator menu</b>
    /stats: the numbers · /audit [n] [user]: the audit log
    /user &lt;id|@username&gt;: a user's profile, with buttons to act on them
    /broadcast &lt;all|free|vip|pro|en|zh&gt; &lt;text&gt;: a message to users (or as a reply to a message, to copy it)
    /grant, /revoke, /plan, /ban, /unban, /refund: see the buttons below for their form.
admin-button-stats = 📊 Stats
admin-button-audit = 📜 Audit log
admin-button-users = 👤 Find a user
admin-button-credits = 💳 Credits, plans, bans
admin-help-users =
    Send <code>/user 123456789</code> (a Telegram id) or <code>/user @username</code>.
    The profile comes with buttons: ban or unban, set a plan, grant or revoke credits, the user's audit log.
admin-help-credits =
    <code>/grant &lt;user&gt; &lt;credits&gt; &lt;reason&gt;</code>: add credits
    <code>/revoke &lt;user&gt; &lt;credits&gt; &lt;reason&gt;</code>: take credits back (never below zero)
    <code>/plan &lt;user&gt; &lt;free|vip|pro&gt; &lt;days&gt;</code>: set a plan from now
    <code>/ban &lt;user&gt; [reason]</code>, <code>/unban &lt;user&gt;</code>
    <code>/refund &lt;charge_id&gt; [force]</code>: refund a Stars payment
admin-never = never
admin-yes = yes
admin-no = no
admin-no-user = No user { $user } in the database (they must have started the bot).
admin-repeated = This command was already carried out; nothing changed now.

admin-usage-user = Usage: <code>/user &lt;id|@username&gt;</code>, for example <code>/user 123456789</code> or <code>/user @ann</code>.
admin-usage-grant = Usage: <code>/grant &lt;user&gt; &lt;credits&gt; &lt;reason&gt;</code>, for example <code>/grant @ann 50 support compensation</code> (credits 1 to 1,000,000).
admin-usage-revoke = Usage: <code>/revoke &lt;user&gt; &lt;credits&gt; &lt;reason&gt;</code>, for example <code>/revoke 123456789 20 granted by mistake</code>.
admin-usage-plan = Usage: <code>/plan &lt;user&gt; &lt;free|vip|pro&gt; &lt;days&gt;</code>, for example <code>/plan @ann vip 30</code> (days 1 to 3650; <code>free</code> needs none).
admin-usage-ban = Usage: <code>/ban &lt;user&gt; [reason]</code>, for example <code>/ban @spammer flooding</code>.
admin-usage-unban = Usage: <code>/unban &lt;user&gt;</code>, for example <code>/unban 123456789</code>.
admin-usage-audit = Usage: <code>/audit [n] [user]</code>, for example <code>/audit</code>, <code>/audit 20</code> or <code>/audit 20 @ann</code> (n up to 50).

# /stats
stats-title = 📊 <b>Stats</b> · { $time }
stats-users = 👥 Users: { $total } · active 1d { $day } · 7d { $week } · 30d { $month } · new today { $new }
stats-user-flags = 🚫 Banned { $banned } · blocked the bot { $blocked }
stats-questions = 💬 Questions: today { $today } · 7 days { $week }
stats-llm = 🤖 LLM, 30 days: { $requests } requests · { $prompt } tokens in, { $completion } out · ≈ ${ $cost } (built-in analyst answers: { $rules })
stats-llm-unpriced = ⚠️ No price in LLM_PRICES for: { $models } (not in the cost)
stats-credits = 💳 Credits: sold { $sold } · spent { $spent } · refunded { $refunded } · granted { $granted } · revoked { $revoked }
stats-stars = ⭐ Stars: { $payments } payments · gross { $gross } ⭐ · refunded { $refunded } ⭐
stats-plans = 🎟 Active plans: { $plans }
stats-plans-none = 🎟 Active plans: none
stats-feeds = 📡 Chats with feeds: private { $private } · groups { $groups } · channels { $channels } · signal feeds { $signals } · risk feeds { $risk }
stats-alerts = 🔔 Price alerts armed { $alerts } · positions watched { $positions }
stats-signals = 📈 Signals: 7 days { $week } · open { $open } · delivered { $delivered }
stats-outbox = 📮 Outbox: backlog { $backlog } (oldest { $oldest }) · 429s in the last hour { $telegram } (outbox rows waiting after one: { $limited })

# /user
user-title = 👤 <b>{ $name }</b> { $username } · id <code>{ $tg }</code> (#{ $id })
user-seen = Language { $language } · joined { $joined } · last seen { $seen }
user-plan = Plan: { $plan }
user-plan-until = Plan: { $plan } until { $until }
user-credits = Credits: { $available } available ({ $total } received, { $used } used)
user-questions = Questions: { $count } (counted dialogs { $dialogs }), last { $last }
user-invites = Invited: { $invited } · invited by { $inviter }
user-flags = Banned: { $banned } · blocked the bot: { $blocked }
user-transactions = <b>Last transactions</b>
user-button-ban = 🚫 Ban
user-button-unban = ✅ Unban
user-button-grant = ➕ Grant
user-button-revoke = ➖ Revoke
user-button-vip = VIP 30d
user-button-pro = Pro 30d
user-button-free = Free
user-button-audit = 📜 Audit
user-button-refresh = 🔄 Refresh
user-grant-hint = Complete and send: <code>/grant { $tg } 100 reason</code>
user-revoke-hint = Complete and send: <code>/revoke { $tg } 100 reason</code>

# /grant, /revoke, /plan, /ban, /unban
grant-done = ✅ Granted { $amount } credits to <code>{ $user }</code>. Balance { $before } → { $after }.
revoke-done = ✅ Revoked { $amount } credits from <code>{ $user }</code>. Balance { $before } → { $after }.
revoke-refused = ❌ Not revoked: user <code>{ $user }</code> has { $balance } credits, fewer than { $amount }. A balance never goes below zero.
plan-set = ✅ User <code>{ $user }</code> is on { $plan } now.
plan-set-until = ✅ User <code>{ $user }</code> is on { $plan } until { $until }.
plan-unknown = ❌ There is no plan “{ $plan }”.
ban-done = 🚫 User <code>{ $user }</code> is banned: they get one polite line and nothing else.
ban-already = User <code>{ $user }</code> was already banned.
ban-refused-admin = ❌ User <code>{ $user }</code> is an operator and cannot be banned.
unban-done = ✅ User <code>{ $user }</code> is no longer banned.
unban-already = User <code>{ $user }</code> was not banned.

# /audit
audit-title = 📜 <b>Audit log</b>, last { $count }
audit-title-user = 📜 <b>Audit log</b> for <code>{ $user }</code>, last { $count }
audit-empty = The audit log is empty.
audit-empty-user = No audit rows for <code>{ $user }</code>.
audit-line = { $time } · <code>{ $actor }</code> · <b>{ $action }</b> · { $target } · { $details }
audit-more = …

# Ledger lines (/balance, /user)
tx-admin-grant = granted by support
tx-admin-revoke = taken back by support

# What a banned user gets, whatever they send
banned-notice = Sorry, this account can no longer use the bot.
