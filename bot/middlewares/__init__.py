from bot.middlewares.banned import BannedNotice
from bot.middlewares.context import ContextMiddleware
from bot.middlewares.database import DbSessionMiddleware
from bot.middlewares.inflight import InFlight
from bot.middlewares.throttling import ThrottlingMiddleware

__all__ = ["BannedNotice", "ContextMiddleware", "DbSessionMiddleware", "InFlight", "ThrottlingMiddleware"]
