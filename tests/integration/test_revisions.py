"""db/revisions.py (what the start path reads) agrees with Alembic (what migrates)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate, revisions
from db.engine import create_engine


def test_the_migration_files_give_alembics_order_and_head() -> None:
    assert revisions.revisions_in_order() == migrate.revisions_in_order()
    assert revisions.head_revision() == migrate.head_revision()


async def test_the_database_revision_reads_as_alembic_reads_it(engine: AsyncEngine, tmp_path: Path) -> None:
    assert await revisions.current_revision(engine) == await migrate.current_revision(engine)
    assert await revisions.current_revision(engine) == revisions.head_revision()  # the test database is at head
    empty = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        assert await revisions.current_revision(empty) is None
        assert await migrate.current_revision(empty) is None
    finally:
        await empty.dispose()


def write(folder: Path, name: str, revision: str, down: str | None) -> None:
    down_text = "None" if down is None else f'"{down}"'
    body = f'revision: str = "{revision}"\ndown_revision: str | None = {down_text}\n'
    (folder / name).write_text(f'"""{name}"""\n\nimport sqlalchemy as sa\n\n{body}')


def test_a_branch_or_a_gap_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "0001_a.py", "0001", None)
    write(tmp_path, "0002_b.py", "0002", "0001")
    (tmp_path / "__init__.py").write_text("")
    assert revisions.revisions_in_order(tmp_path) == ["0001", "0002"]
    write(tmp_path, "0003_c.py", "0003", "0001")
    with pytest.raises(revisions.RevisionError, match="branch from 0001"):
        revisions.revisions_in_order(tmp_path)
    (tmp_path / "0003_c.py").unlink()
    write(tmp_path, "0004_d.py", "0004", "0009")
    with pytest.raises(revisions.RevisionError, match="not reachable from base: 0004"):
        revisions.revisions_in_order(tmp_path)
