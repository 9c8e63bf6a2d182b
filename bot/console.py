"""Console mode: the real dispatcher, handlers and database, driven from a terminal.

A local Bot API server (the same fake the tests use) runs in-process on 127.0.0.1; the bot polls it
exactly as it polls Telegram, and this module plays the user: each line you type becomes a message,
a bare number presses that button of the last keyboard, and replies are printed as plain text.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.middlewares import InFlight
from bot.runner import prepare
from bot.settings import Settings
from standins.telegram import BotEvent, FakeMessage, FakeTelegramServer, FakeUser, RateLimits

REPLY_SETTLE_SECONDS = 0.4
REPLY_TIMEOUT_SECONDS = 120.0
HELP = "Type a message and press Enter. A number presses a button. /quit or Ctrl-D leaves."


class ConsoleUI:
    def __init__(self, out: TextIO, media_dir: Path) -> None:
        self.out = out
        self.media_dir = media_dir
        self.buttons: list[tuple[int, str]] = []  # (message_id, button text) of the last keyboard

    def show(self, event: BotEvent) -> None:
        message = event.message
        if event.kind == "callback_answer" and event.data.get("text"):
            self._print(f"bot (notice)> {event.data['text']}")
        if message is None or event.kind not in ("sent", "edited"):
            return
        label = "bot" if event.kind == "sent" else "bot (edited)"
        self._print(f"{label}> {message.plain_text}")
        if message.photo is not None and message.photo.data:
            self.media_dir.mkdir(parents=True, exist_ok=True)
            path = self.media_dir / f"{message.chat.id}-{message.message_id}.png"
            path.write_bytes(message.photo.data)
            self._print(f"      [photo saved to {path}]")
        if message.invoice is not None:
            invoice = message.invoice
            amount = f"{invoice.get('total_amount')} {invoice.get('currency')}"
            self._print(f"      [invoice: {invoice.get('title')} — {amount}]")
        self._show_buttons(message)

    def _show_buttons(self, message: FakeMessage) -> None:
        texts = [text for row in message.button_texts() for text in row]
        if not texts:
            return
        self.buttons = [(message.message_id, text) for text in texts]
        self._print("      " + "  ".join(f"[{i}] {text}" for i, text in enumerate(texts, 1)))

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def _stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None], stream: TextIO) -> None:
    """A daemon thread feeding stdin lines to the loop (never blocks interpreter exit)."""
    for line in stream:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def _wait_reply(server: FakeTelegramServer, inflight: InFlight) -> None:
    """Like a person, wait for the bot to finish answering before typing the next line."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
            while True:
                seen = len(server.calls)
                await asyncio.sleep(REPLY_SETTLE_SECONDS)
                if len(server.calls) == seen and inflight.count == 0:
                    return


async def run_console(
    settings: Settings,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    media_dir: Path = Path("console-media"),
) -> None:
    out = stdout or sys.stdout
    server = FakeTelegramServer(
        bot_username="coinsight_bot", bot_first_name="Coinsight", rate_limits=RateLimits.disabled()
    )
    await server.start()
    settings = settings.model_copy(
        update={"bot_token": server.token, "telegram_api_url": server.base_url, "webhook_url": ""}
    )
    resources, bot, dp = await prepare(settings)
    language = "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"
    user: FakeUser = server.add_user(os.environ.get("USER") or "you", "console_user", language_code=language)
    ui = ConsoleUI(out, media_dir)
    events = server.subscribe()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_stdin_reader, args=(loop, lines, stdin or sys.stdin), daemon=True).start()

    async def printer() -> None:
        while True:
            ui.show(await events.get())

    print(f"Coinsight console — {HELP}", file=out, flush=True)
    async with asyncio.TaskGroup() as group:
        polling = group.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
        printing = group.create_task(printer())
        try:
            await server.wait_for_call("getUpdates", timeout=60)
            while True:
                line = await lines.get()
                if line is None or line.strip() in ("/quit", "/exit"):
                    break
                text = line.strip()
                if not text:
                    continue
                print(f"you> {text}", file=out, flush=True)
                if text.isdigit() and 1 <= int(text) <= len(ui.buttons):
                    message_id, button = ui.buttons[int(text) - 1]
                    await server.press_button(user, button, message_id=message_id)
                else:
                    await server.send_message(user, text)
                await _wait_reply(server, resources.inflight)
        finally:
            await dp.stop_polling()
            await polling
            printing.cancel()
            server.unsubscribe(events)
    with contextlib.suppress(RuntimeError):
        await server.stop()
