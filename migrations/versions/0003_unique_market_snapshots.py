"""one market snapshot per (symbol, timeframe, as_of), enforced by the database

The repository used to serialise inserts with an advisory lock over a plain index; a unique
constraint makes the guarantee hold for every writer, and inserts become ON CONFLICT DO NOTHING.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "uq_market_snapshots_symbol"  # the project's naming convention: uq_<table>_<first column>
INDEX = "ix_market_snapshots_lookup"


def upgrade() -> None:
    # Keep the first row of any duplicates written before the constraint existed.
    op.execute(
        sa.text(
            "DELETE FROM market_snapshots WHERE id NOT IN "
            "(SELECT MIN(id) FROM market_snapshots GROUP BY symbol, timeframe, as_of)"
        )
    )
    with op.batch_alter_table("market_snapshots", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_unique_constraint(CONSTRAINT, ["symbol", "timeframe", "as_of"])


def downgrade() -> None:
    with op.batch_alter_table("market_snapshots", schema=None) as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="unique")
        batch_op.create_index(INDEX, ["symbol", "timeframe", "as_of"], unique=False)
