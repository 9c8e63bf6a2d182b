# Feeds: /subscribe, /unsubscribe, /feeds, /linkchannel, /unlinkchannel, group language
cmd-feeds = Your signal and risk feeds
cmd-subscribe = Subscribe: /subscribe BTC ETH 4h
cmd-unsubscribe = Unsubscribe from coins or feeds
cmd-linkchannel = Link a channel you admin
cmd-unlinkchannel = Unlink a channel you linked

feeds-kind-signals = Signals
feeds-kind-risk = Risk alerts
feeds-level-on = On
feeds-level-silent = Silent
feeds-level-off = Off
feeds-this-chat = this chat

feeds-title = 📡 <b>Feeds</b> — { $chat }
feeds-line = { $icon } <b>{ $kind }</b>: { $coins }{ $timeframes } · { $level }{ $topic }{ $paused }
feeds-line-none = { $icon } <b>{ $kind }</b>: not subscribed
feeds-line-topic = 📌 in a topic
feeds-line-paused = ⏸ paused
feeds-plan = Plan <b>{ $plan }</b>: { $used } of { $feeds } feeds used, up to { $coins } coins per feed.
feeds-delay = ⏱ On the { $plan } plan signals arrive { $minutes } min after they are published. Upgrade for real-time signals.
feeds-admins-only = 🔒 Only the chat's administrators can change its feeds.

feeds-button-add = ➕ Subscribe to { $kind }
feeds-button-remove = ➖ Unsubscribe from { $kind }
feeds-button-topic-here = 📌 Post in this topic
feeds-button-topic-general = ↩️ Move to General
feeds-button-upgrade = ⭐ Upgrade plan
feeds-button-manage = ⚙️ Manage its feeds

feeds-subscribe-usage =
    📡 <b>Subscribe</b> this chat to signals or risk alerts:
    <code>/subscribe BTC ETH 1h 4h</code> — signals for BTC and ETH on 1h and 4h
    <code>/subscribe SOL risk</code> — risk alerts for SOL
    /feeds shows and changes what this chat gets.
feeds-subscribed = ✅ Subscribed: <b>{ $coins }</b> ({ $kinds }).
feeds-unsubscribed = ✅ Unsubscribed.
feeds-unsubscribed-nothing = Nothing to unsubscribe from.
feeds-not-admin = 🔒 Only the chat's administrators can change its feeds and settings.
feeds-stale = This button is out of date. Send /feeds again.
feeds-last-coin = A feed needs at least one coin. To stop it, tap “Unsubscribe”.
feeds-limit-feeds = 🚫 Your <b>{ $plan }</b> plan allows { $limit } feeds. Upgrade to add more, or remove one first.
feeds-limit-coins = 🚫 Your <b>{ $plan }</b> plan allows { $limit } coins per feed. Upgrade for more coins.

feeds-resumed =
    👋 I'm back. { $count ->
        [one] This chat's feed is running again.
       *[other] This chat's { $count } feeds are running again.
    }
feeds-hello = 👋 Thanks for adding me! Admins can subscribe this chat to signals and risk alerts: <code>/subscribe BTC 4h</code>, or see /feeds.

feeds-link-how = 📢 To link a channel you administer, send its @name (e.g. <code>/linkchannel @mychannel</code>) or forward me a post from it. Make me an administrator of the channel with the right to post first.
feeds-link-private-only = 📢 Link channels in your private chat with me: /linkchannel @name there.
feeds-link-not-found = 🤔 I can't find a channel <b>{ $name }</b>. Check the @name, or forward me a post from the channel.
feeds-link-not-channel = <b>{ $name }</b> is not a channel. Groups manage their feeds themselves: add me there and use /feeds.
feeds-link-bot-not-admin = 🔒 I'm not an administrator of <b>{ $channel }</b> with the right to post messages. Add me as an admin with “Post messages”, then try again.
feeds-link-user-not-admin = 🔒 You're not an administrator of <b>{ $channel }</b>. Only its admins can link it.
feeds-link-done = ✅ <b>{ $channel }</b> is linked. Manage its feeds here with /feeds.

feeds-unlink-private-only = 📢 Unlink channels in your private chat with me: /unlinkchannel @name there.
feeds-unlink-none = 📢 You have no linked channels. Link one with <code>/linkchannel @name</code>.
feeds-unlink-list-title = 📢 <b>Your linked channels</b>
feeds-unlink-list-line = • <b>{ $channel }</b> — <code>{ $name }</code>{ $gone }
feeds-unlink-list-bot-gone = {" "}· I'm no longer in it
feeds-unlink-list-more = …and { $count } more: unlink those with <code>/unlinkchannel @name</code>.
feeds-unlink-list-how = Tap one to unlink it, or send <code>/unlinkchannel @name</code>. Its feeds stop with the link.
feeds-unlink-button = ✖️ Unlink { $channel }
feeds-unlink-button-yes = ✖️ Unlink and stop its feeds
feeds-unlink-button-back = ↩️ Back
feeds-unlink-confirm =
    Unlink <b>{ $channel }</b>? These feeds stop and are removed:
    { $feeds }
feeds-unlink-confirm-no-feeds = Unlink <b>{ $channel }</b>? It has no feeds.
feeds-unlink-done =
    ✅ <b>{ $channel }</b> is unlinked. Its feeds stopped and were removed:
    { $feeds }
    An admin of the channel can link it again with /linkchannel and set them up with /feeds.
feeds-unlink-done-no-feeds = ✅ <b>{ $channel }</b> is unlinked. It had no feeds.
feeds-unlink-bad-name = 🤔 <b>{ $name }</b> is not a channel name. Send <code>/unlinkchannel @name</code> (or the channel's numeric id), or /unlinkchannel alone for your list.
feeds-unlink-not-found = 🤔 I can't find a channel <b>{ $name }</b>. Send /unlinkchannel alone for the channels you linked.
feeds-unlink-not-channel = <b>{ $name }</b> is not a channel. Only channels are linked; groups manage their feeds themselves.
feeds-unlink-not-linked = 🤷 <b>{ $name }</b> is not linked to you, so there is nothing to unlink. Send /unlinkchannel alone for the channels you linked.
feeds-unlink-gone = This channel is no longer linked to you.

feeds-language-choose = 🌐 Choose the language for this chat:
feeds-language-set = ✅ This chat's language is now English.
