"""/alert <coin> <condition> and /alerts (list with delete and re-arm buttons). Thin: parse
(services.risk.parse) → services.risk.alerts → texts (services.risk.texts)."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import AlertAction, AlertCallback
from services.i18n import Translator
from services.market import MarketError, MarketService
from services.market_text import error_reply
from services.risk import LimitReached
from services.risk.alerts import AlertList, create_alert, delete_alert, list_alerts, rearm_alert
from services.risk.parse import ParseError, parse_alert
from services.risk.texts import alert_created, alert_line
from services.uow import Session
from services.users import UserView

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def render_alerts(t: Translator, listing: AlertList, now: datetime) -> tuple[str, InlineKeyboardMarkup | None]:
    if not listing.alerts:
        return t("alerts-empty"), None
    lines = [t("alerts-header", active=str(listing.active), limit=str(listing.limit))]
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for n, alert in enumerate(listing.alerts, start=1):
        lines.append(
            alert_line(
                t,
                n,
                alert.symbol,
                alert.condition,
                alert.price,
                alert.pct,
                alert.window,
                alert.active,
                alert.triggered_at,
                now,
            )
        )
        builder.button(
            text=t("alert-button-delete", n=str(n)), callback_data=AlertCallback(action=AlertAction.DELETE, id=alert.id)
        )
        if not alert.active:
            builder.button(
                text=t("alert-button-rearm", n=str(n)),
                callback_data=AlertCallback(action=AlertAction.REARM, id=alert.id),
            )
        sizes.append(1 if alert.active else 2)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


async def alert(
    message: Message, command: CommandObject, user: UserView, session: Session, market: MarketService, t: Translator
) -> None:
    try:
        request = parse_alert(command.args or "")
    except ParseError as problem:
        await message.answer(t(problem.key, **problem.args_))
        return
    try:
        created = await create_alert(
            session, market, user_id=user.id, chat_id=message.chat.id, request=request, now=_now()
        )
    except LimitReached as limit:
        await message.answer(t("alert-limit", limit=str(limit.limit), plan=limit.plan))
        return
    except MarketError as exc:
        log.info("/alert %r: %s", request.coin, exc)
        await message.answer(error_reply(t, exc, query=request.coin, exchanges=market.exchanges).text)
        return
    view = created.alert
    await message.answer(
        alert_created(t, view.symbol, view.condition, view.price, view.pct, view.window, created.current)
    )


async def alerts(message: Message, user: UserView, session: Session, t: Translator) -> None:
    now = _now()
    text, markup = render_alerts(t, await list_alerts(session, user.id, now), now)
    await message.answer(text, reply_markup=markup)


async def alert_button(
    query: CallbackQuery,
    callback_data: AlertCallback,
    user: UserView,
    session: Session,
    market: MarketService,
    t: Translator,
) -> None:
    now = _now()
    if callback_data.action is AlertAction.DELETE:
        done = await delete_alert(session, user.id, callback_data.id)
        notice = t("alert-deleted") if done else t("alert-gone")
    else:
        try:
            rearmed = await rearm_alert(session, market, user_id=user.id, alert_id=callback_data.id, now=now)
        except LimitReached as limit:
            await query.answer(t("alert-limit", limit=str(limit.limit), plan=limit.plan), show_alert=True)
            return
        except MarketError as exc:
            await query.answer(error_reply(t, exc, query="", exchanges=market.exchanges).text[:200], show_alert=True)
            return
        notice = t("alert-rearmed") if rearmed is not None else t("alert-gone")
    await query.answer(notice)
    if callback_data.action is AlertAction.REARM_PUSHED:
        if isinstance(query.message, Message) and rearmed is not None:
            with contextlib.suppress(TelegramBadRequest):  # a double tap: the button is gone already
                await query.message.edit_reply_markup(reply_markup=None)
        return
    if isinstance(query.message, Message):
        text, markup = render_alerts(t, await list_alerts(session, user.id, now), now)
        with contextlib.suppress(TelegramBadRequest):  # unchanged (a double tap)
            await query.message.edit_text(text, reply_markup=markup)


def build_router() -> Router:
    router = Router(name="alerts")
    router.message.register(alert, Command("alert"))
    router.message.register(alerts, Command("alerts"))
    router.callback_query.register(alert_button, AlertCallback.filter())
    return router
