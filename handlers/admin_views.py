"""Rendering of the operators' views: /admin menu, /stats, /user profile, /audit (Telegram HTML,
localized in the operator's language) and their inline keyboards. No I/O."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import AdminMenuCallback, AdminSection, AdminUserAction, AdminUserCallback
from handlers.credits_ui import format_time, plan_title, transaction_line
from services.admin.stats import AdminStats
from services.admin.users import UserProfile
from services.audit import AuditRow
from services.i18n import Translator

AUDIT_DETAILS_CHARS = 160  # per row in /audit (the full text stays in the database)
MAX_TEXT = 4000  # below Telegram's 4096


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def menu_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for section, key in (
        (AdminSection.STATS, "admin-button-stats"),
        (AdminSection.AUDIT, "admin-button-audit"),
        (AdminSection.USERS, "admin-button-users"),
        (AdminSection.CREDITS, "admin-button-credits"),
    ):
        builder.button(text=t(key), callback_data=AdminMenuCallback(section=section))
    builder.adjust(2)
    return builder.as_markup()


def stats_text(t: Translator, stats: AdminStats) -> str:
    users, llm, ledger, stars, feeds = stats.users, stats.llm, stats.ledger, stats.stars, stats.feeds
    plans = " · ".join(f"{plan_title(t, code)} {count}" for code, count in sorted(stats.plans.items()))
    lines = [
        t("stats-title", time=format_time(stats.now)),
        t(
            "stats-users",
            total=users.total,
            day=users.active_1d,
            week=users.active_7d,
            month=users.active_30d,
            new=users.new_today,
        ),
        t("stats-user-flags", banned=users.banned, blocked=users.blocked),
        t("stats-questions", today=stats.questions_today, week=stats.questions_7d),
        t(
            "stats-llm",
            requests=llm.requests,
            prompt=llm.prompt_tokens,
            completion=llm.completion_tokens,
            cost=f"{llm.cost:.2f}",
            rules=llm.rules_answers,
        ),
    ]
    if llm.unpriced:
        lines.append(t("stats-llm-unpriced", models=", ".join(llm.unpriced)))
    lines += [
        t(
            "stats-credits",
            sold=ledger.sold,
            spent=ledger.spent,
            refunded=ledger.refunded,
            granted=ledger.granted,
            revoked=ledger.revoked,
        ),
        t("stats-stars", payments=stars.payments, gross=stars.gross, refunded=stars.refunded),
        t("stats-plans", plans=plans) if plans else t("stats-plans-none"),
        t(
            "stats-feeds",
            private=feeds.private_chats,
            groups=feeds.groups,
            channels=feeds.channels,
            signals=feeds.signal_feeds,
            risk=feeds.risk_feeds,
        ),
        t("stats-alerts", alerts=feeds.alerts_active, positions=feeds.positions_active),
        t(
            "stats-signals",
            week=stats.signals.created_7d,
            open=stats.signals.open,
            delivered=stats.signals_delivered,
        ),
        t(
            "stats-outbox",
            backlog=stats.backlog,
            oldest=_duration(stats.oldest_open_age),
            telegram=stats.telegram_429_last_hour,
            limited=stats.rate_limited_last_hour,
        ),
    ]
    return "\n".join(lines)


def _time_or_never(t: Translator, moment: datetime | None) -> str:
    return format_time(moment) if moment is not None else t("admin-never")


def profile_text(t: Translator, profile: UserProfile) -> str:
    user, activity = profile.user, profile.activity
    plan = plan_title(t, profile.plan)
    lines = [
        t(
            "user-title",
            name=user.first_name or "—",
            username=f"@{user.username}" if user.username else "—",
            tg=str(user.telegram_id),
            id=str(user.id),
        ),
        t(
            "user-seen",
            language=user.locale or user.language_code or "—",
            joined=format_time(user.created_at),
            seen=format_time(user.last_seen_at),
        ),
        t("user-plan-until", plan=plan, until=format_time(profile.plan_expires_at))
        if profile.plan_expires_at is not None
        else t("user-plan", plan=plan),
        t("user-credits", available=profile.available, total=profile.total, used=profile.used),
        t(
            "user-questions",
            count=activity.questions,
            dialogs=user.dialog_count,
            last=_time_or_never(t, activity.last_question_at),
        ),
        t(
            "user-invites",
            invited=activity.invited,
            inviter=str(activity.inviter_telegram_id) if activity.inviter_telegram_id is not None else "—",
        ),
        t(
            "user-flags",
            banned=t("admin-yes") if user.banned else t("admin-no"),
            blocked=t("admin-yes") if user.bot_blocked else t("admin-no"),
        ),
    ]
    if profile.recent:
        lines += ["", t("user-transactions")]
        lines += [transaction_line(t, tx) for tx in profile.recent]
    return "\n".join(lines)


def user_keyboard(t: Translator, profile: UserProfile) -> InlineKeyboardMarkup:
    tg = profile.user.telegram_id
    builder = InlineKeyboardBuilder()

    def button(action: AdminUserAction, key: str) -> None:
        builder.button(text=t(key), callback_data=AdminUserCallback(action=action, tg=tg))

    if profile.user.banned:
        button(AdminUserAction.UNBAN, "user-button-unban")
    else:
        button(AdminUserAction.BAN, "user-button-ban")
    button(AdminUserAction.GRANT, "user-button-grant")
    button(AdminUserAction.REVOKE, "user-button-revoke")
    button(AdminUserAction.VIP, "user-button-vip")
    button(AdminUserAction.PRO, "user-button-pro")
    button(AdminUserAction.FREE, "user-button-free")
    button(AdminUserAction.AUDIT, "user-button-audit")
    button(AdminUserAction.SHOW, "user-button-refresh")
    builder.adjust(3, 3, 2)
    return builder.as_markup()


def audit_text(t: Translator, rows: list[AuditRow], target: str | None) -> str:
    if not rows:
        return t("audit-empty-user", user=target) if target is not None else t("audit-empty")
    header = t("audit-title-user", count=len(rows), user=target) if target else t("audit-title", count=len(rows))
    lines = [header]
    used = len(header)
    for row in rows:
        details = row.details or ""
        if len(details) > AUDIT_DETAILS_CHARS:
            details = details[: AUDIT_DETAILS_CHARS - 1] + "…"
        line = t(
            "audit-line",
            time=format_time(row.created_at),
            actor=str(row.actor_telegram_id),
            action=row.action,
            target=row.target or "—",
            details=details or "—",
        )
        if used + len(line) + 1 > MAX_TEXT:
            lines.append(t("audit-more"))
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
