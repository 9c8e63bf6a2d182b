"""What a banned user gets: one polite line, and nothing else.

The context middleware (early in the chain, on the cached user view: no query for a returning
user) stops every update of a banned user before any handler — so no LLM, exchange or database
work — and hands it here. A message in a private chat is answered with the one localized line, a
button press with the same line as its answer; anything else (groups, channels, member updates) is
dropped silently. At most one line per user per `quiet` seconds: a banned user who floods costs one
message per window, not one per update."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update
from redis.exceptions import RedisError

from services.i18n import Translator
from services.kv import KeyValueStore

log = logging.getLogger(__name__)

DEFAULT_QUIET = 10.0


class BannedNotice:
    def __init__(self, store: KeyValueStore, quiet: float = DEFAULT_QUIET) -> None:
        self.store = store
        self.quiet = quiet

    async def _first_in_window(self, telegram_id: int) -> bool:
        try:
            return await self.store.set_nx(f"banned-notice:{telegram_id}", b"1", self.quiet)
        except (RedisError, OSError) as exc:
            log.warning("banned notice window unavailable, answering anyway: %s", exc)
            return True

    async def __call__(self, update: Update, bot: Bot, t: Translator) -> None:
        message, query = update.message, update.callback_query
        try:
            if query is not None:
                # A press must be answered (or the button spins); the line is its answer.
                await bot.answer_callback_query(query.id, text=t("banned-notice"))
            elif (
                message is not None
                and message.chat.type == ChatType.PRIVATE
                and message.from_user is not None
                and await self._first_in_window(message.from_user.id)
            ):
                await bot.send_message(message.chat.id, t("banned-notice"))
        except TelegramAPIError as exc:  # blocked us meanwhile, or Telegram refused: nothing more to say
            log.info("banned notice not delivered: %s", exc)
