"""Issue 10, item 1: under a burst nothing fails. Updates in flight are bounded (polling and webhook),
the Redis and database pools are smaller than the burst and wait instead of raising, and no database
connection is held while the model streams or Telegram is written to.

Small scale, bounded in time: 40 users at once against a Redis pool of 2; 50 questions at once
against a database pool of 2 (the issue's figure); a webhook burst against a bound of 4. Each burst
is ten times or more the pool it waits for: larger ones only repeat the same waits."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import web
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from bot.runner import build_webhook_app, prepare, webhook_path
from bot.settings import Settings
from services.kv import RedisStore
from standins.openai_server import FakeOpenAI, Hang
from standins.telegram import FakeTelegramServer, FakeUser
from tests.backends import POSTGRES_ONLY
from tests.flow.payments_helpers import request_invoice
from tests.harness import RunningBot, _use_clocks, running_bot, without_scheduler

ERROR_TEXTS = ("Something went wrong", "I couldn't finish that answer", "I'm still answering")
ANSWER_SENDS = {"SendMessage", "SendMessageDraft", "SendPhoto"}
QUIET = {
    "outbox_poll_seconds": 3600,
    "hold_sweep_seconds": 3600,
    "last_seen_flush_seconds": 3600,
    "broadcast_progress_seconds": 3600,
}


def replies(tg: FakeTelegramServer, users: list[FakeUser]) -> list[str]:
    return [message.plain_text for user in users for message in tg.bot_messages(user)]


def errors(tg: FakeTelegramServer, users: list[FakeUser]) -> list[str]:
    return [text for text in replies(tg, users) if any(error in text for error in ERROR_TEXTS)]


@POSTGRES_ONLY
async def test_a_redis_pool_smaller_than_the_burst_answers_everyone(
    tg: FakeTelegramServer, settings_factory: Callable[..., Settings]
) -> None:
    async with running_bot(settings_factory(redis_max_connections=2), tg) as app:
        store = app.resources.store
        assert isinstance(store, RedisStore) and store.redis.connection_pool.max_connections == 2
        users = [tg.add_user(f"U{i}") for i in range(40)]
        for user in users:
            await tg.send_command(user, "/help")
        await tg.wait_until(lambda: all(tg.bot_messages(u) for u in users), timeout=60, what="every /help answered")
        await app.settle(timeout=30)
    assert errors(tg, users) == []
    assert [len(tg.bot_messages(u)) for u in users] == [1] * len(users)
    assert all(text.startswith("What I can do") for text in replies(tg, users))


async def test_a_database_pool_of_two_answers_fifty_questions_at_once(
    tg: FakeTelegramServer, llm: FakeOpenAI, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(
        openai_api_key="sk-test",
        openai_base_url=llm.base_url,
        llm_max_retries=1,
        llm_timeout=30,
        db_pool_size=2,
        db_max_overflow=0,
    )
    async with running_bot(settings, tg) as app:
        pool = app.resources.engine.sync_engine.pool
        assert isinstance(pool, QueuePool) and (pool.size(), pool._max_overflow) == (2, 0)
        users = [tg.add_user(f"Q{i}") for i in range(50)]
        for user in users:
            await tg.send_message(user, "how is BTC doing on the 4h?")

        def answered() -> bool:
            return all(any(m.photo is not None for m in tg.bot_messages(u)) for u in users)

        await tg.wait_until(answered, timeout=120, what="every question answered with its chart")
        await app.settle(timeout=30)
    assert errors(tg, users) == []
    assert len(llm.chat_requests) == len(users)
    for user in users:
        texts = [m.plain_text for m in tg.bot_messages(user)]
        assert any(text.startswith("Market analysis") for text in texts), texts


@dataclass
class PoolWatch:
    """Connections checked out of an engine's pool now, and checkouts counted through the pool's events."""

    engine: AsyncEngine
    checkouts: int = 0

    def __post_init__(self) -> None:
        event.listen(self.engine.sync_engine.pool, "checkout", self._checkout)

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += 1

    @property
    def checked_out(self) -> int:
        pool = self.engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        return pool.checkedout()


@dataclass
class ConnectionsAtSends(BaseRequestMiddleware):
    """The bot's own request middleware: how many connections were checked out as each Bot API call
    went out (sampled in the handler's task, right before the request)."""

    watch: PoolWatch
    samples: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        self.samples.append((type(method).__name__, self.watch.checked_out))
        return await make_request(bot, method)


def _draft_text(tg: FakeTelegramServer, user: FakeUser) -> str:
    draft = tg.chat(user).draft
    return draft.text if draft is not None else ""


async def test_no_connection_is_held_while_the_model_streams_or_telegram_is_written_to(
    tg: FakeTelegramServer, llm: FakeOpenAI, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(
        openai_api_key="sk-test", openai_base_url=llm.base_url, llm_max_retries=0, llm_timeout=30, **QUIET
    )
    async with running_bot(settings, tg) as app:
        await without_scheduler(app)
        watch = PoolWatch(app.resources.engine)
        sends = ConnectionsAtSends(watch)
        app.bot.session.middleware(sends)
        ann = tg.add_user("Ann")
        # A refusal after the conversation was read ("which coin?") is sent with nothing held.
        await tg.send_message(ann, "what do you think?")
        await tg.wait_for_messages(ann, 1)
        await app.settle()
        assert tg.bot_messages(ann)[0].plain_text.startswith("Which coin do you mean?")

        llm.script(Hang(text_before="BTC is consolidating under the 4h high, "))
        await tg.send_message(ann, "how is BTC doing on the 4h?")
        await llm.wait_for_chat_requests(1)
        assert watch.checked_out == 0, "a connection is checked out while the model is asked"
        checkouts = watch.checkouts
        # The first part of the answer reaches the chat (its draft) while the model is still streaming.
        await tg.wait_until(lambda: "consolidating" in _draft_text(tg, ann), what="the streamed preview")
        assert (watch.checked_out, watch.checkouts) == (0, checkouts), "the database was used during the stream"
        await llm.close()  # the stream ends; the answer is settled in a short transaction
        await tg.wait_until(lambda: any(m.photo is not None for m in tg.bot_messages(ann)), what="the chart")
        await app.settle()
        assert watch.checkouts > checkouts and watch.checked_out == 0
    # The handler's own sends (the typing action and the long poll run in tasks of their own).
    answer_sends = [(method, count) for method, count in sends.samples if method in ANSWER_SENDS]
    assert {method for method, _ in answer_sends} == ANSWER_SENDS
    assert [(method, count) for method, count in answer_sends if count] == []


async def test_replies_after_reads_are_sent_with_no_connection_held(
    tg: FakeTelegramServer, settings_factory: Callable[..., Settings]
) -> None:
    async with running_bot(settings_factory(**QUIET), tg) as app:
        await without_scheduler(app)
        sends = ConnectionsAtSends(PoolWatch(app.resources.engine))
        app.bot.session.middleware(sends)
        ann, bob = tg.add_user("Ann"), tg.add_user("Bob")
        # A first /start with a payload that could be an invite code but is nobody's: a refused binding.
        await tg.send_command(bob, "/start", payload="abcdefgh")
        await tg.wait_for_messages(bob, 1)
        await app.settle()
        for number, command in enumerate(("/start", "/invite", "/balance", "/history", "/buy", "/paysupport"), 1):
            await tg.send_command(ann, command)
            await tg.wait_for_messages(ann, number)
            await app.settle()
    replies = [count for method, count in sends.samples if method == "SendMessage"]
    assert replies == [0] * 7


async def test_a_pre_checkout_query_is_answered_with_no_connection_held(
    tg: FakeTelegramServer, settings_factory: Callable[..., Settings]
) -> None:
    async with running_bot(settings_factory(throttle_enabled=False, **QUIET), tg) as app:
        await without_scheduler(app)
        sends = ConnectionsAtSends(PoolWatch(app.resources.engine))
        app.bot.session.middleware(sends)
        ann = tg.add_user("Ann")
        invoice = await request_invoice(tg, ann)
        await app.settle()
        answer = await tg.wait_pre_checkout_answer(tg.pre_checkout(ann, invoice))
        await app.settle()
    assert answer.ok
    assert [count for method, count in sends.samples if method == "AnswerPreCheckoutQuery"] == [0]


@contextlib.asynccontextmanager
async def webhook_bot(settings: Settings, tg: FakeTelegramServer) -> AsyncIterator[RunningBot]:
    """`python -m bot`'s webhook path (prepare → build_webhook_app → setWebhook), served on a free port."""
    resources, bot, dp = await prepare(settings)
    _use_clocks(bot, dp, tg, None)
    resources.inflight.on_idle.append(tg.changed.notify)
    runner = web.AppRunner(build_webhook_app(settings, bot, dp), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}{webhook_path(settings.webhook_url)}"
        await bot.set_webhook(url, secret_token=settings.webhook_secret.get_secret_value())
        yield RunningBot(settings, resources, bot, dp, tg)
    finally:
        await runner.cleanup()  # the dispatcher's shutdown: drains updates, closes the resources
    assert resources.closed


async def test_a_webhook_burst_waits_for_the_concurrency_bound(
    tg: FakeTelegramServer, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(
        webhook_url="http://127.0.0.1/hook", webhook_secret="s3cret", updates_concurrency=4, **QUIET
    )
    async with webhook_bot(settings, tg) as app:
        users = [tg.add_user(f"W{i}") for i in range(60)]
        for user in users:
            await tg.send_command(user, "/start")
        await tg.wait_until(lambda: all(tg.bot_messages(u) for u in users), timeout=60, what="every /start answered")
        await app.settle(timeout=30)
        inflight = app.resources.inflight
        # Every delivery was accepted at once, but never more than 4 were handled at a time.
        assert {d.status for d in tg.webhook_deliveries} == {200} and len(tg.webhook_deliveries) == 60
        assert inflight.peak == 4 and inflight.finished == 60
    assert errors(tg, users) == []
    assert all(text.startswith("👋 Hi, W") for text in replies(tg, users))
