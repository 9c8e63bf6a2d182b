"""Plan expiry, as scheduled: a reminder once at 3 days and once at 1 day before, the downgrade at
expiry told once — in the user's language, with a renew button, sent by the real outbox sender to
the fake Bot API. Time is the jobs' injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.scheduler import renew_plan_callback
from db.models import Delivery, User
from services.credits.invites import new_invite_code
from services.i18n import Translations
from services.scheduling.plan_expiry import EXPIRED_KIND, REMINDER_KIND, PlanExpiry
from standins.telegram import FakeTelegramServer
from tests.integration.outbox_helpers import Sessions, fast_telegram, running_sender

EXPIRES = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _user(sessionmaker: Sessions, telegram_id: int, *, expires: datetime, locale: str | None = None) -> int:
    async with sessionmaker() as session:
        user = User(
            telegram_id=telegram_id,
            first_name="Ann",
            language_code="en",
            locale=locale,
            plan="vip",
            plan_expires_at=expires,
            invite_code=new_invite_code(),
        )
        session.add(user)
        await session.commit()
        return user.id


async def _plan(sessionmaker: Sessions, user_id: int) -> tuple[str, datetime | None]:
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user.plan, user.plan_expires_at


async def _rows(sessionmaker: Sessions) -> list[tuple[str, str, int]]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Delivery.kind, Delivery.ref_id, Delivery.chat_id).order_by(Delivery.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_reminded_at_3_days_and_1_day_then_downgraded_and_told_once(sessionmaker: Sessions) -> None:
    async with fast_telegram() as tg:
        await _expiry_story(tg, sessionmaker)


async def _expiry_story(tg: FakeTelegramServer, sessionmaker: Sessions) -> None:
    ann = tg.add_user("Ann")
    li = tg.add_user("李雷", language_code="zh")
    ann_id = await _user(sessionmaker, ann.id, expires=EXPIRES)
    li_id = await _user(sessionmaker, li.id, expires=EXPIRES, locale="zh")
    clock = Clock(EXPIRES - 5 * DAY)
    jobs = PlanExpiry(
        sessionmaker=sessionmaker, translations=Translations(), renew_callback=renew_plan_callback, clock=clock
    )
    # The schedule checks every few minutes; each moment below is one such check (and a repeat of it).
    told: list[int] = []
    for moment in (-5 * DAY, -3 * DAY + HOUR, -3 * DAY + 2 * HOUR, -2 * DAY, -DAY + HOUR, -DAY + 2 * HOUR, -HOUR):
        clock.now = EXPIRES + moment
        told.append(await jobs.remind())
        assert await jobs.downgrade() == 0
    assert told == [0, 2, 0, 0, 2, 0, 0]
    assert await _plan(sessionmaker, ann_id) == ("vip", EXPIRES)

    clock.now = EXPIRES + HOUR
    assert await jobs.downgrade() == 2
    assert await jobs.downgrade() == 0 and await jobs.remind() == 0
    assert await _plan(sessionmaker, ann_id) == ("free", None)
    stamp = int(EXPIRES.timestamp())
    assert sorted(await _rows(sessionmaker)) == sorted(
        (kind, f"{user_id}:{stamp}{stage}", chat)
        for user_id, chat in ((ann_id, ann.id), (li_id, li.id))
        for kind, stage in ((REMINDER_KIND, ":3d"), (REMINDER_KIND, ":1d"), (EXPIRED_KIND, ""))
    )

    async with running_sender(tg, sessionmaker) as outbox:
        outbox.sender.wake()
        await outbox.settle(6)
    english = tg.bot_messages(ann)
    assert [m.plain_text.splitlines()[0] for m in english] == [
        "⏳ Your VIP plan ends within 3 days, on 2026-03-10 12:00 UTC.",
        "⏳ Your VIP plan ends within a day, on 2026-03-10 12:00 UTC.",
        "Your VIP plan has ended, and you are on the Free plan now.",
    ]
    assert all(m.button_texts() == [["🔄 Renew VIP"]] for m in english)
    assert english[0].find_button("🔄 Renew VIP") == {"text": "🔄 Renew VIP", "callback_data": "buy:plan:vip"}
    chinese = [m.plain_text.splitlines()[0] for m in tg.bot_messages(li)]
    assert chinese == [
        "⏳ 你的 VIP 套餐将在 3 天内到期（2026-03-10 12:00 UTC）。",
        "⏳ 你的 VIP 套餐将在 1 天内到期（2026-03-10 12:00 UTC）。",
        "你的 VIP 套餐已到期，现已切换为免费版。",
    ]


async def test_inside_the_last_day_only_the_1_day_reminder_and_a_renewal_is_not_downgraded(
    sessionmaker: Sessions,
) -> None:
    late = await _user(sessionmaker, 501, expires=EXPIRES)
    renewed = await _user(sessionmaker, 502, expires=EXPIRES)
    clock = Clock(EXPIRES - 12 * HOUR)  # the bot was down for the 3-day window
    jobs = PlanExpiry(
        sessionmaker=sessionmaker, translations=Translations(), renew_callback=renew_plan_callback, clock=clock
    )
    assert await jobs.remind() == 2
    assert {ref.rsplit(":", 1)[1] for _, ref, _ in await _rows(sessionmaker)} == {"1d"}
    async with sessionmaker() as session:  # renewed before the expiry
        user = await session.get(User, renewed)
        assert user is not None
        user.plan_expires_at = EXPIRES + 30 * DAY
        await session.commit()
    clock.now = EXPIRES + HOUR
    assert await jobs.downgrade() == 1
    assert await _plan(sessionmaker, late) == ("free", None)
    assert await _plan(sessionmaker, renewed) == ("vip", EXPIRES + 30 * DAY)
    assert [(kind, chat) for kind, _, chat in await _rows(sessionmaker)][-1] == (EXPIRED_KIND, 501)
