"""A bare aiogram echo bot: the load benchmark's baseline (tests/bench/bench_load.py).

Run: `BOT_TOKEN=… TELEGRAM_API_URL=http://127.0.0.1:PORT python -m tests.bench.echo_bot`

The aiogram of the project, long polling with aiogram's defaults (no middlewares, no database, no
limiter): what any bot on this library and this machine pays to take an update and answer it. It
answers every text message with the same text; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def echo(message: Message) -> None:
    await message.answer(message.text or "…")


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dp = Dispatcher()
    dp.message.register(echo)
    await dp.start_polling(bot)


if __name__ == "__main__":
    asyncio.run(main())
