"""Credits, plans, charging, payments and invites (issue 5's core). No aiogram here.

Modules: `ledger` (credit/debit/revoke, balance, history), `holds` (reserve/capture/release,
sweeper), `plans` (effective plan, extend, quota status, expiry reminders), `charging`
(ChargePolicy, CreditsPolicy), `payments` (offers, invoices, pre-checkout,
successful payment), `refunds` (prepare/apply), `invites` (bind, rewards, stats, codes),
`config` (CreditsConfig), `errors` (CreditsError and its `code`s).
"""
