"""Operators' overview: the /admin menu, /stats and /audit (and the menu's buttons). Registered on
the admin router (operators only, private chats)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from handlers.admin_views import audit_text, menu_keyboard, stats_text
from handlers.callbacks import AdminMenuCallback, AdminSection
from services.admin.stats import collect_stats
from services.admin.users import UserRef, find_user, record_refusal
from services.audit import AUDIT_MAX_ROWS, recent_actions, record_admin_action
from services.container import Services
from services.i18n import Translator
from services.uow import Session

AUDIT_DEFAULT_ROWS = 10


def parse_audit_args(args: str | None) -> tuple[int, UserRef | None] | None:
    """`[n] [user]`: a number up to AUDIT_MAX_ROWS is the row count; a user is an @username or a
    Telegram id (any number above that)."""
    parts = (args or "").split()
    if len(parts) > 2:
        return None
    count, ref = AUDIT_DEFAULT_ROWS, None
    if parts and parts[0].isdigit() and 0 < int(parts[0]) <= AUDIT_MAX_ROWS:
        count = int(parts.pop(0))
    if parts:
        ref = UserRef.parse(parts.pop(0))
        if ref is None or parts:
            return None
    return count, ref


def _actor(message: Message) -> int:
    assert message.from_user is not None
    return message.from_user.id


async def admin_menu(message: Message, session: Session, t: Translator) -> None:
    await record_admin_action(session, _actor(message), "menu", None, "opened")
    await message.answer(t("admin-menu"), reply_markup=menu_keyboard(t))


async def _stats_text(session: Session, t: Translator, services: Services, actor: int) -> str:
    stats = await collect_stats(session, services.llm_prices, rate_limits=services.rate_limits)
    await record_admin_action(session, actor, "stats", None, f"users={stats.users.total}")
    return stats_text(t, stats)


async def stats(message: Message, session: Session, t: Translator, services: Services) -> None:
    await message.answer(await _stats_text(session, t, services, _actor(message)))


async def _audit_text(session: Session, t: Translator, actor: int, count: int, ref: UserRef | None) -> str:
    # A user's rows carry their Telegram id as the target; an @username is looked up through /user's
    # lookup first (rows about a user who left the database still match by id).
    target: str | None = None
    if ref is not None:
        target = str(ref.telegram_id) if ref.telegram_id is not None else None
        if target is None:
            user = await find_user(session, ref)
            if user is None:
                await record_refusal(session, actor, "audit", str(ref), "no such user")
                return t("admin-no-user", user=str(ref))
            target = str(user.telegram_id)
    rows = await recent_actions(session, count, target)
    await record_admin_action(session, actor, "audit", target, f"viewed {len(rows)} rows")
    return audit_text(t, rows, target)


async def audit(message: Message, command: CommandObject, session: Session, t: Translator) -> None:
    parsed = parse_audit_args(command.args)
    if parsed is None:
        await record_refusal(session, _actor(message), "audit", None, f"usage: {(command.args or '')[:200]!r}")
        await message.answer(t("admin-usage-audit"))
        return
    await message.answer(await _audit_text(session, t, _actor(message), *parsed))


async def menu_button(
    query: CallbackQuery, callback_data: AdminMenuCallback, session: Session, t: Translator, services: Services
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    actor = query.from_user.id
    section = callback_data.section
    if section is AdminSection.STATS:
        text = await _stats_text(session, t, services, actor)
    elif section is AdminSection.AUDIT:
        text = await _audit_text(session, t, actor, AUDIT_DEFAULT_ROWS, None)
    elif section is AdminSection.USERS:
        text = t("admin-help-users")
    else:
        text = t("admin-help-credits")
    await query.message.answer(text)


def register(router: Router) -> None:
    """On the admin router (its filters: operators, private chats)."""
    router.message.register(admin_menu, Command("admin"))
    router.message.register(stats, Command("stats"))
    router.message.register(audit, Command("audit"))
    router.callback_query.register(menu_button, AdminMenuCallback.filter())
