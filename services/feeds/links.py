"""Undoing /linkchannel: the channels a person linked, and removing such a link.

A channel has one link (`chats.managed_by`, the admin who linked it last). Its feeds can only be
managed through that link, and they run on the linker's plan (feed quota, signal delay), so when the
link goes its feeds go too, and the pushes still waiting for it are dropped: nothing keeps posting
into a channel nobody manages from here, and a person who left the channel keeps none of its feeds
on their plan. An admin of the channel gets them back with /linkchannel and /feeds.

Only the person who linked a channel can unlink it, whether or not Telegram still says they are one
of its admins: that is what lets a demoted admin let go of it.
"""

from __future__ import annotations

from db.repositories.deliveries import DeliveryRepository
from db.repositories.feeds import ChatRow, FeedRepository
from services.feeds.model import LinkedChannel, Unlinked
from services.feeds.service import feed_view
from services.uow import Session

UNLINKED_REASON = "the channel was unlinked"


def _linked(row: ChatRow) -> LinkedChannel:
    return LinkedChannel(id=row.id, title=row.title, username=row.username, active=row.active)


async def linked_channels(session: Session, telegram_id: int) -> list[LinkedChannel]:
    """Every channel this person linked (the bot still in it or not), by title."""
    rows = await FeedRepository(session).linked_by(telegram_id)
    await session.rollback()
    return [_linked(row) for row in rows]


async def find_linked(session: Session, telegram_id: int, ref: int | str) -> LinkedChannel | None:
    """This person's linked channel named by `ref`: its chat id, or its @name (any case)."""
    name = ref.lstrip("@").lower() if isinstance(ref, str) else None
    for channel in await linked_channels(session, telegram_id):
        if channel.id == ref or (name and channel.username and channel.username.lower() == name):
            return channel
    return None


async def unlink_channel(session: Session, *, chat_id: int, telegram_id: int) -> Unlinked | None:
    """Remove this person's link to the channel, its feeds and its waiting pushes; commits.
    None (nothing changed) when the channel is not linked to them."""
    feeds = FeedRepository(session)
    row = await feeds.chat(chat_id)
    if row is None or row.type != "channel" or not await feeds.unlink(chat_id, telegram_id):
        await session.rollback()
        return None
    stopped = tuple(feed_view(feed) for feed in await feeds.for_chat(chat_id))
    await feeds.delete(chat_id, [feed.kind for feed in stopped])
    await DeliveryRepository(session).skip_chat(chat_id, UNLINKED_REASON)
    await session.commit()
    return Unlinked(channel=_linked(row), stopped=stopped)
