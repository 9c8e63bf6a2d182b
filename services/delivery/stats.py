"""What the outbox is doing, as plain data for the admin/metrics views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.repositories.deliveries import DeliveryCounts


@dataclass
class OutboxCounters:
    """This process's sender since it started (the database holds the totals)."""

    sent: int = 0
    retried: int = 0  # failed attempts that will be tried again (429s included)
    rate_limited: int = 0  # 429 answers that reached the sender (the limiter retries most itself)
    dead: int = 0
    skipped: int = 0  # rows skipped because their chat blocked the bot or is gone
    moved: int = 0  # rows moved to a group's new supergroup id
    paid: int = 0  # sent with allow_paid_broadcast
    uploads: int = 0  # media uploaded (each file once; later recipients get Telegram's file_id)


@dataclass(frozen=True)
class OutboxStats:
    backlog: int  # rows still to deliver (pending, sending, failed)
    oldest_pending_age: float  # seconds since the oldest of those was enqueued (0 when none)
    sent_total: int
    dead_total: int
    skipped_total: int
    paid_total: int
    process: OutboxCounters

    @classmethod
    def of(cls, counts: DeliveryCounts, counters: OutboxCounters, now: datetime) -> OutboxStats:
        age = (now - counts.oldest_open_at).total_seconds() if counts.oldest_open_at else 0.0
        return cls(
            backlog=counts.backlog,
            oldest_pending_age=max(0.0, age),
            sent_total=counts.sent,
            dead_total=counts.dead,
            skipped_total=counts.skipped,
            paid_total=counts.paid,
            process=OutboxCounters(**vars(counters)),
        )
