"""delivery outbox: leases, sent/failed/dead/skipped states, per-chat order, media uploaded once

`deliveries` gets what a sender needs to drain it safely with several replicas: a lease
(`lease_until`; while leased, `next_attempt_at` is the lease's end so stale leases are due again),
`sent_at`, `priority`, `paid` (sent with allow_paid_broadcast), a CHECK on the states, and partial
indexes over the open rows only: in claim order, and per chat (a chat's next message waits for the
one before it).
`delivery_media` holds a pushed file once (by sha256) and Telegram's file_id after the first upload.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('pending', 'sending', 'failed')"
KNOWN = "status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'skipped')"
DUE_INDEX = "ix_deliveries_due"
CLAIM_INDEX = "ix_deliveries_claim"
CHAT_INDEX = "ix_deliveries_chat_open"
CHECK = "ck_deliveries_status_known"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        # Replaced by the partial indexes below: planners preferred it and sorted every due row.
        batch_op.drop_index(DUE_INDEX)
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paid", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(op.f(CHECK), sa.text(KNOWN))
    # Partial indexes: created outside batch mode (SQLite's table copy would drop the WHERE clause).
    op.create_index(
        CLAIM_INDEX,
        "deliveries",
        ["priority", "id"],
        unique=False,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        CHAT_INDEX,
        "deliveries",
        ["chat_id", "id"],
        unique=False,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_table(
        "delivery_media",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("filename", sa.String(length=128), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_delivery_media")),
    )


def downgrade() -> None:
    op.drop_table("delivery_media")
    op.drop_index(CHAT_INDEX, table_name="deliveries")
    op.drop_index(CLAIM_INDEX, table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.drop_column("paid")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("priority")
        batch_op.create_index(DUE_INDEX, ["status", "next_attempt_at"], unique=False)
