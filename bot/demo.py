"""Demo mode's product-side pieces: settings pointing at the local stand-ins, its own database,
and the label every message carries. The stand-ins themselves start in `bot.console.run_demo`."""

from __future__ import annotations

import re
from typing import Any

from db import migrate
from db.engine import create_engine
from services.i18n import Translations

DEMO_DATABASE_URL = "sqlite+aiosqlite:///data/demo.sqlite3"
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_LATIN = re.compile("[A-Za-z]")


def demo_overrides(
    *, database_url: str, exchange_api_urls: dict[str, str], openai_base_url: str, openai_api_key: str, model: str
) -> dict[str, Any]:
    """Settings for demo mode: only local servers, in-process cache and locks, a database of its own."""
    return {
        "database_url": database_url,
        "redis_url": "",
        "exchanges": list(exchange_api_urls),
        "exchange_api_urls": exchange_api_urls,
        "openai_api_key": openai_api_key,
        "openai_base_url": openai_base_url,
        "llm_model": model,
    }


async def migrate_database(database_url: str) -> None:
    """Bring the demo database to the newest schema (created on first use)."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


class DemoLabel:
    """The demo label, in the language of the message it labels (a message with too few words to
    tell, such as a chart caption, takes the language of the one before)."""

    def __init__(self, translations: Translations, language: str) -> None:
        self.labels = {locale: translations.get(locale)("demo-label") for locale in ("en", "zh")}
        self.language = language

    def __call__(self, text: str) -> str:
        cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
        if cjk and cjk * 4 >= latin:
            self.language = "zh"
        elif latin >= 40:
            self.language = "en"
        return self.labels[self.language]
