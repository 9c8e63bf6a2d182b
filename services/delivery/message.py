"""What a delivery sends: a typed message, validated against Telegram's limits when it is enqueued
(a row that cannot be sent must fail in the caller's code, not later in the sender), stored as JSON."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.text.html import safe_href, visible_length

TEXT_LIMIT = 4096  # visible UTF-16 units of a message
CAPTION_LIMIT = 1024  # … of a photo's caption
CALLBACK_DATA_LIMIT = 64  # bytes
BUTTONS_PER_ROW = 8
BUTTONS_LIMIT = 100


class InvalidDelivery(ValueError):
    """A delivery Telegram would refuse (too long, empty, a bad button, unknown media)."""


class Button(BaseModel):
    """An inline button: opens `url` or sends `callback_data` back to the bot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=256)]
    url: str | None = None
    callback_data: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        if (self.url is None) == (self.callback_data is None):
            raise ValueError("a button has exactly one of url or callback_data")
        if self.url is not None and safe_href(self.url) is None:
            raise ValueError(f"Telegram does not accept the button URL {self.url!r}")
        if self.callback_data is not None and not 1 <= len(self.callback_data.encode()) <= CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback_data must be 1-{CALLBACK_DATA_LIMIT} bytes")
        return self


class CopySource(BaseModel):
    """A message to copy (copyMessage: its text or media and their formatting, no link to it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_chat_id: int
    message_id: Annotated[int, Field(gt=0)]


class OutboxMessage(BaseModel):
    """One pushed message: Telegram HTML text (the caption when there is a photo), an optional photo
    (the sha256 of media stored with `add_media`), or a copy of an existing message (`copy`: neither
    text nor photo), inline buttons and send options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = ""
    photo: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    disable_notification: bool = False
    message_thread_id: int | None = None
    reply_to: int | None = None  # a message id in the same chat (sent anyway if it is gone)
    copy_of: CopySource | None = None

    @model_validator(mode="after")
    def _telegram_limits(self) -> Self:
        length = visible_length(self.text)
        if self.copy_of is not None:
            if self.text or self.photo is not None:
                raise ValueError("a copied message has no text or photo of its own")
        elif self.photo is None and not self.text.strip():
            raise ValueError("a message without a photo needs text")
        limit, what = (CAPTION_LIMIT, "caption") if self.photo else (TEXT_LIMIT, "text")
        if length > limit:
            raise ValueError(f"{what} is {length} characters; Telegram allows {limit}")
        if any(len(row) > BUTTONS_PER_ROW for row in self.buttons) or any(not row for row in self.buttons):
            raise ValueError(f"each button row holds 1-{BUTTONS_PER_ROW} buttons")
        if sum(len(row) for row in self.buttons) > BUTTONS_LIMIT:
            raise ValueError(f"at most {BUTTONS_LIMIT} buttons")
        return self

    @classmethod
    def build(cls, **fields: object) -> OutboxMessage:
        """Validated construction; a problem is an `InvalidDelivery` naming it."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise InvalidDelivery(_first_error(exc)) from None

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_json(cls, payload: str) -> OutboxMessage:
        try:
            return cls.model_validate_json(payload)
        except ValidationError as exc:
            raise InvalidDelivery(_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
