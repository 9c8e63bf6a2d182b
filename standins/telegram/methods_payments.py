"""Payments: invoices (and invoice links, Stars subscriptions among them), pre-checkout answers,
Telegram Stars refunds and editUserStarSubscription.

A subscription invoice (createInvoiceLink with `subscription_period`) must be in XTR, for exactly
2592000 seconds (30 days), for at most 10000 Stars; sendInvoice takes no subscription_period.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from . import errors as e
from .chats import JsonDict
from .common import (
    count_message,
    ensure_member,
    ensure_not_blocked,
    parse_markup,
    publish,
    required_str,
    resolve_chat,
    resolve_reply,
)
from .errors import bad_request
from .params import Params
from .state import InvoiceLink

if TYPE_CHECKING:
    from .common import Handler
    from .core import FakeTelegramCore


def _invoice(params: Params) -> tuple[JsonDict, str]:
    """Validate the invoice parameters; returns the Invoice object and the payload."""
    title = required_str(params, "title")
    description = required_str(params, "description")
    payload = required_str(params, "payload")
    currency = required_str(params, "currency")
    prices: Any = params.get_json("prices")
    if prices is None:
        raise bad_request('parameter "prices" is required')
    if not isinstance(prices, list) or not all(
        isinstance(p, dict) and isinstance(p.get("label"), str) and isinstance(p.get("amount"), int) for p in prices
    ):
        raise bad_request("can't parse prices JSON object")
    if not prices:
        raise bad_request("prices must be non-empty")
    provider_token = params.get_str("provider_token") or ""
    if currency == "XTR":
        tips = params.get_int("max_tip_amount") or params.get_json("suggested_tip_amounts")
        if provider_token or len(prices) != 1 or tips:
            raise bad_request("STARS_INVOICE_INVALID")
    elif not provider_token:
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise bad_request("CURRENCY_INVALID")
    if len(payload.encode("utf-8")) > 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    total = sum(int(p["amount"]) for p in prices)
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": params.get_str("start_parameter") or "",
        "currency": currency,
        "total_amount": total,
    }
    return invoice, payload


async def send_invoice(core: FakeTelegramCore, params: Params) -> JsonDict:
    chat = resolve_chat(core, params)
    ensure_member(chat)
    invoice, payload = _invoice(params)
    markup = parse_markup(params.get_json("reply_markup"), inline_only=True)
    if markup.inline is not None:
        rows = markup.inline["inline_keyboard"]
        if not rows or not rows[0] or not rows[0][0].get("pay"):
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
    reply_to = resolve_reply(core, chat, params)
    ensure_not_blocked(chat)
    count_message(core, chat)
    message = core.state.add_message(
        chat, core.bot_user, invoice=invoice, invoice_payload=payload, reply_markup=markup.inline, reply_to=reply_to
    )
    return publish(core, message)


SUBSCRIPTION_PERIOD = 2592000  # the only period Telegram accepts (30 days)
MAX_SUBSCRIPTION_STARS = 10000


async def create_invoice_link(core: FakeTelegramCore, params: Params) -> str:
    invoice, payload = _invoice(params)
    period = params.get_int("subscription_period")
    if period is not None:
        if invoice["currency"] != "XTR" or period != SUBSCRIPTION_PERIOD:
            raise bad_request("SUBSCRIPTION_PERIOD_INVALID")
        if invoice["total_amount"] > MAX_SUBSCRIPTION_STARS:
            raise bad_request("STARS_INVOICE_INVALID")
    url = f"https://t.me/${secrets.token_urlsafe(12)}"
    core.state.invoice_links[url] = InvoiceLink(url, invoice, payload, period)
    return url


async def answer_pre_checkout_query(core: FakeTelegramCore, params: Params) -> bool:
    query_id = params.get_str("pre_checkout_query_id") or ""
    if "ok" not in params.values:
        raise bad_request('parameter "ok" is required')
    ok = params.get_bool("ok")
    error_message = params.get_str("error_message")
    if not ok and not error_message:
        raise bad_request('parameter "error_message" is required')
    record = core.state.pre_checkouts.get(query_id)
    if record is None or record.answered or core.clock() - record.created_at > core.pre_checkout_timeout:
        raise bad_request(e.QUERY_TOO_OLD)
    record.answered = True
    record.ok = ok
    record.error_message = None if ok else error_message
    core.changed.notify()
    return True


async def refund_star_payment(core: FakeTelegramCore, params: Params) -> bool:
    user_id = params.require_int("user_id", "user_id is empty")
    charge_id = params.get_str("telegram_payment_charge_id") or ""
    user = core.state.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    payment = core.state.payments.get(charge_id)
    if payment is None or payment.user_id != user_id:
        raise bad_request("CHARGE_NOT_FOUND")
    if payment.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    payment.refunded = True
    chat = core.state.chats[user_id]
    refunded = {
        "currency": payment.currency,
        "total_amount": payment.total_amount,
        "invoice_payload": payment.invoice_payload,
        "telegram_payment_charge_id": payment.telegram_payment_charge_id,
    }
    message = core.state.add_message(chat, user, extra={"refunded_payment": refunded})
    core.push_update("message", message.to_api())
    return True


async def edit_user_star_subscription(core: FakeTelegramCore, params: Params) -> bool:
    """Cancel (is_canceled) or re-enable the extension of a user's subscription; the bot can re-enable
    only what it canceled itself. The charge id may be any payment of the subscription."""
    user_id = params.require_int("user_id", "user_id is empty")
    charge_id = params.get_str("telegram_payment_charge_id") or ""
    if "is_canceled" not in params.values:
        raise bad_request('parameter "is_canceled" is required')
    canceled = params.get_bool("is_canceled")
    if user_id not in core.state.users:
        raise bad_request("user not found")
    subscription = next(
        (s for s in core.state.subscriptions if s.user_id == user_id and charge_id in s.charge_ids), None
    )
    if subscription is None:
        raise bad_request("CHARGE_NOT_FOUND")
    if subscription.failed or subscription.expires_at <= core.wall_clock():
        raise bad_request("SUBSCRIPTION_NOT_ACTIVE")
    subscription.canceled_by_bot = canceled
    core.changed.notify()
    return True


METHODS: dict[str, Handler] = {
    "sendInvoice": send_invoice,
    "createInvoiceLink": create_invoice_link,
    "answerPreCheckoutQuery": answer_pre_checkout_query,
    "refundStarPayment": refund_star_payment,
    "editUserStarSubscription": edit_user_star_subscription,
}
