"""Callback-data factories (prefix + typed fields, ≤ 64 bytes packed).

Every fixed choice is an enum, so a button can only carry a value its handler knows; anything else
(an old or forged button) does not match the filter and reaches the stale-button fallback.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from services.credits.payments import ProductKind


class LanguageCode(StrEnum):
    """The interface languages (services.i18n.SUPPORTED_LOCALES)."""

    EN = "en"
    ZH = "zh"


class CreditsMenuAction(StrEnum):
    BUY = "buy"
    INVITE = "invite"


class MarketAction(StrEnum):
    PRICE = "price"
    CHART = "chart"


class RenewalAction(StrEnum):
    CANCEL = "cancel"
    RESUME = "resume"


class SettingsSection(StrEnum):
    LANGUAGE = "language"


class LanguageCallback(CallbackData, prefix="lang"):
    code: LanguageCode


class BuyCallback(CallbackData, prefix="buy"):
    kind: ProductKind
    code: str


class RenewalCallback(CallbackData, prefix="renew"):
    """/plan's button: cancel or resume the renewal of a plan subscription (plan_subscriptions.id)."""

    action: RenewalAction
    id: int


class HistoryCallback(CallbackData, prefix="hist"):
    page: int


class CreditsMenuCallback(CallbackData, prefix="cmenu"):
    action: CreditsMenuAction


class SettingsCallback(CallbackData, prefix="settings"):
    """A button of /settings (packs as "settings:language")."""

    section: SettingsSection


class AskCallback(CallbackData, prefix="ask"):
    """A question asked by tapping an example or a "did you mean" button."""

    q: str


class StopCallback(CallbackData, prefix="stop"):
    """The Stop button under an answer being written in a group (its RunningAnswer's answer_id)."""

    a: int


class MarketCallback(CallbackData, prefix="mkt"):
    """A "did you mean" button of /price or /chart: run the command for the suggested coin."""

    action: MarketAction
    coin: str
    timeframe: str = ""


class AlertAction(StrEnum):
    DELETE = "del"
    REARM = "arm"  # from the /alerts list (the list is redrawn)
    REARM_PUSHED = "again"  # from the fired alert's own message (its button goes away)


class AlertCallback(CallbackData, prefix="alert"):
    """A button of /alerts (delete an alert, re-arm a fired one) or of a fired alert's message."""

    action: AlertAction
    id: int


class PositionAction(StrEnum):
    CLOSE = "close"
    DELETE = "del"


class PositionCallback(CallbackData, prefix="pos"):
    """A button of /positions: close (keep the record) or delete a declared position."""

    action: PositionAction
    id: int


class SignalDraftAction(StrEnum):
    PUBLISH = "pub"
    CANCEL = "no"


class SignalDraftCallback(CallbackData, prefix="sigd"):
    """A button of an operator's /signal preview: publish or cancel the draft kept under `token`."""

    action: SignalDraftAction
    token: str


class AdminSection(StrEnum):
    STATS = "stats"
    AUDIT = "audit"
    USERS = "users"  # how to look a user up
    CREDITS = "credits"  # the credit, plan and ban commands


class AdminMenuCallback(CallbackData, prefix="adm"):
    """A button of the operators' /admin menu (only operators' presses are handled)."""

    section: AdminSection


class AdminUserAction(StrEnum):
    SHOW = "show"
    BAN = "ban"
    UNBAN = "unban"
    VIP = "vip"  # the plan for its duration from now
    PRO = "pro"
    FREE = "free"
    GRANT = "grant"  # shows the command to complete (amount and reason are typed)
    REVOKE = "revoke"
    AUDIT = "audit"


class AdminUserCallback(CallbackData, prefix="admu"):
    """A button under an operator's /user profile: an action on the user with this Telegram id."""

    action: AdminUserAction
    tg: int


class BroadcastAction(StrEnum):
    CONFIRM = "go"
    CANCEL = "no"


class BroadcastCallback(CallbackData, prefix="bcast"):
    """A button of an operator's /broadcast preview: send or drop the draft kept under `token`."""

    action: BroadcastAction
    token: str


class UnlinkAction(StrEnum):
    ASK = "ask"  # a channel picked in the /unlinkchannel list: confirm first (its feeds stop)
    YES = "yes"
    BACK = "back"  # to the list


class UnlinkCallback(CallbackData, prefix="unlink"):
    """/unlinkchannel's buttons (packs as "unlink:ask:-100123")."""

    action: UnlinkAction
    chat: int = 0
