"""The risk settings block: parsed from the environment's strings, bad values name the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.configs import risk_config_from
from bot.settings import ConfigError, load_settings


def test_risk_settings_become_the_engine_config() -> None:
    settings = load_settings(
        _env_file=None,
        risk_mmr="*=0.02,Bybit:BTC=0.004",
        risk_mmr_tiers="10000000=0.025,2000000=0.01",
        risk_position_steps="80,50",
        risk_candle_timeframe="15min",
        risk_cooldown_minutes=30,
    )
    config = risk_config_from(settings)
    assert dict(config.mmr_rates) == {"*": 0.02, "bybit:btc": 0.004}
    assert config.mmr_tiers == ((2_000_000.0, 0.01), (10_000_000.0, 0.025))
    assert config.position_steps == (50, 80)
    assert config.candle_timeframe == "15m"
    assert config.cooldown == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("risk_mmr", "bybit:btc", "Invalid RISK_MMR: expected key=rate pairs"),
        ("risk_mmr", "*=1.5", "Invalid RISK_MMR: maintenance margin rates are fractions"),
        ("risk_position_steps", "50,120", "Invalid RISK_POSITION_STEPS: percentages between 1 and 99"),
        ("risk_candle_timeframe", "3m", "Invalid RISK_CANDLE_TIMEFRAME: unsupported timeframe"),
    ],
)
def test_bad_risk_settings_stop_the_start_with_one_line(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{name: value})
    assert str(caught.value).startswith(message)


def test_signal_costs_come_from_fee_pairs_and_one_slippage() -> None:
    settings = load_settings(_env_file=None, signal_fees="Bybit=0.055, okx=0.05,*=0.1", signal_slippage_pct=0.03)
    assert settings.signal_fees == {"bybit": 0.055, "okx": 0.05, "*": 0.1}
    assert settings.signal_slippage_pct == 0.03
    assert load_settings(_env_file=None).signal_fees == {"bybit": 0.055, "binance": 0.05, "okx": 0.05}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bybit", "Invalid SIGNAL_FEES: expected exchange=percent pairs"),
        ("bybit=7", "Invalid SIGNAL_FEES: fees are percent per side from 0 to 5"),
    ],
)
def test_bad_signal_fees_stop_the_start_with_one_line(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, signal_fees=value)
    assert str(caught.value).startswith(message)
