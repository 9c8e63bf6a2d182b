# Commands shown in Telegram's menu
cmd-start = Start and see what I can do
cmd-help = How to use the bot
cmd-language = Change language
cmd-settings = Your settings
cmd-new = Start a new conversation
cmd-price = Quick price: /price BTC
cmd-chart = Chart: /chart ETH 4h
cmd-balance = Plan, free questions and credits
cmd-buy = Buy credits or a plan
cmd-plan = Your plan and subscription
cmd-invite = Invite friends, earn credits

welcome =
    👋 Hi, <b>{ $name }</b>! I'm <b>Coinsight</b>, your crypto market analyst.

    Ask me about any coin in plain words, in English or Chinese:
    • <i>how does SOL look on the 4h?</i>
    • <i>比特币今天怎么样</i>
    • <i>compare BTC and ETH</i>

    I answer with live exchange data, technical analysis (trend, momentum, key levels, volatility) and a chart, and I remember the conversation for follow-ups.

    /help shows everything I can do.
welcome-back = 👋 Welcome back, <b>{ $name }</b>! Ask me about any coin, or see /help.

help =
    <b>What I can do</b>

    💬 <b>Ask in free text</b> — “how does BTC look?”, “ETH on the daily”, “以太坊 4小时”. Follow-ups remember the coin.
    💹 /price <code>coin</code> — price, 24h change, volume, funding
    📈 /chart <code>coin</code> [<code>timeframe</code>] — candles with EMAs and key levels
    🔔 /alert <code>coin</code> &gt; <code>price</code> or ±<code>%</code> <code>window</code> — price alerts; /alerts lists them
    📌 /position add <code>coin</code> long 10x entry <code>price</code> — liquidation price and warnings; /positions
    🆕 /new — forget the conversation and start fresh
    🌐 /language — English or 中文
    📡 /subscribe <code>coins</code> [<code>timeframes</code>] [<code>signals|risk</code>], /unsubscribe, /feeds — signal and risk feeds (in groups: admins)
    📢 /linkchannel <code>@channel</code> — manage a channel's feeds from here; /unlinkchannel — undo it
    📊 /performance [<code>coin</code>] [<code>timeframe</code>] [30d|90d|all] — the signals' track record; /digest on|off — weekly in this chat
    ⚙️ /settings — your settings

    Timeframes: 5m, 15m, 1h, 4h, 1d, 1w.
    <i>Analysis is information, not financial advice. Markets are risky.</i>

language-choose = 🌐 Choose your language:
language-set = ✅ Language set to English.
settings =
    ⚙️ <b>Settings</b>

    Language: { $language }
settings-language-button = 🌐 Change language

unknown-command = I don't know that command. Send /help to see what I can do.
non-text = I understand text messages. Ask me about a coin, e.g. <i>how does BTC look?</i>
throttled = ⏳ You're sending messages too fast. Please slow down — I'll answer again in a moment.
error-generic = ⚠️ Something went wrong on my side. Please try again in a moment.
banned = Your access to this bot is suspended.
