cmd-start = 开始，看看我能做什么
cmd-help = 使用说明
cmd-language = 切换语言
cmd-settings = 我的设置
cmd-new = 开始新对话
cmd-price = 快速报价：/price BTC
cmd-chart = K线图：/chart ETH 4h
cmd-balance = 套餐、免费次数和积分
cmd-buy = 购买积分或套餐
cmd-plan = 我的套餐与订阅
cmd-invite = 邀请好友赚积分

welcome =
    👋 你好，<b>{ $name }</b>！我是 <b>Coinsight</b>，你的加密市场分析师。

    用中文或英文直接问我任何币种：
    • <i>比特币今天怎么样</i>
    • <i>SOL 4小时走势如何？</i>
    • <i>对比一下 BTC 和 ETH</i>

    我会用交易所实时数据、技术分析（趋势、动能、关键价位、波动率）和K线图回答你，并记住对话上下文方便追问。

    发送 /help 查看全部功能。
welcome-back = 👋 欢迎回来，<b>{ $name }</b>！直接问我任何币种，或发送 /help。

help =
    <b>我能做什么</b>

    💬 <b>直接提问</b> —— “比特币怎么样”、“ETH 日线”、“以太坊 4小时”。追问时会记住币种。
    💹 /price <code>币种</code> —— 价格、24小时涨跌、成交量、资金费率
    📈 /chart <code>币种</code> [<code>周期</code>] —— 带均线和关键价位的K线图
    🔔 /alert <code>币种</code> 高于 <code>价格</code> 或 ±<code>%</code> <code>窗口</code> —— 价格提醒；/alerts 查看
    📌 /position add <code>币种</code> 多 10倍 开仓 <code>价格</code> —— 强平价与预警；/positions 查看
    🆕 /new —— 清空上下文，开始新对话
    🌐 /language —— English 或 中文
    📡 /subscribe <code>币种</code> [<code>周期</code>] [<code>signals|risk</code>]、/unsubscribe、/feeds —— 信号与风险订阅(群组中限管理员)
    📢 /linkchannel <code>@频道</code> —— 在这里管理频道的订阅；/unlinkchannel —— 解绑
    📊 /performance [<code>币种</code>] [<code>周期</code>] [30d|90d|all] —— 信号的历史表现；/digest on|off —— 在本聊天每周发送
    ⚙️ /settings —— 我的设置

    周期：5m、15m、1h、4h、1d、1w。
    <i>分析仅供参考，不构成投资建议。市场有风险。</i>

language-choose = 🌐 请选择语言：
language-set = ✅ 语言已切换为中文。
settings =
    ⚙️ <b>设置</b>

    语言：{ $language }
settings-language-button = 🌐 切换语言

unknown-command = 我不认识这个命令。发送 /help 查看我能做什么。
non-text = 我能理解文字消息。问我任何币种，例如：<i>比特币怎么样？</i>
throttled = ⏳ 你发消息太快了，请稍等片刻，我马上就能继续回复。
error-generic = ⚠️ 我这边出了点问题，请稍后再试。
banned = 你使用本机器人的权限已被暂停。
