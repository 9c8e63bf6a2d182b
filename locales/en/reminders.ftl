# Plan expiry: reminders before a paid plan ends, and the message when it has (issue 11)

reminder-plan-expiring =
    ⏳ Your <b>{ $plan }</b> plan ends { $days ->
        [one] within a day
       *[other] within { $days } days
    }, on { $when }.

    Renew it to keep its free questions, feeds and alerts.
reminder-plan-expired =
    Your <b>{ $plan }</b> plan has ended, and you are on the Free plan now.

    Renew it any time to get its limits back.
reminder-renew-button = 🔄 Renew { $plan }
