"""Operators' commands (Telegram user ids in settings.admin_ids), in private chats. Everyone else
falls through to the unknown-command hint. Every action, refused or done, is written to audit_log.

/refund <charge_id> [force]: prepare_refund → refundStarPayment → apply_refund (here);
/admin, /stats, /audit: handlers/admin_menu.py; /user, /grant, /revoke, /plan, /ban, /unban:
handlers/admin_users.py; /broadcast: handlers/admin_broadcast.py. One router for all of them, so one
filter decides who sees them.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from handlers import admin_broadcast, admin_menu, admin_users
from handlers.credits_ui import format_time, plan_title
from handlers.filters import IsAdmin
from services.audit import record_admin_action
from services.credits.refunds import (
    RefundCheck,
    RefundResult,
    RefundStatus,
    apply_refund,
    prepare_refund,
    refund_summary,
)
from services.credits.subscriptions import SubscriptionView, record_renewal_edit, renewing_subscription_of_charge
from services.i18n import Translator
from services.uow import Session

log = logging.getLogger(__name__)

REFUND_ACTION = "refund"
ALREADY_REFUNDED_ERROR = "CHARGE_ALREADY_REFUNDED"


def parse_refund_args(args: str | None) -> tuple[str, bool] | None:
    """`<charge_id> [force]` → (charge_id, force); None when malformed."""
    parts = (args or "").split()
    if not parts or len(parts) > 2 or len(parts[0]) > 128:
        return None
    if len(parts) == 2 and parts[1].lower() != "force":
        return None
    return parts[0], len(parts) == 2


def refusal_text(t: Translator, check: RefundCheck) -> str:
    charge = check.charge_id
    if check.status is RefundStatus.ALREADY_REFUNDED:
        return t("refund-already", charge=charge)
    if check.status is RefundStatus.NOT_PAID:
        return t("refund-not-paid", charge=charge)
    if check.status is RefundStatus.CREDITS_SPENT:
        return t(
            "refund-credits-spent",
            charge=charge,
            credits=check.credits,
            shortfall=check.shortfall,
            debit=check.debit,
            amount=check.amount,
        )
    return t("refund-unknown", charge=charge)


def done_text(t: Translator, check: RefundCheck, result: RefundResult) -> str:
    lines = [
        t(
            "refund-done",
            amount=check.amount,
            user=str(check.telegram_user_id),
            payment=str(result.payment_id or check.payment_id or "—"),
            charge=check.charge_id,
        )
    ]
    if check.credits > 0:
        lines.append(
            t("refund-done-credits", debited=result.debited, credits=check.credits, balance=result.balance_after or 0)
        )
        if result.shortfall:
            lines.append(t("refund-done-shortfall", shortfall=result.shortfall))
    if check.plan_code is not None:
        plan = plan_title(t, result.plan_code or "free")
        if result.plan_expires_at is not None:
            lines.append(t("refund-done-plan-until", plan=plan, until=format_time(result.plan_expires_at)))
        else:
            lines.append(t("refund-done-plan", plan=plan))
    if result.inviter_reversed:
        lines.append(t("refund-done-inviter", credits=result.inviter_reversed))
    return "\n".join(lines)


def _details(check: RefundCheck, force: bool, outcome: str) -> str:
    return (
        f"outcome={outcome} force={force} payment={check.payment_id} user={check.user_id} "
        f"telegram_user={check.telegram_user_id} amount={check.amount} credits={check.credits} "
        f"debit={check.debit} shortfall={check.shortfall} plan={check.plan_code}"
    )


async def refund(message: Message, command: CommandObject, bot: Bot, session: Session, t: Translator) -> None:
    assert message.from_user is not None
    actor = message.from_user.id
    parsed = parse_refund_args(command.args)
    if parsed is None:
        await message.answer(t("refund-usage"))
        return
    charge_id, force = parsed
    check = await prepare_refund(session, charge_id, force=force)
    if check.ok and check.telegram_user_id is None:
        check = RefundCheck(
            ok=False,
            status=RefundStatus.UNKNOWN_PAYMENT,
            charge_id=charge_id,
            payment_id=check.payment_id,
            user_id=check.user_id,
        )
    if not check.ok:
        await record_admin_action(session, actor, REFUND_ACTION, charge_id, _details(check, force, check.status))
        await message.answer(refusal_text(t, check))
        return
    assert check.telegram_user_id is not None
    renewing = await renewing_subscription_of_charge(session, charge_id)  # before the refund shortens it
    try:
        await bot.refund_star_payment(user_id=check.telegram_user_id, telegram_payment_charge_id=charge_id)
    except TelegramBadRequest as exc:
        if ALREADY_REFUNDED_ERROR not in exc.message:
            log.warning("refundStarPayment %s refused: %s", charge_id, exc.message)
            await record_admin_action(
                session, actor, REFUND_ACTION, charge_id, _details(check, force, f"telegram_error {exc.message}")
            )
            await message.answer(t("refund-telegram-error", error=exc.message))
            return
        log.warning("refundStarPayment %s: Telegram had refunded it already; recording the refund", charge_id)
    result = await apply_refund(session, charge_id)
    if result.status is RefundStatus.ALREADY_REFUNDED:
        # Telegram's refunded_payment notice (handled concurrently) recorded it first.
        result = await refund_summary(session, charge_id)
    stopped = await _stop_renewal(bot, session, charge_id, renewing)
    await record_admin_action(
        session,
        actor,
        REFUND_ACTION,
        charge_id,
        _details(
            check,
            force,
            f"refunded debited={result.debited} inviter_reversed={result.inviter_reversed} renewal={stopped}",
        ),
    )
    text = done_text(t, check, result)
    if stopped is not None:
        text += "\n" + t("refund-done-renewal-stopped" if stopped else "refund-done-renewal-failed")
    await message.answer(text)


async def _stop_renewal(
    bot: Bot, session: Session, charge_id: str, subscription: SubscriptionView | None
) -> bool | None:
    """A refunded charge of a plan subscription also stops its renewal (the user is not charged
    again after a refund). None: nothing renewed; False: Telegram refused."""
    if subscription is None:
        return None
    try:
        await bot.edit_user_star_subscription(
            user_id=subscription.telegram_id, telegram_payment_charge_id=subscription.charge_id, is_canceled=True
        )
    except TelegramBadRequest as exc:
        log.warning("refund %s: could not stop subscription %s: %s", charge_id, subscription.id, exc.message)
        return False
    await record_renewal_edit(session, subscription.id, True)
    return True


def build_router() -> Router:
    router = Router(name="admin")
    router.message.filter(IsAdmin(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(IsAdmin(), F.message.chat.type == ChatType.PRIVATE)
    router.message.register(refund, Command("refund"))
    admin_menu.register(router)
    admin_users.register(router)
    admin_broadcast.register(router)
    return router
