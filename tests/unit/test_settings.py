from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings

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
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"Invalid {variable}:")
    assert "\n" not in message


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
