"""A real aiogram `Bot` wired to a fake server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

if TYPE_CHECKING:
    from .server import FakeTelegramServer


class LocalAiohttpSession(AiohttpSession):
    """AiohttpSession without the 250 ms pause on close (meant for TLS connections; loopback has none)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: FakeTelegramServer | str, token: str | None = None, *, parse_mode: str | None = "HTML") -> Bot:
    """An aiogram Bot talking to a fake server (a FakeTelegramServer, or a base URL plus a token)."""
    if isinstance(server, str):
        if token is None:
            raise ValueError("pass the token with a base URL")
        url = server
    else:
        url, token = server.base_url, token or server.token
    session = LocalAiohttpSession(api=TelegramAPIServer.from_base(url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=parse_mode))
