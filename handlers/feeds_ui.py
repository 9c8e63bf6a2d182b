"""/feeds rendering: the text (Telegram HTML, localized) and the inline keyboard, and the feed
callback-data factory. No I/O.

One keyboard edits one chat (the chat itself, or from a private chat a channel linked to its
manager) and one kind at a time: tabs pick the kind; a kind not subscribed shows "subscribe"; a
subscribed one shows its coins, timeframes (signals), level (on / silent / off), forum topic and
"unsubscribe".
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import CreditsMenuAction, CreditsMenuCallback
from handlers.credits_ui import plan_title
from services.feeds.model import KINDS, LEVELS, TIMEFRAME_KINDS, ChatFeeds, ChatTarget, FeedView, LimitReached
from services.i18n import Translator
from services.market import SUPPORTED_TIMEFRAMES

POPULAR_COINS = ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "TON", "ADA")
COINS_PER_ROW = 4
CALLBACK_LIMIT = 64
KIND_ICONS = {"signals": "📈", "risk": "⚠️"}
LEVEL_ICONS = {"on": "🔔", "silent": "🔕", "off": "⛔"}


class FeedKind(StrEnum):
    SIGNALS = "signals"
    RISK = "risk"


class FeedAction(StrEnum):
    VIEW = "view"  # show this chat/kind
    ADD = "add"
    REMOVE = "remove"
    COIN = "coin"
    TIMEFRAME = "tf"
    LEVEL = "level"
    TOPIC = "topic"  # value "here" (the topic the /feeds message is in) or "" (General)


class FeedsCallback(CallbackData, prefix="feeds"):
    """A /feeds button (packs as "feeds:coin:-100123:signals:BTC")."""

    action: FeedAction
    chat: int
    kind: FeedKind
    value: str = ""


def kind_name(t: Translator, kind: str) -> str:
    return t("feeds-kind-signals") if kind == "signals" else t("feeds-kind-risk")


def level_name(t: Translator, level: str) -> str:
    return {"on": t("feeds-level-on"), "silent": t("feeds-level-silent")}.get(level, t("feeds-level-off"))


def chat_name(t: Translator, chat: ChatTarget, here: int) -> str:
    if chat.id == here:
        return t("feeds-this-chat")
    return chat.title or str(chat.id)


def feed_line(t: Translator, kind: str, feed: FeedView | None) -> str:
    icon = KIND_ICONS.get(kind, "•")
    if feed is None:
        return t("feeds-line-none", icon=icon, kind=kind_name(t, kind))
    timeframes = " · " + " ".join(feed.timeframes) if kind in TIMEFRAME_KINDS and feed.timeframes else ""
    topic = " · " + t("feeds-line-topic") if feed.thread_id is not None else ""
    paused = " · " + t("feeds-line-paused") if not feed.active else ""
    return t(
        "feeds-line",
        icon=icon,
        kind=kind_name(t, kind),
        coins=", ".join(feed.symbols),
        timeframes=timeframes,
        level=f"{LEVEL_ICONS.get(feed.level, '')} {level_name(t, feed.level)}",
        topic=topic,
        paused=paused,
    )


def feeds_text(t: Translator, data: ChatFeeds, here: int, *, can_edit: bool) -> str:
    lines = [t("feeds-title", chat=chat_name(t, data.chat, here)), ""]
    lines += [feed_line(t, kind, data.feed(kind)) for kind in KINDS]
    limits = data.limits
    if limits is not None:
        plan = plan_title(t, limits.code, limits.title)
        lines += ["", t("feeds-plan", plan=plan, used=data.used_feeds, feeds=limits.max_feeds, coins=limits.max_coins)]
        if limits.signal_delay_minutes > 0:
            lines.append(t("feeds-delay", plan=plan, minutes=limits.signal_delay_minutes))
    if not can_edit:
        lines += ["", t("feeds-admins-only")]
    return "\n".join(lines)


def _data(action: FeedAction, chat: int, kind: str, value: str = "") -> FeedsCallback | None:
    data = FeedsCallback(action=action, chat=chat, kind=FeedKind(kind), value=value)
    return data if len(data.pack().encode()) <= CALLBACK_LIMIT else None


def _buttons(builder: InlineKeyboardBuilder, items: Sequence[tuple[str, FeedsCallback | None]], per_row: int) -> None:
    row = [(text, data) for text, data in items if data is not None]
    for start in range(0, len(row), per_row):
        builder.row(*[_button(text, data) for text, data in row[start : start + per_row] if data is not None])


def _button(text: str, data: FeedsCallback) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def feeds_keyboard(
    t: Translator,
    data: ChatFeeds,
    kind: str,
    *,
    here: int,
    picker: Sequence[ChatTarget] = (),
    topic_here: int | None = None,
) -> InlineKeyboardMarkup:
    """The editing keyboard for `kind` of `data.chat`; `picker`: other chats this person manages;
    `topic_here`: the forum topic the keyboard is shown in."""
    chat_id = data.chat.id
    builder = InlineKeyboardBuilder()
    if picker:
        targets = [ChatTarget(id=here, type="private", title=None), *picker]
        items = [
            (
                ("• " if target.id == chat_id else "") + chat_name(t, target, here),
                _data(FeedAction.VIEW, target.id, kind),
            )
            for target in targets
        ]
        _buttons(builder, items, 2)
    tabs = [
        (
            ("• " if each == kind else "")
            + f"{KIND_ICONS[each]} {kind_name(t, each)}"
            + (" ✅" if data.feed(each) else ""),
            _data(FeedAction.VIEW, chat_id, each),
        )
        for each in KINDS
    ]
    _buttons(builder, tabs, 2)
    feed = data.feed(kind)
    if feed is None:
        _buttons(builder, [(t("feeds-button-add", kind=kind_name(t, kind)), _data(FeedAction.ADD, chat_id, kind))], 1)
    else:
        coins = tuple(dict.fromkeys((*feed.symbols, *POPULAR_COINS)))
        _buttons(
            builder,
            [(("✅ " if c in feed.symbols else "▫️ ") + c, _data(FeedAction.COIN, chat_id, kind, c)) for c in coins],
            COINS_PER_ROW,
        )
        if kind in TIMEFRAME_KINDS:
            _buttons(
                builder,
                [
                    (("✅ " if tf in feed.timeframes else "") + tf, _data(FeedAction.TIMEFRAME, chat_id, kind, tf))
                    for tf in SUPPORTED_TIMEFRAMES
                ],
                3,
            )
        _buttons(
            builder,
            [
                (
                    ("✓ " if level == feed.level else "") + f"{LEVEL_ICONS[level]} {level_name(t, level)}",
                    _data(FeedAction.LEVEL, chat_id, kind, level),
                )
                for level in LEVELS
            ],
            3,
        )
        if data.chat.is_forum:
            topic: list[tuple[str, FeedsCallback | None]] = []
            if topic_here is not None and feed.thread_id != topic_here:
                topic.append((t("feeds-button-topic-here"), _data(FeedAction.TOPIC, chat_id, kind, "here")))
            if feed.thread_id is not None:
                topic.append((t("feeds-button-topic-general"), _data(FeedAction.TOPIC, chat_id, kind, "")))
            _buttons(builder, topic, 2)
        remove = t("feeds-button-remove", kind=kind_name(t, kind))
        _buttons(builder, [(remove, _data(FeedAction.REMOVE, chat_id, kind))], 1)
    if data.limits is not None and data.limits.signal_delay_minutes > 0:
        builder.row(upgrade_button(t))
    return builder.as_markup()


def upgrade_button(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=t("feeds-button-upgrade"), callback_data=CreditsMenuCallback(action=CreditsMenuAction.BUY).pack()
    )


def limit_text(t: Translator, error: LimitReached) -> str:
    plan = plan_title(t, error.plan.code, error.plan.title)
    if error.what == "feeds":
        return t("feeds-limit-feeds", plan=plan, limit=error.limit)
    return t("feeds-limit-coins", plan=plan, limit=error.limit)


def upgrade_markup(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[upgrade_button(t)]])
