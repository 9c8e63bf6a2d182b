"""feeds, risk alerts and the scheduler: feed level/topic, channel links, re-armable alerts,
position warnings, market-risk cooldowns, plan limits, one row per scheduler tick

- `feeds`: one per (chat, kind); `level` on/silent/off; `thread_id` for forum topics.
- `chats`: `username`, `is_forum`, `managed_by` (the admin who linked a channel).
- `price_alerts`: exchange, `move` alerts (pct within a window), armed_at + generation (a re-arm is a
  new generation; the delivery ref id carries it), last checked price.
- `positions`: chat, exchange, maintenance margin rate, warning steps sent, closed_at.
- `plans`: coins per feed, positions, signal delay for the plan.
- `risk_cooldowns`: last market-risk alert per (chat, coin, kind).
- `scheduler_runs`: UNIQUE(job, tick), so a tick runs once even across a leader change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PLAN_LIMITS = {  # code: (max_coins, max_positions, signal_delay_minutes)
    "free": (1, 2, 15),
    "vip": (5, 10, 0),
    "pro": (20, 50, 0),
}


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level", sa.String(length=8), server_default="on", nullable=False))
        batch_op.add_column(sa.Column("thread_id", BIGINT, nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_feeds_chat_id"), ["chat_id", "kind"])
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("is_forum", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("managed_by", BIGINT, nullable=True))
        batch_op.create_index(batch_op.f("ix_chats_managed_by"), ["managed_by"], unique=False)
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange", sa.String(length=16), server_default="", nullable=False))
        batch_op.add_column(sa.Column("pct", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("window", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("armed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("generation", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("last_price", sa.Float(), nullable=True))
        batch_op.create_index("ix_price_alerts_active_symbol", ["active", "symbol"], unique=False)
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", BIGINT, nullable=True))
        batch_op.add_column(sa.Column("exchange", sa.String(length=16), server_default="", nullable=False))
        batch_op.add_column(sa.Column("mmr", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("warned", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_positions_active_symbol", ["active", "symbol"], unique=False)
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_coins", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("max_positions", sa.Integer(), server_default="2", nullable=False))
        batch_op.add_column(sa.Column("signal_delay_minutes", sa.Integer(), server_default="0", nullable=False))
    plans = sa.table(
        "plans",
        sa.column("code", sa.String),
        sa.column("max_coins", sa.Integer),
        sa.column("max_positions", sa.Integer),
        sa.column("signal_delay_minutes", sa.Integer),
    )
    for code, (coins, positions, delay) in PLAN_LIMITS.items():
        op.execute(
            plans.update()
            .where(plans.c.code == code)
            .values(max_coins=coins, max_positions=positions, signal_delay_minutes=delay)
        )
    op.create_table(
        "risk_cooldowns",
        sa.Column("chat_id", BIGINT, nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "symbol", "kind", name=op.f("pk_risk_cooldowns")),
    )
    op.create_table(
        "scheduler_runs",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("tick", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_runs")),
        sa.UniqueConstraint("job", "tick", name=op.f("uq_scheduler_runs_job")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_runs")
    op.drop_table("risk_cooldowns")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("signal_delay_minutes")
        batch_op.drop_column("max_positions")
        batch_op.drop_column("max_coins")
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_index("ix_positions_active_symbol")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("warned")
        batch_op.drop_column("mmr")
        batch_op.drop_column("exchange")
        batch_op.drop_column("chat_id")
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_price_alerts_active_symbol")
        batch_op.drop_column("last_price")
        batch_op.drop_column("generation")
        batch_op.drop_column("armed_at")
        batch_op.drop_column("window")
        batch_op.drop_column("pct")
        batch_op.drop_column("exchange")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_managed_by"))
        batch_op.drop_column("managed_by")
        batch_op.drop_column("is_forum")
        batch_op.drop_column("username")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_feeds_chat_id"), type_="unique")
        batch_op.drop_column("thread_id")
        batch_op.drop_column("level")
