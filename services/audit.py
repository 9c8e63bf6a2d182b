"""The admin audit trail: every admin action is one `audit_log` row (who, what, on what, details)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditLog, utcnow

ACTION_MAX = 32
TARGET_MAX = 128
DETAILS_MAX = 2000


async def record_admin_action(
    session: AsyncSession, actor_telegram_id: int, action: str, target: str | None, details: str | None = None
) -> None:
    """Write one audit row for an admin's action and commit (values are cut to the column sizes)."""
    session.add(
        AuditLog(
            actor_telegram_id=actor_telegram_id,
            action=action[:ACTION_MAX],
            target=target[:TARGET_MAX] if target is not None else None,
            details=details[:DETAILS_MAX] if details is not None else None,
            created_at=utcnow(),
        )
    )
    await session.commit()
