"""/broadcast for operators: a message to every user, a plan's or a language's, through the outbox.

    /broadcast <all|free|vip|pro|en|zh> <text>     (the text keeps the operator's formatting)
    /broadcast <audience>  as a reply to a message  (copied to each user: formatting and media)
    /broadcast cancel [id]                          (stops what has not been sent)

The operator first sees the message as users will, then a preview with the audience's size and
Confirm / Cancel. Confirm claims the draft once and writes the rows and the audit row in one
transaction (services.admin.broadcast); the preview becomes the progress message, which the
broadcast progress loop (bot/broadcasts.py) edits until the final summary. Registered on the admin
router (operators, private chats): for everyone else /broadcast is an unknown command.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import BroadcastAction, BroadcastCallback
from services.admin.broadcast import (
    BroadcastDraft,
    BroadcastDrafts,
    BroadcastRequest,
    BroadcastState,
    audience_size,
    cancel_broadcast,
    parse_broadcast,
    start_broadcast,
)
from services.admin.users import record_refusal
from services.audit import record_admin_action
from services.delivery import InvalidDelivery, OutboxWake
from services.delivery.message import TEXT_LIMIT
from services.i18n import Translations, Translator
from services.kv import KeyValueStore
from services.uow import Session

ACTION = "broadcast"


def _actor(message: Message) -> int:
    assert message.from_user is not None
    return message.from_user.id


def command_args_html(message: Message) -> str:
    """What follows the command, as Telegram HTML (bold, links … the operator typed are kept)."""
    parts = message.html_text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def audience_title(t: Translator, audience: str) -> str:
    return t(f"broadcast-audience-{audience}")


def _duration(seconds: float) -> str:
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def progress_text(t: Translator, state: BroadcastState, now: datetime) -> str:
    counts = state.counts
    elapsed = max(0.0, (now - state.started_at).total_seconds())
    eta = _duration(elapsed * counts.remaining / counts.done) if counts.done and counts.remaining else "—"
    lines = [
        t("broadcast-progress", id=str(state.id), audience=audience_title(t, state.audience), total=counts.total),
        t(
            "broadcast-counts",
            sent=counts.sent,
            failed=counts.failed,
            blocked=counts.blocked,
            remaining=counts.remaining,
        ),
        t("broadcast-eta", eta=eta, elapsed=_duration(elapsed)),
    ]
    if counts.cancelled:
        lines.append(t("broadcast-cancelled-count", cancelled=counts.cancelled))
    return "\n".join(lines)


def summary_text(t: Translator, state: BroadcastState, now: datetime) -> str:
    counts = state.counts
    key = "broadcast-summary-cancelled" if counts.cancelled else "broadcast-summary"
    lines = [
        t(key, id=str(state.id), audience=audience_title(t, state.audience), total=counts.total),
        t("broadcast-counts", sent=counts.sent, failed=counts.failed, blocked=counts.blocked, remaining=0),
        t("broadcast-took", elapsed=_duration((now - state.started_at).total_seconds())),
    ]
    if counts.cancelled:
        lines.append(t("broadcast-cancelled-count", cancelled=counts.cancelled))
    return "\n".join(lines)


def preview_markup(t: Translator, token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action, key in (
        (BroadcastAction.CONFIRM, "broadcast-button-confirm"),
        (BroadcastAction.CANCEL, "broadcast-button-cancel"),
    ):
        builder.button(text=t(key), callback_data=BroadcastCallback(action=action, token=token))
    return builder.as_markup()


async def _usage(message: Message, session: Session, t: Translator, reason: str) -> None:
    await record_refusal(session, _actor(message), ACTION, None, reason)
    await message.answer(t("broadcast-usage"))


async def broadcast_cmd(
    message: Message, bot: Bot, session: Session, t: Translator, store: KeyValueStore, translations: Translations
) -> None:
    actor = _actor(message)
    args = command_args_html(message)
    request = parse_broadcast(args)
    if request is None:
        await _usage(message, session, t, f"usage: {args[:200]!r}")
        return
    if not isinstance(request, BroadcastRequest):
        stopped = await cancel_broadcast(session, actor, request.broadcast_id)
        if not stopped:
            await message.answer(t("broadcast-nothing-to-cancel"))
            return
        lines = [t("broadcast-cancel-done", id=str(id_), stopped=count) for id_, count in stopped]
        await message.answer("\n".join(lines))
        return
    replied = message.reply_to_message
    if bool(request.text) == (replied is not None):  # neither, or both: which one to send?
        await _usage(message, session, t, "needs a text or a reply, not both" if request.text else "nothing to send")
        return
    if replied is not None:
        draft = BroadcastDraft(
            actor, request.audience, copy_chat_id=message.chat.id, copy_message_id=replied.message_id
        )
    else:
        draft = BroadcastDraft(actor, request.audience, text=request.text)
    try:
        content = draft.message()
    except InvalidDelivery as exc:
        await record_refusal(session, actor, ACTION, None, f"invalid message: {exc}")
        await message.answer(t("broadcast-too-long", limit=TEXT_LIMIT))
        return
    size = await audience_size(session, request.audience, translations.default_locale)
    audience = audience_title(t, request.audience)
    if size == 0:
        await record_refusal(session, actor, ACTION, None, f"audience {request.audience} is empty")
        await message.answer(t("broadcast-empty", audience=audience))
        return
    # What users will get, exactly (a copy is made by Telegram, as it will be for them).
    try:
        if content.copy_of is not None:
            await bot.copy_message(
                chat_id=message.chat.id, from_chat_id=message.chat.id, message_id=content.copy_of.message_id
            )
        else:
            await message.answer(content.text)
    except TelegramBadRequest as exc:
        await record_refusal(session, actor, ACTION, None, f"telegram refused the preview: {exc.message}")
        await message.answer(t("broadcast-not-copyable", error=exc.message))
        return
    token = await BroadcastDrafts(store).save(draft)
    await record_admin_action(session, actor, "broadcast_preview", None, f"audience={request.audience} users={size}")
    await message.answer(t("broadcast-preview", audience=audience, users=size), reply_markup=preview_markup(t, token))


async def _edit(query: CallbackQuery, text: str) -> None:
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # deleted, or already says this
            await query.message.edit_text(text, reply_markup=None)


async def draft_button(
    query: CallbackQuery,
    callback_data: BroadcastCallback,
    session: Session,
    t: Translator,
    store: KeyValueStore,
    translations: Translations,
    outbox_wake: OutboxWake,
) -> None:
    actor = query.from_user.id
    draft = await BroadcastDrafts(store).take(callback_data.token, actor)
    preview = query.message
    if draft is None or not isinstance(preview, Message):
        await record_refusal(session, actor, "broadcast_confirm", None, "the preview expired or was handled already")
        await query.answer(t("broadcast-draft-gone"), show_alert=True)
        return
    if callback_data.action is BroadcastAction.CANCEL:
        await record_admin_action(session, actor, "broadcast_drop", None, f"audience={draft.audience}")
        await query.answer()
        await _edit(query, t("broadcast-dropped"))
        return
    state = await start_broadcast(
        session,
        draft,
        chat_id=preview.chat.id,
        message_id=preview.message_id,
        locale=t.locale,
        default_locale=translations.default_locale,
        wake=outbox_wake,
    )
    await query.answer()
    await _edit(query, progress_text(t, state, state.started_at))


def register(router: Router) -> None:
    """On the admin router (its filters: operators, private chats)."""
    router.message.register(broadcast_cmd, Command("broadcast"))
    router.callback_query.register(draft_button, BroadcastCallback.filter())
