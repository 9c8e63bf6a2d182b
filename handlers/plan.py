"""/plan (no arguments, private chat): the user's plan, its end date and their Stars subscription,
with a button to cancel its renewal or resume it (`editUserStarSubscription`). The plan stays until
the paid period ends either way. `/plan <args>` is the operators' command (handlers/admin_users.py):
this router comes after theirs, so an operator's bare /plan still gets their usage line, and
everyone else's `/plan <args>` falls through to the unknown-command hint.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import RenewalAction, RenewalCallback
from handlers.credits_ui import format_time, plan_title
from services.credits.plans import PlanStatus, plan_status
from services.credits.subscriptions import (
    EditRefusal,
    SubscriptionView,
    current_subscription,
    prepare_renewal_edit,
    record_renewal_edit,
)
from services.i18n import Translator
from services.uow import Session
from services.users import UserView

log = logging.getLogger(__name__)

REFUSAL_KEYS = {
    EditRefusal.NOT_FOUND: "plan-renewal-stale",
    EditRefusal.ENDED: "plan-renewal-ended",
    EditRefusal.CANCELED_IN_TELEGRAM: "plan-renewal-in-telegram",
}


def plan_view(
    t: Translator, status: PlanStatus, subscription: SubscriptionView | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    name = plan_title(t, status.plan.code, status.plan.title)
    if status.expires_at is not None:
        lines = [t("plan-view-title"), "", t("plan-view-until", plan=name, until=format_time(status.expires_at))]
    else:
        lines = [t("plan-view-title"), "", t("plan-view-plan", plan=name)]
    builder = InlineKeyboardBuilder()
    if subscription is None:
        lines.append(t("plan-view-none"))
    else:
        sub_plan = plan_title(t, subscription.plan_code)
        until = format_time(subscription.paid_until)
        if subscription.ended:
            lines.append(t("plan-view-ended", plan=sub_plan))
        elif subscription.renews:
            lines.append(t("plan-view-renews", plan=sub_plan, until=until))
            action = RenewalCallback(action=RenewalAction.CANCEL, id=subscription.id)
            builder.button(text=t("plan-cancel-button"), callback_data=action)
        elif subscription.canceled_by == "user":
            lines.append(t("plan-view-canceled-in-telegram", plan=sub_plan, until=until))
        else:
            lines.append(t("plan-view-canceled", plan=sub_plan, until=until))
            action = RenewalCallback(action=RenewalAction.RESUME, id=subscription.id)
            builder.button(text=t("plan-resume-button"), callback_data=action)
    markup = builder.as_markup() if builder.buttons else None
    return "\n".join(lines), markup


async def show_plan(message: Message, session: Session, user: UserView, t: Translator) -> None:
    status = await plan_status(session, user.id)
    subscription = await current_subscription(session, user.id)
    text, markup = plan_view(t, status, subscription)
    await message.answer(text, reply_markup=markup)


async def edit_renewal(
    query: CallbackQuery, callback_data: RenewalCallback, bot: Bot, session: Session, user: UserView, t: Translator
) -> None:
    cancel = callback_data.action is RenewalAction.CANCEL
    check = await prepare_renewal_edit(session, user.id, callback_data.id, cancel)
    if check.refusal is not None and check.refusal is not EditRefusal.UNCHANGED:
        await query.answer(t(REFUSAL_KEYS[check.refusal]), show_alert=True)
        await _refresh(query, session, user, t)
        return
    if check.refusal is None:
        assert check.subscription is not None
        try:
            await bot.edit_user_star_subscription(
                user_id=check.subscription.telegram_id,
                telegram_payment_charge_id=check.subscription.charge_id,
                is_canceled=cancel,
            )
        except TelegramBadRequest as exc:
            log.warning("editUserStarSubscription %s refused: %s", check.subscription.id, exc.message)
            await query.answer(t("plan-renewal-failed"), show_alert=True)
            return
        await record_renewal_edit(session, check.subscription.id, cancel)
    await query.answer(t("plan-renewal-canceled") if cancel else t("plan-renewal-resumed"))
    await _refresh(query, session, user, t)


async def _refresh(query: CallbackQuery, session: Session, user: UserView, t: Translator) -> None:
    if not isinstance(query.message, Message):
        return
    status = await plan_status(session, user.id)
    subscription = await current_subscription(session, user.id)
    text, markup = plan_view(t, status, subscription)
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


def _no_arguments(message: Message, command: CommandObject) -> bool:
    del message
    return not (command.args or "").strip()


def build_router() -> Router:
    router = Router(name="plan")
    router.message.register(show_plan, Command("plan"), F.chat.type == ChatType.PRIVATE, _no_arguments)
    router.callback_query.register(edit_renewal, RenewalCallback.filter())
    return router
