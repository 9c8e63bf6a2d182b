"""/stats numbers (services.admin.stats.collect_stats) equal an independent count over generated
data, and the number of statements does not grow with the number of users."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import (
    Chat,
    ChatMessage,
    Conversation,
    CreditAccount,
    CreditTransaction,
    Delivery,
    Feed,
    Payment,
    Position,
    PriceAlert,
    Signal,
    User,
    utcnow,
)
from services.admin.prices import ModelPrice, parse_llm_prices
from services.admin.stats import AdminStats, collect_stats

Sessions = async_sessionmaker[AsyncSession]
PRICES = {"gpt-4o-mini": ModelPrice(0.15, 0.6), "deepseek-chat": ModelPrice(0.27, 1.1)}
MODELS = ("gpt-4o-mini", "deepseek-chat", "qwen-max", "rules:offline")
CATEGORIES = ("purchase", "refund", "chat", "hold_release", "admin_grant", "admin_revoke", "invite_first")
RATE_LIMITED = "Too Many Requests: retry after 7"


@dataclass
class Generated:
    """What was generated, kept beside the database to count independently of the SQL."""

    now: datetime
    users: list[User] = field(default_factory=list)
    questions: list[datetime] = field(default_factory=list)
    answers: list[tuple[str, int, int, datetime]] = field(default_factory=list)  # model, prompt, completion, at
    transactions: list[tuple[str, str, int]] = field(default_factory=list)  # type, category, amount
    payments: list[tuple[str, int]] = field(default_factory=list)
    chats: dict[int, str] = field(default_factory=dict)
    feeds: list[tuple[int, str, bool]] = field(default_factory=list)
    alerts: list[bool] = field(default_factory=list)
    positions: list[bool] = field(default_factory=list)
    signals: list[tuple[str, datetime]] = field(default_factory=list)
    deliveries: list[tuple[str, str, str | None, datetime, datetime]] = field(default_factory=list)


def _when(rng: random.Random, now: datetime, days: float = 40) -> datetime:
    return now - timedelta(seconds=rng.uniform(0, days * 86400))


async def generate(sessionmaker: Sessions, users: int, seed: int) -> Generated:
    rng = random.Random(seed)
    now = utcnow()
    data = Generated(now=now)
    async with sessionmaker() as session:
        for n in range(users):
            plan = rng.choice(("free", "free", "vip", "pro"))
            expires = None if plan == "free" or rng.random() < 0.2 else now + timedelta(days=rng.uniform(-20, 40))
            user = User(
                telegram_id=5_000_000 + n,
                first_name=f"U{n}",
                invite_code=f"c{seed}x{n}",
                plan=plan,
                plan_expires_at=expires,
                banned=rng.random() < 0.1,
                bot_blocked=rng.random() < 0.1,
                created_at=_when(rng, now),
                last_seen_at=_when(rng, now),
            )
            session.add(user)
            data.users.append(user)
        await session.flush()
        for user in data.users:
            account = CreditAccount(user_id=user.id, available=0, total=0, used=0)
            session.add(account)
            await session.flush()
            for k in range(rng.randint(0, 3)):
                category = rng.choice(CATEGORIES)
                kind = "debit" if category in ("refund", "chat", "admin_revoke") else "credit"
                amount = rng.randint(1, 100)
                before, after = (amount, 0) if kind == "debit" else (0, amount)
                session.add(
                    CreditTransaction(
                        account_id=account.id,
                        type=kind,
                        amount=amount,
                        balance_before=before,
                        balance_after=after,
                        category=category,
                        reference_id=f"gen:{user.id}:{k}",
                    )
                )
                data.transactions.append((kind, category, amount))
            if rng.random() < 0.5:
                conversation = Conversation(user_id=user.id, chat_id=user.telegram_id)
                session.add(conversation)
                await session.flush()
                for _ in range(rng.randint(1, 4)):
                    at = _when(rng, now, 35)
                    model = rng.choice(MODELS)
                    prompt, completion = rng.randint(50, 3000), rng.randint(20, 900)
                    session.add(
                        ChatMessage(
                            conversation_id=conversation.id, role="user", content="q", tokens=prompt, created_at=at
                        )
                    )
                    await session.flush()  # the question's id comes before its answer's, as in the app
                    session.add(
                        ChatMessage(
                            conversation_id=conversation.id,
                            role="assistant",
                            content="a",
                            tokens=completion,
                            model=model,
                            created_at=at + timedelta(microseconds=1),
                        )
                    )
                    await session.flush()
                    data.questions.append(at)
                    data.answers.append((model, prompt, completion, at))
            for k in range(rng.randint(0, 2)):
                status = rng.choice(("paid", "refunded", "pending", "failed"))
                amount = rng.randint(50, 500)
                session.add(
                    Payment(
                        user_id=user.id,
                        amount=amount,
                        credits=amount,
                        status=status,
                        invoice_payload=f"inv:{user.id}:{k}",
                        telegram_payment_charge_id=f"ch:{user.id}:{k}",
                    )
                )
                data.payments.append((status, amount))
            for _ in range(rng.randint(0, 2)):
                active = rng.random() < 0.6
                session.add(
                    PriceAlert(
                        user_id=user.id,
                        chat_id=user.telegram_id,
                        symbol="BTC",
                        condition="above",
                        price=1.0,
                        active=active,
                    )
                )
                data.alerts.append(active)
            if rng.random() < 0.3:
                active = rng.random() < 0.5
                session.add(Position(user_id=user.id, symbol="ETH", side="long", entry=1.0, active=active))
                data.positions.append(active)
        for n in range(max(3, users // 5)):
            chat_id = -(1_000_000 + n) if n % 3 else data.users[n % len(data.users)].telegram_id
            chat_type = "private" if chat_id > 0 else rng.choice(("group", "supergroup", "channel"))
            if chat_id in data.chats:
                continue
            session.add(Chat(id=chat_id, type=chat_type, title="c"))
            await session.flush()  # before its feeds (no ORM relationship orders them)
            data.chats[chat_id] = chat_type
            for kind in ("signals", "risk"):
                if rng.random() < 0.6:
                    active = rng.random() < 0.7
                    session.add(Feed(chat_id=chat_id, kind=kind, active=active))
                    data.feeds.append((chat_id, kind, active))
        for n in range(max(2, users // 4)):
            status = rng.choice(("open", "open", "tp", "sl", "expired"))
            at = _when(rng, now, 14)
            session.add(
                Signal(
                    symbol=f"C{n}",  # one open signal per coin/timeframe/direction (a unique index)
                    timeframe="1h",
                    direction="long",
                    entry=1.0,
                    stop=0.9,
                    take_profit=1.2,
                    confidence=0.5,
                    strategy="s",
                    valid_until=now,
                    status=status,
                    created_at=at,
                )
            )
            data.signals.append((status, at))
        for n in range(users):
            status = rng.choice(("pending", "sending", "failed", "sent", "dead", "skipped"))
            kind = rng.choice(("signal", "alert"))
            error = (
                RATE_LIMITED if status == "failed" and rng.random() < 0.6 else ("boom" if status == "failed" else None)
            )
            created, due = _when(rng, now, 1), now + timedelta(seconds=rng.uniform(-7200, 600))
            session.add(
                Delivery(
                    kind=kind,
                    ref_id=f"r{n}",
                    chat_id=n + 1,
                    status=status,
                    error=error,
                    created_at=created,
                    next_attempt_at=due,
                )
            )
            data.deliveries.append((kind, status, error, created, due))
        await session.commit()
    return data


def expected_counts(data: Generated) -> dict[str, Any]:
    now = data.now
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week, hour_ago = now - timedelta(days=7), now - timedelta(hours=1)
    users = data.users
    live_plans = Counter(
        u.plan for u in users if u.plan != "free" and (u.plan_expires_at is None or u.plan_expires_at > now)
    )
    llm = [a for a in data.answers if not a[0].startswith("rules:") and a[3] >= now - timedelta(days=30)]
    cost = sum((p * PRICES[m].prompt + c * PRICES[m].completion) / 1e6 for m, p, c, _ in llm if m in PRICES)

    def tx(kind: str, category: str) -> int:
        return sum(a for k, c, a in data.transactions if (k, c) == (kind, category))

    with_feeds = {chat for chat, _, active in data.feeds if active}
    open_rows = [d for d in data.deliveries if d[1] in ("pending", "sending", "failed")]
    return {
        "users": (
            len(users),
            sum(u.last_seen_at >= now - timedelta(days=1) for u in users),
            sum(u.last_seen_at >= week for u in users),
            sum(u.last_seen_at >= now - timedelta(days=30) for u in users),
            sum(u.created_at >= day_start for u in users),
            sum(u.banned for u in users),
            sum(u.bot_blocked for u in users),
        ),
        "plans": dict(live_plans),
        "questions": (sum(q >= day_start for q in data.questions), sum(q >= week for q in data.questions)),
        "llm": (len(llm), sum(a[1] for a in llm), sum(a[2] for a in llm), round(cost, 9)),
        "unpriced": sorted({m for m, *_ in llm if m not in PRICES}),
        "rules": sum(1 for a in data.answers if a[0].startswith("rules:") and a[3] >= now - timedelta(days=30)),
        "ledger": (
            tx("credit", "purchase"),
            tx("debit", "refund"),
            tx("debit", "chat") - tx("credit", "hold_release"),
            tx("credit", "admin_grant"),
            tx("debit", "admin_revoke"),
        ),
        "stars": (
            sum(s in ("paid", "refunded") for s, _ in data.payments),
            sum(a for s, a in data.payments if s in ("paid", "refunded")),
            sum(a for s, a in data.payments if s == "refunded"),
        ),
        "feeds": (
            sum(data.chats[c] == "private" for c in with_feeds),
            sum(data.chats[c] in ("group", "supergroup") for c in with_feeds),
            sum(data.chats[c] == "channel" for c in with_feeds),
            sum(k == "signals" and a for _, k, a in data.feeds),
            sum(k == "risk" and a for _, k, a in data.feeds),
            sum(data.alerts),
            sum(data.positions),
        ),
        "signals": (sum(at >= week for _, at in data.signals), sum(s == "open" for s, _ in data.signals)),
        "delivered": sum(k == "signal" and s == "sent" for k, s, *_ in data.deliveries),
        "backlog": len(open_rows),
        "oldest": max(((now - d[3]).total_seconds() for d in open_rows), default=0.0),
        "limited": sum(s == "failed" and e == RATE_LIMITED and due >= hour_ago for _, s, e, _, due in data.deliveries),
    }


def observed(stats: AdminStats) -> dict[str, Any]:
    u, llm, ledger, stars, feeds = stats.users, stats.llm, stats.ledger, stats.stars, stats.feeds
    return {
        "users": (u.total, u.active_1d, u.active_7d, u.active_30d, u.new_today, u.banned, u.blocked),
        "plans": stats.plans,
        "questions": (stats.questions_today, stats.questions_7d),
        "llm": (llm.requests, llm.prompt_tokens, llm.completion_tokens, round(llm.cost, 9)),
        "unpriced": sorted(llm.unpriced),
        "rules": llm.rules_answers,
        "ledger": (ledger.sold, ledger.refunded, ledger.spent, ledger.granted, ledger.revoked),
        "stars": (stars.payments, stars.gross, stars.refunded),
        "feeds": (
            feeds.private_chats,
            feeds.groups,
            feeds.channels,
            feeds.signal_feeds,
            feeds.risk_feeds,
            feeds.alerts_active,
            feeds.positions_active,
        ),
        "signals": (stats.signals.created_7d, stats.signals.open),
        "delivered": stats.signals_delivered,
        "backlog": stats.backlog,
        "oldest": stats.oldest_open_age,
        "limited": stats.rate_limited_last_hour,
    }


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def stats_of(engine: AsyncEngine, sessionmaker: Sessions, now: datetime) -> tuple[AdminStats, list[str]]:
    with counted(engine) as seen:
        async with sessionmaker() as session:
            stats = await collect_stats(session, PRICES, now)
    return stats, seen


async def test_stats_equal_an_independent_count(engine: AsyncEngine, sessionmaker: Sessions) -> None:
    data = await generate(sessionmaker, 150, seed=14)
    stats, _ = await stats_of(engine, sessionmaker, data.now)
    got, want = observed(stats), expected_counts(data)
    assert abs(got.pop("oldest") - want.pop("oldest")) < 1e-3
    assert got == want
    # The generated data reaches every number (a zero everywhere would prove nothing).
    assert all(want["users"]) and want["plans"] and all(want["llm"]) and want["unpriced"] == ["qwen-max"]
    assert all(want["stars"]) and want["limited"] and want["delivered"] and want["backlog"]


async def test_the_statement_count_does_not_grow_with_the_users(engine: AsyncEngine, sessionmaker: Sessions) -> None:
    small = await generate(sessionmaker, 10, seed=1)
    _, few = await stats_of(engine, sessionmaker, small.now)
    await generate_more(sessionmaker, 300)
    _, many = await stats_of(engine, sessionmaker, small.now)
    statements = [s for s in few if s.lstrip().upper().startswith("SELECT")]
    assert len(few) == len(many) and len(statements) <= 12, few


async def generate_more(sessionmaker: Sessions, users: int) -> None:
    """More users (and their rows) beside those already there."""
    async with sessionmaker() as session:
        for n in range(users):
            session.add(User(telegram_id=9_000_000 + n, first_name="M", invite_code=f"m{n}"))
        await session.commit()
    await generate_extra_conversations(sessionmaker)


async def generate_extra_conversations(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        conversation = Conversation(user_id=1, chat_id=1)
        session.add(conversation)
        await session.flush()
        for n in range(200):
            role = "user" if n % 2 == 0 else "assistant"
            session.add(
                ChatMessage(
                    conversation_id=conversation.id,
                    role=role,
                    content="x",
                    tokens=n,
                    model="gpt-4o-mini" if n % 2 else None,
                )
            )
        await session.commit()


def test_llm_prices_parse() -> None:
    assert parse_llm_prices("gpt-4o-mini=0.15/0.6, deepseek-chat=0.27/1.1,") == {
        "gpt-4o-mini": ModelPrice(0.15, 0.6),
        "deepseek-chat": ModelPrice(0.27, 1.1),
    }
    for bad in ("gpt", "gpt=1", "gpt=a/b", "=1/2", "gpt=-1/2"):
        try:
            parse_llm_prices(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")
