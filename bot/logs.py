"""Log lines: human (`LOG_FORMAT=text`, the default, and console mode) or JSON (`LOG_FORMAT=json`), every
line written while an update is handled carrying its update id and user id, and no secret in any line.

* `update_context` (set by `bot.middlewares.observe.UpdateObserver`, the outermost middleware) holds
  the update and user ids; `ContextFilter` copies them onto each record (tasks started while handling
  an update inherit them).
* `RedactFilter` replaces the bot token (also in the Bot API URLs aiogram and aiohttp log), the API
  key, the webhook secret and the database and Redis passwords, in the message, its arguments and the
  traceback, with `***`; anything shaped like a bot token is replaced as well.
Both are handler filters, so they see every record the handler writes, whichever logger it came from.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from bot.settings import Settings

REDACTED = "***"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"
NOISY = ("aiogram.event", "alembic", "apscheduler", "httpx", "openai._base_client")
# @BotFather's shape (bot.settings_values.BOT_TOKEN_SHAPE) anywhere in a line, e.g. in /bot<token>/getMe.
TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{35}")


@dataclass(frozen=True)
class UpdateContext:
    update_id: int
    user_id: int | None


update_context: ContextVar[UpdateContext | None] = ContextVar("update_context", default=None)


class ContextFilter(logging.Filter):
    """Adds `update_id` and `user_id` (None outside an update) and `context` (" [update=… user=…]" or "")."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = update_context.get()
        record.update_id = current.update_id if current else None
        record.user_id = current.user_id if current else None
        record.context = f" [update={current.update_id} user={current.user_id}]" if current else ""
        return True


class RedactFilter(logging.Filter):
    """Replaces every secret (and anything shaped like a bot token) in a record's text with `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole; very short ones would
        # blank out ordinary words, so they are left to the token pattern.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts (UTC, ISO 8601), level, logger, msg, update_id, user_id, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "update_id": getattr(record, "update_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context"):  # a record that skipped ContextFilter (another handler's)
            record.context = ""
        return super().format(record)


def secrets_of(settings: Settings) -> list[str]:
    """The values no log line may show: the bot token, the API key, the webhook secret and the
    passwords in DATABASE_URL and REDIS_URL."""
    values = [
        settings.bot_token.get_secret_value(),
        settings.openai_api_key.get_secret_value(),
        settings.webhook_secret.get_secret_value(),
    ]
    for url in (settings.database_url, settings.redis_url):
        if not url:
            continue
        try:
            password = make_url(url).password
        except ArgumentError:
            continue
        if password:
            values.append(str(password))
    return [value for value in values if value]


def build_handler(fmt: str, secrets: Iterable[str], stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter(secrets))
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


def configure_logging(
    level: int = logging.INFO, fmt: str = "text", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Replace the root logger's handlers with one that filters and formats as above; returns it."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = build_handler(fmt, secrets, stream)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
