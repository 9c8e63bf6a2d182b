"""The admin audit trail: every admin action is one `audit_log` row (who, what, on what, details)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditLog, utcnow
from db.repositories.admin import AdminRepository, AuditRow

ACTION_MAX = 32
TARGET_MAX = 128
DETAILS_MAX = 2000
AUDIT_MAX_ROWS = 50

__all__ = ["AuditRow", "recent_actions", "record_admin_action", "stage_admin_action"]


def stage_admin_action(
    session: AsyncSession,
    actor_telegram_id: int,
    action: str,
    target: str | None,
    details: str | None = None,
    now: datetime | None = None,
) -> None:
    """Add one audit row to the caller's unit of work (no commit: it lands with the action's change)."""
    session.add(
        AuditLog(
            actor_telegram_id=actor_telegram_id,
            action=action[:ACTION_MAX],
            target=target[:TARGET_MAX] if target is not None else None,
            details=details[:DETAILS_MAX] if details is not None else None,
            created_at=now or utcnow(),
        )
    )


async def record_admin_action(
    session: AsyncSession, actor_telegram_id: int, action: str, target: str | None, details: str | None = None
) -> None:
    """Write one audit row for an admin's action and commit (values are cut to the column sizes)."""
    stage_admin_action(session, actor_telegram_id, action, target, details)
    await session.commit()


async def recent_actions(session: AsyncSession, limit: int, target: str | None = None) -> list[AuditRow]:
    """Operators' actions, newest first (at most AUDIT_MAX_ROWS); `target` narrows them to one target."""
    rows = await AdminRepository(session).audit(max(1, min(limit, AUDIT_MAX_ROWS)), target)
    await session.commit()  # end the read: no connection held while the caller replies
    return rows
