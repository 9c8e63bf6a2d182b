"""The code's migration revisions and the database's, read without Alembic.

The start path (`bot/startup.py` `check_schema`) only compares two strings; Alembic's script machinery
(`ScriptDirectory`, with mako and the migration modules) costs ~0.15 s of imports and ~10 MB for that.
So the revisions are read from the migration files' `revision` / `down_revision` lines, and the
database's from `alembic_version`. `db/migrate.py` (Alembic itself) stays the tool that migrates;
tests/unit/test_revisions.py checks that both agree.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, as migrations/env.py leaves it

_REVISION = re.compile(r"""^revision(?:\s*:[^=]*)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"""^down_revision(?:\s*:[^=]*)?\s*=\s*(?:None|["']([^"']+)["'])""", re.MULTILINE)


class RevisionError(Exception):
    """The migration files do not form one line from base to head."""


def _parse(path: Path) -> tuple[str, str | None]:
    source = path.read_text(encoding="utf-8")
    revision = _REVISION.search(source)
    down = _DOWN_REVISION.search(source)
    if revision is None or down is None:
        raise RevisionError(f"{path.name}: no `revision = ...` / `down_revision = ...` line")
    return revision.group(1), down.group(1)


def revisions_in_order(versions_dir: Path = VERSIONS_DIR) -> list[str]:
    """Revision ids from base to head, as Alembic's `ScriptDirectory.walk_revisions` (reversed)."""
    parents: dict[str, str | None] = {}
    for path in sorted(versions_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        revision, down = _parse(path)
        if revision in parents:
            raise RevisionError(f"revision {revision} is defined twice")
        parents[revision] = down
    children: dict[str | None, list[str]] = {}
    for revision, down in parents.items():
        children.setdefault(down, []).append(revision)
    order: list[str] = []
    current: str | None = None
    while current in children:
        nxt = children[current]
        if len(nxt) > 1:
            raise RevisionError(f"revisions {', '.join(sorted(nxt))} branch from {current or 'base'}")
        current = nxt[0]
        order.append(current)
    if len(order) != len(parents):
        raise RevisionError(f"revisions not reachable from base: {', '.join(sorted(set(parents) - set(order)))}")
    return order


def head_revision(versions_dir: Path = VERSIONS_DIR) -> str | None:
    order = revisions_in_order(versions_dir)
    return order[-1] if order else None


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise RevisionError(f"the database has several heads: {', '.join(sorted(rows))}")
    return rows[0] if rows else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision (None: empty, never migrated), as Alembic's `get_current_revision`."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)
