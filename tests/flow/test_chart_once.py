"""Charts rendered once per candle, through the production dispatcher: the real aiogram Bot against the
Bot API stand-in (its flood limits on; the bot's limiter paces), real ccxt against the fake Bybit.

The stand-in records what each sendPhoto carried: "<file NAME N bytes>" for an upload, the file_id
string for a reuse. Renders are counted by the bot's own chart cache (`stats.renders`), next to what
the stand-in saw.
"""

from __future__ import annotations

import asyncio

from services.market.chart_cache import ChartCache
from services.market.charts import HEIGHT_PX, WIDTH_PX
from standins.telegram import FakeTelegramServer, FakeUser
from tests.flow.test_market_commands import assert_no_generic_error, markets_loaded, new_user, png_size
from tests.harness import RunningBot

BURST = 50
TIMEOUT = 90.0  # 50 charts paced at Telegram's rates on a shared machine


def chart_cache(app: RunningBot) -> ChartCache:
    return app.resources.services.chart_cache


def photo_params(tg: FakeTelegramServer, users: list[FakeUser]) -> list[str]:
    ids = {user.id for user in users}
    return [str(call.params["photo"]) for call in tg.calls_to("sendPhoto") if call.params.get("chat_id") in ids]


def uploads_of(tg: FakeTelegramServer, users: list[FakeUser]) -> list[str]:
    """The file_ids Telegram gave the successful uploads to these users (the largest PhotoSize)."""
    ids = {user.id for user in users}
    return [
        str(call.response["photo"][-1]["file_id"])
        for call in tg.calls_to("sendPhoto")
        if call.ok and call.params.get("chat_id") in ids and str(call.params["photo"]).startswith("<file ")
    ]


async def ask(app: RunningBot, users: list[FakeUser], query: str) -> list[bytes]:
    """Every user sends /chart `query` at once; the bytes of the picture each one got, once the bot
    has finished handling every update (its counters are final)."""
    tg = app.tg
    before = {user.id: len(tg.bot_messages(user)) for user in users}
    await asyncio.gather(*(tg.send_command(user, "/chart", query) for user in users))
    pictures: list[bytes] = []
    for user in users:
        messages = await tg.wait_for_messages(user, before[user.id] + 1, timeout=TIMEOUT)
        photo = messages[-1].photo
        assert photo is not None and photo.data is not None, messages[-1]
        pictures.append(photo.data)
    await app.settle(TIMEOUT)
    return pictures


async def test_fifty_asks_for_the_same_chart_cost_one_render_and_one_upload(
    app: RunningBot, tg: FakeTelegramServer
) -> None:
    await markets_loaded(app, tg)
    users = [new_user(tg, f"user-{n}", "en") for n in range(BURST)]
    pictures = await ask(app, users, "btc 4h")

    cache = chart_cache(app)
    assert cache.stats.renders == 1
    sent = photo_params(tg, users)
    uploads = [param for param in sent if param.startswith("<file ")]
    assert len(sent) == BURST and len(uploads) == 1 and uploads[0].startswith("<file BTC-4h.png ")
    (file_id,) = uploads_of(tg, users)
    assert sent.count(file_id) == BURST - 1  # 49 reuses of the uploaded picture's file_id
    assert (cache.stats.uploads, cache.stats.reuses, cache.stats.refused) == (1, BURST - 1, 0)
    assert len(set(pictures)) == 1 and png_size(pictures[0]) == (WIDTH_PX, HEIGHT_PX)
    assert tg.count_429 == 0 and cache.waiting_uploads == 0
    for user in users:
        assert_no_generic_error(tg, user.id)
        (message,) = tg.bot_messages(user)
        assert message.caption is not None and message.caption.startswith("📈 BTC/USDT · 4h · Bybit\n")


async def test_other_timeframes_and_languages_are_other_charts_and_a_refused_file_id_is_uploaded_again(
    app: RunningBot, tg: FakeTelegramServer
) -> None:
    await markets_loaded(app, tg)
    cache = chart_cache(app)
    ann, bob, cy = (new_user(tg, name, "en") for name in ("Ann", "Bob", "Cy"))
    li, wang = new_user(tg, "李雷", "zh-hans"), new_user(tg, "王芳", "zh")

    (ann_4h,) = await ask(app, [ann], "eth 4h")
    (bob_1h,) = await ask(app, [bob], "ETH 1h")  # another timeframe: another key
    assert cache.stats.renders == 2 and ann_4h != bob_1h
    (li_4h,) = await ask(app, [li], "eth 4h")  # another language: another key (the picture is alike)
    assert cache.stats.renders == 3 and li_4h == ann_4h
    assert all(param.startswith("<file ") for param in photo_params(tg, [ann, bob, li]))  # three uploads
    (cy_4h,) = await ask(app, [cy], "ETH 4H")  # the same key as Ann's: her file_id
    (wang_4h,) = await ask(app, [wang], "以太坊 4h")  # the same key as Li's: his file_id
    (ann_file_id,) = uploads_of(tg, [ann])
    (li_file_id,) = uploads_of(tg, [li])
    assert photo_params(tg, [cy]) == [ann_file_id] and photo_params(tg, [wang]) == [li_file_id]
    assert cache.stats.renders == 3 and cy_4h == ann_4h and wang_4h == li_4h

    del tg.state.files[ann_file_id]  # Telegram no longer knows Ann's picture
    refused_before = sum(1 for call in tg.calls_to("sendPhoto") if not call.ok)
    (bob_4h,) = await ask(app, [bob], "eth 4h")
    bob_sent = photo_params(tg, [bob])[1:]  # after his 1h chart
    assert bob_sent[0] == ann_file_id and bob_sent[1].startswith("<file ETH-4h.png ")
    assert bob_4h == ann_4h and cache.stats.renders == 3  # the same bytes, not drawn again
    assert sum(1 for call in tg.calls_to("sendPhoto") if not call.ok) == refused_before + 1
    renewed = uploads_of(tg, [bob])[-1]
    (cy_again,) = await ask(app, [cy], "eth 4h")
    assert photo_params(tg, [cy])[-1] == renewed and cy_again == ann_4h
    assert (cache.stats.uploads, cache.stats.reuses, cache.stats.refused) == (4, 3, 1)
    for user in (ann, bob, cy, li, wang):
        assert all("Something went wrong" not in text for text in tg.bot_texts(user))
