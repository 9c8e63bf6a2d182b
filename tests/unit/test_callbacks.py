"""Callback data: enums for fixed choices, the same packed strings as before, unknown values refused."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, User

from handlers.callbacks import (
    BuyCallback,
    CreditsMenuAction,
    CreditsMenuCallback,
    LanguageCallback,
    LanguageCode,
    MarketAction,
    MarketCallback,
    SettingsCallback,
    SettingsSection,
)
from services.credits.payments import ProductKind
from services.i18n import SUPPORTED_LOCALES


def test_language_codes_are_the_supported_locales() -> None:
    assert [code.value for code in LanguageCode] == list(SUPPORTED_LOCALES)


@pytest.mark.parametrize(
    ("data", "packed"),
    [
        (LanguageCallback(code=LanguageCode.ZH), "lang:zh"),
        (BuyCallback(kind=ProductKind.PLAN, code="vip"), "buy:plan:vip"),
        (CreditsMenuCallback(action=CreditsMenuAction.INVITE), "cmenu:invite"),
        (MarketCallback(action=MarketAction.CHART, coin="BTC", timeframe="4h"), "mkt:chart:BTC:4h"),
        (SettingsCallback(section=SettingsSection.LANGUAGE), "settings:language"),
    ],
)
def test_packed_strings_are_unchanged(data: CallbackData, packed: str) -> None:
    """Buttons already sent to users keep working: the wire format is what it was with raw strings."""
    assert data.pack() == packed
    assert type(data).unpack(packed) == data


def _query(data: str) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="Ann")
    return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)


@pytest.mark.parametrize(
    ("factory", "data"),
    [
        (LanguageCallback, "lang:fr"),
        (BuyCallback, "buy:gift:vip"),
        (CreditsMenuCallback, "cmenu:delete"),
        (MarketCallback, "mkt:trade:BTC:"),
        (SettingsCallback, "settings:theme"),
    ],
)
async def test_unknown_choices_do_not_match(factory: type[CallbackData], data: str) -> None:
    assert await factory.filter()(_query(data)) is False  # → the stale-button fallback answers it
