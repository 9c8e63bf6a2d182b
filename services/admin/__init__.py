"""Operators' tools (issue 14), no aiogram here: `stats` (/stats aggregates and LLM cost),
`prices` (LLM_PRICES), `throttled` (Telegram's 429s per minute, noted by the outgoing limiter),
`users` (find a user, their profile, grant/revoke credits, set a plan, ban). The audit log itself is
services/audit.py."""
