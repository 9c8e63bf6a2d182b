"""Telegram Stars payments: invoice from a /buy button → pre-checkout answer → successful payment
(ledger credit or plan extension, idempotent on the charge id, one receipt) → refunded payments.

Plans are Stars subscriptions: the button answers with a message whose button opens an invoice link
(createInvoiceLink with `subscription_period`: sendInvoice takes none); renewals arrive as recurring
successful payments, and the user's cancel / re-enable / a failed renewal as `subscription` updates.

Pre-checkout must be answered within 10 s: one read (`check_pre_checkout`), then the answer.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotSubscriptionUpdated, CallbackQuery, LabeledPrice, Message, PreCheckoutQuery
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import BuyCallback
from handlers.credits_ui import PRE_CHECKOUT_KEYS, format_time, plan_title, product_title, receipt_text
from handlers.invites import notify_invite_reward
from services.credits.config import CreditsConfig
from services.credits.errors import HigherPlanActive, NotOnSale, UserBanned
from services.credits.payments import (
    PaymentOutcome,
    ProductKind,
    check_pre_checkout,
    complete_payment,
    create_invoice,
)
from services.credits.refunds import apply_refund
from services.credits.subscriptions import (
    SubscriptionEvent,
    SubscriptionView,
    record_renewal_edit,
    subscription_charge,
    subscription_updated,
)
from services.i18n import Raw, Translations, Translator
from services.kv import KeyValueStore
from services.uow import Session
from services.users import UserView

log = logging.getLogger(__name__)

UNMATCHED_NOTICE_TTL = 7 * 24 * 3600.0
INVOICE_TITLE_LIMIT = 32  # Telegram: 1-32 characters
INVOICE_DESCRIPTION_LIMIT = 255


async def buy_chosen(
    query: CallbackQuery,
    callback_data: BuyCallback,
    bot: Bot,
    session: Session,
    user: UserView,
    t: Translator,
    credits_config: CreditsConfig,
) -> None:
    kind = callback_data.kind
    try:
        invoice = await create_invoice(
            session,
            user.id,
            package_code=callback_data.code if kind == ProductKind.PACKAGE else None,
            plan_code=callback_data.code if kind == ProductKind.PLAN else None,
            config=credits_config,
        )
    except NotOnSale:
        await query.answer(t("buy-not-on-sale"), show_alert=True)
        return
    except HigherPlanActive as exc:
        await query.answer(t("buy-higher-plan-active", current=plan_title(t, exc.current)), show_alert=True)
        return
    except UserBanned:
        await query.answer(t("banned"), show_alert=True)
        return
    await query.answer()
    name = product_title(t, invoice.kind, invoice.product_code, invoice.title)
    if invoice.kind is ProductKind.PLAN:
        title = t("invoice-title-plan", title=Raw(name), days=invoice.days)
    else:
        title = t("invoice-title-package", title=Raw(name), credits=invoice.credits)
    description = t(
        invoice.description_key, title=Raw(name), credits=invoice.credits, bonus=invoice.bonus, days=invoice.days
    )
    if invoice.subscription_period is not None:
        link = await bot.create_invoice_link(
            title=title[:INVOICE_TITLE_LIMIT],
            description=description[:INVOICE_DESCRIPTION_LIMIT],
            payload=invoice.payload,
            currency=invoice.currency,
            prices=[LabeledPrice(label=title[:INVOICE_TITLE_LIMIT], amount=invoice.amount)],
            provider_token="",
            subscription_period=invoice.subscription_period,
        )
        builder = InlineKeyboardBuilder()
        builder.button(text=t("subscribe-button", price=invoice.amount), url=link)
        await bot.send_message(
            query.from_user.id,
            t("subscribe-offer", plan=Raw(name), price=invoice.amount, days=invoice.days),
            reply_markup=builder.as_markup(),
        )
        return
    await bot.send_invoice(
        chat_id=query.from_user.id,
        title=title[:INVOICE_TITLE_LIMIT],
        description=description[:INVOICE_DESCRIPTION_LIMIT],
        payload=invoice.payload,
        currency=invoice.currency,
        prices=[LabeledPrice(label=title[:INVOICE_TITLE_LIMIT], amount=invoice.amount)],
        provider_token="",
    )


async def pre_checkout(query: PreCheckoutQuery, session: Session, user: UserView, t: Translator) -> None:
    result = await check_pre_checkout(session, query.invoice_payload, user.id, query.currency, query.total_amount)
    if result.ok:
        await query.answer(ok=True)
        return
    log.info("pre-checkout %s of user %s refused: %s", query.id, user.id, result.reason)
    await query.answer(ok=False, error_message=t(PRE_CHECKOUT_KEYS[result.reason]))


async def successful_payment(
    message: Message,
    bot: Bot,
    session: Session,
    user: UserView,
    t: Translator,
    translations: Translations,
    store: KeyValueStore,
    credits_config: CreditsConfig,
) -> None:
    paid = message.successful_payment
    assert paid is not None
    charge_id = paid.telegram_payment_charge_id
    result = await complete_payment(
        session,
        paid.invoice_payload,
        charge_id,
        paid.total_amount,
        user.id,
        config=credits_config,
        subscription=subscription_charge(paid.is_recurring, paid.is_first_recurring, paid.subscription_expiration_date),
    )
    if result.outcome is PaymentOutcome.UNKNOWN_INVOICE:
        # Money for an invoice we don't know (logged by the service): tell the user once, point to support.
        if await store.set_nx(f"payment-unmatched:{charge_id}", b"1", UNMATCHED_NOTICE_TTL):
            await message.answer(t("payment-unmatched", charge=charge_id))
        return
    if not result.first:
        log.info("successful_payment %s delivered again: already handled", charge_id)
        return
    await message.answer(receipt_text(t, result))
    await notify_invite_reward(bot, session, translations, result.invite_reward)
    for old in result.superseded:
        await _cancel_superseded(message, bot, session, t, old, result.plan_code or "")


async def _cancel_superseded(
    message: Message, bot: Bot, session: Session, t: Translator, old: SubscriptionView, new_plan: str
) -> None:
    """A new plan subscription replaces an older one: stop the older one's renewal (its paid period
    stands), so the user is not charged for both."""
    try:
        await bot.edit_user_star_subscription(
            user_id=old.telegram_id, telegram_payment_charge_id=old.charge_id, is_canceled=True
        )
    except TelegramBadRequest as exc:
        log.warning("could not cancel the renewal of superseded subscription %s: %s", old.id, exc.message)
        await message.answer(t("subscription-replaced-failed", plan=plan_title(t, old.plan_code)))
        return
    await record_renewal_edit(session, old.id, True)
    await message.answer(
        t(
            "subscription-replaced-notice",
            plan=plan_title(t, old.plan_code),
            new=plan_title(t, new_plan),
            until=format_time(old.paid_until),
        )
    )


async def subscription_changed(
    update: BotSubscriptionUpdated, bot: Bot, session: Session, user: UserView, t: Translator
) -> None:
    """Bot API 10.2: the user canceled or re-enabled their subscription in Telegram, or its renewal
    failed. The plan keeps the end of the paid period; the user is told once per change."""
    try:
        event = SubscriptionEvent(update.state)
    except ValueError:
        log.warning("subscription update with unknown state %r for %r", update.state, update.invoice_payload)
        return
    change = await subscription_updated(session, update.invoice_payload, update.user.id, event)
    if change is None or not change.changed or user.banned:  # a banned user is told nothing more
        return
    subscription = change.subscription
    plan = plan_title(t, subscription.plan_code)
    until = format_time(subscription.paid_until)
    if event is SubscriptionEvent.CANCELED:
        text = t("subscription-canceled-notice", plan=plan, until=until)
    elif event is SubscriptionEvent.ACTIVE:
        text = t("subscription-resumed-notice", plan=plan, until=until)
    elif subscription.over:
        text = t("subscription-failed-ended-notice", plan=plan)
    else:
        text = t("subscription-failed-notice", plan=plan, until=until)
    await bot.send_message(update.user.id, text)


async def refunded_payment(message: Message, session: Session) -> None:
    """Telegram's notice of a refund: record it (a no-op when /refund already did), so a refund is
    never lost if the bot stopped between `refundStarPayment` and `apply_refund`."""
    refunded = message.refunded_payment
    assert refunded is not None
    result = await apply_refund(session, refunded.telegram_payment_charge_id)
    log.info("refunded_payment %s: %s", refunded.telegram_payment_charge_id, result.status)


def build_router() -> Router:
    router = Router(name="payments")
    router.callback_query.register(buy_chosen, BuyCallback.filter())
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(successful_payment, F.successful_payment)
    router.message.register(refunded_payment, F.refunded_payment)
    router.subscription.register(subscription_changed)
    return router
