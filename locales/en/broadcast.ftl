# /broadcast (operators, issue 14)

broadcast-usage =
    Usage: <code>/broadcast &lt;audience&gt; &lt;text&gt;</code>, or <code>/broadcast &lt;audience&gt;</code> as a reply to the message to copy (formatting and media kept).
    Audience: <code>all</code>, a plan (<code>free</code>, <code>vip</code>, <code>pro</code>) or a language (<code>en</code>, <code>zh</code>).
    <code>/broadcast cancel [id]</code> stops what has not been sent yet.
    For example <code>/broadcast vip New: price alerts on the 15m candles!</code>
broadcast-audience-all = all users
broadcast-audience-free = Free plan users
broadcast-audience-vip = VIP plan users
broadcast-audience-pro = Pro plan users
broadcast-audience-en = English-speaking users
broadcast-audience-zh = Chinese-speaking users
broadcast-preview =
    📣 <b>Broadcast preview</b>: the message above goes to { $audience }: { $users ->
        [one] <b>1</b> user
       *[other] <b>{ $users }</b> users
    } (those who blocked the bot are skipped).
broadcast-button-confirm = ✅ Send
broadcast-button-cancel = ✖️ Cancel
broadcast-draft-gone = This preview has expired or was already handled.
broadcast-dropped = 📣 Broadcast cancelled: nothing was sent.
broadcast-empty = Nobody to send to: there are no { $audience } right now.
broadcast-too-long = This message cannot be broadcast: it is longer than Telegram allows ({ $limit } characters).
broadcast-not-copyable = This message cannot be copied to users (Telegram says: { $error }).
broadcast-progress = 📣 <b>Broadcast #{ $id }</b> to { $audience }: { $total } messages
broadcast-counts = ✅ sent { $sent } · ⚠️ failed { $failed } · 🚫 blocked { $blocked } · ⏳ remaining { $remaining }
broadcast-eta = ETA { $eta } · running for { $elapsed }
broadcast-took = Took { $elapsed }.
broadcast-cancelled-count = ✖️ cancelled { $cancelled }
broadcast-summary = 📣 <b>Broadcast #{ $id } finished</b> ({ $audience }, { $total } messages)
broadcast-summary-cancelled = 📣 <b>Broadcast #{ $id } stopped</b> ({ $audience }, { $total } messages)
broadcast-cancel-done = ✖️ Broadcast #{ $id }: { $stopped ->
        [one] 1 message will not be sent.
       *[other] { $stopped } messages will not be sent.
    }
broadcast-nothing-to-cancel = No broadcast is running.
