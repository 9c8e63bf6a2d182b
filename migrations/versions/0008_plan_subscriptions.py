"""plans sold as Telegram Stars subscriptions

- `plan_subscriptions`: one row per subscription (keyed by its first invoice's payload, which every
  renewal and every `subscription` update carries): user, plan, the first charge id (for
  editUserStarSubscription), the end of the paid period, state (active/canceled/failed) and who
  canceled it (user/bot).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOW = sa.text("(CURRENT_TIMESTAMP)")


def upgrade() -> None:
    op.create_table(
        "plan_subscriptions",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("user_id", BIGINT, nullable=False),
        sa.Column("plan_code", sa.String(length=16), nullable=False),
        sa.Column("invoice_payload", sa.String(length=128), nullable=False),
        sa.Column("charge_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("canceled_by", sa.String(length=8), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("state IN ('active', 'canceled', 'failed')", name=op.f("ck_plan_subscriptions_state_known")),
        sa.CheckConstraint(
            "canceled_by IS NULL OR canceled_by IN ('user', 'bot')",
            name=op.f("ck_plan_subscriptions_canceled_by_known"),
        ),
        sa.ForeignKeyConstraint(["plan_code"], ["plans.code"], name=op.f("fk_plan_subscriptions_plan_code_plans")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_plan_subscriptions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_subscriptions")),
        sa.UniqueConstraint("invoice_payload", name=op.f("uq_plan_subscriptions_invoice_payload")),
    )
    with op.batch_alter_table("plan_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_subscriptions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_subscriptions_user_id"))
    op.drop_table("plan_subscriptions")
