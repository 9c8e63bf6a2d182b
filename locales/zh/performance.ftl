# 历史表现：/performance、每周摘要、/digest
cmd-performance = 信号的历史表现

performance-title = 📊 <b>信号历史表现</b> — { $scope }
performance-all-coins = 全部币种
performance-all-timeframes = 全部周期
performance-period-30d = 最近 30 天
performance-period-90d = 最近 90 天
performance-period-all = 全部时间
performance-none = 此范围内还没有已结束的信号。
performance-strategy = <b>{ $strategy } v{ $version }</b>：已结束 { $signals } 个信号（盈利 { $wins }，亏损 { $losses }）
performance-unfilled = { $count } 个限价入场从未成交：不算交易，不计入下列数据。
performance-too-few = 仅有 { $trades } 笔已评估的交易：样本太少，数据没有意义（至少需要 { $needed } 笔）。
performance-undefined = 无
performance-win-rate = 胜率：{ $value }（n={ $n }）
performance-average-r = 平均结果：{ $value } R（n={ $n }）
performance-profit-factor = 盈亏比（总盈利/总亏损）：{ $value }（n={ $n }）
performance-expectancy = 期望值：每个信号 { $value }%（n={ $n }）
performance-max-drawdown = 最大回撤：{ $value } R（n={ $n }）
performance-sharpe = 夏普比率（按单个信号，未年化）：{ $value }（n={ $n }）
performance-sortino = 索提诺比率（按单个信号，未年化）：{ $value }（n={ $n }）
performance-kelly = 凯利比例：{ $value }（n={ $n }）
performance-footer = <i>已扣除手续费和滑点，来自每一个已结束的信号；每项数据都可以用存储的信号重新计算。过去的结果不代表未来。</i>
performance-usage =
    用法：<code>/performance [币种] [周期] [30d|90d|all]</code>
    例如：<code>/performance btc 4h 90d</code>

digest-title = 🗓 <b>每周信号摘要</b> — { $coins }
digest-week = 本周结束了 { $count } 个信号。
digest-period = 最近 90 天的历史表现：
digest-usage =
    用法：<code>/digest on</code> 或 <code>/digest off</code> —— 每周发送本聊天信号订阅的历史表现。
    对于你关联的频道，在私聊中发送：<code>/digest on 频道名称</code>。
digest-on = 🗓 每周摘要已开启：每周一本聊天会收到其信号订阅币种的历史表现。
digest-off = 每周摘要已关闭。
digest-no-feed = 本聊天还没有信号订阅：请先订阅，例如 <code>/subscribe BTC 4h</code>。
