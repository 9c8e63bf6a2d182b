from bot.middlewares.context import ContextMiddleware
from bot.middlewares.database import DbSessionMiddleware
from bot.middlewares.inflight import InFlight
from bot.middlewares.throttling import ThrottlingMiddleware

__all__ = ["ContextMiddleware", "DbSessionMiddleware", "InFlight", "ThrottlingMiddleware"]
