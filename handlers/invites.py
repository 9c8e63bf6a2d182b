"""/invite, binding an inviter from a /start deep link, and telling inviters about their rewards.

Notifications to inviters are best effort: a Telegram error (blocked bot, deleted account, network)
is logged and never fails the update that earned the reward (a payment, a question).
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from handlers.callbacks import CreditsMenuAction, CreditsMenuCallback
from handlers.credits_ui import invite_reward_text, invite_view
from services.credits.config import CreditsConfig
from services.credits.invites import BindOutcome, BindResult, InviteReward, bind_inviter, invite_stats
from services.i18n import Translations, Translator
from services.uow import Session
from services.users import UserView, notification_locale

log = logging.getLogger(__name__)


async def invite_link(bot: Bot, code: str) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start={code}"


async def send_invite(
    bot: Bot, chat_id: int, session: Session, user: UserView, t: Translator, config: CreditsConfig
) -> None:
    stats = await invite_stats(session, user.id)
    link = await invite_link(bot, stats.invite_code or user.invite_code)
    text, markup = invite_view(t, link, stats, config.invite_reward_credits, config.invite_purchase_percent)
    await bot.send_message(chat_id, text, reply_markup=markup)


async def invite(
    message: Message, bot: Bot, session: Session, user: UserView, t: Translator, credits_config: CreditsConfig
) -> None:
    await send_invite(bot, message.chat.id, session, user, t, credits_config)


async def invite_button(
    query: CallbackQuery, bot: Bot, session: Session, user: UserView, t: Translator, credits_config: CreditsConfig
) -> None:
    await query.answer()
    await send_invite(bot, query.from_user.id, session, user, t, credits_config)


async def _translator_for(session: Session, translations: Translations, user_id: int) -> Translator | None:
    locale = await notification_locale(session, user_id, translations.default_locale)
    return None if locale is None else translations.get(locale)


async def _send_best_effort(bot: Bot, telegram_id: int, text: str) -> bool:
    try:
        await bot.send_message(telegram_id, text)
    except TelegramAPIError as exc:
        log.warning("could not notify user %s: %s", telegram_id, exc)
        return False
    return True


async def notify_invite_reward(
    bot: Bot, session: Session, translations: Translations, reward: InviteReward | None
) -> bool:
    """Tell the inviter about a reward (`PaymentResult.invite_reward`, `SettleResult.invite_reward`),
    in their language. Best effort: False when not sent; never raises on Telegram errors."""
    if reward is None or not reward.inviter_telegram_id:
        return False
    t = await _translator_for(session, translations, reward.inviter_id)
    if t is None:
        return False
    return await _send_best_effort(bot, reward.inviter_telegram_id, invite_reward_text(t, reward))


async def bind_from_start(
    bot: Bot,
    session: Session,
    translations: Translations,
    user: UserView,
    payload: str,
    user_created: bool,
    config: CreditsConfig,
) -> BindResult:
    """Called by /start with a deep-link payload: bind the code's owner as the inviter of a NEW user
    (never self, never a cycle; unknown codes are ignored) and tell the inviter someone joined."""
    result = await bind_inviter(session, user.id, payload, is_new_user=user_created)
    if result.outcome is not BindOutcome.BOUND:
        if result.outcome is not BindOutcome.NOT_NEW:
            log.info("invite code %r from user %s not bound: %s", payload, user.id, result.outcome)
        return result
    if result.inviter_id is not None and result.inviter_telegram_id:
        t = await _translator_for(session, translations, result.inviter_id)
        if t is not None:
            text = t(
                "invite-joined",
                name=user.first_name or "—",
                reward=config.invite_reward_credits,
                percent=config.invite_purchase_percent,
            )
            await _send_best_effort(bot, result.inviter_telegram_id, text)
    return result


def build_router() -> Router:
    router = Router(name="invites")
    router.message.register(invite, Command("invite"), F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(invite_button, CreditsMenuCallback.filter(F.action == CreditsMenuAction.INVITE))
    return router
