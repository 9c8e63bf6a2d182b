"""The delivery outbox: what is pushed to chats (signals, alerts, broadcasts), durably.

- `enqueue` / `add_media`: write rows in the caller's transaction (`outbox`);
- `OutboxMessage`: the typed payload (text, a photo, or a copy of a message), checked against
  Telegram's limits (`message`);
- `RetryPolicy`: backoff with jitter (`policy`);
- `OutboxWorker`: the sender's short transactions and what each answer does to a row (`worker`);
- `OutboxStats`: counters for the admin/metrics views (`stats`);
- `OutboxWake`: set after a commit that enqueued rows, so this process's sender looks at once (`wake`).

The sender that talks to Telegram lives in bot/sender.py (services never import aiogram).
"""

from services.delivery.message import Button, CopySource, InvalidDelivery, OutboxMessage
from services.delivery.outbox import add_media, enqueue, enqueue_many
from services.delivery.policy import RetryPolicy
from services.delivery.stats import OutboxCounters, OutboxStats
from services.delivery.wake import OutboxWake
from services.delivery.worker import (
    ChatGone,
    ChatMoved,
    Dead,
    MediaFile,
    OutboxWorker,
    Outcome,
    Retry,
    Sent,
    StaleMedia,
)

__all__ = [
    "Button",
    "ChatGone",
    "ChatMoved",
    "CopySource",
    "Dead",
    "InvalidDelivery",
    "MediaFile",
    "OutboxCounters",
    "OutboxMessage",
    "OutboxStats",
    "OutboxWake",
    "OutboxWorker",
    "Outcome",
    "Retry",
    "RetryPolicy",
    "Sent",
    "StaleMedia",
    "add_media",
    "enqueue",
    "enqueue_many",
]
