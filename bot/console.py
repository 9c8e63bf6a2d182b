"""Console mode: the real dispatcher, handlers and database, driven from a terminal.

A local Bot API server (the stand-in the tests use, `standins.telegram`) runs in-process on
127.0.0.1; the bot polls it exactly as it polls Telegram, and this module plays the user: each line
you type becomes a message, a bare number presses that button of the last keyboard (a link button
prints its URL; an invoice's Pay button, or a link to an invoice such as a plan's subscription, pays
it with test Stars), and each reply is printed once, in its final state, when the bot has finished
handling the key press. Logs go to a file.

Demo mode (`run_demo`) adds the other stand-ins: a local exchange with generated markets and a
local OpenAI-compatible model, and labels every message as demo data.

The stand-ins are imported inside the functions only: the production path never loads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.console_io import (
    ProcessedUpdates,
    console_locale,
    console_name,
    logs_to_file,
    set_event,
    stdin_reader,
    unpaced,
)
from bot.demo import DEMO_DATABASE_URL, DemoLabel, demo_overrides, migrate_database
from bot.runner import prepare
from bot.settings import Settings
from services.i18n import Translations

if TYPE_CHECKING:
    from standins.telegram import BotEvent, FakeMessage, FakeTelegramServer, FakeUser

__all__ = ["ConsoleUI", "DemoLabel", "console_name", "run_console", "run_demo"]

REPLY_TIMEOUT_SECONDS = 120.0
HELP = "Type a message and press Enter. A number presses a button. /quit or Ctrl-D leaves."


@dataclass(frozen=True)
class Button:
    message: FakeMessage
    text: str
    kind: str  # callback / url / pay / other
    value: str = ""


class ConsoleUI:
    """Prints what the user would see: each message once, in its final state."""

    def __init__(
        self,
        out: TextIO,
        media_dir: Path,
        label: Callable[[str], str] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.out = out
        self.media_dir = media_dir
        self.label = label  # demo mode: the label line for a message's text
        self.now = now
        self.buttons: list[Button] = []  # the last keyboard shown
        self.saved: list[Path] = []

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def prompt(self) -> None:
        """On a terminal the typed line is echoed after this prompt (instead of a `you>` copy)."""
        print("you> ", end="", file=self.out, flush=True)

    def show_events(self, events: list[BotEvent]) -> None:
        """A key press's outcome: messages sent, edited or deleted (each once), and notices."""
        shown: dict[tuple[int, int] | int, tuple[str, Any]] = {}
        for number, event in enumerate(events):
            message = event.message
            if event.kind == "callback_answer" and event.data.get("text"):
                shown[number] = ("notice", str(event.data["text"]))
            if message is None or event.kind not in ("sent", "edited", "deleted"):
                continue
            key = (message.chat.id, message.message_id)
            previous = shown.get(key, ("", None))[0]
            if event.kind == "deleted":
                if previous == "sent":
                    del shown[key]  # a transient message ("queued…"): it came and went
                else:
                    shown[key] = ("deleted", message)
            elif previous not in ("sent", "edited"):
                shown[key] = (event.kind, message)
        for kind, item in shown.values():
            if kind == "notice":
                self.say(f"bot (notice)> {self._labelled(item)}")
            elif kind == "deleted":
                self.say(f"bot (deleted)> {self._labelled(item.plain_text.splitlines()[0] if item.plain_text else '')}")
            else:
                self.show_message(item, edited=kind == "edited")

    def _labelled(self, text: str) -> str:
        if self.label is None:
            return text
        return f"{self.label(text)}\n{text}" if text else self.label(text)

    def show_message(self, message: FakeMessage, *, edited: bool = False) -> None:
        self.say(("bot (edited)> " if edited else "bot> ") + self._labelled(message.plain_text))
        if message.photo is not None and message.photo.data:
            self.say(f"      [photo saved to {self.save_photo(message.photo.data)}]")
        if message.invoice is not None:
            invoice = message.invoice
            self.say(f"      [invoice: {invoice.get('title')} — {_amount(invoice)}]")
        self._show_buttons(message)

    def save_photo(self, data: bytes) -> Path:
        """A new file per photo: never overwrites an earlier one (this session's or a previous one's)."""
        self.media_dir.mkdir(parents=True, exist_ok=True)
        stamp = self.now().strftime("%Y%m%d-%H%M%S")
        number = len(self.saved) + 1
        while True:
            path = self.media_dir / f"chart-{stamp}-{number}.png"
            try:
                with path.open("xb") as file:
                    file.write(data)
            except FileExistsError:
                number += 1
                continue
            self.saved.append(path)
            return path

    def _show_buttons(self, message: FakeMessage) -> None:
        buttons = [_button(message, raw) for row in message.buttons() for raw in row]
        if message.invoice is not None and not any(b.kind == "pay" for b in buttons):
            # An invoice whose keyboard has no Pay button gets Telegram's default one.
            buttons.insert(0, Button(message=message, text=f"Pay {_amount(message.invoice)}", kind="pay"))
        if not buttons:
            if self.buttons and self.buttons[0].message is message:
                self.buttons = []  # its keyboard was taken away
            return
        self.buttons = buttons
        self.say("      " + "  ".join(f"[{i}] {button.text}" for i, button in enumerate(buttons, 1)))


def _amount(invoice: Mapping[str, Any]) -> str:
    total, currency = invoice.get("total_amount"), invoice.get("currency")
    return f"⭐{total}" if currency == "XTR" else f"{total} {currency}"


def _button(message: FakeMessage, raw: Mapping[str, Any]) -> Button:
    text = str(raw.get("text", ""))
    if "callback_data" in raw:
        return Button(message=message, text=text, kind="callback")
    if raw.get("pay"):
        return Button(message=message, text=text, kind="pay")
    for field in ("url", "login_url", "web_app"):
        value = raw.get(field)
        if isinstance(value, Mapping):
            value = value.get("url")
        if value:
            return Button(message=message, text=text, kind="url", value=str(value))
    return Button(message=message, text=text, kind="other", value=", ".join(sorted(k for k in raw if k != "text")))


class ConsoleSession:
    """One person at the keyboard: turns input lines into updates and shows what the bot did."""

    def __init__(
        self,
        server: FakeTelegramServer,
        user: FakeUser,
        ui: ConsoleUI,
        processed: ProcessedUpdates,
        drain: Callable[[float], Awaitable[bool]],
        timeout: float,
        *,
        interactive: bool = False,
    ) -> None:
        self.server = server
        self.user = user
        self.ui = ui
        self.processed = processed
        self.drain = drain
        self.timeout = timeout
        self.interactive = interactive  # a person at a terminal: their typing is echoed already
        self.events = server.subscribe()

    def pending_events(self) -> list[BotEvent]:
        events = []
        while not self.events.empty():
            events.append(self.events.get_nowait())
        return events

    async def next_line(self, lines: asyncio.Queue[str | None]) -> str | None:
        """The next input line; what the bot says meanwhile (nobody asked) is shown as it comes."""
        reading = asyncio.ensure_future(lines.get())
        try:
            while True:
                event = asyncio.ensure_future(self.events.get())
                done, _ = await asyncio.wait({reading, event}, return_when=asyncio.FIRST_COMPLETED)
                if event in done:
                    if self.interactive:
                        self.ui.say("")  # off the prompt's line
                    self.ui.show_events([event.result()])
                    if self.interactive and reading not in done:
                        self.ui.prompt()
                else:
                    event.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await event
                if reading in done:
                    return reading.result()
        finally:
            reading.cancel()

    async def handle(self, text: str) -> None:
        """One key press: errors are shown, and the session goes on."""
        from standins.telegram import FakeTelegramUsageError

        try:
            if text.isdigit() and 1 <= int(text) <= len(self.ui.buttons):
                await self.press(self.ui.buttons[int(text) - 1])
            else:
                await self.turn(await self.server.send_message(self.user, text))
        except (FakeTelegramUsageError, TimeoutError, OSError) as exc:
            self.ui.show_events(self.pending_events())
            reason = "the bot is still working on it" if isinstance(exc, TimeoutError) else str(exc)
            self.ui.say(f"(error: {reason or type(exc).__name__} — the session goes on)")

    async def turn(self, update: Mapping[str, Any]) -> None:
        """Wait until the bot has handled `update`, then show what it did."""
        update_id = update.get("update_id")
        if isinstance(update_id, int):
            await self.processed.wait(update_id, self.timeout)
            await self.drain(self.timeout)
        self.ui.show_events(self.pending_events())

    async def press(self, button: Button) -> None:
        if button.kind == "url" and button.value in self.server.state.invoice_links:
            await self.pay_link(button.value)
        elif button.kind == "url":
            self.ui.say(f"      🔗 {button.value}  (a link: open it in a browser)")
        elif button.kind == "pay":
            await self.pay(button.message)
        elif button.kind == "callback":
            update = await self.server.press_button(self.user, button.text, message_id=button.message.message_id)
            await self.turn(update)
        else:
            self.ui.say(f"      ({button.text}: a {button.value} button does nothing in the console)")

    async def pay(self, invoice: FakeMessage) -> None:
        """Telegram's Stars checkout: pre-checkout query, the bot's answer, then the payment message."""
        self.ui.say(f"      [paying {_amount(invoice.invoice or {})} with test Stars…]")
        query_id = self.server.pre_checkout(self.user, invoice)
        answer = await self.server.wait_pre_checkout_answer(query_id, timeout=self.timeout)
        await self.drain(self.timeout)
        self.ui.show_events(self.pending_events())
        if not answer.ok:
            self.ui.say(f"      [payment refused: {answer.error_message}]")
            return
        await self.turn(self.server.successful_payment(self.user, invoice.invoice_payload or ""))

    async def pay_link(self, url: str) -> None:
        """An invoice link (a plan's Stars subscription): the same checkout, through the link."""
        invoice = self.server.invoice_link(url).invoice
        self.ui.say(f"      [paying {_amount(invoice)} with test Stars…]")
        answer = await self.server.wait_pre_checkout_answer(
            self.server.pre_checkout_link(self.user, url), timeout=self.timeout
        )
        await self.drain(self.timeout)
        self.ui.show_events(self.pending_events())
        if not answer.ok:
            self.ui.say(f"      [payment refused: {answer.error_message}]")
            return
        await self.turn(self.server.pay_link(self.user, url))

    async def run(self, lines: asyncio.Queue[str | None]) -> None:
        while True:
            if self.interactive:
                self.ui.prompt()
            line = await self.next_line(lines)
            if line is None or line.strip() in ("/quit", "/exit"):
                if line is None and self.interactive:
                    self.ui.say("")  # Ctrl-D leaves the cursor on the prompt's line
                return
            text = line.strip()
            if text:
                if not self.interactive:
                    self.ui.say(f"you> {text}")
                await self.handle(text)


async def run_console(
    settings: Settings,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    media_dir: Path = Path("console-media"),
    *,
    log_file: Path = Path("data/console.log"),
    environ: Mapping[str, str] | None = None,
    demo: bool = False,
    reply_timeout: float = REPLY_TIMEOUT_SECONDS,
) -> None:
    """Talk to the bot in a terminal (or through the given streams) until /quit or end of input."""
    from standins.telegram import FakeTelegramServer, RateLimits

    environ = os.environ if environ is None else environ
    language = console_locale(environ)
    translations = Translations(language)
    t = translations.get(language)
    ui = ConsoleUI(stdout or sys.stdout, media_dir, DemoLabel(translations, language) if demo else None)
    server = FakeTelegramServer(
        bot_username="coinsight_bot", bot_first_name="Coinsight", rate_limits=RateLimits.disabled()
    )
    with logs_to_file(log_file):
        await server.start()
        try:
            settings = _with(settings, bot_token=server.token, telegram_api_url=server.base_url, webhook_url="")
            resources, bot, dp = await prepare(settings)
            unpaced(bot)
            processed = ProcessedUpdates()
            dp.update.outer_middleware(processed)
            started = asyncio.Event()
            dp.startup.register(partial(set_event, started))
            user = server.add_user(console_name(environ), "console_user", language_code=language)
            source = stdin or sys.stdin
            session = ConsoleSession(
                server, user, ui, processed, resources.inflight.drain, reply_timeout, interactive=source.isatty()
            )
            lines: asyncio.Queue[str | None] = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=stdin_reader, args=(loop, lines, source), daemon=True).start()
            ui.say(f"Coinsight console — {HELP}")
            if demo:
                ui.say(t("demo-intro"))
            async with asyncio.TaskGroup() as group:
                polling = group.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
                try:
                    await started.wait()
                    await session.run(lines)
                finally:
                    with contextlib.suppress(RuntimeError):  # "Polling is not started": it failed to start
                        await dp.stop_polling()
                    await polling
                    server.unsubscribe(session.events)
        finally:
            await server.stop()


def _with(settings: Settings, **changes: Any) -> Settings:
    """A validated copy of `settings` with `changes` (secrets and lists converted as from the environment)."""
    return settings.model_validate({**settings.model_dump(), **changes})


async def run_demo(
    settings: Settings,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    media_dir: Path = Path("console-media"),
    *,
    database_url: str = DEMO_DATABASE_URL,
    log_file: Path = Path("data/console.log"),
    environ: Mapping[str, str] | None = None,
    reply_timeout: float = REPLY_TIMEOUT_SECONDS,
) -> None:
    """Console mode with no internet: a local exchange with generated markets, a local model that
    streams an analysis of the data it is sent, a database of its own; every message labelled demo."""
    from standins.demo import demo_servers

    async with demo_servers() as servers:
        demo = _with(
            settings,
            **demo_overrides(
                database_url=database_url,
                exchange_api_urls=servers.exchange_api_urls,
                openai_base_url=servers.openai_base_url,
                openai_api_key=servers.openai_api_key,
                model=servers.model,
            ),
        )
        await migrate_database(database_url)
        await run_console(
            demo, stdin, stdout, media_dir, log_file=log_file, environ=environ, demo=True, reply_timeout=reply_timeout
        )
