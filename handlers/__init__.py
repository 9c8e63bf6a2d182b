"""Routers, one module per flow; `setup_routers` fixes their order (fallbacks last).

Each module builds a fresh Router per dispatcher (`build_router`), so several dispatchers (tests,
console mode) can live in one process.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Router

from handlers import (
    admin,
    alerts,
    channel_links,
    chat,
    common,
    credits,
    errors,
    fallback,
    feeds,
    groups,
    invites,
    market,
    membership,
    payments,
    performance,
    plan,
    positions,
    signals_admin,
)


def setup_routers(extra: Sequence[Router] = ()) -> Router:
    root = Router(name="root")
    credit_routers = (
        payments.build_router(),
        credits.build_router(),
        invites.build_router(),
        admin.build_router(),
        plan.build_router(),  # after admin: an operator's /plan is theirs
    )
    root.include_routers(
        errors.build_router(),
        groups.build_router(),  # before common: /language in groups is for their admins
        channel_links.build_router(),
        common.build_router(),
        membership.build_router(),
        *credit_routers,
        signals_admin.build_router(),
        *extra,
        feeds.build_router(),
        performance.build_router(),
        alerts.build_router(),
        positions.build_router(),
        market.build_router(),
        chat.build_router(),
        fallback.build_router(),
    )
    return root
