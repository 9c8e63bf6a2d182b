"""Operators' tools (issue 14), no aiogram here: `stats` (/stats aggregates and LLM cost),
`users` (find a user, their profile, grant/revoke credits, set a plan, ban), `audit` is
services/audit.py."""
