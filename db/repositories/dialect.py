"""Dialect-aware INSERTs: `ON CONFLICT` works on PostgreSQL and SQLite ≥ 3.35, through each
dialect's own `insert` construct."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, entity: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """`INSERT` with `on_conflict_*` support for the session's dialect."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(entity)


def insert_ignore(
    session: AsyncSession, entity: type[Any], values: dict[str, Any] | Select[*tuple[Any, ...]], *conflict: str
) -> postgresql.Insert | sqlite.Insert:
    """`INSERT … ON CONFLICT [(conflict…)] DO NOTHING` for the session's dialect; `values` is a
    row or a SELECT of all the entity's required columns in table order."""
    index = list(conflict) or None
    statement = dialect_insert(session, entity)
    if isinstance(values, Select):
        return statement.from_select(list(values.selected_columns.keys()), values).on_conflict_do_nothing(
            index_elements=index
        )
    return statement.values(values).on_conflict_do_nothing(index_elements=index)
