"""Publishing a signal on both backends: a row per chat whose signals feed covers the coin and the
timeframe, in each chat's language, due after the feed owner's plan delay, one stored chart for all,
idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Chat, Delivery, DeliveryMedia, DeliveryStatus, Feed, User
from db.repositories.signals import SignalRepository, SignalRow
from services.delivery import OutboxMessage, OutboxWake
from services.i18n import Translations
from services.signals.model import SignalIdea, new_signal
from services.signals.publish import publish, signal_delays
from services.text.html import visible_text

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 1, 16, 0, 30, tzinfo=UTC)
TRANSLATIONS = Translations()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


async def people(sessionmaker: Sessions) -> None:
    """11 VIP (zh), 12 free (en), 13 VIP expired yesterday, 14 PRO; their chats and feeds."""
    async with sessionmaker() as session:
        for telegram_id, plan, expires, locale in (
            (11, "vip", NOW + timedelta(days=3), "zh"),
            (12, "free", None, "en"),
            (13, "vip", NOW - timedelta(days=1), None),
            (14, "pro", None, None),
        ):
            session.add(
                User(
                    telegram_id=telegram_id,
                    first_name="U",
                    locale=locale,
                    language_code="en",
                    invite_code=f"c{telegram_id}",
                    plan=plan,
                    plan_expires_at=expires,
                )
            )
            session.add(Chat(id=telegram_id, type="private", active=True))
        session.add(Chat(id=-100, type="supergroup", title="VIP group", locale="zh", active=True, is_forum=True))
        session.add(Chat(id=-200, type="group", title="expired owner's group", active=True))
        session.add(Chat(id=-300, type="channel", title="nobody's channel", active=True))
        session.add(Chat(id=-400, type="group", title="gone", active=False))
        session.add(Chat(id=15, type="private", active=True))
        await session.flush()
        feeds = [
            (11, "BTC,ETH", "4h", 11, "on", None),
            (12, "BTC", "4h,1h", 12, "on", None),
            (13, "SOL,BTC", "", 13, "silent", None),  # no timeframes: every timeframe
            (14, "ETH", "4h", 14, "on", None),  # another coin
            (-100, "BTC", "4h", 11, "silent", 77),  # a VIP's forum group, its topic
            (-200, "BTC", "4h", 13, "on", None),  # owner's VIP expired: free
            (-300, "BTC", "4h", None, "on", None),  # no known owner: free
            (-400, "BTC", "4h", 14, "on", None),  # the bot left this chat
        ]
        for chat_id, symbols, timeframes, owner, level, thread in feeds:
            session.add(
                Feed(
                    chat_id=chat_id,
                    kind="signals",
                    symbols=symbols,
                    timeframes=timeframes,
                    created_by=owner,
                    level=level,
                    thread_id=thread,
                )
            )
        # A risk feed for BTC 4h is not a signals feed; a 1h-only signals feed does not cover 4h.
        session.add(Feed(chat_id=14, kind="risk", symbols="BTC", timeframes="", created_by=14))
        session.add(Feed(chat_id=15, kind="signals", symbols="BTC", timeframes="1h", created_by=14))
        await session.commit()


async def stored(sessionmaker: Sessions, **changes: object) -> SignalRow:
    signal_at = datetime(2026, 12, 1, 16, tzinfo=UTC)
    values: dict[str, object] = {
        "symbol": "BTC",
        "exchange": "bybit",
        "timeframe": "4h",
        "direction": "long",
        "entry": 65_000.0,
        "stop": 63_500.0,
        "targets": (67_000.0,),
        "confidence": 70,
        "reason": ("trend_up", "macd_cross_up"),
        "signal_at": signal_at,
        "valid_until": signal_at + timedelta(hours=24),
        "strategy": "trend",
        "version": "1",
    }
    values.update(changes)
    async with sessionmaker() as session:
        repository = SignalRepository(session)
        signal_id = await repository.add(new_signal(SignalIdea(**values)), commentary="Trend intact.")  # type: ignore[arg-type]
        assert signal_id is not None
        await session.commit()
        row = await repository.get(signal_id)
    assert row is not None
    return row


async def rows(sessionmaker: Sessions, ref: str) -> dict[int, Delivery]:
    async with sessionmaker() as session:
        found = await session.scalars(select(Delivery).where(Delivery.kind == "signal", Delivery.ref_id == ref))
        return {row.chat_id: row for row in found}


async def test_rows_per_chat_in_its_language_after_its_owners_plan_delay(sessionmaker: Sessions) -> None:
    await people(sessionmaker)
    record = await stored(sessionmaker)
    wake = OutboxWake()
    async with sessionmaker() as session:
        assert await publish(session, record, chart=PNG, translations=TRANSLATIONS, now=NOW, wake=wake) == 6
        assert not wake.is_set()  # not before the commit
        await session.commit()
    assert wake.is_set()
    found = await rows(sessionmaker, str(record.id))
    assert set(found) == {11, 12, 13, -100, -200, -300}
    delays = {chat_id: aware(row.next_attempt_at) - NOW for chat_id, row in found.items()}
    free, none = timedelta(minutes=15), timedelta(0)
    assert delays == {11: none, 12: free, 13: free, -100: none, -200: free, -300: free}
    assert all(row.status == DeliveryStatus.PENDING for row in found.values())

    messages = {chat_id: OutboxMessage.from_json(row.payload) for chat_id, row in found.items()}
    photos = {message.photo for message in messages.values()}
    assert len(photos) == 1 and None not in photos
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryMedia)) == 1
    zh = {11, -100}
    for chat_id, message in messages.items():
        plain = visible_text(message.text)
        if chat_id in zh:
            assert plain.startswith("🟢 做多 BTC/USDT · 4h · Bybit") and "🤖 模型点评：Trend intact." in plain
        else:
            assert plain.startswith("🟢 LONG BTC/USDT · 4h · Bybit") and "🤖 Model's commentary: Trend intact." in plain
    assert messages[-100].disable_notification and messages[-100].message_thread_id == 77
    assert messages[13].disable_notification and not messages[11].disable_notification
    assert messages[11].message_thread_id is None

    # Publishing again adds nothing (and stores no second chart).
    async with sessionmaker() as session:
        assert await publish(session, record, chart=PNG, translations=TRANSLATIONS, now=NOW + timedelta(hours=1)) == 0
        await session.commit()
    again = await rows(sessionmaker, str(record.id))
    assert {chat_id: row.next_attempt_at for chat_id, row in again.items()} == {
        chat_id: row.next_attempt_at for chat_id, row in found.items()
    }


async def test_without_a_chart_and_without_recipients(sessionmaker: Sessions) -> None:
    await people(sessionmaker)
    record = await stored(sessionmaker, direction="short", stop=66_000.0, targets=(63_000.0,), reason=("trend_down",))
    async with sessionmaker() as session:
        assert await publish(session, record, chart=None, translations=TRANSLATIONS, now=NOW) == 6
        await session.commit()
    found = await rows(sessionmaker, str(record.id))
    assert all(OutboxMessage.from_json(row.payload).photo is None for row in found.values())
    assert visible_text(OutboxMessage.from_json(found[12].payload).text).startswith("🔴 SHORT BTC/USDT")

    nobody = await stored(sessionmaker, symbol="DOGE", entry=0.4, stop=0.38, targets=(0.44,))
    async with sessionmaker() as session:
        assert await publish(session, nobody, chart=PNG, translations=TRANSLATIONS, now=NOW) == 0
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(DeliveryMedia)) == 0  # no orphan chart


async def test_delays_by_plan(sessionmaker: Sessions) -> None:
    await people(sessionmaker)
    async with sessionmaker() as session:
        delays = await signal_delays(session, [11, 12, 13, 14, None, 999], NOW)
    minutes = {owner: delay.total_seconds() / 60 for owner, delay in delays.items()}
    assert minutes == {11: 0, 12: 15, 13: 15, 14: 0, None: 15, 999: 15}
