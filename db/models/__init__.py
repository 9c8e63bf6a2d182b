"""All ORM models; importing this package registers every table on `Base.metadata`."""

from db.models.base import Base, utcnow
from db.models.conversations import ChatMessage, Conversation, WatchlistItem
from db.models.credits import (
    CreditAccount,
    CreditHold,
    CreditPackage,
    CreditTransaction,
    DailyUsage,
    Payment,
    Plan,
    PlanSubscription,
    QuotaSlot,
)
from db.models.deliveries import Delivery, DeliveryMedia, DeliveryStatus
from db.models.market import Feed, MarketSnapshot, Position, PriceAlert, Signal
from db.models.users import AuditLog, Chat, User

__all__ = [
    "AuditLog",
    "Base",
    "Chat",
    "ChatMessage",
    "Conversation",
    "CreditAccount",
    "CreditHold",
    "CreditPackage",
    "CreditTransaction",
    "DailyUsage",
    "Delivery",
    "DeliveryMedia",
    "DeliveryStatus",
    "Feed",
    "MarketSnapshot",
    "Payment",
    "Plan",
    "PlanSubscription",
    "Position",
    "PriceAlert",
    "QuotaSlot",
    "Signal",
    "User",
    "WatchlistItem",
    "utcnow",
]
