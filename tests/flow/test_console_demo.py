"""Console and demo mode, driven the way a person uses them: lines typed in, the transcript read back.

`run_demo` starts the real dispatcher against the local stand-ins (Bot API, Bybit with generated
markets, an OpenAI-compatible model); the input is a script, the output a string.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from bot.console import ConsoleUI, DemoLabel, console_name, run_demo
from bot.settings import Settings, load_settings
from services.i18n import Translations

DEMO_EN = "🧪 Demo data — not live market prices"
DEMO_ZH = "🧪 演示数据 —— 并非实时行情"
QUESTIONS = ("BTC 4h", "ETH 1d", "SOL 1h", "how about BTC on 1d", "DOGE 4h")  # the free plan's 5 a day


def demo_settings() -> Settings:
    # Throttling judges typing speed in real time; a script types faster than any person.
    return load_settings(_env_file=None, bot_token="", throttle_enabled=False)


async def run_script(tmp_path: Path, lines: list[str], media: Path | None = None) -> str:
    out = io.StringIO()
    await run_demo(
        demo_settings(),
        io.StringIO("".join(f"{line}\n" for line in lines)),
        out,
        media or tmp_path / "media",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}",
        log_file=tmp_path / "console.log",
        environ={"LANG": "en_US.UTF-8"},  # no $USER
        reply_timeout=60,
    )
    return out.getvalue()


def read_all(paths: Iterable[Path]) -> list[bytes]:
    return [path.read_bytes() for path in paths]


def turns(transcript: str) -> dict[str, list[str]]:
    """What followed each input line (`you> …`), keyed by the line (repeated lines get #2, #3…)."""
    result: dict[str, list[str]] = {}
    key = "(start)"
    for line in transcript.splitlines():
        if line.startswith("you> "):
            key = line[5:]
            number = 2
            while key in result:
                key = f"{line[5:]}#{number}"
                number += 1
            result[key] = []
        else:
            result.setdefault(key, []).append(line)
    return result


async def test_demo_shows_analysis_chart_paywall_and_a_stars_purchase(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "earlier.png").write_bytes(b"kept")
    script = ["/start", *QUESTIONS, "XRP 4h", "1", "1", "1", "XRP 4h", "/invite", "1", "/language", "2", "/balance"]
    transcript = await run_script(tmp_path, script, media)
    seen = turns(transcript)

    # A greeting with a sensible name, every message labelled demo, never a log line in between.
    assert "Hi, Trader!" in "\n".join(seen["/start"])
    bot_lines = [line for line in transcript.splitlines() if line.startswith("bot")]
    assert len(bot_lines) > 20 and all(line.endswith((DEMO_EN, DEMO_ZH)) for line in bot_lines)
    assert not re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING|ERROR)", transcript, re.MULTILINE)
    assert b"Start polling" in read_all([tmp_path / "console.log"])[0]
    assert "Traceback" not in transcript

    # A full analysis, shown once (not a streamed draft and then an edited copy), and its chart.
    answer = "\n".join(seen["BTC 4h"])
    assert answer.count("BTC/USDT · 4h — demo analysis") == 1
    for part in ("Verdict:", "Trend and momentum", "Key levels", "Support:", "Resistance:", "Bullish:", "Bearish:"):
        assert part in answer
    assert "bot (edited)>" not in answer
    assert not re.search(r"\bnan\b", answer, re.IGNORECASE)
    saved = re.findall(r"\[photo saved to (.+?)\]", transcript)
    assert len(saved) == len(QUESTIONS) + 1  # one chart per answered question
    assert len(set(saved)) == len(saved)
    assert all(content.startswith(b"\x89PNG") for content in read_all(Path(path) for path in saved))
    assert read_all([media / "earlier.png"]) == [b"kept"]

    # The paywall, the offers, the invoice, the payment, and a question answered from the bought credits.
    paywall = "\n".join(seen["XRP 4h"])
    assert "You've used today's free questions" in paywall and "[1] 🛒 Buy credits" in paywall
    assert "Credit packages" in "\n".join(seen["1"]) and "[1] Starter · 50 credits · 50 ⭐" in "\n".join(seen["1"])
    assert "[invoice: Starter: 50 credits — ⭐50]" in "\n".join(seen["1#2"])
    assert "[1] Pay ⭐50" in "\n".join(seen["1#2"])
    payment = "\n".join(seen["1#3"])
    assert "[paying ⭐50 with test Stars…]" in payment
    assert "Payment received: 50 ⭐" in payment and "+50 credits" in payment
    assert "XRP/USDT · 4h — demo analysis" in "\n".join(seen["XRP 4h#2"])

    # A link button prints its link, and the session goes on.
    assert re.search(r"🔗 https://t\.me/share/url\?url=https%3A%2F%2Ft\.me%2Fcoinsight_bot", "\n".join(seen["1#4"]))
    # The label follows the chat's language.
    assert any(DEMO_ZH in line for line in seen["2"])
    assert any(DEMO_ZH in line for line in seen["/balance"])


async def test_demo_subscribes_to_a_plan_through_its_invoice_link(tmp_path: Path) -> None:
    transcript = await run_script(tmp_path, ["/buy", "5", "1", "/plan"])
    seen = turns(transcript)
    assert "[1] Subscribe for 250 ⭐" in "\n".join(seen["5"])
    payment = "\n".join(seen["1"])
    assert "[paying ⭐250 with test Stars…]" in payment and "renews every 30 days" in payment
    assert "Subscription: VIP, renews on" in "\n".join(seen["/plan"])
    assert "Traceback" not in transcript


async def test_an_error_in_one_key_press_is_shown_and_the_session_goes_on(tmp_path: Path) -> None:
    media = tmp_path / "not-a-folder"
    media.write_bytes(b"")  # the chart cannot be saved here
    transcript = await run_script(tmp_path, ["/chart BTC 4h", "/help"], media)
    seen = turns(transcript)
    assert any(line.startswith("(error: ") and "the session goes on" in line for line in seen["/chart BTC 4h"])
    assert "Traceback" not in transcript
    assert any("/price" in line for line in seen["/help"])


def test_photos_never_overwrite_earlier_ones(tmp_path: Path) -> None:
    moment = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    ui = ConsoleUI(io.StringIO(), tmp_path, now=lambda: moment)
    (tmp_path / "chart-20260105-100000-1.png").write_bytes(b"from an earlier session")
    first, second = ui.save_photo(b"one"), ui.save_photo(b"two")
    assert (tmp_path / "chart-20260105-100000-1.png").read_bytes() == b"from an earlier session"
    assert first != second and first.read_bytes() == b"one" and second.read_bytes() == b"two"


def test_the_greeting_name_falls_back_to_a_sensible_one() -> None:
    assert console_name({}) == "Trader"
    assert console_name({"USER": " "}) == "Trader"
    assert console_name({"LOGNAME": "ann"}) == "ann"
    assert console_name({"USER": "bob", "LOGNAME": "ann"}) == "bob"


def test_demo_label_follows_the_language_of_the_message() -> None:
    label = DemoLabel(Translations(), "en")
    assert label("👋 Hi, Trader! Ask me about any coin (比特币今天怎么样) and I answer with a chart.") == DEMO_EN
    assert label("✅ 语言已切换为中文。") == DEMO_ZH
    assert label("BTC/USDT · 4h · bybit · 2026-01-05 10:00 UTC") == DEMO_ZH  # too few words: as before
    assert label("💰 Balance: 50 credits. Free questions left today: 0 of 5. Plan: Free.") == DEMO_EN
