# 演示模式（`make demo`）：控制台显示的每条消息都带有此标签。
demo-label = 🧪 演示数据 —— 并非实时行情
demo-intro =
    🧪 演示模式：行情数据由本地替身交易所生成，回答来自本地替身模型，使用测试星星支付。这里的一切都不是实时数据。
    试试：BTC 4h · /price ETH · /chart SOL 1d · /buy · /invite
