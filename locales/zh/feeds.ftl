# Feeds: /subscribe, /unsubscribe, /feeds, /linkchannel, /unlinkchannel, group language
cmd-feeds = 你的信号与风险订阅
cmd-subscribe = 订阅:/subscribe BTC ETH 4h
cmd-unsubscribe = 取消订阅币种或订阅
cmd-linkchannel = 绑定你管理的频道
cmd-unlinkchannel = 解绑你绑定的频道

feeds-kind-signals = 信号
feeds-kind-risk = 风险提醒
feeds-level-on = 开启
feeds-level-silent = 静音
feeds-level-off = 关闭
feeds-this-chat = 本聊天

feeds-title = 📡 <b>订阅</b> — { $chat }
feeds-line = { $icon } <b>{ $kind }</b>:{ $coins }{ $timeframes } · { $level }{ $topic }{ $paused }
feeds-line-none = { $icon } <b>{ $kind }</b>:未订阅
feeds-line-topic = 📌 发在话题中
feeds-line-paused = ⏸ 已暂停
feeds-plan = <b>{ $plan }</b> 套餐:已用 { $used }/{ $feeds } 个订阅,每个订阅最多 { $coins } 个币种。
feeds-delay = ⏱ { $plan } 套餐的信号会在发布 { $minutes } 分钟后送达。升级即可实时接收。
feeds-admins-only = 🔒 只有本聊天的管理员可以修改订阅。

feeds-button-add = ➕ 订阅{ $kind }
feeds-button-remove = ➖ 取消订阅{ $kind }
feeds-button-topic-here = 📌 发到这个话题
feeds-button-topic-general = ↩️ 移回 General
feeds-button-upgrade = ⭐ 升级套餐
feeds-button-manage = ⚙️ 管理它的订阅

feeds-subscribe-usage =
    📡 为本聊天<b>订阅</b>信号或风险提醒:
    <code>/subscribe BTC ETH 1h 4h</code> — BTC 和 ETH 在 1h、4h 上的信号
    <code>/subscribe SOL risk</code> — SOL 的风险提醒
    /feeds 查看并修改本聊天的订阅。
feeds-subscribed = ✅ 已订阅:<b>{ $coins }</b>({ $kinds })。
feeds-unsubscribed = ✅ 已取消订阅。
feeds-unsubscribed-nothing = 没有可取消的订阅。
feeds-not-admin = 🔒 只有本聊天的管理员可以修改订阅和设置。
feeds-stale = 这个按钮已过期,请重新发送 /feeds。
feeds-last-coin = 每个订阅至少要有一个币种。要停止它,请点“取消订阅”。
feeds-limit-feeds = 🚫 你的 <b>{ $plan }</b> 套餐最多 { $limit } 个订阅。升级以添加更多,或先删除一个。
feeds-limit-coins = 🚫 你的 <b>{ $plan }</b> 套餐每个订阅最多 { $limit } 个币种。升级以添加更多币种。

feeds-resumed = 👋 我回来了。本聊天的 { $count } 个订阅已恢复推送。
feeds-hello = 👋 感谢添加我!管理员可以为本聊天订阅信号和风险提醒:<code>/subscribe BTC 4h</code>,或查看 /feeds。

feeds-link-how = 📢 要绑定你管理的频道,请发送它的 @用户名(例如 <code>/linkchannel @mychannel</code>),或转发一条该频道的消息给我。请先把我设为频道管理员并授予发布消息权限。
feeds-link-private-only = 📢 请在与我的私聊中绑定频道:在那里发送 /linkchannel @用户名。
feeds-link-not-found = 🤔 找不到频道 <b>{ $name }</b>。请检查 @用户名,或转发一条该频道的消息给我。
feeds-link-not-channel = <b>{ $name }</b> 不是频道。群组可以自己管理订阅:把我加进群后使用 /feeds。
feeds-link-bot-not-admin = 🔒 我不是 <b>{ $channel }</b> 的管理员,或没有发布消息的权限。请把我设为管理员并开启“发布消息”后再试。
feeds-link-user-not-admin = 🔒 你不是 <b>{ $channel }</b> 的管理员。只有频道管理员可以绑定它。
feeds-link-done = ✅ 已绑定 <b>{ $channel }</b>。在这里用 /feeds 管理它的订阅。

feeds-unlink-private-only = 📢 请在与我的私聊中解绑频道:在那里发送 /unlinkchannel @用户名。
feeds-unlink-none = 📢 你还没有绑定任何频道。用 <code>/linkchannel @用户名</code> 绑定一个。
feeds-unlink-list-title = 📢 <b>你绑定的频道</b>
feeds-unlink-list-line = • <b>{ $channel }</b> —— <code>{ $name }</code>{ $gone }
feeds-unlink-list-bot-gone = {" "}· 我已不在该频道
feeds-unlink-list-more = …另有 { $count } 个:请用 <code>/unlinkchannel @用户名</code> 解绑。
feeds-unlink-list-how = 点击一个频道即可解绑,或发送 <code>/unlinkchannel @用户名</code>。解绑后它的订阅会停止。
feeds-unlink-button = ✖️ 解绑 { $channel }
feeds-unlink-button-yes = ✖️ 解绑并停止它的订阅
feeds-unlink-button-back = ↩️ 返回
feeds-unlink-confirm =
    解绑 <b>{ $channel }</b>?以下订阅将停止并删除:
    { $feeds }
feeds-unlink-confirm-no-feeds = 解绑 <b>{ $channel }</b>?它没有订阅。
feeds-unlink-done =
    ✅ 已解绑 <b>{ $channel }</b>。它的订阅已停止并删除:
    { $feeds }
    频道管理员可以用 /linkchannel 重新绑定,再用 /feeds 重新设置订阅。
feeds-unlink-done-no-feeds = ✅ 已解绑 <b>{ $channel }</b>。它没有订阅。
feeds-unlink-bad-name = 🤔 <b>{ $name }</b> 不是有效的频道名。请发送 <code>/unlinkchannel @用户名</code>(或频道的数字 ID),或只发送 /unlinkchannel 查看你的列表。
feeds-unlink-not-found = 🤔 找不到频道 <b>{ $name }</b>。只发送 /unlinkchannel 可查看你绑定的频道。
feeds-unlink-not-channel = <b>{ $name }</b> 不是频道。只有频道需要绑定,群组可以自己管理订阅。
feeds-unlink-not-linked = 🤷 <b>{ $name }</b> 没有绑定到你,无需解绑。只发送 /unlinkchannel 可查看你绑定的频道。
feeds-unlink-gone = 这个频道已不再绑定到你。

feeds-language-choose = 🌐 选择本聊天的语言:
feeds-language-set = ✅ 本聊天的语言已设为中文。
