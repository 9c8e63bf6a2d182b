from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import SCAN_TIMEFRAMES, ConfigError, Settings, load_settings
from services.exchange_ids import EXCHANGE_ID_SHAPE, ccxt_exchanges_dir
from services.market.timeframes import SUPPORTED_TIMEFRAMES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the working tree


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///data/coinsight.sqlite3"
    assert settings.exchanges == ["bybit", "binance", "okx"]
    assert settings.redis_url == "" and not settings.webhook_mode
    assert settings.telegram_api_url == "https://api.telegram.org"


def test_lists_and_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", " 1, 22 ,333")
    monkeypatch.setenv("EXCHANGES", "OKX, bybit")
    monkeypatch.setenv("EXCHANGE_API_URLS", "Bybit=http://127.0.0.1:9000/, okx=https://m.example")
    settings = load_settings()
    assert settings.admin_ids == [1, 22, 333]
    assert settings.exchanges == ["okx", "bybit"]
    assert settings.exchange_api_urls == {"bybit": "http://127.0.0.1:9000", "okx": "https://m.example"}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("ADMIN_IDS", "12,abc"),
        ("EXCHANGE_API_URLS", "bybit"),
        ("DEFAULT_LOCALE", "fr"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("WEB_PORT", "eighty"),
        ("BOT_TOKEN", "123456"),
        ("BOT_TOKEN", "abc:AAFakeTelegramTokenForTests_0123456"),
        ("BOT_TOKEN", "123456789:short"),
        ("BOT_TOKEN", "123456789:AAFake Telegram TokenForTests_012345"),
        ("EXCHANGES", "bybit,binanse"),
        ("EXCHANGES", " , "),
        ("EXCHANGE_API_URLS", "bybitt=http://127.0.0.1:9000"),
        ("REDIS_URL", "localhost:6379"),
        ("ADMIN_IDS", "-5"),
        ("LLM_TIMEOUT", "-1"),
        ("LLM_TIMEOUT", "0"),
        ("LLM_MAX_RETRIES", "-1"),
        ("EXCHANGE_TIMEOUT_MS", "0"),
        ("EXCHANGE_ATTEMPTS", "0"),
        ("EXCHANGE_RETRY_SECONDS", "-1"),
        ("MARKETS_REFRESH_HOURS", "0"),
        ("WEB_PORT", "0"),
        ("WEB_PORT", "70000"),
        ("THROTTLE_RATE", "0"),
        ("THROTTLE_PERIOD", "-3"),
        ("CONVERSATION_IDLE_HOURS", "0"),
        ("SIGNALS_STRATEGY", "scalper"),
        ("SIGNALS_COMMENTARY_TIMEOUT", "0"),
        ("SIGNALS_COMMENTARY_MAX_TOKENS", "5000"),
        ("LLM_PRICES", "gpt-4o-mini=0.15"),
        ("LLM_PRICES", "gpt-4o-mini=cheap/dear"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"Invalid {variable}:")
    assert "\n" not in message


def test_llm_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().llm_prices == {"gpt-4o-mini": (0.15, 0.6)}
    monkeypatch.setenv("LLM_PRICES", "deepseek-chat=0.27/1.1, qwen-max=1.6/6.4")
    assert load_settings().llm_prices == {"deepseek-chat": (0.27, 1.1), "qwen-max": (1.6, 6.4)}


def test_webhook_needs_a_valid_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example/hook")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings()
    monkeypatch.setenv("WEBHOOK_SECRET", "bad secret!")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings()
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_-OK")
    assert load_settings().webhook_mode


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert {name.upper() for name in Settings.model_fields} == documented


def test_every_number_is_bounded() -> None:
    """Each numeric setting has a lower bound, so a negative or zero value cannot slip through."""
    for name, field in Settings.model_fields.items():
        if field.annotation in (int, float):
            assert any(hasattr(rule, "gt") or hasattr(rule, "ge") for rule in field.metadata), name


def test_a_bot_token_of_telegrams_shape_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "7012345678:AAH4x_9-kQmZ0pLr3sTuVwXyZaBcDeFgHiJ"
    monkeypatch.setenv("BOT_TOKEN", token)
    settings = load_settings()
    assert settings.bot_token.get_secret_value() == token


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "7012345678:AAH4x_9-kQmZ0pLr3sTuVwXyZaBcDeFgHiJ"
    monkeypatch.setenv("BOT_TOKEN", token)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "hook_secret_42")
    settings = load_settings()
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in (token, "sk-very-secret", "hook_secret_42"):
        assert secret not in shown
    assert settings.openai_api_key.get_secret_value() == "sk-very-secret"
    assert settings.webhook_secret.get_secret_value() == "hook_secret_42"


def test_a_malformed_token_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456789:AAH4x_9-kQmZ0pLr3sTuVwXyZa BcDeFgHiJ")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "AAH4x" not in str(caught.value)


def test_exchange_ids_are_ccxts_without_importing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ids are checked against ccxt's exchange modules on disk (ccxt itself is not imported at start):
    the same set as `ccxt.exchanges`, and an unknown id gets the same one-line error as before."""
    import ccxt

    folder = ccxt_exchanges_dir()
    assert folder is not None
    on_disk = {path.stem for path in folder.glob("*.py") if EXCHANGE_ID_SHAPE.fullmatch(path.stem)}
    assert on_disk == set(ccxt.exchanges)
    monkeypatch.setenv("EXCHANGES", "okx,base,__init__,binanse")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "Invalid EXCHANGES: unknown exchange id base, __init__, binanse (ccxt ids such as bybit, binance, okx)"
    )


def test_scans_only_take_timeframes_the_market_service_can_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan timeframe the market cannot fetch failed every one of its scans (1m did, at each minute)."""
    assert SCAN_TIMEFRAMES == SUPPORTED_TIMEFRAMES
    assert set(load_settings(_env_file=None).scan_timeframes) <= set(SUPPORTED_TIMEFRAMES)
    monkeypatch.setenv("SCAN_TIMEFRAMES", "1m,1h")
    with pytest.raises(ConfigError, match=r"SCAN_TIMEFRAMES: .*unknown timeframe 1m"):
        load_settings(_env_file=None)
