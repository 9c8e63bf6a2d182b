"""Alembic environment: async engines, batch mode on SQLite, and connection sharing for in-process use.

`db.migrate` passes an open connection in `config.attributes["connection"]` (`python -m bot migrate`
and the tests); the `alembic` CLI path builds its own engine from `DATABASE_URL`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from db.models import Base

config = context.config
target_metadata = Base.metadata


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    from bot.settings import load_settings

    asyncio.run(run_async_migrations(load_settings().database_url))


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `python -m bot migrate`")
run_migrations_online()
