"""Plan expiry, scheduled: reminders 3 days and 1 day before a paid plan ends, and the downgrade to
free once it has, each told to the user once, in their language, with a button to renew.

The messages go through the outbox in the same transaction as what they report: a reminder with its
mark (`mark_expiry_reminded`, per stage), the expiry message with the downgrade itself. Their
ref ids (user, expiry, stage) make each one once even if a mark were lost. A user inside the 1-day
window who never got the 3-day reminder (a short plan, a bot that was down) gets only the 1-day one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import utcnow
from db.repositories.credits import AccountUserRepository
from db.repositories.users import UserRepository
from services.credits.plans import downgrade_expired_plans, mark_expiry_reminded, users_due_for_expiry_reminder
from services.delivery.message import Button, OutboxMessage
from services.delivery.outbox import enqueue
from services.i18n import Translations, Translator
from services.users import resolve_locale

REMINDER_KIND = "plan_reminder"
EXPIRED_KIND = "plan_expired"
# (stage, window): nearest first; a user is reminded at the nearest stage whose window they are in.
REMINDER_STAGES: tuple[tuple[str, timedelta], ...] = (("1d", timedelta(days=1)), ("3d", timedelta(days=3)))
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def plan_name(t: Translator, code: str) -> str:
    """The plan's localized name (credits.ftl `plan-name-<code>`), the code if there is none."""
    key = f"plan-name-{code}"
    name = t(key)
    return code if name == key else name


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, kw_only=True)
class PlanExpiry:
    """The two jobs' bodies. `renew_callback(plan_code)` is the callback data of the button that buys
    the plan again (the composition root packs it in the handlers' format)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    translations: Translations
    renew_callback: Callable[[str], str]
    clock: Callable[[], datetime] = utcnow

    async def _translator(self, session: AsyncSession, user_id: int) -> Translator:
        user = await UserRepository(session).get(user_id)
        return self.translations.get(resolve_locale(user, None, self.translations.default_locale))

    def _message(self, t: Translator, text: str, plan_code: str) -> OutboxMessage:
        button = Button(
            text=t("reminder-renew-button", plan=plan_name(t, plan_code)), callback_data=self.renew_callback(plan_code)
        )
        return OutboxMessage(text=text, buttons=((button,),))

    async def remind(self) -> int:
        """Enqueue the reminders due now (one per user, expiry and stage); how many."""
        now = self.clock()
        sent = 0
        nearer = timedelta(0)
        for stage, window in REMINDER_STAGES:
            async with self.sessionmaker() as session:
                due = await users_due_for_expiry_reminder(session, now, within=window, stage=stage)
                await session.commit()  # end the read
            for reminder in due:
                if reminder.expires_at - now <= nearer:
                    continue  # inside a nearer stage's window: that reminder is the one to send
                async with self.sessionmaker() as session:
                    t = await self._translator(session, reminder.user_id)
                    text = t(
                        "reminder-plan-expiring",
                        plan=plan_name(t, reminder.plan_code),
                        when=_when(reminder.expires_at),
                        days=int(window / timedelta(days=1)),
                    )
                    await enqueue(
                        session,
                        kind=REMINDER_KIND,
                        ref_id=f"{reminder.user_id}:{int(reminder.expires_at.timestamp())}:{stage}",
                        chat_ids=[reminder.telegram_id],
                        payload=self._message(t, text, reminder.plan_code),
                        now=now,
                    )
                    await mark_expiry_reminded(session, reminder.user_id, reminder.expires_at, now, stage=stage)
                sent += 1
            nearer = window
        return sent

    async def downgrade(self) -> int:
        """Persist `free` for every expired plan; each reachable user is told once. How many changed."""
        now = self.clock()
        async with self.sessionmaker() as session:
            expired = await AccountUserRepository(session).expiring(_BEGINNING, now)  # not banned nor blocked
            await session.commit()
        changed = 0
        for user in expired:
            if user.plan_expires_at is None:
                continue
            async with self.sessionmaker() as session:
                if await AccountUserRepository(session).downgrade_expired(now, user.id):  # unless renewed meanwhile
                    t = await self._translator(session, user.id)
                    text = t("reminder-plan-expired", plan=plan_name(t, user.plan))
                    await enqueue(
                        session,
                        kind=EXPIRED_KIND,
                        ref_id=f"{user.id}:{int(user.plan_expires_at.timestamp())}",
                        chat_ids=[user.telegram_id],
                        payload=self._message(t, text, user.plan),
                        now=now,
                    )
                    changed += 1
                await session.commit()
        async with self.sessionmaker() as session:  # the rest (banned, blocked): downgraded, not told
            changed += await downgrade_expired_plans(session, now)
        return changed
