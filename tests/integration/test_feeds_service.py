"""The feed services against the database, on both backends: recipients in each chat's language,
plan limits (a feed over a limit after a downgrade may shrink, never grow), a migration onto a
supergroup that already has feeds, and the arguments of /subscribe."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Chat, Feed, User
from services.feeds.chats import bot_removed, bot_returned, chat_migrated
from services.feeds.model import LimitReached
from services.feeds.parse import FeedArgs, parse_feed_args
from services.feeds.recipients import recipients
from services.feeds.service import Edit, edit, subscribe
from services.market import UnsupportedTimeframe

Sessions = async_sessionmaker[AsyncSession]


async def _chat(sessionmaker: Sessions, chat_id: int, type_: str, locale: str | None = None) -> None:
    async with sessionmaker() as session:
        session.add(Chat(id=chat_id, type=type_, title=f"chat {chat_id}", locale=locale, active=True))
        await session.commit()


async def _user(sessionmaker: Sessions, telegram_id: int, *, locale: str | None, language_code: str | None) -> None:
    async with sessionmaker() as session:
        session.add(
            User(
                telegram_id=telegram_id,
                first_name="U",
                locale=locale,
                language_code=language_code,
                invite_code=f"c{telegram_id}",
            )
        )
        await session.commit()


async def test_recipients_get_their_chats_language(sessionmaker: Sessions) -> None:
    for telegram_id, locale, code in ((11, "zh", "en"), (12, None, "zh-hans"), (13, None, "de")):
        await _user(sessionmaker, telegram_id, locale=locale, language_code=code)
        await _chat(sessionmaker, telegram_id, "private")
    await _chat(sessionmaker, -100, "supergroup", locale="zh")
    await _chat(sessionmaker, -200, "group")
    async with sessionmaker() as session:
        for chat_id in (11, 12, 13, -100, -200):
            await subscribe(session, chat_id=chat_id, actor=chat_id, kinds=["risk"], coins=["BTC"])
        found = {r.chat_id: r.locale for r in await recipients(session, "risk", "BTC")}
    assert found == {11: "zh", 12: "zh", 13: None, -100: "zh", -200: None}


async def test_a_feed_over_its_limit_shrinks_but_does_not_grow(sessionmaker: Sessions) -> None:
    await _user(sessionmaker, 21, locale=None, language_code="en")
    await _chat(sessionmaker, 21, "private")
    async with sessionmaker() as session:
        session.add(Feed(chat_id=21, kind="signals", symbols="BTC,ETH,SOL", timeframes="4h", created_by=21))
        await session.commit()
        with pytest.raises(LimitReached) as hit:
            await edit(session, chat_id=21, actor=21, kind="signals", action=Edit.COIN, value="XRP")
        assert (hit.value.what, hit.value.limit, hit.value.plan.code) == ("coins", 1, "free")
        data = await edit(session, chat_id=21, actor=21, kind="signals", action=Edit.COIN, value="ETH")
        assert data.feeds["signals"].symbols == ("BTC", "SOL")
        with pytest.raises(LimitReached):  # a second feed: free allows one
            await subscribe(session, chat_id=21, actor=21, kinds=["risk"], coins=["BTC"])
        feeds = {f.kind: f.symbols for f in await session.scalars(select(Feed).where(Feed.chat_id == 21))}
    assert feeds == {"signals": "BTC,SOL"}


async def test_migration_onto_a_supergroup_that_has_feeds_and_pausing(sessionmaker: Sessions) -> None:
    await _chat(sessionmaker, -300, "group", locale="zh")
    await _chat(sessionmaker, -1300, "supergroup")
    async with sessionmaker() as session:
        session.add_all(
            [
                Feed(chat_id=-300, kind="signals", symbols="BTC", timeframes="4h"),
                Feed(chat_id=-300, kind="risk", symbols="ETH", timeframes=""),
                Feed(chat_id=-1300, kind="signals", symbols="SOL", timeframes="1h"),
            ]
        )
        await session.commit()
        assert await chat_migrated(session, -300, -1300) == 1
        assert await chat_migrated(session, -300, -1300) == 0  # announced in both chats: once is enough
        rows = sorted((f.chat_id, f.kind, f.symbols) for f in await session.scalars(select(Feed)))
        new = await session.get(Chat, -1300, populate_existing=True)
        old = await session.get(Chat, -300, populate_existing=True)
        assert rows == [(-1300, "risk", "ETH"), (-1300, "signals", "SOL")]
        assert new is not None and old is not None and (new.locale, old.active) == ("zh", False)

        await bot_removed(session, -1300)
        assert await recipients(session, "risk", "ETH") == []
        resumed = await bot_returned(session, -1300, was_member=False)
        assert (resumed.feeds, resumed.was_inactive, resumed.locale) == (2, True, "zh")
        assert [r.chat_id for r in await recipients(session, "risk", "ETH")] == [-1300]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("btc eth 1h 4h signals", FeedArgs(("btc", "eth"), ("1h", "4h"), ("signals",))),
        ("SOL, risk", FeedArgs(("SOL",), (), ("risk",))),
        ("W D 1d", FeedArgs(("W", "D"), ("1d",), ())),  # letters alone are tickers
        ("比特币 4小时 信号", FeedArgs(("比特币",), ("4h",), ("signals",))),
        ("all", FeedArgs((), (), ("signals", "risk"))),
    ],
)
def test_subscribe_arguments(text: str, expected: FeedArgs) -> None:
    assert parse_feed_args(text) == expected


def test_an_unsupported_timeframe_is_refused() -> None:
    with pytest.raises(UnsupportedTimeframe):
        parse_feed_args("btc 3m")
