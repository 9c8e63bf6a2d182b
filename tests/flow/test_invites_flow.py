"""Invites through the production dispatcher: /invite deep link, binding at first /start only,
the inviter's share of purchases with a best-effort notification."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from standins.telegram import FakeTelegramServer, FakeUser
from tests.flow.payments_helpers import available_credits, buy_and_pay, db_user, receipts, wait_text
from tests.harness import RunningBot, running_bot

LINK = re.compile(r"https://t\.me/coinsight_bot\?start=([a-z0-9]+)")


@pytest.fixture
async def calm_app(tg: FakeTelegramServer, settings_factory: Callable[..., Any]) -> AsyncIterator[RunningBot]:
    async with running_bot(settings_factory(throttle_enabled=False), tg) as running:
        yield running


async def invite_page(tg: FakeTelegramServer, user: FakeUser) -> str:
    count = len([m for m in tg.bot_messages(user) if "Your personal link" in m.plain_text])
    await tg.send_command(user, "/invite")
    await tg.wait_until(
        lambda: len([m for m in tg.bot_messages(user) if "Your personal link" in m.plain_text]) > count,
        what="the /invite answer",
    )
    return [m for m in tg.bot_messages(user) if "Your personal link" in m.plain_text][-1].plain_text


async def started(tg: FakeTelegramServer, user: FakeUser, payload: str | None = None) -> None:
    count = len(tg.bot_messages(user))
    await tg.send_command(user, "/start", payload)
    await tg.wait_for_messages(user, count + 1)


async def test_binding_only_at_first_start_never_self(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    ann, bob, cid, dan = tg.add_user("Ann"), tg.add_user("Bob"), tg.add_user("Cid"), tg.add_user("Dan")
    await started(tg, ann)
    page = await invite_page(tg, ann)
    match = LINK.search(page)
    assert match is not None
    ann_code = match.group(1)
    assert ann_code == (await db_user(calm_app, ann.id)).invite_code
    assert "Joined through your link: 0" in page and "Credits earned: 0" in page
    share = [m for m in tg.bot_messages(ann) if "Your personal link" in m.plain_text][-1].buttons()[0][0]
    assert share["url"].startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2Fcoinsight_bot%3Fstart%3D")

    await started(tg, bob, ann_code)
    welcome = tg.bot_messages(bob)[-1]
    assert welcome.plain_text.startswith("👋 Hi, Bob!")
    joined = await wait_text(tg, ann, "joined with your invite link")
    assert joined.plain_text.startswith("🎉 Bob joined")
    assert (await db_user(calm_app, bob.id)).inviter_id == (await db_user(calm_app, ann.id)).id
    assert "Joined through your link: 1" in await invite_page(tg, ann)

    # Not a first registration: another code changes nothing; nor does one's own code.
    await started(tg, cid)
    cid_code = (await db_user(calm_app, cid.id)).invite_code
    await started(tg, bob, cid_code)
    assert (await db_user(calm_app, bob.id)).inviter_id == (await db_user(calm_app, ann.id)).id
    await started(tg, ann, ann_code)
    assert (await db_user(calm_app, ann.id)).inviter_id is None
    # An unknown code: the normal welcome, no inviter.
    await started(tg, dan, "nosuchcode")
    assert tg.bot_messages(dan)[-1].plain_text.startswith("👋 Hi, Dan!")
    assert (await db_user(calm_app, dan.id)).inviter_id is None
    assert "Joined through your link: 0" in await invite_page(tg, cid)
    assert len([m for m in tg.bot_messages(ann) if "joined with your invite link" in m.plain_text]) == 1


async def test_purchase_pays_the_inviter_a_share(calm_app: RunningBot, tg: FakeTelegramServer) -> None:
    li, bob = tg.add_user("Li", language_code="zh"), tg.add_user("Bob")
    await started(tg, li)
    code = (await db_user(calm_app, li.id)).invite_code
    await started(tg, bob, code)
    await wait_text(tg, li, "通过你的邀请链接加入了")
    await buy_and_pay(tg, bob)  # 220 credits → 10 % = 22 to the inviter
    reward = await wait_text(tg, li, "你邀请的好友购买了积分")
    assert "你获得 22 积分。当前余额：22。" in reward.plain_text
    assert await available_credits(calm_app, li.id) == 22
    assert await available_credits(calm_app, bob.id) == 220
    count = len([m for m in tg.bot_messages(li) if "我的专属链接" in m.plain_text or "专属链接" in m.plain_text])
    await tg.send_command(li, "/invite")
    await tg.wait_until(
        lambda: len([m for m in tg.bot_messages(li) if "专属链接" in m.plain_text]) > count, what="/invite"
    )
    page = [m for m in tg.bot_messages(li) if "专属链接" in m.plain_text][-1].plain_text
    assert "已通过你的链接加入：1 人" in page and "已赚取积分：22" in page


async def test_inviter_who_blocked_the_bot_does_not_break_the_payment(
    calm_app: RunningBot, tg: FakeTelegramServer
) -> None:
    ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
    await started(tg, ann)
    code = (await db_user(calm_app, ann.id)).invite_code
    await started(tg, bob, code)
    await wait_text(tg, ann, "joined with your invite link")
    tg.block_bot(ann)
    await buy_and_pay(tg, bob)
    assert len(receipts(tg, bob)) == 1
    assert not [m for m in tg.bot_messages(bob) if "Something went wrong" in m.plain_text]
    assert await available_credits(calm_app, ann.id) == 22  # rewarded even though not told
