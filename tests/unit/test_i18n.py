"""Every user-visible string exists in every locale, and every key the code uses is defined."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.i18n import SUPPORTED_LOCALES, Raw, Translations, normalize_locale

ROOT = Path(__file__).resolve().parents[2]
# t("key"  /  t('key'  /  t(f"cmd-{...}") is dynamic and checked separately
KEY_USE = re.compile(r"""\bt\(\s*["']([a-z0-9-]+)["']""")


def test_locales_define_the_same_keys() -> None:
    translations = Translations()
    en = translations.keys("en")
    assert en, "no messages loaded"
    for locale in SUPPORTED_LOCALES:
        assert translations.keys(locale) == en, f"{locale} differs from en"


def test_every_key_used_in_code_is_defined() -> None:
    defined = Translations().keys("en")
    used: set[str] = set()
    for folder in ("bot", "handlers", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(KEY_USE.findall(path.read_text(encoding="utf-8")))
    assert used, "no translation keys found in code"
    assert used - defined == set()


def test_menu_commands_are_translated() -> None:
    from bot.factory import MENU_COMMANDS

    translations = Translations()
    for locale in SUPPORTED_LOCALES:
        t = translations.get(locale)
        for command in MENU_COMMANDS:
            text = t(f"cmd-{command}")
            assert 3 <= len(text) <= 256 and text != f"cmd-{command}"


def test_arguments_are_html_escaped_unless_raw() -> None:
    t = Translations().get("en")
    assert "<b>&lt;b&gt;Eve&amp;Co</b>" in t("welcome", name="<b>Eve&Co")
    assert "<b><i>ok</i></b>" in t("welcome", name=Raw("<i>ok</i>"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hans", "zh"), ("zh-TW", "zh"), ("en-US", "en"), ("en", "en"), ("ru", None), (None, None), ("", None)],
)
def test_normalize_locale(code: str | None, expected: str | None) -> None:
    assert normalize_locale(code) == expected


def test_unknown_locale_falls_back_to_default() -> None:
    translations = Translations("zh")
    assert translations.get("ru").locale == "zh"
    assert translations.get("ru")("language-set") == translations.get("zh")("language-set")
