# /broadcast（运营，issue 14）

broadcast-usage =
    用法：<code>/broadcast &lt;对象&gt; &lt;文本&gt;</code>，或回复要复制的消息并发送 <code>/broadcast &lt;对象&gt;</code>（保留格式和媒体）。
    对象：<code>all</code>（全部）、套餐（<code>free</code>、<code>vip</code>、<code>pro</code>）或语言（<code>en</code>、<code>zh</code>）。
    <code>/broadcast cancel [id]</code> 停止尚未发出的部分。
    例如 <code>/broadcast vip 新功能：15 分钟 K 线价格提醒！</code>
broadcast-audience-all = 全部用户
broadcast-audience-free = 免费套餐用户
broadcast-audience-vip = VIP 套餐用户
broadcast-audience-pro = Pro 套餐用户
broadcast-audience-en = 英文用户
broadcast-audience-zh = 中文用户
broadcast-preview = 📣 <b>群发预览</b>：上面这条消息将发给{ $audience }，共 <b>{ $users }</b> 人（已屏蔽机器人的用户会被跳过）。
broadcast-button-confirm = ✅ 发送
broadcast-button-cancel = ✖️ 取消
broadcast-draft-gone = 此预览已过期或已处理。
broadcast-dropped = 📣 群发已取消：未发送任何消息。
broadcast-empty = 没有可发送的对象：目前没有{ $audience }。
broadcast-too-long = 这条消息无法群发：超过 Telegram 的长度上限（{ $limit } 个字符）。
broadcast-not-copyable = 这条消息无法复制给用户（Telegram 返回：{ $error }）。
broadcast-progress = 📣 <b>群发 #{ $id }</b> 发给{ $audience }：共 { $total } 条
broadcast-counts = ✅ 已发送 { $sent } · ⚠️ 失败 { $failed } · 🚫 已屏蔽 { $blocked } · ⏳ 剩余 { $remaining }
broadcast-eta = 预计还需 { $eta } · 已运行 { $elapsed }
broadcast-took = 用时 { $elapsed }。
broadcast-cancelled-count = ✖️ 已取消 { $cancelled }
broadcast-summary = 📣 <b>群发 #{ $id } 已完成</b>（{ $audience }，共 { $total } 条）
broadcast-summary-cancelled = 📣 <b>群发 #{ $id } 已停止</b>（{ $audience }，共 { $total } 条）
broadcast-cancel-done = ✖️ 群发 #{ $id }：{ $stopped } 条消息将不再发送。
broadcast-nothing-to-cancel = 当前没有正在进行的群发。
