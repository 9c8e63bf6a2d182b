from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.outgoing import BotSession, RateLimitMiddleware
from services.ratelimit import MemoryLimiterBackend, OutgoingLimits
from standins.telegram import FakeTelegramServer


@pytest.fixture
async def bot(tg: FakeTelegramServer) -> AsyncIterator[Bot]:
    """The real aiogram Bot on the stand-in Bot API, as create_bot makes it (the app's session, the
    outgoing limiter, HTML by default) without the rest of the app."""
    session = BotSession(api=TelegramAPIServer.from_base(tg.base_url))
    session.middleware(RateLimitMiddleware(MemoryLimiterBackend(OutgoingLimits())))
    bot = Bot(tg.token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield bot
    await bot.session.close()
