"""getUpdates and the webhook methods."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import errors as e
from .chats import JsonDict
from .errors import ApiError, bad_request
from .params import Params
from .updates import WebhookConfig

if TYPE_CHECKING:
    from .common import Handler
    from .core import FakeTelegramCore

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


async def get_updates(core: FakeTelegramCore, params: Params) -> list[JsonDict]:
    if core.webhook.config is not None:
        raise ApiError(409, e.WEBHOOK_CONFLICT)
    queue = core.updates
    queue.poll_generation += 1
    generation = queue.poll_generation
    queue.notifier.notify()  # a long poll still waiting is terminated by this newer request
    queue.set_allowed(params.get_json("allowed_updates"))
    queue.confirm(params.get_int("offset"))
    limit = params.get_int("limit", 100) or 100
    timeout = max(0, params.get_int("timeout", 0) or 0)
    if not queue.pending and timeout > 0 and not queue.closed:
        queue.waiting += 1
        core.changed.notify()
        try:
            await queue.notifier.wait_until(
                lambda: (
                    bool(queue.pending)
                    or queue.closed
                    or queue.poll_generation != generation
                    or core.webhook.config is not None
                ),
                timeout,
            )
        finally:
            queue.waiting -= 1
        if queue.poll_generation != generation:
            raise ApiError(409, e.POLL_CONFLICT)
        if core.webhook.config is not None:
            return []
    return queue.peek(limit)


def _check_webhook_url(core: FakeTelegramCore, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if core.require_https_webhook and parts.scheme != "https":
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")


async def set_webhook(core: FakeTelegramCore, params: Params) -> bool:
    url = params.get_str("url") or ""
    if not url:
        return await delete_webhook(core, params)
    _check_webhook_url(core, url)
    secret = params.get_str("secret_token") or None
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    if params.get_bool("drop_pending_updates"):
        core.updates.drop_all()
    allowed = params.get_json("allowed_updates")
    core.updates.set_allowed(allowed)
    core.webhook.configure(
        WebhookConfig(
            url=url,
            secret_token=secret,
            max_connections=params.get_int("max_connections", 40) or 40,
            allowed_updates=[str(kind) for kind in allowed] if isinstance(allowed, list) and allowed else None,
        )
    )
    core.changed.notify()
    return True


async def delete_webhook(core: FakeTelegramCore, params: Params) -> bool:
    if params.get_bool("drop_pending_updates"):
        core.updates.drop_all()
    core.webhook.configure(None)
    core.changed.notify()
    return True


async def get_webhook_info(core: FakeTelegramCore, params: Params) -> JsonDict:
    del params
    config = core.webhook.config
    info: JsonDict = {
        "url": config.url if config else "",
        "has_custom_certificate": False,
        "pending_update_count": len(core.updates.pending),
    }
    if config is not None:
        info["max_connections"] = config.max_connections
        info["ip_address"] = config.ip_address
        if config.allowed_updates:
            info["allowed_updates"] = config.allowed_updates
        if core.webhook.last_error_date is not None:
            info["last_error_date"] = core.webhook.last_error_date
            info["last_error_message"] = core.webhook.last_error_message
    return info


METHODS: dict[str, Handler] = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
