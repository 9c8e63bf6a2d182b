"""/start, /help, /language, /settings."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import LanguageCallback, LanguageCode, SettingsCallback, SettingsSection
from handlers.invites import bind_from_start
from services.credits.config import CreditsConfig
from services.i18n import LOCALE_NAMES, Translations, Translator
from services.uow import Session
from services.users import UserView, record_start_payload, set_locale


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LOCALE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCallback(code=LanguageCode(code)))
    return builder.as_markup()


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserView,
    user_created: bool,
    session: Session,
    t: Translator,
    translations: Translations,
    credits_config: CreditsConfig,
) -> None:
    payload = (command.args or "").strip()[:64]
    if user_created and payload:
        # The deep-link payload of a user's first /start: kept, and bound as an invite code if it is one.
        await record_start_payload(session, user.id, payload)
        await bind_from_start(bot, session, translations, user, payload, user_created, credits_config)
    key = "welcome" if user_created or payload else "welcome-back"
    await message.answer(t(key, name=user.first_name or "trader"))


async def help_(message: Message, t: Translator) -> None:
    await message.answer(t("help"))


async def language(message: Message, t: Translator) -> None:
    await message.answer(t("language-choose"), reply_markup=language_keyboard())


async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    user: UserView,
    session: Session,
    translations: Translations,
) -> None:
    await set_locale(session, user.id, callback_data.code)
    t = translations.get(callback_data.code)
    await query.answer(t("language-set"))
    if isinstance(query.message, Message):
        await query.message.edit_text(t("language-set"))


async def settings(message: Message, t: Translator) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("settings-language-button"), callback_data=SettingsCallback(section=SettingsSection.LANGUAGE))
    await message.answer(t("settings", language=LOCALE_NAMES.get(t.locale, t.locale)), reply_markup=builder.as_markup())


async def settings_language(query: CallbackQuery, t: Translator) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("language-choose"), reply_markup=language_keyboard())


def build_router() -> Router:
    router = Router(name="common")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(language, Command("language"))
    router.callback_query.register(language_chosen, LanguageCallback.filter())
    router.message.register(settings, Command("settings"))
    router.callback_query.register(settings_language, SettingsCallback.filter(F.section == SettingsSection.LANGUAGE))
    return router
