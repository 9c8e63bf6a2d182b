# 对比（"比较 BTC 和 ETH"、"BTC vs ETH"）：规则分析的回答、数据表和图表说明。
compare-title = **{ $pairs } · { $timeframe }** —— 并列对比，数据来自 { $exchange }
compare-row-price = 价格
compare-row-change-24h = 24小时
compare-row-change-window = { $candles }根K线
compare-row-trend = 趋势
compare-row-rsi = RSI14
compare-row-atr = ATR
compare-row-funding = 资金费率/8小时
compare-row-support = 距支撑
compare-row-resistance = 距阻力
compare-trend-up = 上涨
compare-trend-down = 下跌
compare-trend-range = 震荡
compare-ratio-up = 呈上升趋势（{ $strength }）：{ $stronger } 相对 { $weaker } 走强
compare-ratio-down = 呈下降趋势（{ $strength }）：{ $stronger } 相对 { $weaker } 走强
compare-ratio-range = 横向震荡：两者没有明显强弱之分
compare-ratio-unknown = 历史数据太短，无法判断其趋势
compare-relative = **相对强弱：**过去 { $candles } 根K线中，{ $ratio } 比值从 { $start } 变为 { $end }（{ $change }）；近期{ $trend }。
compare-correlation-high = **相关性：**{ $candles } 根K线的收益相关系数为 { $value } —— 两者走势高度同步，同时持有几乎起不到分散风险的作用。
compare-correlation-moderate = **相关性：**{ $candles } 根K线的收益相关系数为 { $value } —— 两者经常同向波动，但各有起伏。
compare-correlation-low = **相关性：**{ $candles } 根K线的收益相关系数为 { $value } —— 两者基本各走各的。
compare-correlation-negative = **相关性：**{ $candles } 根K线的收益相关系数为 { $value } —— 两者往往反向波动。
compare-correlation-unknown = **相关性：**共同的K线太少，无法计算。
compare-verdict-leader = ⚖️ **结论：**在 { $timeframe } 周期上 { $stronger } 更强 —— 区间内 { $stronger_change } 对比 { $weaker_change }。只要 { $ratio } 比值保持这一方向，做多优先考虑 { $stronger }，做空优先考虑 { $weaker }。
compare-verdict-earlier = ⚖️ **结论：**在 { $timeframe } 周期上，区间内 { $stronger } 更强 —— { $stronger_change } 对比 { $weaker_change } —— 但 { $ratio } 比值近期已转为横盘：目前没有相对强弱上的优势，请按各自的关键价位分别操作。
compare-verdict-none = ⚖️ **结论：**在 { $timeframe } 周期上没有明显的强者 —— 区间内 { $first } { $first_change } 对比 { $second } { $second_change }；请按各自的关键价位分别操作。
compare-caption-title = 📊 <b>{ $pairs }</b> · { $timeframe } · { $exchange }
compare-caption-changes = 以 100 为基准，{ $candles } 根K线：{ $changes }
compare-caption-correlation = 相关系数 { $value } · { $ratio } 比值 { $change }
compare-caption-note = <i>最新K线 { $time } · 不构成投资建议</i>
compare-verdict-many = ⚖️ **结论：**在 { $timeframe } 周期上，三者中 { $stronger } 最强（区间内 { $changes }）{ $weakest ->
        [yes] ，{ $weaker } 最弱。
       *[no] 。
    }
compare-verdict-none-many = ⚖️ **结论：**在 { $timeframe } 周期上，{ $coins } 之间没有明显的强者（区间内 { $changes }）；请按各自的关键价位分别操作。
