"""Credits, plans, charging, payments and invites (issue 5's core). No aiogram here.

Modules: `ledger` (credit/debit/revoke, balance, history), `holds` (credit holds and free-quota
slots: reserve/capture/release, sweeper), `plans` (effective plan, extend, quota status, expiry
reminders), `charging` (ChargePolicy, CreditsPolicy, the `charged` lifecycle), `payments` (offers,
invoices, pre-checkout, successful payment), `refunds` (prepare/apply), `invites` (bind, rewards,
stats, codes), `config` (CreditsConfig, answer_hold_ttl), `errors` (CreditsError and its `code`s).
"""
