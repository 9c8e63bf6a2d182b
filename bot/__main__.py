"""`python -m bot [run|console|migrate|downgrade [REV]]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.settings import ConfigError, Settings, StartupError, load_settings

NO_TOKEN = (
    "BOT_TOKEN is not set: create a bot with @BotFather in Telegram and put BOT_TOKEN=<token> in .env "
    "(or the environment)."
)


def _configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("aiogram.event", "alembic", "httpx", "openai._base_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _migrate(settings: Settings, action: str, revision: str) -> None:
    from db import migrate
    from db.engine import create_engine

    engine = create_engine(settings.database_url)
    try:
        if action == "migrate":
            await migrate.upgrade(engine, revision)
        else:
            await migrate.downgrade(engine, revision)
        print(f"database at revision {await migrate.current_revision(engine)}")
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Coinsight Telegram bot")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "console", "migrate", "downgrade"])
    parser.add_argument("revision", nargs="?", help="migration target (default: head / one step down)")
    args = parser.parse_args(argv)
    _configure_logging(logging.WARNING if args.command == "console" else logging.INFO)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    try:
        if args.command in ("migrate", "downgrade"):
            default = "head" if args.command == "migrate" else "-1"
            asyncio.run(_migrate(settings, args.command, args.revision or default))
            return 0
        if args.command == "console" or not settings.bot_token:
            if args.command != "console":
                print(NO_TOKEN, file=sys.stderr)
                if not sys.stdin.isatty():
                    return 2
                print("Starting console mode: talk to the bot right here.", file=sys.stderr)
                logging.getLogger().setLevel(logging.WARNING)  # as `console`: replies, not routine logs
            from bot.console import run_console

            asyncio.run(run_console(settings))
            return 0
        from bot.runner import run_polling, run_webhook

        asyncio.run(run_webhook(settings) if settings.webhook_mode else run_polling(settings))
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
