# Credits, plans, payments, invites and the admin refund (issue 5)

cmd-paysupport = Help with payments
cmd-history = All credit transactions

# Products
package-name-starter = Starter
package-name-standard = Standard
package-name-premium = Premium
package-name-pro = Pro
plan-name-free = Free
plan-name-vip = VIP
plan-name-pro = Pro
plan-no-expiry = no expiry

# /buy
buy-title =
    🛒 <b>Credits and plans</b>

    Every day you get free questions; credits pay for questions beyond them. A plan gives you more free questions a day, more signal feeds and more price alerts.
buy-packages-header = <b>Credit packages</b>
buy-package-line = • { $title }: <b>{ $credits }</b> credits for { $price } ⭐
buy-package-line-bonus = • { $title }: <b>{ $credits }</b> credits (incl. { $bonus } bonus) for { $price } ⭐
buy-recommended = 🔥 <i>best value</i>
buy-package-button = { $title } · { $credits } credits · { $price } ⭐
buy-package-button-recommended = 🔥 { $title } · { $credits } credits · { $price } ⭐
buy-plans-header = <b>Plans</b>
buy-plan-line = • { $title }: { $questions } free questions a day, up to { $feeds } feeds and { $alerts } price alerts, { $days } days for { $price } ⭐
buy-plan-button = 👑 { $title } plan · { $days } days · { $price } ⭐
buy-nothing-on-sale = Nothing is on sale right now. Please come back later.
buy-terms = <i>Terms: you pay in Telegram Stars ⭐. Credits never expire and can't be transferred. A plan is a subscription: it renews every 30 days until you cancel it (/plan, or in Telegram), and stays until the paid period ends. Purchases you haven't used can be refunded, see /paysupport. By paying you accept these terms.</i>
buy-not-on-sale = Sorry, this item is no longer on sale. Send /buy to see what is.
buy-higher-plan-active = Your { $current } plan is active and includes more than this one. Renew { $current } instead.

# Invoice (plain text, no HTML)
invoice-title-package = { $title }: { $credits } credits
invoice-title-plan = { $title } plan, { $days } days
invoice-package-description = { $credits } Coinsight credits{ $bonus ->
        [0] {""}
       *[other] , including { $bonus } bonus credits
    }. Credits pay for questions beyond your daily free quota and never expire.
invoice-plan-description = Coinsight { $title } plan for { $days } days: more free questions every day, more signal feeds and price alerts.

# Pre-checkout refusals (plain text, shown by Telegram)
precheckout-unknown-invoice = This invoice is not valid any more. Please send /buy and try again.
precheckout-wrong-user = This invoice was made for another user. Send /buy to get your own.
precheckout-already-paid = This invoice is already paid. Send /balance to check your credits.
precheckout-not-on-sale = Sorry, this item is no longer on sale. Send /buy to see what is.
precheckout-banned = Your access to this bot is suspended, so it can't take payments from you.
precheckout-amount-mismatch = The price has changed since this invoice was made. Please send /buy and try again.
precheckout-higher-plan-active = A higher plan is active on your account now, so this plan isn't needed. Send /balance to check.
precheckout-unavailable = Payments are temporarily unavailable. Nothing was charged; please try again in a minute.

# Receipts
receipt-credits =
    ✅ <b>Payment received</b>: { $amount } ⭐

    +{ $credits } credits. Your balance: <b>{ $balance }</b> { $balance ->
        [one] credit
       *[other] credits
    }.
    Thank you! Questions about this payment: /paysupport
receipt-plan =
    ✅ <b>Payment received</b>: { $amount } ⭐

    Your <b>{ $plan }</b> plan is active until <b>{ $until }</b>.
    Thank you! Questions about this payment: /paysupport
receipt-subscription =
    ✅ <b>Payment received</b>: { $amount } ⭐

    Your <b>{ $plan }</b> plan is active until <b>{ $until }</b>. It renews every 30 days until you cancel it: see /plan.
    Thank you! Questions about this payment: /paysupport
receipt-renewal =
    ✅ <b>Subscription renewed</b>: { $amount } ⭐

    Your <b>{ $plan }</b> plan is now active until <b>{ $until }</b>. Manage the subscription: /plan
payment-unmatched =
    ⚠️ Your payment arrived, but I couldn't match it to an order. Nothing is lost: send /paysupport with a short note and this payment ID, and an operator will sort it out:
    <code>{ $charge }</code>

# /balance and /history
balance-title = 💼 <b>Your balance</b>
balance-plan = Plan: <b>{ $plan }</b>
balance-plan-until = Plan: <b>{ $plan }</b> until { $until }
balance-plan-expired = <i>Your paid plan has expired; /buy renews it.</i>
balance-free = Free questions left today: <b>{ $left }</b> of { $total }
balance-credits = Credits: <b>{ $credits }</b> (a question beyond the free ones costs { $cost })
balance-recent-header = <b>Recent transactions</b>
balance-footer = /buy to top up · /history for all transactions · /invite to earn credits
history-title = 📜 <b>Credit history</b>, page { $page }
history-empty = No transactions yet.
history-page-empty = No more transactions.
history-prev = ◀ Newer
history-next = Older ▶
tx-line = { $amount } · { $what } · { $time } · balance { $balance }
tx-purchase = purchase
tx-refund = refund
tx-question = question
tx-hold-release = question not answered, returned
tx-invite-first = invite reward
tx-invite-purchase = invite reward (friend's purchase)
tx-invite-purchase-refund = invite reward taken back (refund)
tx-other = { $category }

# /paysupport
paysupport =
    🛟 <b>Help with payments</b>

    Payments here are in Telegram Stars and are handled by this bot, so Telegram's support can't help with them, but we can.
    If credits or a plan didn't arrive, you were charged twice, or you want a refund for something you haven't used, send <code>/paysupport</code> followed by a short description, for example:
    <code>/paysupport I paid but got no credits</code>
    Include the payment ID from the list below. An operator will get back to you.
paysupport-payments-header = <b>Your recent payments</b>
paysupport-no-payments = You haven't made any payments yet.
paysupport-payment-line =
    • { $time }: { $what }, { $amount } ⭐, { $status }
      ID: <code>{ $charge }</code>
paysupport-what-credits = { $title }, { $credits } credits
paysupport-what-plan = { $title } plan
paysupport-status-paid = paid
paysupport-status-refunded = refunded
paysupport-sent = ✅ Your request was sent to our operators. They'll contact you here in Telegram.
paysupport-unavailable = Sorry, no operator can be reached right now. Please try again later; your payments are safe.
paysupport-request =
    🛟 <b>Payment support request</b>
    From: { $name } ({ $username }, id <code>{ $telegram_id }</code>)

    { $request }

    { $payments }

# Commands that only work in a private chat
private-only = Balances and payments are private: please use this command in a private chat with me.
private-only-button = Open a private chat

# Out of credits (chat flow)
out-of-credits =
    🪫 <b>You've used today's free questions</b> { $available ->
        [0] and have no credits left.
       *[other] and have { $available } { $available ->
            [one] credit
           *[other] credits
        } left; a question costs { $cost }.
    }

    Buy credits or a plan with Telegram Stars, or invite friends to earn free credits. Free questions renew at 00:00 UTC.
out-of-credits-buy = 🛒 Buy credits
out-of-credits-invite = 🎁 Invite friends

# /invite
invite-text =
    🎁 <b>Invite friends, earn credits</b>

    Your personal link:
    { $link }

    For every friend who starts the bot with it you get <b>{ $reward }</b> credits after their first question, and <b>{ $percent }%</b> of the credits they buy.

    Joined through your link: <b>{ $invited }</b>
    Credits earned: <b>{ $earned }</b>
invite-share-button = 📤 Share my link
invite-share-text = Coinsight analyses any crypto coin for you, with live data and charts. Try it:
invite-joined = 🎉 <b>{ $name }</b> joined with your invite link. You'll get { $reward } credits after their first question, and { $percent }% of the credits they buy.
invite-reward-first =
    🎁 A friend you invited asked their first question: you earned <b>{ $credits }</b> { $credits ->
        [one] credit
       *[other] credits
    }. Balance: { $balance }.
invite-reward-purchase =
    🎁 A friend you invited bought credits: you earned <b>{ $credits }</b> { $credits ->
        [one] credit
       *[other] credits
    }. Balance: { $balance }.

# /refund (admins)
refund-usage = Usage: <code>/refund charge_id</code>, or <code>/refund charge_id force</code> to refund even if some of the credits were spent.
refund-unknown = No payment with charge ID <code>{ $charge }</code>.
refund-not-paid = Payment <code>{ $charge }</code> isn't paid, so there is nothing to refund.
refund-already = ↩️ Payment <code>{ $charge }</code> was already refunded. Nothing changed.
refund-credits-spent =
    ⚠️ Not refunded: the user has already spent { $shortfall } of the { $credits } credits this payment gave, so only { $debit } can be taken back.
    To refund the { $amount } ⭐ anyway, send:
    <code>/refund { $charge } force</code>
refund-telegram-error = ❌ Telegram refused the refund ({ $error }). Nothing changed.
refund-done = ✅ Refunded { $amount } ⭐ to user <code>{ $user }</code> (payment #{ $payment }, <code>{ $charge }</code>).
refund-done-credits = Credits taken back: { $debited } of { $credits }. User's balance now: { $balance }.
refund-done-shortfall = { $shortfall } credits had been spent and were not taken back.
refund-done-plan = Plan now: { $plan }.
refund-done-plan-until = Plan now: { $plan } until { $until }.
refund-done-inviter = Inviter's reward taken back: { $credits } credits.
refund-done-renewal-stopped = The subscription's renewal is stopped: it won't be charged again.
refund-done-renewal-failed = ⚠️ Telegram refused to stop the subscription's renewal: it will be charged again unless the user cancels it.

# Plans as Telegram Stars subscriptions (/buy → a link to Telegram's payment form)
subscribe-offer =
    👑 <b>{ $plan }</b> plan: { $price } ⭐ every { $days } days, as a Telegram Stars subscription.
    It renews by itself until you cancel it (in /plan or in Telegram); the plan stays until the paid period ends.
subscribe-button = Subscribe for { $price } ⭐
subscription-canceled-notice = Your <b>{ $plan }</b> subscription is canceled and won't renew. Your plan stays until <b>{ $until }</b>.
subscription-resumed-notice = Your <b>{ $plan }</b> subscription is on again: it renews on <b>{ $until }</b>.
subscription-failed-notice = The renewal payment for your <b>{ $plan }</b> subscription didn't go through, so it has ended. Your plan stays until <b>{ $until }</b>; send /buy to subscribe again.
subscription-failed-ended-notice = The renewal payment for your <b>{ $plan }</b> subscription didn't go through, so it has ended, and so has the plan. Send /buy to subscribe again.
subscription-replaced-notice = Your <b>{ $new }</b> subscription replaces <b>{ $plan }</b>: { $plan } won't renew any more (it stays paid until { $until }).
subscription-replaced-failed = I couldn't stop the renewal of your <b>{ $plan }</b> subscription, which your new plan replaces. Please cancel it in /plan or in Telegram (Settings → My Stars).

# /plan
plan-view-title = 👑 <b>Your plan</b>
plan-view-plan = Plan: <b>{ $plan }</b>
plan-view-until = Plan: <b>{ $plan }</b> until { $until }
plan-view-none = No subscription. Send /buy to subscribe to a plan.
plan-view-renews = Subscription: { $plan }, renews on { $until } (every 30 days).
plan-view-canceled = Subscription: { $plan }, canceled: it won't renew, the plan stays until { $until }.
plan-view-canceled-in-telegram = Subscription: { $plan }, canceled in Telegram: it won't renew, the plan stays until { $until }. To resume it, turn it back on in Telegram (Settings → My Stars).
plan-view-ended = Subscription: { $plan }, ended. Send /buy to subscribe again.
plan-cancel-button = Cancel renewal
plan-resume-button = Resume renewal
plan-renewal-canceled = Renewal canceled. Your plan stays until the paid period ends.
plan-renewal-resumed = Renewal resumed.
plan-renewal-stale = This button is out of date. Send /plan again.
plan-renewal-ended = This subscription has ended. Send /buy to subscribe again.
plan-renewal-in-telegram = You canceled this subscription in Telegram, so only you can turn it back on there: Settings → My Stars.
plan-renewal-failed = Telegram didn't accept the change. Nothing was changed; please try again later.
