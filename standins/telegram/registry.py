"""All implemented Bot API methods, by lower-cased name (Telegram matches names case-insensitively)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import methods_chat, methods_messages, methods_payments, methods_updates

if TYPE_CHECKING:
    from .common import Handler

METHODS: dict[str, tuple[str, Handler]] = {
    name.lower(): (name, handler)
    for module in (methods_messages, methods_chat, methods_payments, methods_updates)
    for name, handler in module.METHODS.items()
}
