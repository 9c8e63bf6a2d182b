"""/signal for operators: a manual trading signal, previewed with its chart, then published or cancelled.

    /signal <coin> <long|short> <timeframe> entry=… sl=… tp=…[,…] [valid=12h] [conf=60] [note=…]

Thin: parse (services.signals.manual) → resolve the coin with the market service → render the chart
in the chart pool → keep the draft (DraftStore, short-lived) → preview photo with Publish / Cancel.
Publish claims the draft once (a second press finds nothing) and stores, publishes and audits it in
one transaction (`confirm_manual`), then wakes the outbox; Cancel drops it and sends nothing.
Operators only (ADMIN_IDS), in private chats: for everyone else /signal is an unknown command.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import SignalDraftAction, SignalDraftCallback
from handlers.filters import IsAdmin
from services.delivery import OutboxWake
from services.delivery.message import CAPTION_LIMIT
from services.feeds.recipients import recipients
from services.i18n import Translations, Translator
from services.intent import resolve_coin
from services.kv import KeyValueStore
from services.market import SUPPORTED_TIMEFRAMES, MarketError, MarketService
from services.market.chart_cache import ChartCache
from services.market.charts import MAX_CANDLES
from services.market_text import error_reply
from services.signals.chart import render_signal_chart_async
from services.signals.manual import (
    DraftStore,
    ManualDraft,
    ManualSignalError,
    cancel_manual,
    confirm_manual,
    parse_manual,
)
from services.signals.publish import FEED_KIND
from services.signals.texts import pair, signal_text
from services.text.html import visible_length
from services.uow import Session

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def usage(t: Translator) -> str:
    return t("signal-usage", timeframes=" ".join(SUPPORTED_TIMEFRAMES))


def error_text(t: Translator, error: ManualSignalError) -> str:
    """The problem, then (for a syntax problem) the usage line with its example."""
    text = t(f"signal-error-{error.code.replace('_', '-')}", **error.args_)
    if error.code.endswith(("wrong_side", "order")):
        return text  # a refusal with its reason: the syntax was fine
    return f"{text}\n\n{usage(t)}"


def with_header(header: str, draft: ManualDraft, t: Translator, now: datetime) -> str:
    """`header` above the signal's text, the whole within a caption."""
    room = CAPTION_LIMIT - visible_length(header) - 2
    return f"{header}\n\n{signal_text(draft.idea(now), t, limit=room)}"


def preview_markup(t: Translator, token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("signal-button-publish"),
        callback_data=SignalDraftCallback(action=SignalDraftAction.PUBLISH, token=token),
    )
    builder.button(
        text=t("signal-button-cancel"), callback_data=SignalDraftCallback(action=SignalDraftAction.CANCEL, token=token)
    )
    return builder.as_markup()


async def _chart(market: MarketService, chart_cache: ChartCache, draft: ManualDraft, now: datetime) -> bytes | None:
    """The draft's chart, or None when the exchange does not answer (the signal goes without one)."""
    try:
        candles = await market.candles(draft.coin, draft.timeframe, limit=MAX_CANDLES)
        return await render_signal_chart_async(candles, draft.idea(now), executor=chart_cache.executor)
    except (MarketError, ValueError) as exc:
        log.warning("no chart for the manual signal %s %s: %s", draft.coin, draft.timeframe, exc)
        return None


async def signal_cmd(
    message: Message,
    command: CommandObject,
    session: Session,
    t: Translator,
    market: MarketService,
    chart_cache: ChartCache,
    store: KeyValueStore,
) -> None:
    assert message.from_user is not None
    try:
        draft = parse_manual(command.args)
    except ManualSignalError as error:
        await message.answer(error_text(t, error))
        return
    try:
        resolved = await resolve_coin(market, draft.coin)
    except MarketError as exc:
        await message.answer(error_reply(t, exc, query=draft.coin, exchanges=market.exchanges).text)
        return
    draft = draft.resolved(resolved.base, resolved.exchange, message.from_user.id)
    now = _now()
    png = await _chart(market, chart_cache, draft, now)
    chats = len(await recipients(session, FEED_KIND, draft.coin, draft.timeframe))
    await session.rollback()  # a read: no transaction held while Telegram is talked to
    token = await DraftStore(store).save(draft, png)
    header = t("signal-preview", pair=pair(draft.coin), timeframe=draft.timeframe, chats=chats)
    if png is None:
        header = f"{header}\n{t('signal-preview-no-chart')}"
    caption = with_header(header, draft, t, now)
    markup = preview_markup(t, token)
    if png is None:
        await message.answer(caption, reply_markup=markup)
        return
    photo = BufferedInputFile(png, filename=f"signal-{draft.coin}-{draft.timeframe}.png")
    await message.answer_photo(photo, caption=caption, reply_markup=markup)


async def _show(query: CallbackQuery, text: str) -> None:
    """Replace the preview's caption (or text) and drop its buttons."""
    preview = query.message
    if not isinstance(preview, Message):
        return
    with contextlib.suppress(TelegramBadRequest):  # the preview was deleted, or already says this
        if preview.photo:
            await preview.edit_caption(caption=text, reply_markup=None)
        else:
            await preview.edit_text(text, reply_markup=None)


async def draft_button(
    query: CallbackQuery,
    callback_data: SignalDraftCallback,
    session: Session,
    t: Translator,
    store: KeyValueStore,
    translations: Translations,
    outbox_wake: OutboxWake,
) -> None:
    taken = await DraftStore(store).take(callback_data.token, query.from_user.id)
    if taken is None:
        await query.answer(t("signal-draft-gone"), show_alert=True)
        return
    draft, png = taken
    now = _now()
    if callback_data.action is SignalDraftAction.CANCEL:
        await cancel_manual(session, draft)
        await query.answer()
        await _show(query, with_header(t("signal-cancelled"), draft, t, now))
        return
    preview = query.message
    file_id = preview.photo[-1].file_id if isinstance(preview, Message) and preview.photo else None
    done = await confirm_manual(
        session, draft, chart=png, translations=translations, now=now, wake=outbox_wake, chart_file_id=file_id
    )
    await query.answer()
    if done.signal_id is None:
        direction = t(f"signal-direction-{draft.direction}")
        header = t("signal-already-open", direction=direction, pair=pair(draft.coin), timeframe=draft.timeframe)
    else:
        header = t("signal-published", id=str(done.signal_id), chats=done.chats)
    await _show(query, with_header(header, draft, t, now))


def build_router() -> Router:
    router = Router(name="signals_admin")
    router.message.filter(IsAdmin(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(IsAdmin())
    router.message.register(signal_cmd, Command("signal"))
    router.callback_query.register(draft_button, SignalDraftCallback.filter())
    return router
