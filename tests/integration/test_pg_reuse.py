"""The PostgreSQL test databases a worker reuses (tests/backends.py, tests/pg_reset.py): a released
database comes back exactly as the template left it, and one whose schema a test changed is dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.engine import create_engine
from tests.backends import POSTGRES_ONLY, Backend, PostgresTemplates

SEEDS = (
    "SELECT 'plans', count(*), string_agg(code, ',' ORDER BY sort) FROM plans UNION ALL "
    "SELECT 'packages', count(*), string_agg(code || '=' || credits, ',' ORDER BY id) FROM credit_packages"
)
NEXT_IDS = "SELECT nextval('users_id_seq'), nextval('credit_packages_id_seq'), nextval('audit_log_id_seq')"


@asynccontextmanager
async def _connected(url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            yield conn
    finally:
        await engine.dispose()


async def _state(url: str) -> tuple[object, ...]:
    async with _connected(url) as conn:
        seeds = (await conn.execute(text(SEEDS))).all()
        users = (await conn.execute(text("SELECT count(*) FROM users"))).scalar_one()
        audit = (await conn.execute(text("SELECT count(*) FROM audit_log"))).scalar_one()
        next_ids = (await conn.execute(text(NEXT_IDS))).one()
        await conn.rollback()  # nextval is not rolled back: the sequences moved, which the reset undoes
    return (tuple(map(tuple, seeds)), users, audit, tuple(next_ids))


async def _exists(templates: PostgresTemplates, name: str) -> bool:
    engine = create_async_engine(templates.admin_url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            return found.first() is not None
    finally:
        await engine.dispose()


async def _use(url: str) -> None:
    """What a test does: rows in seeded and unseeded tables, ids taken, a seed changed and one deleted."""
    async with _connected(url) as conn:
        await conn.execute(
            text(
                "INSERT INTO users (telegram_id, first_name, invite_code, last_seen_at) "
                "VALUES (1, 'a', 'i1', now()), (2, 'b', 'i2', now())"
            )
        )
        await conn.execute(text("INSERT INTO audit_log (actor_telegram_id, action) VALUES (1, 'x')"))
        await conn.execute(text("UPDATE plans SET title = 'changed' WHERE code = 'vip'"))
        await conn.execute(text("DELETE FROM plans WHERE code = 'pro'"))
        await conn.execute(
            text(
                "INSERT INTO credit_packages (code, title, stars_price, credits, bonus, recommended, active, sort) "
                "VALUES ('extra', 'Extra', 1, 1, 0, false, true, 9)"
            )
        )


@POSTGRES_ONLY
async def test_a_released_database_comes_back_in_the_templates_state(
    backend: Backend, pg_templates: PostgresTemplates | None
) -> None:
    assert pg_templates is not None
    url = await pg_templates.new_database()
    fresh = await _state(url)
    assert fresh[0] == (("plans", 3, "free,vip,pro"), ("packages", 4, "starter=50,standard=200,premium=500,pro=1000"))
    assert fresh[1:] == (0, 0, (1, 5, 1))  # a copy of the template: ids start where the template's do

    await _use(url)
    assert await _state(url) != fresh
    # A connection the test left open (an engine never disposed) does not keep the database from reuse.
    leftover: AsyncEngine = create_engine(url)
    held = await leftover.connect()
    await held.execute(text("SELECT 1"))
    try:
        assert await pg_templates.release(url)
        assert make_url(url).database in pg_templates.free
        again = await pg_templates.new_database()
        assert again == url  # the same database, reused
        assert await _state(again) == fresh  # rows gone, seeds back, sequences where the template has them
    finally:
        await held.invalidate()  # its server side was terminated by the reset
        await leftover.dispose()
    await pg_templates.release(again)


@POSTGRES_ONLY
async def test_a_database_whose_schema_changed_is_dropped_not_reused(
    backend: Backend, pg_templates: PostgresTemplates | None
) -> None:
    assert pg_templates is not None
    url = await pg_templates.new_database()
    name = make_url(url).database
    assert name is not None
    async with _connected(url) as conn:
        await conn.execute(text("ALTER TABLE users ADD COLUMN nickname text"))
    assert not await pg_templates.release(url)
    assert name not in pg_templates.free and name not in pg_templates.live
    assert not await _exists(pg_templates, name)
    # A migration walked down leaves a different revision (and schema): dropped too.
    url = await pg_templates.new_database()
    name = make_url(url).database
    assert name is not None
    async with _connected(url) as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not await pg_templates.release(url)
    assert not await _exists(pg_templates, name)
