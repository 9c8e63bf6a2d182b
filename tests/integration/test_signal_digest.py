"""The weekly digest on both backends: only live signals feeds with the digest on, each with the
signals of its own coins and timeframes, in the chat's language, silent feeds silent, forum topics
kept, once per chat and week; and /performance's words parsed (coin, timeframe, period, any order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Chat, Delivery
from db.repositories.feeds import FeedRepository
from db.repositories.signals import SignalRepository
from services.delivery import OutboxMessage
from services.i18n import Translations
from services.signals.digest import enqueue_digests, set_digest
from services.signals.model import SignalIdea, new_signal
from services.signals.record import Scope, parse_scope

NOW = datetime(2026, 11, 30, 0, 0, 5, tzinfo=UTC)


async def add_signal(session: AsyncSession, symbol: str, timeframe: str, result: float, closed: datetime) -> None:
    repo = SignalRepository(session)
    idea = SignalIdea(
        symbol=symbol,
        exchange="bybit",
        timeframe=timeframe,
        direction="short",
        entry=100.0,
        stop=101.0,
        targets=(98.0,),
        confidence=55,
        reason=("trend_down",),
        signal_at=closed - timedelta(hours=5),
        valid_until=closed + timedelta(hours=5),
        strategy="trend",
        version="1",
    )
    signal_id = await repo.add(new_signal(idea))
    assert signal_id is not None
    await repo.close(
        signal_id,
        status="tp" if result > 0 else "sl",
        exit_price=100 - result,
        closed_at=closed,
        result_r=result,
        outcome_pct=result,
        fee_pct=0.055,
        slippage_pct=0.02,
    )


async def test_digest_goes_to_feeds_with_it_on_with_their_own_signals(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    chats = [(-1001, "supergroup", "zh"), (-1002, "group", "en"), (-1003, "channel", "en"), (-1004, "group", "en")]
    async with sessionmaker() as session:
        session.add_all(Chat(id=i, type=kind, title=f"chat {i}", locale=loc, active=True) for i, kind, loc in chats)
        await session.flush()
        feeds = FeedRepository(session)
        setups = [(-1001, ["BTC"], ["4h"], "silent", 7), (-1002, ["BTC", "ETH"], ["1h"], "on", None)]
        setups += [(-1003, ["ETH"], [], "on", None), (-1004, ["BTC"], [], "on", None)]
        for chat_id, symbols, timeframes, level, thread in setups:
            await feeds.save(
                chat_id=chat_id,
                kind="signals",
                symbols=symbols,
                timeframes=timeframes,
                level=level,
                thread_id=thread,
                created_by=1,
                now=NOW,
            )
        for index in range(22):
            await add_signal(session, "BTC", "4h", 2.0 if index % 2 else -1.0, NOW - timedelta(days=30, hours=index))
        await add_signal(session, "BTC", "4h", 2.0, NOW - timedelta(days=2))
        await add_signal(session, "ETH", "1h", -1.0, NOW - timedelta(days=1))
        await add_signal(session, "BTC", "4h", 2.0, NOW - timedelta(days=100))  # older than the record shown
        await session.commit()
    async with sessionmaker() as session:
        assert not await set_digest(session, -1009, True)  # no signals feed there
        for chat_id in (-1001, -1002, -1003):
            assert await set_digest(session, chat_id, True)

    translations = Translations("en")
    async with sessionmaker() as session:
        assert await enqueue_digests(session, translations, now=NOW, min_signals=20) == 3
        assert await enqueue_digests(session, translations, now=NOW, min_signals=20) == 0  # once per week
        await session.commit()
        rows = {row.chat_id: row for row in await session.scalars(select(Delivery).order_by(Delivery.chat_id))}
    assert set(rows) == {-1001, -1002, -1003}  # -1004 left the digest off
    assert {row.kind for row in rows.values()} == {"digest"} and {row.ref_id for row in rows.values()} == {
        "digest:2026-11-30"
    }
    zh = OutboxMessage.from_json(rows[-1001].payload)
    assert zh.disable_notification and zh.message_thread_id == 7
    assert "每周信号摘要" in zh.text and "本周结束了 1 个信号" in zh.text and "胜率：52.2%（n=23）" in zh.text
    hourly = OutboxMessage.from_json(rows[-1002].payload).text  # BTC and ETH, but 1h only
    assert "1 signal closed this week." in hourly and "1 closed signal (0 won, 1 lost)" in hourly
    assert "too few for the figures" in hourly
    channel = OutboxMessage.from_json(rows[-1003].payload).text
    assert "<b>Weekly signal digest</b> — ETH" in channel and "1 closed signal " in channel


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("", Scope()),
        ("btc", Scope(symbol="BTC")),
        ("90D $eth H4", Scope(symbol="ETH", timeframe="4h", period="90d")),
        ("all 1d 1inch", Scope(symbol="1INCH", timeframe="1d", period="all")),
        ("btc eth", None),
        ("4h 1h", None),
        ("30d 90d", None),
        ("bt-c", None),
    ],
)
def test_performance_words(text: str, scope: Scope | None) -> None:
    assert parse_scope(text) == scope
