"""Invoice links and Telegram Stars subscriptions on the user side of the fake.

A user opens an invoice link the bot made (`pre_checkout_link`), pays it (`pay_link`: for a
subscription link, the first payment with is_recurring/is_first_recurring and the
subscription_expiration_date `wall_clock() + period`); at the period's end Telegram charges again
(`renew_subscription`: a recurring successful_payment with the next expiration date, or nothing when
the subscription was canceled), or the charge fails (`fail_subscription_renewal`: the `subscription`
update with state "failed", Bot API 10.2). `cancel_subscription` / `reenable_subscription` are the
user's own switch in Telegram's settings (`subscription` updates "canceled" / "active").
"""

from __future__ import annotations

import secrets

from .chats import FakeUser, JsonDict
from .errors import FakeTelegramUsageError
from .state import InvoiceLink, Payment, PreCheckoutRecord, StarSubscription
from .user_actions import UserActions


class SubscriptionActions(UserActions):
    def invoice_link(self, url: str) -> InvoiceLink:
        link = self.state.invoice_links.get(url)
        if link is None:
            raise FakeTelegramUsageError(f"the bot made no invoice link {url!r}")
        return link

    def pre_checkout_link(self, user: FakeUser, url: str) -> str:
        """The user opens an invoice link and confirms; returns the pre_checkout_query id."""
        link = self.invoice_link(url)
        record = PreCheckoutRecord(
            str(secrets.randbits(63)),
            user,
            str(link.invoice["currency"]),
            int(link.invoice["total_amount"]),
            link.invoice_payload,
            self.clock(),
        )
        self.state.pre_checkouts[record.id] = record
        self.push_update(
            "pre_checkout_query",
            {
                "id": record.id,
                "from": user.to_api(),
                "currency": record.currency,
                "total_amount": record.total_amount,
                "invoice_payload": record.invoice_payload,
            },
        )
        return record.id

    def pay_link(self, user: FakeUser, url: str, *, charge_id: str | None = None) -> JsonDict:
        """The payment of an invoice link went through (after an ok pre-checkout): successful_payment;
        for a subscription link, the subscription starts."""
        link = self.invoice_link(url)
        currency, amount = str(link.invoice["currency"]), int(link.invoice["total_amount"])
        if link.subscription_period is None:
            return self.successful_payment(user, link.invoice_payload, currency, amount, charge_id)
        subscription = StarSubscription(
            user.id,
            link.invoice_payload,
            currency,
            amount,
            link.subscription_period,
            int(self.wall_clock()) + link.subscription_period,
        )
        self.state.subscriptions.append(subscription)
        return self._charge(user, subscription, charge_id, first=True)

    def subscription(self, user: FakeUser, invoice_payload: str) -> StarSubscription:
        for subscription in reversed(self.state.subscriptions):
            if subscription.user_id == user.id and subscription.invoice_payload == invoice_payload:
                return subscription
        raise FakeTelegramUsageError(f"{user.first_name} has no subscription {invoice_payload!r}")

    def renew_subscription(
        self, user: FakeUser, invoice_payload: str, *, charge_id: str | None = None
    ) -> JsonDict | None:
        """The paid period ended: Telegram charges the next one (a recurring successful_payment), or,
        for a canceled or failed subscription, charges nothing (None: the subscription is over)."""
        subscription = self.subscription(user, invoice_payload)
        if not subscription.renews:
            return None
        subscription.expires_at += subscription.period
        return self._charge(user, subscription, charge_id, first=False)

    def fail_subscription_renewal(self, user: FakeUser, invoice_payload: str) -> JsonDict | None:
        """The renewal charge failed (too few Stars): the subscription ends; the bot gets the
        `subscription` update with state "failed"."""
        subscription = self.subscription(user, invoice_payload)
        subscription.failed = True
        return self._subscription_update(user, subscription, "failed")

    def cancel_subscription(self, user: FakeUser, invoice_payload: str) -> JsonDict | None:
        """The user cancels the subscription in Telegram: it stays paid until its end, then stops."""
        subscription = self.subscription(user, invoice_payload)
        subscription.canceled_by_user = True
        return self._subscription_update(user, subscription, "canceled")

    def reenable_subscription(self, user: FakeUser, invoice_payload: str) -> JsonDict | None:
        """The user re-enables a subscription they canceled in Telegram."""
        subscription = self.subscription(user, invoice_payload)
        if not subscription.canceled_by_user or subscription.failed:
            raise FakeTelegramUsageError("only a subscription the user canceled can be re-enabled")
        subscription.canceled_by_user = False
        return self._subscription_update(user, subscription, "active")

    def _subscription_update(self, user: FakeUser, subscription: StarSubscription, state: str) -> JsonDict | None:
        payload = {"user": user.to_api(), "invoice_payload": subscription.invoice_payload, "state": state}
        return self.push_update("subscription", payload)

    def _charge(
        self, user: FakeUser, subscription: StarSubscription, charge_id: str | None, *, first: bool
    ) -> JsonDict:
        charge_id = charge_id or f"stxn{secrets.token_hex(24)}"
        subscription.charge_ids.append(charge_id)
        self.state.payments[charge_id] = Payment(
            charge_id, user.id, subscription.currency, subscription.total_amount, subscription.invoice_payload
        )
        successful: JsonDict = {
            "currency": subscription.currency,
            "total_amount": subscription.total_amount,
            "invoice_payload": subscription.invoice_payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
            "subscription_expiration_date": subscription.expires_at,
            "is_recurring": True,
        }
        if first:
            successful["is_first_recurring"] = True
        return self._user_message(user, None, None, extra={"successful_payment": successful})
