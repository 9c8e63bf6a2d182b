"""/position add … and /positions (list with close and delete buttons). Thin: parse
(services.risk.parse) → services.risk.positions → texts (services.risk.texts)."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import PositionAction, PositionCallback
from services.format import format_pct
from services.i18n import Translator
from services.market import MarketError, MarketService
from services.market_text import error_reply
from services.risk import LimitReached, RiskConfig
from services.risk.liquidation import LiquidationError
from services.risk.parse import ParseError, parse_position
from services.risk.positions import PositionList, add_position, close_position, delete_position, list_positions
from services.risk.texts import position_created, position_summary
from services.uow import Session
from services.users import UserView

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def render_positions(t: Translator, listing: PositionList) -> tuple[str, InlineKeyboardMarkup | None]:
    if not listing.positions:
        return t("positions-empty"), None
    blocks = [t("positions-header", count=str(len(listing.positions)), limit=str(listing.limit))]
    builder = InlineKeyboardBuilder()
    for n, p in enumerate(listing.positions, start=1):
        summary = position_summary(
            t, p.symbol, p.side, p.leverage, p.entry, p.size, p.liquidation_price, p.stop, p.take_profit
        )
        blocks.append(f"{n}. {summary}")
        builder.button(
            text=t("position-button-close", n=str(n)),
            callback_data=PositionCallback(action=PositionAction.CLOSE, id=p.id),
        )
        builder.button(
            text=t("position-button-delete", n=str(n)),
            callback_data=PositionCallback(action=PositionAction.DELETE, id=p.id),
        )
    builder.adjust(2)
    return "\n\n".join(blocks), builder.as_markup()


async def position(
    message: Message,
    command: CommandObject,
    user: UserView,
    session: Session,
    market: MarketService,
    risk_config: RiskConfig,
    t: Translator,
) -> None:
    args = command.args or ""
    if args.split()[:1] in (["list"], ["列表"]):
        await positions(message, user, session, t)
        return
    try:
        request = parse_position(args)
    except ParseError as problem:
        await message.answer(t(problem.key, **problem.args_))
        return
    try:
        view = await add_position(
            session, market, risk_config, user_id=user.id, chat_id=message.chat.id, request=request, now=_now()
        )
    except LimitReached as limit:
        await message.answer(t("position-limit", limit=str(limit.limit), plan=limit.plan))
        return
    except LiquidationError as exc:
        mmr = format_pct(float(exc.mmr or 0) * 100).lstrip("+")
        await message.answer(t("position-leverage-too-high", mmr=mmr))
        return
    except MarketError as exc:
        log.info("/position %r: %s", request.coin, exc)
        await message.answer(error_reply(t, exc, query=request.coin, exchanges=market.exchanges).text)
        return
    summary = position_summary(
        t,
        view.symbol,
        view.side,
        view.leverage,
        view.entry,
        view.size,
        view.liquidation_price,
        view.stop,
        view.take_profit,
    )
    await message.answer(position_created(t, summary, view.mmr or 0.0))


async def positions(message: Message, user: UserView, session: Session, t: Translator) -> None:
    text, markup = render_positions(t, await list_positions(session, user.id, _now()))
    await message.answer(text, reply_markup=markup)


async def position_button(
    query: CallbackQuery, callback_data: PositionCallback, user: UserView, session: Session, t: Translator
) -> None:
    now = _now()
    if callback_data.action is PositionAction.CLOSE:
        done = await close_position(session, user.id, callback_data.id, now)
        notice = t("position-closed") if done else t("position-gone")
    else:
        done = await delete_position(session, user.id, callback_data.id)
        notice = t("position-deleted") if done else t("position-gone")
    await query.answer(notice)
    if isinstance(query.message, Message):
        text, markup = render_positions(t, await list_positions(session, user.id, now))
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_text(text, reply_markup=markup)


def build_router() -> Router:
    router = Router(name="positions")
    router.message.register(position, Command("position"))
    router.message.register(positions, Command("positions"))
    router.callback_query.register(position_button, PositionCallback.filter())
    return router
