"""Tunables of the credits services (rewards, hold lifetime, reminder window)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class CreditsConfig:
    invite_reward_credits: int = 10  # to the inviter, once, when the invitee's first question is answered
    invite_purchase_percent: int = 10  # of the invitee's purchased credits (floor), once per payment
    # An unsettled hold or free-quota slot older than this is released by the sweeper: longer than
    # any answer can take (the app derives it from the LLM settings, `answer_hold_ttl`).
    hold_ttl: timedelta = timedelta(minutes=10)
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


def answer_hold_ttl(llm_timeout: float, llm_max_retries: int, margin: float) -> timedelta:
    """How long a question's reservation may stay unsettled: every LLM attempt timing out
    (`llm_timeout` × (`llm_max_retries` + 1) seconds) plus `margin` seconds for the market data,
    the retries' back-off and the delivery."""
    if llm_timeout <= 0 or llm_max_retries < 0 or margin < 0:
        raise ValueError("llm_timeout must be > 0, llm_max_retries and margin >= 0")
    return timedelta(seconds=llm_timeout * (llm_max_retries + 1) + margin)
