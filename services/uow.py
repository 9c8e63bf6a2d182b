"""The update's unit of work as handlers see it.

The outer middleware opens one database session per update and hands it to the handler, which
passes it, unopened, to the service calls it makes; the service method that owns a unit of work
commits it. Handlers never query, commit or roll back: to them `Session` is an opaque handle, and
this alias is the only name they import for it (the layer contract forbids handlers to import
sqlalchemy or db).
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

Session: TypeAlias = AsyncSession
