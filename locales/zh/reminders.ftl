# 套餐到期：付费套餐到期前的提醒，以及到期后的通知（issue 11）

reminder-plan-expiring =
    ⏳ 你的 <b>{ $plan }</b> 套餐将在 { $days } 天内到期（{ $when }）。

    续费即可继续享有它的免费提问、信号订阅和价格提醒。
reminder-plan-expired =
    你的 <b>{ $plan }</b> 套餐已到期，现已切换为免费版。

    随时续费即可恢复套餐权益。
reminder-renew-button = 🔄 续费 { $plan }
