"""Free-text questions in private chats (and mentions/replies in groups) → the chat analyst."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, MessageGenerationStopped
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import AskCallback, StopCallback
from handlers.charts import send_chart, send_comparison_chart
from handlers.credits_ui import out_of_credits
from handlers.invites import notify_invite_reward
from handlers.streaming import AnswerStream
from services.chat import AnswerGate, Prepared, Refusal
from services.chat.gate import Ticket
from services.chat.memory import start_new
from services.chat.stops import RunningAnswer
from services.container import Services
from services.i18n import Translator
from services.uow import Session
from services.users import UserView

log = logging.getLogger(__name__)

EXAMPLES = (("chat-example-btc", "BTC 4h"), ("chat-example-eth", "ETH 1d"), ("chat-example-sol", "SOL 1h"))


def examples_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key, question in EXAMPLES:
        builder.button(text=t(key), callback_data=AskCallback(q=question))
    builder.adjust(3)
    return builder.as_markup()


def suggestions_keyboard(suggestions: tuple[str, ...]) -> InlineKeyboardMarkup | None:
    if not suggestions:
        return None
    builder = InlineKeyboardBuilder()
    for symbol in suggestions[:4]:
        builder.button(text=symbol, callback_data=AskCallback(q=symbol[:40]))
    return builder.as_markup()


async def refuse(message: Message, t: Translator, refusal: Refusal) -> None:
    if refusal.reason == "need_coin":
        await message.answer(t("chat-need-coin"), reply_markup=examples_keyboard(t))
    elif refusal.reason == "unknown_coin":
        exchanges = "/".join(refusal.exchanges) or "—"
        text = t("chat-unknown-coin", query=refusal.query or "?", exchanges=exchanges)
        if refusal.suggestions:
            text += "\n" + t("chat-did-you-mean", suggestions=", ".join(refusal.suggestions[:4]))
        await message.answer(text, reply_markup=suggestions_keyboard(refusal.suggestions))
    elif refusal.reason == "not_enough_data":
        await message.answer(t("chat-not-enough-data", symbol=refusal.query or "?", timeframe=refusal.timeframe or ""))
    elif refusal.reason == "no_credits":
        decision = refusal.decision
        text, keyboard = out_of_credits(
            t, cost=decision.cost if decision else 1, available=(decision.available or 0) if decision else 0
        )
        await message.answer(text, reply_markup=keyboard)
    elif refusal.reason == "injection":
        await message.answer(t("chat-injection"))
    else:
        await message.answer(t("chat-exchange-down"))


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One question being answered: what the update brought, passed along as one value."""

    message: Message
    text: str
    bot: Bot
    session: Session
    user: UserView
    t: Translator


async def take_turn(turn: Turn, gate: AnswerGate) -> Ticket | None:
    ticket = await gate.try_enter(turn.user.id)
    if ticket is not None:
        return ticket
    queued = await gate.try_queue(turn.user.id)
    if queued is not None:
        await turn.message.answer(turn.t("chat-queued"))
        return await gate.wait_turn(queued)
    await turn.message.answer(turn.t("chat-busy"))
    return None


async def answer_in_turn(turn: Turn, services: Services) -> None:
    """One answer at a time per user (one question may wait behind it, a third is refused)."""
    ticket = await take_turn(turn, services.answer_gate)
    if ticket is None:
        return
    try:
        await _answer(turn, services)
    finally:
        await services.answer_gate.leave(ticket)


@asynccontextmanager
async def answer_slot(turn: Turn, prepared: Prepared, services: Services) -> AsyncIterator[None]:
    """One of the ANSWER_CONCURRENCY answers running at once (the model's stream, the delivery, the
    chart), waited for first come first served with "typing…" shown (chat actions are not paced).
    Nothing is held while waiting: the question's reservation is committed and no transaction is
    open; it is renewed meanwhile and when the turn comes, so however long the queue the sweeper
    never gives it back under a running answer. A question dropped while it waits (shutdown) gives
    its reservation back at once."""
    slots = services.answer_slots
    acquired = False
    try:
        if slots.free():
            await slots.acquire()
            acquired = True
        else:
            async with ChatActionSender.typing(bot=turn.bot, chat_id=turn.message.chat.id):
                await _wait_renewing(turn, prepared, services)
                acquired = True
            await services.chat_service.renew(turn.session, prepared)  # a full lifetime from the answer's start
    except asyncio.CancelledError:
        if acquired:
            slots.release()
        await services.chat_service.give_back(turn.session, prepared)
        raise
    try:
        yield
    finally:
        slots.release()


async def _wait_renewing(turn: Turn, prepared: Prepared, services: Services) -> None:
    """Wait for an answer slot, renewing the question's reservation every `renew_every` seconds (a
    third of its lifetime) meanwhile. Cancelled, it leaves no slot taken."""
    slots, chat_service = services.answer_slots, services.chat_service
    waiting = asyncio.ensure_future(slots.acquire())
    got = False
    try:
        while not waiting.done():
            await asyncio.wait({waiting}, timeout=chat_service.renew_every)
            if not waiting.done():
                await chat_service.renew(turn.session, prepared)
        waiting.result()
        got = True
    finally:
        if not got:
            if not waiting.done():
                waiting.cancel()  # `acquire` passes on a slot handed to it as it is cancelled
                await asyncio.wait({waiting})
            elif not waiting.cancelled() and waiting.exception() is None:
                slots.release()  # handed a slot while a renewal was cut short


async def _answer(turn: Turn, services: Services) -> None:
    """One question: the first feedback at once (a draft in a private chat), then prepare, wait for a
    slot, stream and deliver; stoppable by the asker all along (services.running_answers)."""
    running = services.running_answers.start(turn.message.chat.id, turn.user.telegram_id)
    try:
        await _answer_running(turn, services, running)
    finally:
        services.running_answers.finish(running)


async def _answer_running(turn: Turn, services: Services, running: RunningAnswer) -> None:
    message, bot, session, t = turn.message, turn.bot, turn.session, turn.t
    chat_service = services.chat_service
    chat_id = message.chat.id
    group = message.chat.type != ChatType.PRIVATE
    stream = AnswerStream(
        bot,
        chat_id,
        t=t,
        running=running,
        group=group,
        reply_to=message.message_id if group else None,
        congested=services.backlog.congested,
    )
    # The first feedback, before the question is prepared. Not sent alongside the preparation: no
    # Telegram call is made while this update holds a database connection.
    await stream.thinking()
    # Groups see "typing…" while the question is prepared (a private chat has its draft already).
    async with ChatActionSender.typing(bot=bot, chat_id=chat_id) if group else nullcontext():
        result = await chat_service.prepare(
            session, user_id=turn.user.id, chat_id=chat_id, message_id=message.message_id, text=turn.text, t=t
        )
    if isinstance(result, Refusal):
        await refuse(message, t, result)
        return
    async with answer_slot(turn, result, services):
        # Settled on leaving the block whatever happens in it (an exception, a cancellation): charged
        # only for a whole answer delivered, given back otherwise (stopped, refused, failed).
        async with chat_service.answering(session, result) as answering:
            outcome = await stream.deliver(chat_service.stream(result))
            answer = outcome.answer if outcome.stopped is None else chat_service.stopped(outcome.stopped)
            if outcome.delivered and answer is not None:
                answering.delivered(answer)
        if not outcome.delivered:
            try:
                await message.answer(t("chat-answer-failed"))
            except TelegramAPIError:
                log.info("chat %s unreachable", chat_id)
        elif answer is not None and not answer.stopped and answer.source != "refused":
            if result.comparison is not None:
                await send_comparison_chart(bot, chat_id, result.comparison, t, services.chart_cache)
            else:
                await send_chart(bot, chat_id, result.views[0], t, services.chart_cache)
    settled = answering.settled
    if settled is not None and settled.invite_reward is not None:
        await notify_invite_reward(bot, session, services.translations, settled.invite_reward)


async def on_generation_stopped(event: MessageGenerationStopped, services: Services) -> None:
    """The stop button of an answer's draft (private chats; only the asker sees it)."""
    services.running_answers.stop(event.chat.id, event.draft_id)


async def on_stop_button(query: CallbackQuery, callback_data: StopCallback, t: Translator, services: Services) -> None:
    """The inline Stop button under an answer being written in a group: the asker's only."""
    if query.message is None:
        await query.answer()
        return
    outcome = services.running_answers.stop(query.message.chat.id, callback_data.a, by=query.from_user.id)
    if outcome == "stopped":
        await query.answer()
    else:
        await query.answer(t("stream-stop-not-yours" if outcome == "not_yours" else "stream-stop-too-late"))


async def on_text(
    message: Message, bot: Bot, session: Session, user: UserView, t: Translator, services: Services
) -> None:
    text = message.text or ""
    if message.chat.type != ChatType.PRIVATE:
        me = await bot.me()
        text = text.replace(f"@{me.username}", " ").strip()
    await answer_in_turn(Turn(message=message, text=text, bot=bot, session=session, user=user, t=t), services)


async def on_ask_button(
    query: CallbackQuery,
    callback_data: AskCallback,
    bot: Bot,
    session: Session,
    user: UserView,
    t: Translator,
    services: Services,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        turn = Turn(message=query.message, text=callback_data.q, bot=bot, session=session, user=user, t=t)
        await answer_in_turn(turn, services)


async def new_conversation(message: Message, session: Session, user: UserView, t: Translator) -> None:
    await start_new(session, user.id, message.chat.id)
    await message.answer(t("chat-new"), reply_markup=examples_keyboard(t))


async def addressed_to_bot(message: Message, bot: Bot) -> bool:
    """In groups the bot answers only when mentioned or when someone replies to its message."""
    me = await bot.me()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
        return True
    return bool(me.username) and f"@{me.username}".lower() in (message.text or "").lower()


def build_router() -> Router:
    router = Router(name="chat")
    router.message.register(new_conversation, Command("new"))
    router.callback_query.register(on_ask_button, AskCallback.filter())
    router.callback_query.register(on_stop_button, StopCallback.filter())
    router.stopped_message_generation.register(on_generation_stopped)
    router.message.register(on_text, F.chat.type == ChatType.PRIVATE, F.text, ~F.text.startswith("/"))
    router.message.register(
        on_text,
        F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}),
        F.text,
        ~F.text.startswith("/"),
        addressed_to_bot,
    )
    return router
