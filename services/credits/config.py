"""Tunables of the credits services (rewards, hold lifetime, reminder window)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class CreditsConfig:
    invite_reward_credits: int = 10  # to the inviter, once, when the invitee's first question is answered
    invite_purchase_percent: int = 10  # of the invitee's purchased credits (floor), once per payment
    hold_ttl: timedelta = timedelta(minutes=10)  # an unsettled hold older than this is released by the sweeper
    expiry_reminder_window: timedelta = timedelta(days=3)
    currency: str = "XTR"

    def __post_init__(self) -> None:
        if self.invite_reward_credits < 0:
            raise ValueError("invite_reward_credits must be >= 0")
        if not 0 <= self.invite_purchase_percent <= 100:
            raise ValueError("invite_purchase_percent must be within 0..100")
        if self.hold_ttl <= timedelta(0):
            raise ValueError("hold_ttl must be positive")


DEFAULT_CONFIG = CreditsConfig()
