"""Stars payments: invoice, pre-checkout, idempotent completion, refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CreditPackage, CreditTransaction, Payment, Plan, User
from services.credits import ledger
from services.credits.catalog import list_offers
from services.credits.errors import HigherPlanActive, NotOnSale, UserBanned
from services.credits.payments import (
    Invoice,
    PaymentOutcome,
    PaymentResult,
    PreCheckoutReason,
    ProductKind,
    check_pre_checkout,
    complete_payment,
    create_invoice,
)
from services.credits.plans import extend_plan_in_tx
from services.credits.refunds import RefundStatus, apply_refund, prepare_refund
from tests.backends import POSTGRES_ONLY
from tests.integration.credits_factories import committed, gather_bounded, get_user, ledger_state, make_user

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _invoice(
    sessionmaker: Sessions, user_id: int, *, package_code: str | None = None, plan_code: str | None = None
) -> Invoice:
    async with sessionmaker() as session:
        return await create_invoice(session, user_id, package_code=package_code, plan_code=plan_code, now=NOW)


async def _pay(sessionmaker: Sessions, invoice: Invoice, user_id: int, charge: str) -> PaymentResult:
    async with sessionmaker() as session:
        return await complete_payment(session, invoice.payload, charge, invoice.amount, user_id, now=NOW)


async def _payment(sessionmaker: Sessions, payload: str) -> Payment:
    async with sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.invoice_payload == payload))
        assert payment is not None
        return payment


async def test_offers_and_invoices(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    async with sessionmaker() as session:
        offers = await list_offers(session)
    assert [(p.code, p.stars_price, p.credits) for p in offers.packages] == [
        ("starter", 50, 50),
        ("standard", 200, 220),
        ("premium", 500, 575),
        ("pro", 1000, 1200),
    ]
    assert [(p.code, p.price_stars, p.duration_days) for p in offers.plans] == [("vip", 250, 30), ("pro", 600, 30)]
    package = await _invoice(sessionmaker, user_id, package_code="standard")
    plan = await _invoice(sessionmaker, user_id, plan_code="vip")
    assert (package.kind, package.amount, package.credits, package.bonus, package.currency) == (
        ProductKind.PACKAGE,
        200,
        220,
        20,
        "XTR",
    )
    assert (plan.kind, plan.amount, plan.credits, plan.days) == (ProductKind.PLAN, 250, 0, 30)
    assert package.payload != plan.payload and len(package.payload.encode()) <= 128
    row = await _payment(sessionmaker, package.payload)
    assert (row.status, row.amount, row.credits, row.user_id) == ("pending", 200, 220, user_id)
    with pytest.raises(NotOnSale):
        await _invoice(sessionmaker, user_id, package_code="nope")
    with pytest.raises(NotOnSale):
        await _invoice(sessionmaker, user_id, plan_code="free")


async def test_invoice_refusals(sessionmaker: Sessions) -> None:
    banned = await make_user(sessionmaker, banned=True)
    pro = await make_user(sessionmaker, plan="pro", plan_expires_at=NOW + timedelta(days=3))
    with pytest.raises(UserBanned):
        await _invoice(sessionmaker, banned, package_code="starter")
    with pytest.raises(HigherPlanActive):
        await _invoice(sessionmaker, pro, plan_code="vip")
    assert (await _invoice(sessionmaker, pro, plan_code="pro")).amount == 600


async def test_pre_checkout_reasons(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    other = await make_user(sessionmaker)
    invoice = await _invoice(sessionmaker, user_id, package_code="premium")
    plan_invoice = await _invoice(sessionmaker, user_id, plan_code="pro")

    async def check(payload: str, who: int, currency: str = "XTR", amount: int = 500) -> PreCheckoutReason:
        async with sessionmaker() as session:
            result = await check_pre_checkout(session, payload, who, currency, amount)
            assert result.ok is (result.reason is PreCheckoutReason.OK)
            return result.reason

    assert await check(invoice.payload, user_id) is PreCheckoutReason.OK
    assert await check("cs1:unknown", user_id) is PreCheckoutReason.UNKNOWN_INVOICE
    assert await check(invoice.payload, other) is PreCheckoutReason.WRONG_USER
    assert await check(invoice.payload, user_id, amount=499) is PreCheckoutReason.AMOUNT_MISMATCH
    assert await check(invoice.payload, user_id, currency="USD") is PreCheckoutReason.AMOUNT_MISMATCH
    assert await check(plan_invoice.payload, user_id, amount=600) is PreCheckoutReason.OK
    async with sessionmaker() as session:
        await session.execute(update(CreditPackage).where(CreditPackage.code == "premium").values(active=False))
        await session.execute(update(Plan).where(Plan.code == "pro").values(active=False))
        await session.commit()
    assert await check(invoice.payload, user_id) is PreCheckoutReason.NOT_ON_SALE
    assert await check(plan_invoice.payload, user_id, amount=600) is PreCheckoutReason.NOT_ON_SALE
    await _pay(sessionmaker, invoice, user_id, "ch-pre")
    assert await check(invoice.payload, user_id) is PreCheckoutReason.ALREADY_PAID
    async with sessionmaker() as session:
        await session.execute(update(Payment).where(Payment.user_id == user_id).values(status="pending"))
        await session.commit()
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == user_id).values(banned=True))
        await session.commit()
    assert await check(invoice.payload, user_id) is PreCheckoutReason.BANNED


async def test_pre_checkout_refuses_a_plan_below_the_active_one(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    invoice = await _invoice(sessionmaker, user_id, plan_code="vip")
    async with sessionmaker() as session:
        await committed(session, extend_plan_in_tx(session, user_id, "pro", 30, "admin-gift", NOW))
        refused = await check_pre_checkout(session, invoice.payload, user_id, "XTR", 250, NOW)
        later = await check_pre_checkout(session, invoice.payload, user_id, "XTR", 250, NOW + timedelta(days=31))
    assert (refused.ok, refused.reason) == (False, PreCheckoutReason.HIGHER_PLAN_ACTIVE)
    assert (later.ok, later.reason) == (True, PreCheckoutReason.OK)  # the pro plan has expired by then


async def test_complete_payment_ten_times_credits_once(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    invoice = await _invoice(sessionmaker, user_id, package_code="standard")
    results = [await _pay(sessionmaker, invoice, user_id, "charge-1") for _ in range(10)]
    assert [r.first for r in results] == [True] + [False] * 9
    assert {(r.outcome, r.credits, r.balance_after, r.payment_id) for r in results} == {
        (PaymentOutcome.CREDITED, 220, 220, results[0].payment_id)
    }
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.transactions) == (220, 220, 1)
    row = await _payment(sessionmaker, invoice.payload)
    assert (row.status, row.telegram_payment_charge_id, row.paid_at) == ("paid", "charge-1", NOW)


@POSTGRES_ONLY
async def test_complete_payment_ten_times_concurrently_credits_once(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    invoice = await _invoice(sessionmaker, user_id, package_code="pro")
    results = await gather_bounded(10, [lambda: _pay(sessionmaker, invoice, user_id, "charge-c")] * 10)
    assert all(isinstance(r, PaymentResult) for r in results), results
    assert sum(1 for r in results if isinstance(r, PaymentResult) and r.first) == 1
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.transactions) == (1200, 1)
    async with sessionmaker() as session:
        purchases = await session.scalar(
            select(func.count()).select_from(CreditTransaction).where(CreditTransaction.category == "purchase")
        )
    assert purchases == 1


async def test_second_charge_for_a_paid_invoice_is_honoured(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    invoice = await _invoice(sessionmaker, user_id, package_code="starter")
    first = await _pay(sessionmaker, invoice, user_id, "charge-a")
    second = await _pay(sessionmaker, invoice, user_id, "charge-b")
    repeat = await _pay(sessionmaker, invoice, user_id, "charge-b")
    assert (first.first, second.first, repeat.first) == (True, True, False)
    assert second.payment_id != first.payment_id and repeat.payment_id == second.payment_id
    assert (await ledger_state(sessionmaker, user_id)).available == 100
    async with sessionmaker() as session:
        unknown = await complete_payment(session, "cs1:none", "charge-x", 50, user_id, now=NOW)
    assert (unknown.first, unknown.outcome) == (False, PaymentOutcome.UNKNOWN_INVOICE)


async def test_plan_purchase_extends_the_plan(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, plan="vip", plan_expires_at=NOW + timedelta(days=5))
    invoice = await _invoice(sessionmaker, user_id, plan_code="vip")
    result = await _pay(sessionmaker, invoice, user_id, "charge-plan")
    again = await _pay(sessionmaker, invoice, user_id, "charge-plan")
    assert (result.first, result.outcome, result.plan_code) == (True, PaymentOutcome.PLAN_EXTENDED, "vip")
    assert result.plan_expires_at == NOW + timedelta(days=35)
    assert (again.first, again.plan_expires_at) == (False, NOW + timedelta(days=35))
    user = await get_user(sessionmaker, user_id)
    assert (user.plan, user.plan_expires_at) == ("vip", NOW + timedelta(days=35))


async def test_refund_reverses_and_is_idempotent(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker, credits=7)
    invoice = await _invoice(sessionmaker, user_id, package_code="standard")
    await _pay(sessionmaker, invoice, user_id, "charge-r")
    async with sessionmaker() as session:
        check = await prepare_refund(session, "charge-r")
        assert (check.ok, check.status, check.debit, check.shortfall, check.amount) == (
            True,
            RefundStatus.OK,
            220,
            0,
            200,
        )
        assert check.telegram_user_id == (await get_user(sessionmaker, user_id)).telegram_id
        done = await apply_refund(session, "charge-r", NOW)
        again = await apply_refund(session, "charge-r", NOW)
        check_again = await prepare_refund(session, "charge-r")
        unknown = await prepare_refund(session, "nope")
    assert (done.status, done.debited, done.shortfall, done.balance_after) == (RefundStatus.REFUNDED, 220, 0, 7)
    assert again.status is RefundStatus.ALREADY_REFUNDED
    assert (check_again.ok, check_again.status) == (False, RefundStatus.ALREADY_REFUNDED)
    assert unknown.status is RefundStatus.UNKNOWN_PAYMENT
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.total, state.used, state.transactions) == (7, 7, 0, 3)
    row = await _payment(sessionmaker, invoice.payload)
    assert (row.status, row.refunded_at) == ("refunded", NOW)


async def test_refund_after_spending_needs_force(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    invoice = await _invoice(sessionmaker, user_id, package_code="starter")
    await _pay(sessionmaker, invoice, user_id, "charge-s")
    async with sessionmaker() as session:
        await ledger.debit(session, user_id, 30, category="chat", reference_id="spent")
        refused = await prepare_refund(session, "charge-s")
        forced = await prepare_refund(session, "charge-s", force=True)
    assert (refused.ok, refused.status, refused.debit, refused.shortfall) == (False, RefundStatus.CREDITS_SPENT, 20, 30)
    assert (forced.ok, forced.status, forced.debit, forced.shortfall) == (True, RefundStatus.OK, 20, 30)
    assert (await _payment(sessionmaker, invoice.payload)).status == "paid"  # prepare changes nothing
    async with sessionmaker() as session:
        done = await apply_refund(session, "charge-s", NOW)
    assert (done.status, done.debited, done.shortfall, done.balance_after) == (RefundStatus.REFUNDED, 20, 30, 0)
    state = await ledger_state(sessionmaker, user_id)
    assert (state.available, state.credits - state.debits) == (0, 0)


async def test_plan_refund_takes_the_days_back(sessionmaker: Sessions) -> None:
    user_id = await make_user(sessionmaker)
    invoice = await _invoice(sessionmaker, user_id, plan_code="pro")
    await _pay(sessionmaker, invoice, user_id, "charge-p")
    async with sessionmaker() as session:
        done = await apply_refund(session, "charge-p", NOW + timedelta(days=1))
    assert (done.status, done.plan_code, done.plan_expires_at) == (RefundStatus.REFUNDED, "free", None)
    user = await get_user(sessionmaker, user_id)
    assert (user.plan, user.plan_expires_at) == ("free", None)
