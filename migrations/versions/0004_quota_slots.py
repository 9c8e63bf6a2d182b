"""free-quota slots reserved like credit holds: expiring rows the sweeper returns

A free question used to be one conditional increment of `daily_usage`, given back only by the
process that took it: a crash mid-answer lost the slot for the day. Each reservation is now also a
`quota_slots` row (held → captured | released) with an expiry, so the hold sweeper releases slots a
crash left behind, exactly once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quota_slots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('held', 'captured', 'released')", name=op.f("ck_quota_slots_status_known")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quota_slots_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_slots")),
        sa.UniqueConstraint("reference_id", name=op.f("uq_quota_slots_reference_id")),
    )
    with op.batch_alter_table("quota_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quota_slots_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_quota_slots_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quota_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quota_slots_user_id"))
        batch_op.drop_index(batch_op.f("ix_quota_slots_status"))
    op.drop_table("quota_slots")
