# 分析回答中没有实时数据支持的数字（services/chat/numbers.py）
numbers-unverified = （⚠️ 未核实）
numbers-note = _⚠️ 标注“未核实”的数字不在我获得的实时行情数据中 —— 请勿据此交易。_
