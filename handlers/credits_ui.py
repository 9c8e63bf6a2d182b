"""Rendering of the credits flows: texts (Telegram HTML, localized) and inline keyboards. No I/O.

`out_of_credits` is the answer the chat flow gives a user with neither free questions nor credits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import BuyCallback, CreditsMenuAction, CreditsMenuCallback, HistoryCallback
from services.credits.invites import InviteReward, InviteStats, RewardKind
from services.credits.ledger import BalanceSummary, HistoryPage, TransactionView
from services.credits.payments import (
    Offers,
    PaymentOutcome,
    PaymentRecord,
    PaymentResult,
    PreCheckoutReason,
    ProductKind,
)
from services.credits.plans import PlanStatus
from services.i18n import Raw, Translator

HISTORY_PAGE_SIZE = 10

# Ledger categories (services.credits.*) → locale keys; anything else reads as "tx-other".
TX_KEYS = {
    "purchase": "tx-purchase",
    "refund": "tx-refund",
    "chat": "tx-question",
    "hold_release": "tx-hold-release",
    "invite_first": "tx-invite-first",
    "invite_purchase": "tx-invite-purchase",
    "invite_purchase_refund": "tx-invite-purchase-refund",
    "admin_grant": "tx-admin-grant",
    "admin_revoke": "tx-admin-revoke",
}

PRE_CHECKOUT_KEYS = {
    PreCheckoutReason.UNKNOWN_INVOICE: "precheckout-unknown-invoice",
    PreCheckoutReason.WRONG_USER: "precheckout-wrong-user",
    PreCheckoutReason.ALREADY_PAID: "precheckout-already-paid",
    PreCheckoutReason.NOT_ON_SALE: "precheckout-not-on-sale",
    PreCheckoutReason.BANNED: "precheckout-banned",
    PreCheckoutReason.AMOUNT_MISMATCH: "precheckout-amount-mismatch",
    PreCheckoutReason.HIGHER_PLAN_ACTIVE: "precheckout-higher-plan-active",
    PreCheckoutReason.UNAVAILABLE: "precheckout-unavailable",
}


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _localized(t: Translator, key: str, fallback: str) -> str:
    """A locale message if it exists (Fluent answers a missing message with its id), else `fallback`."""
    text = t(key)
    return fallback if text == key else text


def product_title(t: Translator, kind: ProductKind | str, code: str, fallback: str | None = None) -> str:
    """The localized name of a package or plan (plain text); the database title or code otherwise."""
    return _localized(t, f"{kind}-name-{code}", fallback or code)


def plan_title(t: Translator, code: str, fallback: str | None = None) -> str:
    return product_title(t, ProductKind.PLAN, code, fallback)


# ----------------------------------------------------------------------------------------- /buy
def offers_view(t: Translator, offers: Offers) -> tuple[str, InlineKeyboardMarkup]:
    lines = [t("buy-title")]
    builder = InlineKeyboardBuilder()
    if offers.packages:
        lines += ["", t("buy-packages-header")]
        for package in offers.packages:
            name = product_title(t, ProductKind.PACKAGE, package.code, package.title)
            key = "buy-package-line-bonus" if package.bonus else "buy-package-line"
            line = t(key, title=name, credits=package.credits, bonus=package.bonus, price=package.stars_price)
            lines.append(line + (" " + t("buy-recommended") if package.recommended else ""))
            button_key = "buy-package-button-recommended" if package.recommended else "buy-package-button"
            builder.button(
                text=t(button_key, title=Raw(name), credits=package.credits, price=package.stars_price),
                callback_data=BuyCallback(kind=ProductKind.PACKAGE, code=package.code),
            )
    if offers.plans:
        lines += ["", t("buy-plans-header")]
        for plan in offers.plans:
            name = plan_title(t, plan.code, plan.title)
            lines.append(
                t(
                    "buy-plan-line",
                    title=name,
                    price=plan.price_stars,
                    days=plan.duration_days,
                    questions=plan.daily_free_questions,
                    feeds=plan.max_feeds,
                    alerts=plan.max_alerts,
                )
            )
            builder.button(
                text=t("buy-plan-button", title=Raw(name), days=plan.duration_days, price=plan.price_stars),
                callback_data=BuyCallback(kind=ProductKind.PLAN, code=plan.code),
            )
    if not offers.packages and not offers.plans:
        lines += ["", t("buy-nothing-on-sale")]
    lines += ["", t("buy-terms")]
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


# ----------------------------------------------------------------------------------------- receipts
def receipt_text(t: Translator, result: PaymentResult) -> str:
    if result.outcome is PaymentOutcome.PLAN_EXTENDED and result.plan_code is not None:
        until = format_time(result.plan_expires_at) if result.plan_expires_at else t("plan-no-expiry")
        return t("receipt-plan", amount=result.amount, plan=plan_title(t, result.plan_code), until=until)
    return t("receipt-credits", amount=result.amount, credits=result.credits, balance=result.balance_after or 0)


def invite_reward_text(t: Translator, reward: InviteReward) -> str:
    key = "invite-reward-first" if reward.kind is RewardKind.FIRST_QUESTION else "invite-reward-purchase"
    return t(key, credits=reward.credits, balance=reward.balance_after)


# ----------------------------------------------------------------------------------------- balance, history
def transaction_line(t: Translator, tx: TransactionView) -> str:
    key = TX_KEYS.get(tx.category)
    what = t(key) if key is not None else t("tx-other", category=tx.category)
    amount = f"+{tx.amount}" if tx.type == "credit" else f"−{tx.amount}"
    return t("tx-line", amount=amount, what=Raw(what), time=format_time(tx.created_at), balance=tx.balance_after)


def balance_text(t: Translator, status: PlanStatus, summary: BalanceSummary) -> str:
    name = plan_title(t, status.plan.code, status.plan.title)
    if status.expires_at is not None:
        plan = t("balance-plan-until", plan=name, until=format_time(status.expires_at))
    else:
        plan = t("balance-plan", plan=name)
    lines = [t("balance-title"), "", plan]
    if status.expired:
        lines.append(t("balance-plan-expired"))
    lines.append(t("balance-free", left=status.free_left, total=status.plan.daily_free_questions))
    lines.append(t("balance-credits", credits=summary.available, cost=status.plan.question_cost))
    lines += ["", t("balance-recent-header")]
    if summary.recent:
        lines += [transaction_line(t, tx) for tx in summary.recent]
    else:
        lines.append(t("history-empty"))
    lines += ["", t("balance-footer")]
    return "\n".join(lines)


def history_view(t: Translator, page: HistoryPage) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [t("history-title", page=page.page), ""]
    if page.items:
        lines += [transaction_line(t, tx) for tx in page.items]
    else:
        lines.append(t("history-empty") if page.page == 1 else t("history-page-empty"))
    builder = InlineKeyboardBuilder()
    if page.page > 1:
        builder.button(text=t("history-prev"), callback_data=HistoryCallback(page=page.page - 1))
    if page.has_more:
        builder.button(text=t("history-next"), callback_data=HistoryCallback(page=page.page + 1))
    markup = builder.as_markup() if page.page > 1 or page.has_more else None
    return "\n".join(lines), markup


# ----------------------------------------------------------------------------------------- /paysupport
def payment_line(t: Translator, payment: PaymentRecord) -> str:
    title = product_title(t, payment.kind, payment.product_code)
    what = (
        t("paysupport-what-credits", title=title, credits=payment.credits)
        if payment.kind is ProductKind.PACKAGE
        else t("paysupport-what-plan", title=title)
    )
    when = payment.paid_at or payment.refunded_at
    status = t("paysupport-status-refunded") if payment.status == "refunded" else t("paysupport-status-paid")
    return t(
        "paysupport-payment-line",
        time=format_time(when) if when else "—",
        what=Raw(what),
        amount=payment.amount,
        status=Raw(status),
        charge=payment.charge_id or "—",
    )


def payments_block(t: Translator, payments: tuple[PaymentRecord, ...]) -> str:
    if not payments:
        return t("paysupport-no-payments")
    return "\n".join([t("paysupport-payments-header"), *(payment_line(t, p) for p in payments)])


# ----------------------------------------------------------------------------------------- /invite
def invite_view(
    t: Translator, link: str, stats: InviteStats, reward_credits: int, purchase_percent: int
) -> tuple[str, InlineKeyboardMarkup]:
    text = t(
        "invite-text",
        link=link,
        reward=reward_credits,
        percent=purchase_percent,
        invited=stats.invited,
        earned=stats.credits_earned,
    )
    builder = InlineKeyboardBuilder()
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(t('invite-share-text'), safe='')}"
    builder.button(text=t("invite-share-button"), url=share)
    return text, builder.as_markup()


# ----------------------------------------------------------------------------------------- chat flow
def out_of_credits(t: Translator, *, cost: int = 1, available: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The answer to a question a user can't pay for: no free questions left today and fewer than
    `cost` credits (`available`). Buttons open /buy and /invite. For `ChargeDecision` with
    reason NO_CREDITS: `out_of_credits(t, cost=decision.cost, available=decision.available or 0)`."""
    text = t("out-of-credits", cost=cost, available=available)
    builder = InlineKeyboardBuilder()
    builder.button(text=t("out-of-credits-buy"), callback_data=CreditsMenuCallback(action=CreditsMenuAction.BUY))
    builder.button(text=t("out-of-credits-invite"), callback_data=CreditsMenuCallback(action=CreditsMenuAction.INVITE))
    builder.adjust(2)
    return text, builder.as_markup()
