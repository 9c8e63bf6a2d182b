"""Log lines (bot/logs.py): JSON or human, the update's ids on each line, no secret in any."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import TOKEN_SHAPE, UpdateContext, build_handler, secrets_of, update_context
from bot.settings import load_settings

TOKEN = "123456789:AAFakeTelegramTokenForTests_0123456"
OTHER_TOKEN = "987654321:ZZOtherTelegramTokenForTests_987654"
API_KEY = "sk-proj-Secret0123456789abcdef"
HOOK_SECRET = "hook_Secret-42xyz"
DB_PASSWORD = "pg-Pass-w0rd"
REDIS_PASSWORD = "redisPass9"


@pytest.fixture
def settings_secrets() -> list[str]:
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        openai_api_key=API_KEY,
        webhook_url="https://bot.example.com/hook",
        webhook_secret=HOOK_SECRET,
        database_url=f"postgresql+asyncpg://coinsight:{DB_PASSWORD}@db:5432/coinsight",
        redis_url=f"redis://:{REDIS_PASSWORD}@redis:6379/0",
    )
    return secrets_of(settings)


@pytest.fixture
def lines(settings_secrets: list[str]) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs.json")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = build_handler("json", settings_secrets, stream)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_secret_of_the_settings_is_known(settings_secrets: list[str]) -> None:
    assert set(settings_secrets) == {TOKEN, API_KEY, HOOK_SECRET, DB_PASSWORD, REDIS_PASSWORD}


def test_secrets_are_redacted_from_messages_arguments_and_tracebacks(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = lines
    # aiohttp's and aiogram's lines carry the Bot API URL, token included.
    logger.error("Request failed: POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    logger.warning(f"connecting to postgresql+asyncpg://coinsight:{DB_PASSWORD}@db/coinsight")
    logger.info("redis at %s, key %s, secret %s", f"redis://:{REDIS_PASSWORD}@redis", API_KEY, HOOK_SECRET)
    logger.info("a token we were never told about: %s", OTHER_TOKEN)
    try:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
    except ConnectionError:
        logger.exception("getMe failed")
    text = stream.getvalue()
    for secret in (TOKEN, TOKEN.split(":")[1], API_KEY, HOOK_SECRET, DB_PASSWORD, REDIS_PASSWORD, OTHER_TOKEN):
        assert secret not in text, secret
    first, db, redis, other, failed = records(stream)
    assert first["msg"] == "Request failed: POST https://api.telegram.org/bot***/sendMessage"
    assert db["msg"] == "connecting to postgresql+asyncpg://coinsight:***@db/coinsight"
    assert redis["msg"] == "redis at redis://:***@redis, key ***, secret ***"
    assert other["msg"] == "a token we were never told about: ***"
    assert isinstance(failed["exc"], str) and "bot***/getMe" in failed["exc"] and "ConnectionError" in failed["exc"]


def test_json_lines_carry_the_update_and_user_while_an_update_is_handled(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = lines
    logger.info("before")
    token = update_context.set(UpdateContext(update_id=501, user_id=42))
    try:
        logger.info("during %d", 1)
    finally:
        update_context.reset(token)
    logger.info("after")
    before, during, after = records(stream)
    assert (before["update_id"], before["user_id"]) == (None, None)
    assert (during["update_id"], during["user_id"], during["msg"]) == (501, 42, "during 1")
    assert during["level"] == "INFO" and during["logger"] == "tests.logs.json"
    assert str(during["ts"]).endswith("+00:00")
    assert (after["update_id"], after["user_id"]) == (None, None)


def test_human_lines_name_the_update_and_user(settings_secrets: list[str]) -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs.text")
    logger.propagate = False
    handler = build_handler("text", settings_secrets, stream)
    logger.addHandler(handler)
    try:
        token = update_context.set(UpdateContext(update_id=7, user_id=None))
        try:
            logger.warning("sending to bot%s", TOKEN)
        finally:
            update_context.reset(token)
        logger.warning("idle")
    finally:
        logger.removeHandler(handler)
    during, idle = stream.getvalue().splitlines()
    assert during.endswith("WARNING tests.logs.text: sending to bot*** [update=7 user=None]")
    assert idle.endswith("WARNING tests.logs.text: idle")
    with pytest.raises(json.JSONDecodeError):
        json.loads(idle)


def test_the_token_pattern_is_botfathers_shape() -> None:
    assert TOKEN_SHAPE.fullmatch(TOKEN)
    assert not TOKEN_SHAPE.search("update 123456789 at 12:30:45 took 0.25 s")


def test_log_format_json_applies_to_the_bot_but_console_mode_stays_human() -> None:
    from bot.__main__ import _configure_logging
    from bot.logs import JsonFormatter, TextFormatter

    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    settings = load_settings(_env_file=None, bot_token=TOKEN, log_format="json")
    try:
        _configure_logging(logging.INFO, settings)
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        _configure_logging(logging.WARNING, settings, console=True)
        (handler,) = root.handlers
        assert isinstance(handler.formatter, TextFormatter) and root.level == logging.WARNING
    finally:
        for current in list(root.handlers):
            root.removeHandler(current)
        for old in saved:
            root.addHandler(old)
        root.setLevel(level)


def test_an_unknown_log_format_is_refused_naming_the_variable() -> None:
    from bot.settings import ConfigError

    with pytest.raises(ConfigError, match=r"^Invalid LOG_FORMAT: "):
        load_settings(_env_file=None, log_format="xml")
