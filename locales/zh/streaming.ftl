# 分析师的回答正在生成时（私聊中的消息草稿，群组中的消息编辑）。
stream-thinking = 🤔 正在查看行情…
stream-stop-button = ⏹ 停止
stream-stopped = ⏹ 已停止 —— 本次不扣费。
stream-stop-not-yours = 只有提问的人可以停止这个回答。
stream-stop-too-late = 这个回答已经完成了。
chat-leak-refused = 我是 Coinsight 市场分析师 —— 内部工作笔记不对外公开。问我某个币、某个价位或某个周期，我来帮你分析数据。
