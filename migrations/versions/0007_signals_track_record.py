"""signals with a recomputable track record

- `signals`: exchange, all take-profits, strategy version, note, LLM commentary, the admin of a
  manual signal, the signal candle's close time, the graded result in R and the costs applied;
  CHECKs on direction/status/source/confidence and on the stop and first target being on the right
  side of entry; at most one open signal per (coin, timeframe, direction, source).
- `feeds.digest`: a signals feed that also gets the weekly performance digest.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange", sa.String(length=16), server_default="", nullable=False))
        batch_op.add_column(sa.Column("take_profits", sa.String(length=128), server_default="", nullable=False))
        batch_op.add_column(sa.Column("strategy_version", sa.String(length=16), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("commentary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("created_by", BIGINT, nullable=True))
        batch_op.add_column(sa.Column("signal_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("result_r", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("fee_pct", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("slippage_pct", sa.Float(), nullable=True))
        batch_op.create_check_constraint("direction", "direction IN ('long', 'short')")
        batch_op.create_check_constraint("status", "status IN ('open', 'tp', 'sl', 'expired')")
        batch_op.create_check_constraint("source", "source IN ('auto', 'manual')")
        batch_op.create_check_constraint("confidence", "confidence >= 0 AND confidence <= 100")
        batch_op.create_check_constraint(
            "sides",
            "(direction = 'long' AND stop < entry AND take_profit > entry)"
            " OR (direction = 'short' AND stop > entry AND take_profit < entry)",
        )
        batch_op.create_index("ix_signals_closed", ["status", "closed_at"], unique=False)
    op.create_index(
        "uq_signals_open",
        "signals",
        ["symbol", "timeframe", "direction", "source"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("digest")
    op.drop_index("uq_signals_open", table_name="signals")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index("ix_signals_closed")
        for name in ("sides", "confidence", "source", "status", "direction"):
            batch_op.drop_constraint(batch_op.f(f"ck_signals_{name}"), type_="check")
        for column in (
            "slippage_pct",
            "fee_pct",
            "result_r",
            "signal_at",
            "created_by",
            "commentary",
            "note",
            "strategy_version",
            "take_profits",
            "exchange",
        ):
            batch_op.drop_column(column)
