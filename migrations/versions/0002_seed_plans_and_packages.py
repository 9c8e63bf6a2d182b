"""seed plans and credit packages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

plans = sa.table(
    "plans",
    sa.column("code", sa.String),
    sa.column("title", sa.String),
    sa.column("daily_free_questions", sa.Integer),
    sa.column("question_cost", sa.Integer),
    sa.column("price_stars", sa.Integer),
    sa.column("duration_days", sa.Integer),
    sa.column("max_feeds", sa.Integer),
    sa.column("max_alerts", sa.Integer),
    sa.column("sort", sa.Integer),
    sa.column("active", sa.Boolean),
)
packages = sa.table(
    "credit_packages",
    sa.column("code", sa.String),
    sa.column("title", sa.String),
    sa.column("stars_price", sa.Integer),
    sa.column("credits", sa.Integer),
    sa.column("bonus", sa.Integer),
    sa.column("recommended", sa.Boolean),
    sa.column("active", sa.Boolean),
    sa.column("sort", sa.Integer),
)

PLANS = [
    ("free", "Free", 5, 1, 0, 30, 1, 3, 0),
    ("vip", "VIP", 30, 1, 250, 30, 5, 20, 1),
    ("pro", "Pro", 100, 1, 600, 30, 20, 100, 2),
]
PACKAGES = [
    ("starter", "Starter", 50, 50, 0, False, 0),
    ("standard", "Standard", 200, 200, 20, True, 1),
    ("premium", "Premium", 500, 500, 75, False, 2),
    ("pro", "Pro", 1000, 1000, 200, False, 3),
]


def upgrade() -> None:
    op.bulk_insert(
        plans,
        [
            {
                "code": code,
                "title": title,
                "daily_free_questions": free,
                "question_cost": cost,
                "price_stars": price,
                "duration_days": days,
                "max_feeds": feeds,
                "max_alerts": alerts,
                "sort": sort,
                "active": True,
            }
            for code, title, free, cost, price, days, feeds, alerts, sort in PLANS
        ],
    )
    op.bulk_insert(
        packages,
        [
            {
                "code": code,
                "title": title,
                "stars_price": price,
                "credits": credits,
                "bonus": bonus,
                "recommended": recommended,
                "active": True,
                "sort": sort,
            }
            for code, title, price, credits, bonus, recommended, sort in PACKAGES
        ],
    )


def downgrade() -> None:
    op.execute(packages.delete().where(packages.c.code.in_([p[0] for p in PACKAGES])))
    op.execute(plans.delete().where(plans.c.code.in_([p[0] for p in PLANS])))
