"""an index on lower(users.username) for the operators' `/user @name`

`AdminRepository.by_username` matches `lower(username)` (Telegram usernames are case-insensitive),
which no index covered: every lookup scanned all of `users`. An expression index on that same
expression serves it on PostgreSQL and on SQLite.

A plain CREATE INDEX, not CONCURRENTLY, as the earlier migrations add theirs: all migrations run in
one transaction holding the migrate lock (db/migrate.py, migrations/env.py), and CONCURRENTLY cannot
run inside a transaction block. The build blocks writes to `users` for as long as it takes, well
under a second for tens of thousands of rows.

Created with op.create_index, not in batch mode. SQLite's reflection skips expression indexes: a
later `batch_alter_table("users")` that copies the table on SQLite loses this index and must create
it again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_users_username_lower"


def upgrade() -> None:
    op.create_index(INDEX, "users", [sa.text("lower(username)")], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="users")
