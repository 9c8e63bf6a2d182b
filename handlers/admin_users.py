"""Operators' commands on one user: /user, /grant, /revoke, /plan, /ban, /unban, and the buttons
under a /user profile. Registered on the admin router (operators only, private chats): for anyone
else these are unknown commands. Every attempt, done or refused, is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from handlers.admin_views import audit_text, profile_text, user_keyboard
from handlers.callbacks import AdminUserAction, AdminUserCallback
from handlers.credits_ui import format_time, plan_title
from services.admin.users import (
    MAX_CREDITS,
    MAX_PLAN_DAYS,
    UserRef,
    UserRow,
    ban_user,
    change_credits,
    find_user,
    record_refusal,
    set_user_plan,
    user_profile,
)
from services.audit import recent_actions, record_admin_action
from services.container import Services
from services.i18n import Translator
from services.uow import Session

PLAN_CODES = ("free", "vip", "pro")
REASON_MAX = 200
USER_AUDIT_ROWS = 10
NOT_MODIFIED = "message is not modified"  # a refresh that found nothing new
USAGE_KEYS = {
    "user": "admin-usage-user",
    "grant": "admin-usage-grant",
    "revoke": "admin-usage-revoke",
    "plan": "admin-usage-plan",
    "ban": "admin-usage-ban",
    "unban": "admin-usage-unban",
}


@dataclass(frozen=True)
class CreditArgs:
    ref: UserRef
    amount: int
    reason: str


@dataclass(frozen=True)
class PlanArgs:
    ref: UserRef
    code: str
    days: int | None


def parse_credit_args(args: str | None) -> CreditArgs | None:
    """`<user> <credits> <reason>`."""
    parts = (args or "").split(maxsplit=2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    ref, amount, reason = UserRef.parse(parts[0]), int(parts[1]), parts[2].strip()
    if ref is None or not 0 < amount <= MAX_CREDITS or not reason or len(reason) > REASON_MAX:
        return None
    return CreditArgs(ref, amount, reason)


def parse_plan_args(args: str | None) -> PlanArgs | None:
    """`<user> <free|vip|pro> <days>` (free needs no days)."""
    parts = (args or "").split()
    if len(parts) not in (2, 3):
        return None
    ref, code = UserRef.parse(parts[0]), parts[1].lower()
    if ref is None or code not in PLAN_CODES:
        return None
    if len(parts) == 2:
        return PlanArgs(ref, code, None) if code == "free" else None
    if not parts[2].isdigit() or not 0 < int(parts[2]) <= MAX_PLAN_DAYS:
        return None
    return PlanArgs(ref, code, int(parts[2]))


def parse_user_arg(args: str | None, *, reason: bool = False) -> tuple[UserRef, str] | None:
    """`<user>` (or `<user> [reason]`)."""
    parts = (args or "").split(maxsplit=1)
    if not parts or (len(parts) > 1 and not reason):
        return None
    ref = UserRef.parse(parts[0])
    text = parts[1].strip() if len(parts) > 1 else ""
    if ref is None or len(text) > REASON_MAX:
        return None
    return ref, text


def _actor(message: Message) -> int:
    assert message.from_user is not None
    return message.from_user.id


async def _usage(message: Message, session: Session, t: Translator, action: str, args: str | None) -> None:
    await record_refusal(session, _actor(message), action, None, f"usage: {(args or '')[:200]!r}")
    await message.answer(t(USAGE_KEYS[action]))


async def _target(message: Message, session: Session, t: Translator, action: str, ref: UserRef) -> UserRow | None:
    user = await find_user(session, ref)
    if user is None:
        await record_refusal(session, _actor(message), action, str(ref), "no such user")
        await message.answer(t("admin-no-user", user=str(ref)))
    return user


# ----------------------------------------------------------------------------------------- /user
async def show_user(message: Message, command: CommandObject, session: Session, t: Translator) -> None:
    parsed = parse_user_arg(command.args)
    if parsed is None:
        await _usage(message, session, t, "user", command.args)
        return
    ref = parsed[0]
    profile = await user_profile(session, ref)
    if profile is None:
        await record_refusal(session, _actor(message), "user", str(ref), "no such user")
        await message.answer(t("admin-no-user", user=str(ref)))
        return
    await record_admin_action(session, _actor(message), "user", str(profile.user.telegram_id), "viewed")
    await message.answer(profile_text(t, profile), reply_markup=user_keyboard(t, profile))


# ----------------------------------------------------------------------------------------- /grant, /revoke
async def _credits(message: Message, command: CommandObject, session: Session, t: Translator, *, grant: bool) -> None:
    action = "grant" if grant else "revoke"
    parsed = parse_credit_args(command.args)
    if parsed is None:
        await _usage(message, session, t, action, command.args)
        return
    user = await _target(message, session, t, action, parsed.ref)
    if user is None:
        return
    # One command message is one change: the same update handled twice changes the balance once.
    reference = f"admin:{action}:{message.chat.id}:{message.message_id}"
    change = await change_credits(
        session, _actor(message), user, parsed.amount, parsed.reason, grant=grant, reference=reference
    )
    tg = str(user.telegram_id)
    if not change.done:
        await message.answer(t("revoke-refused", amount=parsed.amount, user=tg, balance=change.balance_after))
        return
    key = "grant-done" if grant else "revoke-done"
    text = t(key, amount=parsed.amount, user=tg, before=change.balance_before, after=change.balance_after)
    if not change.applied:
        text = t("admin-repeated")
    await message.answer(text)


async def grant(message: Message, command: CommandObject, session: Session, t: Translator) -> None:
    await _credits(message, command, session, t, grant=True)


async def revoke(message: Message, command: CommandObject, session: Session, t: Translator) -> None:
    await _credits(message, command, session, t, grant=False)


# ----------------------------------------------------------------------------------------- /plan
def _plan_done(t: Translator, user: UserRow, result_plan: str, until: str | None) -> str:
    plan = plan_title(t, result_plan)
    if until is None:
        return t("plan-set", user=str(user.telegram_id), plan=plan)
    return t("plan-set-until", user=str(user.telegram_id), plan=plan, until=until)


async def set_plan(message: Message, command: CommandObject, session: Session, t: Translator) -> None:
    parsed = parse_plan_args(command.args)
    if parsed is None:
        await _usage(message, session, t, "plan", command.args)
        return
    user = await _target(message, session, t, "plan", parsed.ref)
    if user is None:
        return
    result = await set_user_plan(session, _actor(message), user, parsed.code, parsed.days)
    if result is None:
        await message.answer(t("plan-unknown", plan=parsed.code))
        return
    until = format_time(result.expires_at) if result.expires_at is not None else None
    await message.answer(_plan_done(t, user, result.plan, until))


# ----------------------------------------------------------------------------------------- /ban, /unban
async def _ban(
    message: Message, command: CommandObject, session: Session, t: Translator, services: Services, *, banned: bool
) -> None:
    action = "ban" if banned else "unban"
    parsed = parse_user_arg(command.args, reason=banned)
    if parsed is None:
        await _usage(message, session, t, action, command.args)
        return
    ref, reason = parsed
    user = await _target(message, session, t, action, ref)
    if user is None:
        return
    await message.answer(await _apply_ban(session, t, services, _actor(message), user, banned, reason))


async def _apply_ban(
    session: Session, t: Translator, services: Services, actor: int, user: UserRow, banned: bool, reason: str
) -> str:
    tg = str(user.telegram_id)
    if banned and services.is_admin(user.telegram_id):
        await record_refusal(session, actor, "ban", tg, "an operator cannot be banned")
        return t("ban-refused-admin", user=tg)
    changed = await ban_user(session, actor, user, banned, reason)
    if banned:
        return t("ban-done", user=tg) if changed else t("ban-already", user=tg)
    return t("unban-done", user=tg) if changed else t("unban-already", user=tg)


async def ban(message: Message, command: CommandObject, session: Session, t: Translator, services: Services) -> None:
    await _ban(message, command, session, t, services, banned=True)


async def unban(message: Message, command: CommandObject, session: Session, t: Translator, services: Services) -> None:
    await _ban(message, command, session, t, services, banned=False)


# ----------------------------------------------------------------------------------------- profile buttons
async def user_button(
    query: CallbackQuery, callback_data: AdminUserCallback, session: Session, t: Translator, services: Services
) -> None:
    actor = query.from_user.id
    ref = UserRef(telegram_id=callback_data.tg)
    action = callback_data.action
    user = await find_user(session, ref)
    if user is None:
        await record_refusal(session, actor, f"button_{action}", str(ref), "no such user")
        await query.answer(t("admin-no-user", user=str(ref)), show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    notice: str | None = None
    if action in (AdminUserAction.BAN, AdminUserAction.UNBAN):
        notice = await _apply_ban(session, t, services, actor, user, action is AdminUserAction.BAN, "button")
    elif action in (AdminUserAction.VIP, AdminUserAction.PRO, AdminUserAction.FREE):
        result = await set_user_plan(session, actor, user, action.value, None)
        if result is None:
            notice = t("plan-unknown", plan=action.value)
        else:
            until = format_time(result.expires_at) if result.expires_at is not None else None
            notice = _plan_done(t, user, result.plan, until)
    elif action in (AdminUserAction.GRANT, AdminUserAction.REVOKE):
        await query.answer()
        if message is not None:
            key = "user-grant-hint" if action is AdminUserAction.GRANT else "user-revoke-hint"
            await message.answer(t(key, tg=str(user.telegram_id)))
        return
    elif action is AdminUserAction.AUDIT:
        target = str(user.telegram_id)
        rows = await recent_actions(session, USER_AUDIT_ROWS, target)
        await record_admin_action(session, actor, "audit", target, f"viewed {len(rows)} rows (button)")
        await query.answer()
        if message is not None:
            await message.answer(audit_text(t, rows, target))
        return
    profile = await user_profile(session, ref)
    await query.answer()
    if message is None or profile is None:
        return
    if notice is not None:
        await message.answer(notice)
    try:
        await message.edit_text(profile_text(t, profile), reply_markup=user_keyboard(t, profile))
    except TelegramBadRequest as exc:
        if NOT_MODIFIED not in exc.message:
            raise


def register(router: Router) -> None:
    """On the admin router (its filters: operators, private chats)."""
    router.message.register(show_user, Command("user"))
    router.message.register(grant, Command("grant"))
    router.message.register(revoke, Command("revoke"))
    router.message.register(set_plan, Command("plan"))
    router.message.register(ban, Command("ban"))
    router.message.register(unban, Command("unban"))
    router.callback_query.register(user_button, AdminUserCallback.filter())
