"""The outbox sender: drains `deliveries` into Telegram (signals, alerts, broadcasts).

Leases a batch of due rows in one short transaction (once a quarter of its places are free, not
for every send that finishes), sends them with bounded concurrency in the limiter's bulk lane
(`use_lane(Lane.BULK)`: interactive replies go first), and records the answers in short transactions
(sent rows in groups); no database session is held across a Bot API call. Several replicas
share the work (leases, `SKIP LOCKED`). A live sender renews the leases of its rows in flight; a row
whose lease expires without a recorded result (the process died mid-send) is sent again, so a crash
costs at most one duplicate and never a loss.

The sender wakes when this process committed new rows (its `OutboxWake`, shared with the services:
`enqueue(..., wake=services.outbox_wake)` sets it after the commit), when a send finishes (the
chat's next row may be due), and otherwise every `poll_seconds` for rows other replicas wrote or
retries that came due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyParameters,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from db.models import utcnow
from db.repositories.deliveries import ClaimedDelivery
from services.delivery import (
    ChatGone,
    ChatMoved,
    Dead,
    InvalidDelivery,
    OutboxMessage,
    OutboxStats,
    OutboxWake,
    OutboxWorker,
    Outcome,
    Retry,
    RetryPolicy,
    Sent,
    StaleMedia,
)
from services.delivery.worker import Clock
from services.ratelimit import Lane, use_lane

log = logging.getLogger(__name__)

# 400 descriptions meaning the chat itself is unusable (not just this message).
CHAT_GONE = ("chat not found", "peer_id_invalid", "user not found")
# 400 descriptions meaning a stored file_id is refused (upload the file again).
FILE_ID_REFUSED = ("wrong file identifier", "file_id", "wrong remote file", "file reference")


# Media file_ids kept in memory (the least recently used go; the database keeps them all): pushes
# carry a few charts at a time, so a few thousand cover every push in progress many times over.
FILE_IDS_KEPT = 4096


class FileIds:
    """Media sha256 → Telegram file_id, least recently used first out past `size`."""

    def __init__(self, size: int = FILE_IDS_KEPT) -> None:
        self.size = size
        self._ids: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, sha256: str) -> str | None:
        file_id = self._ids.get(sha256)
        if file_id is not None:
            self._ids.move_to_end(sha256)
        return file_id

    def put(self, sha256: str, file_id: str) -> None:
        self._ids[sha256] = file_id
        self._ids.move_to_end(sha256)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)

    def drop(self, sha256: str) -> None:
        self._ids.pop(sha256, None)


@dataclass
class _Upload:
    """One upload of a media at a time; dropped once nobody holds or waits for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _FileIdRefused(Exception):
    def __init__(self, sha256: str, error: str) -> None:
        super().__init__(error)
        self.sha256 = sha256
        self.error = error


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        worker: OutboxWorker,
        *,
        concurrency: int = 8,
        batch_size: int = 50,
        poll_seconds: float = 2.0,
        paid_broadcast: bool = False,
        wake: OutboxWake | None = None,
    ) -> None:
        self.bot = bot
        self.worker = worker
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.paid_broadcast = paid_broadcast
        # Free places before the next claim: a quarter of them, at most a batch (claims cost per claim, not per row).
        self._refill_at = max(1, min(batch_size, concurrency // 4))
        self._wake = wake or OutboxWake()
        self._stopping = False
        self._running = False
        self._stopped = asyncio.Event()
        self._in_flight: dict[asyncio.Task[None], ClaimedDelivery] = {}  # each send and its row
        self.file_ids = FileIds()  # media sha256 → Telegram file_id (also in delivery_media)
        self._uploads: dict[str, _Upload] = {}  # one upload per media at a time
        self.recorded = 0  # attempts finished (result recorded, or recording failed)
        self._progress = asyncio.Condition()

    @classmethod
    def from_settings(
        cls,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        clock: Clock = utcnow,
        wake: OutboxWake | None = None,
    ) -> OutboxSender:
        policy = RetryPolicy(
            base_seconds=settings.outbox_backoff_base,
            cap_seconds=settings.outbox_backoff_max,
            max_attempts=settings.outbox_max_attempts,
        )
        worker = OutboxWorker(sessionmaker, policy, settings.outbox_lease_seconds, clock=clock)
        return cls(
            bot,
            worker,
            concurrency=settings.outbox_in_flight,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            paid_broadcast=settings.paid_broadcast,
            wake=wake,
        )

    # ----------------------------------------------------------------- control
    def wake(self) -> None:
        """Look now instead of at the next poll (what the shared `OutboxWake` does after a commit)."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def stats(self) -> OutboxStats:
        return await self.worker.stats()

    async def wait_recorded(self, count: int, timeout: float | None = None) -> None:
        """Until `count` attempts have finished since start (for shutdown hooks, tools and tests)."""
        async with asyncio.timeout(timeout), self._progress:
            await self._progress.wait_for(lambda: self.recorded >= count)

    async def run(self) -> None:
        """Drain the outbox until `stop()` (or cancellation); in-flight sends finish first on stop."""
        self._running = True
        renewing = asyncio.create_task(self._keep_leases(), name="outbox-leases")
        try:
            while not self._stopping:
                self._wake.clear()
                wanted = min(self.batch_size, self.concurrency - len(self._in_flight))
                # Refill in batches, not one row per finished send: a claim costs about as much for
                # one row as for fifty.
                refill = wanted >= self._refill_at or (wanted > 0 and not self._in_flight)
                claimed = await self._claim(wanted) if refill else []
                if claimed is None:  # the database is unreachable: try again at the next poll
                    await self._wait(timeout=self.poll_seconds)
                    continue
                for row in claimed:
                    task = asyncio.create_task(self._deliver(row), name=f"delivery-{row.id}")
                    self._in_flight[task] = row
                    task.add_done_callback(self._finished)
                if claimed and len(claimed) == wanted and len(self._in_flight) < self.concurrency:
                    continue  # there may be more due rows, and there is room for them
                await self._wait(timeout=self.poll_seconds)
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        finally:
            renewing.cancel()
            for task in self._in_flight:
                task.cancel()  # cancelled, not stopped: their leases expire and the rows are sent again
            await asyncio.gather(renewing, *self._in_flight, return_exceptions=True)
            self._stopped.set()

    async def _keep_leases(self) -> None:
        """Renew the leases of the rows in flight every third of a lease, so a send that waits long
        (a group's window full, a 429 pause) is never taken over by another replica; a dead process
        stops renewing and its rows come due a lease later."""
        interval = self.worker.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            rows = list(self._in_flight.values())
            if not rows:
                continue
            try:
                await self.worker.renew(rows)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("outbox: renewing %d leases failed: %s", len(rows), exc)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox: %s failed", task.get_name(), exc_info=task.exception())

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming, let the sends in flight finish and record (at most `grace` seconds)."""
        self._stopping = True
        self._wake.set()
        if not self._running:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self._stopped.wait()
        for task in list(self._in_flight):
            task.cancel()

    async def _claim(self, limit: int) -> list[ClaimedDelivery] | None:
        try:
            return await self.worker.claim(limit)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("outbox: claiming deliveries failed: %s", exc)
            return None

    async def _wait(self, timeout: float) -> None:
        """Until woken (an enqueue here, a finished send, `stop()`) or `timeout`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    # ----------------------------------------------------------------- one row
    async def _deliver(self, row: ClaimedDelivery) -> None:
        outcome = await self._send(row)
        try:
            await self.worker.record(row, outcome)
        except (SQLAlchemyError, OSError) as exc:
            # The lease expires and the row is sent again: a duplicate, never a loss.
            log.error("outbox: could not record delivery %s (%s): %s", row.id, type(outcome).__name__, exc)
        async with self._progress:
            self.recorded += 1
            self._progress.notify_all()
        self._wake.set()  # a slot is free, and the chat's next row may be due

    async def _send(self, row: ClaimedDelivery) -> Outcome:
        try:
            message = OutboxMessage.from_json(row.payload)
            with use_lane(Lane.BULK):
                sent = await self._send_message(row.chat_id, message)
        except InvalidDelivery as exc:
            return Dead(f"invalid payload: {exc}")
        except (SQLAlchemyError, OSError) as exc:  # reading the media: nothing was sent yet
            return Retry(error=f"database: {exc}")
        except _FileIdRefused as exc:
            self.file_ids.drop(exc.sha256)
            return StaleMedia(sha256=exc.sha256, error=exc.error)
        except TelegramRetryAfter as exc:
            log.info("outbox: 429 for chat %s, retry after %s s", row.chat_id, exc.retry_after)
            return Retry(error=exc.message, retry_after=exc.retry_after, rate_limited=True)
        except TelegramMigrateToChat as exc:
            return ChatMoved(exc.migrate_to_chat_id)
        except TelegramForbiddenError as exc:
            return ChatGone(exc.message)
        except TelegramBadRequest as exc:
            if any(marker in exc.message.lower() for marker in CHAT_GONE):
                return ChatGone(exc.message)
            return Dead(exc.message)
        except TelegramEntityTooLarge as exc:
            return Dead(exc.message)
        except TelegramAPIError as exc:  # network, 5xx, 401/404/409: none of them the message's fault
            return Retry(error=f"{type(exc).__name__}: {exc.message}")
        except ClientDecodeError as exc:  # not a Bot API answer (a proxy's error page)
            return Retry(error=f"undecodable answer: {exc.message}")
        return Sent(message_id=sent.message_id, paid=self.paid_broadcast)

    def _options(self, chat_id: int, message: OutboxMessage) -> dict[str, Any]:
        markup = None
        if message.buttons:
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text=b.text, url=b.url, callback_data=b.callback_data) for b in row]
                    for row in message.buttons
                ]
            )
        reply = None
        if message.reply_to is not None:
            reply = ReplyParameters(message_id=message.reply_to, allow_sending_without_reply=True)
        return {
            "chat_id": chat_id,
            "parse_mode": ParseMode.HTML,
            "reply_markup": markup,
            "reply_parameters": reply,
            "disable_notification": message.disable_notification or None,
            "message_thread_id": message.message_thread_id,
            "allow_paid_broadcast": True if self.paid_broadcast else None,
        }

    async def _send_message(self, chat_id: int, message: OutboxMessage) -> Message | MessageId:
        options = self._options(chat_id, message)
        if message.copy_of is not None:
            # The copy keeps the original's text or media and their formatting (no caption is passed).
            source = message.copy_of
            return await self.bot.copy_message(
                from_chat_id=source.from_chat_id, message_id=source.message_id, **options
            )
        if message.photo is None:
            return await self.bot.send_message(text=message.text, **options)
        caption = message.text or None
        sha256 = message.photo
        file_id = self.file_ids.get(sha256)
        if file_id is None:
            # The first recipient uploads the file; the others wait for it and reuse its file_id.
            async with self._upload_turn(sha256):
                file_id = self.file_ids.get(sha256)
                if file_id is None:
                    media = await self.worker.media(sha256)
                    if media is None:
                        raise InvalidDelivery(f"media {sha256} is not stored")
                    if media.file_id is None:
                        upload = BufferedInputFile(media.data, filename=media.filename)
                        sent = await self.bot.send_photo(photo=upload, caption=caption, **options)
                        if sent.photo:
                            await self._remember(sha256, sent.photo[-1].file_id)
                        return sent
                    file_id = media.file_id
                    self.file_ids.put(sha256, file_id)
        try:
            return await self.bot.send_photo(photo=file_id, caption=caption, **options)
        except TelegramBadRequest as exc:
            if any(marker in exc.message.lower() for marker in FILE_ID_REFUSED):
                raise _FileIdRefused(sha256, exc.message) from exc
            raise

    @property
    def uploads_in_progress(self) -> int:
        """Media with an upload under way or awaited (their locks; none are left behind)."""
        return len(self._uploads)

    @contextlib.asynccontextmanager
    async def _upload_turn(self, sha256: str) -> AsyncIterator[None]:
        upload = self._uploads.get(sha256)
        if upload is None:
            upload = self._uploads[sha256] = _Upload()
        upload.users += 1
        try:
            async with upload.lock:
                yield
        finally:
            upload.users -= 1
            if upload.users == 0:
                del self._uploads[sha256]

    async def _remember(self, sha256: str, file_id: str) -> None:
        """The upload went through: later recipients (here and, via the database, on other replicas)
        get the file_id. A failure to store it costs only another upload elsewhere, never the send."""
        self.file_ids.put(sha256, file_id)
        try:
            await self.worker.remember_file_id(sha256, file_id)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("outbox: could not store the file_id of media %s: %s", sha256, exc)
