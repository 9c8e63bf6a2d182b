"""`python -m bot [run|console|demo|migrate|downgrade [REV]]` — see `python -m bot --help`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import textwrap

from sqlalchemy.engine import make_url

from bot.settings import ConfigError, Settings, StartupError, load_settings

NO_TOKEN = (
    "BOT_TOKEN is not set: create a bot with @BotFather in Telegram and put BOT_TOKEN=<token> in .env "
    "(or the environment)."
)

# The one list of commands (argparse choices and the --help text).
COMMANDS: dict[str, str] = {
    "run": "the bot (default): long polling, or a webhook server when WEBHOOK_URL is set. Needs BOT_TOKEN "
    "and a migrated database; without BOT_TOKEN on a terminal it starts console mode instead.",
    "console": "talk to the bot in this terminal: the real handlers and database behind a local stand-in "
    "of the Telegram Bot API (no Telegram, no token). Live exchanges; a SQLite database is migrated "
    "first.",
    "demo": "console mode with no internet and no keys: local stand-in exchanges and model, a database "
    "of its own (data/demo.sqlite3); every answer is labelled as demo data.",
    "migrate": "apply the database migrations up to REVISION (default: head). The bot never migrates "
    "itself: run this once per deploy (`make run` and docker compose do).",
    "downgrade": "roll the database back to REVISION (default: one step; `base` empties it).",
    "backtest": "run the signal strategy and the outcome rules over recorded candles (--candles PATH: an "
    "OHLCV .json/.csv file or a folder; --strategy, --exchange/--fees, --slippage, --seeds, --periods) and print "
    "the track record next to a random-entry baseline, overall and per walk-forward period.",
}

DESCRIPTION = "Coinsight, a Telegram bot for crypto traders."
CONFIGURATION = (
    "configuration: environment variables, or a .env file in the working directory. Every variable is "
    "listed with its default in .env.example and described in README.md (Configuration). A bad value "
    "stops the start with one line naming it (exit status 2)."
)


def _epilog(width: int = 88) -> str:
    commands = [
        textwrap.fill(text, width, initial_indent=f"  {name:<11}", subsequent_indent=" " * 13)
        for name, text in COMMANDS.items()
    ]
    return "commands:\n" + "\n".join(commands) + "\n\n" + textwrap.fill(CONFIGURATION, width)


def _configure_logging(level: int = logging.INFO, settings: Settings | None = None, *, console: bool = False) -> None:
    """Human lines until the settings are read; then LOG_FORMAT (console mode: always human lines)
    with every secret of the settings redacted (bot/logs.py)."""
    from bot.logs import configure_logging, secrets_of

    fmt = "text" if settings is None or console else settings.log_format
    configure_logging(level, fmt, secrets_of(settings) if settings is not None else ())


async def _migrate(settings: Settings, action: str, revision: str, *, quiet: bool = False) -> None:
    from alembic.util.exc import CommandError

    from bot.startup import check_database
    from db import migrate
    from db.engine import create_engine

    await check_database(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        if action == "migrate":
            await migrate.upgrade(engine, revision)
        else:
            await migrate.downgrade(engine, revision)
        if not quiet:
            print(f"database at revision {await migrate.current_revision(engine)}")
    except CommandError as exc:  # e.g. an unknown revision
        raise StartupError(f"Cannot {action} to {revision!r}: {exc}") from None
    finally:
        await engine.dispose()


def _is_sqlite(settings: Settings) -> bool:
    return make_url(settings.database_url).get_backend_name() == "sqlite"


async def _console(settings: Settings) -> None:
    from bot.console import run_console

    # One local process on a SQLite file: nothing to race with, so console mode migrates it itself.
    # A PostgreSQL database is shared: it is migrated only by `python -m bot migrate`.
    if _is_sqlite(settings):
        await _migrate(settings, "migrate", "head", quiet=True)  # stdout is the conversation
    await run_console(settings)


async def _demo(settings: Settings) -> None:
    from bot.console import run_demo

    await run_demo(settings)  # on its own SQLite database, which it migrates


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=DESCRIPTION,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="run", choices=list(COMMANDS), help="what to do (default: run)")
    parser.add_argument("revision", nargs="?", help="migrate/downgrade target (default: head / one step down)")
    from bot.backtest_cli import add_arguments

    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "backtest":
        from bot.backtest_cli import given

        if misplaced := given(parser, args):
            print(f"{', '.join(misplaced)}: only for `python -m bot backtest`", file=sys.stderr)
            return 2
    quiet = args.command in ("console", "demo")
    _configure_logging(logging.WARNING if quiet else logging.INFO)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    _configure_logging(logging.WARNING if quiet else logging.INFO, settings, console=quiet)

    if args.command == "backtest":
        from bot.backtest_cli import run as backtest

        return backtest(args, settings)
    try:
        if args.command in ("migrate", "downgrade"):
            default = "head" if args.command == "migrate" else "-1"
            asyncio.run(_migrate(settings, args.command, args.revision or default))
            return 0
        if args.command == "demo":
            asyncio.run(_demo(settings))
            return 0
        if args.command == "console" or not settings.bot_token.get_secret_value():
            if args.command != "console":
                print(NO_TOKEN, file=sys.stderr)
                if not sys.stdin.isatty():
                    return 2
                print("Starting console mode: talk to the bot right here.", file=sys.stderr)
                _configure_logging(logging.WARNING, settings, console=True)  # as `console`: replies, not routine logs
            asyncio.run(_console(settings))
            return 0
        from bot.heap import pause_collection

        pause_collection()  # until the warm-up freezes the start-up heap (bot/heap.py): ~0.8 s less CPU to start
        from bot.startup import preflight

        asyncio.run(preflight(settings))  # before the slow imports below, so `prepare` need not check again
        from bot.runner import run_polling, run_webhook

        serve = run_webhook(settings, checked=True) if settings.webhook_mode else run_polling(settings, checked=True)
        asyncio.run(serve)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
