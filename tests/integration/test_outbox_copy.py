"""Copies through the outbox (copyMessage): an operator's message — its text with its formatting, a
photo with its caption — reaches every chat as the bot's own message; a copy that cannot be made is
dead with Telegram's reason; a copy payload carries nothing else to send."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from db.models import DeliveryStatus
from services.delivery import Button, CopySource, InvalidDelivery, OutboxMessage
from standins.telegram import FakeTelegramServer
from tests.integration.outbox_helpers import Sessions, fast_telegram, running_sender

BOLD = {"type": "bold", "offset": 0, "length": 4}
LINK = {"type": "text_link", "offset": 10, "length": 4, "url": "https://example.com/news"}


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with fast_telegram() as server:
        yield server


async def test_a_copied_text_and_photo_keep_their_formatting_and_media(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    olga, ann, bob = tg.add_user("Olga"), tg.add_user("Ann"), tg.add_user("Bob")
    await tg.send_message(olga, "/start")
    source = tg.chat(olga)
    text = tg.state.add_message(source, olga, text="News today: more", entities=[BOLD, LINK])
    photo_update = await tg.send_photo(olga, caption="Chart of the week")
    photo_id = photo_update["message"]["message_id"]
    original_photo = tg.state.get_message(source, photo_id)
    assert original_photo is not None and original_photo.photo is not None
    async with running_sender(tg, sessionmaker) as outbox:
        buttons = ((Button(text="Open", url="https://example.com/app"),),)
        await outbox.push(
            "c1",
            [ann.id, bob.id],
            kind="broadcast",
            copy_of={"from_chat_id": olga.id, "message_id": text.message_id},
            buttons=buttons,
        )
        await outbox.push("c2", [ann.id], kind="broadcast", copy_of={"from_chat_id": olga.id, "message_id": photo_id})
        await outbox.settle(3)
        rows = await outbox.rows(ann.id)
    first, second = tg.bot_messages(ann)
    assert (first.text, first.entities, first.from_bot) == ("News today: more", [BOLD, LINK], True)
    assert first.button_texts() == [["Open"]]
    assert tg.bot_messages(bob)[0].entities == [BOLD, LINK]
    assert second.photo is not None and second.photo.file_unique_id == original_photo.photo.file_unique_id
    assert second.caption == "Chart of the week"
    assert [(r.status, r.message_id) for r in rows] == [
        (DeliveryStatus.SENT, first.message_id),
        (DeliveryStatus.SENT, second.message_id),
    ]
    assert len(tg.calls_to("copyMessage")) == 3


async def test_a_copy_of_a_message_that_is_gone_is_dead_with_telegrams_reason(
    tg: FakeTelegramServer, sessionmaker: Sessions
) -> None:
    olga, ann = tg.add_user("Olga"), tg.add_user("Ann")
    await tg.send_message(olga, "/start")
    async with running_sender(tg, sessionmaker) as outbox:
        await outbox.push("c1", [ann.id], kind="broadcast", copy_of={"from_chat_id": olga.id, "message_id": 999})
        await outbox.settle(1)
        (row,) = await outbox.rows(ann.id)
    assert (row.status, row.error) == (DeliveryStatus.DEAD, "Bad Request: message to copy not found")
    assert tg.bot_messages(ann) == []


def test_a_copy_payload_has_no_text_or_photo_of_its_own_and_survives_storage() -> None:
    source = CopySource(from_chat_id=5, message_id=7)
    message = OutboxMessage.build(copy_of=source, disable_notification=True)
    assert OutboxMessage.from_json(message.to_json()) == message
    with pytest.raises(InvalidDelivery, match="a copied message has no text or photo of its own"):
        OutboxMessage.build(copy_of=source, text="hello")
    with pytest.raises(InvalidDelivery, match=r"^copy_of\.message_id: "):
        OutboxMessage.build(copy_of={"from_chat_id": 5, "message_id": 0})
    with pytest.raises(InvalidDelivery, match="needs text"):
        OutboxMessage.build()
