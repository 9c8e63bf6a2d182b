"""Pure rules of the credits services: plan arithmetic, rewards, codes, config."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from db.repositories.credits import AccountEffect
from services.credits.charging import ChargePolicy, CreditsPolicy
from services.credits.config import CreditsConfig
from services.credits.errors import CreditsError, HigherPlanActive, InsufficientCredits, NotOnSale
from services.credits.invites import INVITE_ALPHABET, is_plausible_invite_code, new_invite_code, purchase_reward
from services.credits.plans import _extended_expiry, effective_plan_code, utc_day
from tests.charge_policies import AllowAllPolicy

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_effective_plan_code() -> None:
    assert effective_plan_code("vip", NOW + DAY, NOW) == "vip"
    assert effective_plan_code("vip", NOW, NOW) == "free"  # expires_at is exclusive
    assert effective_plan_code("pro", NOW - DAY, NOW) == "free"
    assert effective_plan_code("pro", None, NOW) == "pro"
    assert effective_plan_code("free", NOW - DAY, NOW) == "free"


def test_extended_expiry() -> None:
    assert _extended_expiry("vip", NOW + 5 * DAY, "vip", 30, NOW) == NOW + 35 * DAY
    assert _extended_expiry("free", None, "vip", 30, NOW) == NOW + 30 * DAY
    assert _extended_expiry("vip", NOW + 5 * DAY, "pro", 30, NOW) == NOW + 30 * DAY
    assert _extended_expiry("vip", None, "vip", 30, NOW) is None


def test_utc_day() -> None:
    late_in_shanghai = datetime(2026, 3, 2, 1, 30, tzinfo=timezone(timedelta(hours=8)))
    assert utc_day(late_in_shanghai) == date(2026, 3, 1)
    with pytest.raises(ValueError):
        utc_day(datetime(2026, 3, 1))  # naive on purpose


def test_purchase_reward_is_floored() -> None:
    assert purchase_reward(220, CreditsConfig(invite_purchase_percent=10)) == 22
    assert purchase_reward(59, CreditsConfig(invite_purchase_percent=10)) == 5
    assert purchase_reward(9, CreditsConfig(invite_purchase_percent=10)) == 0
    assert purchase_reward(1200, CreditsConfig(invite_purchase_percent=15)) == 180


def test_invite_codes() -> None:
    codes = {new_invite_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 8 and set(code) <= set(INVITE_ALPHABET) for code in codes)
    assert is_plausible_invite_code("abc234xy")
    assert not is_plausible_invite_code("ab")
    assert not is_plausible_invite_code("bad code")
    assert not is_plausible_invite_code("x" * 17)


def test_config_validation() -> None:
    assert CreditsConfig().invite_reward_credits == 10
    assert CreditsConfig().invite_purchase_percent == 10
    with pytest.raises(ValueError):
        CreditsConfig(invite_purchase_percent=101)
    with pytest.raises(ValueError):
        CreditsConfig(invite_reward_credits=-1)
    with pytest.raises(ValueError):
        CreditsConfig(hold_ttl=timedelta(0))


def test_account_effects() -> None:
    assert [e.tx_type for e in AccountEffect] == ["credit", "credit", "debit", "debit"]
    assert all(e.inverse.inverse is e and e.inverse.is_credit != e.is_credit for e in AccountEffect)


def test_error_codes() -> None:
    assert InsufficientCredits(1, 3, 2).code == "no_credits"
    assert NotOnSale("package:x").code == "not_on_sale"
    assert HigherPlanActive("pro", "vip").code == "higher_plan_active"
    assert issubclass(InsufficientCredits, CreditsError)


def test_policies_satisfy_the_protocol() -> None:
    policies: list[ChargePolicy] = [AllowAllPolicy(), CreditsPolicy(CreditsConfig(invite_reward_credits=3))]
    assert [type(p).__name__ for p in policies] == ["AllowAllPolicy", "CreditsPolicy"]
