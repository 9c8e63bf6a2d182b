"""The prompt-leak guard (OWASP LLM07): a leak is caught whatever the chunking, before any of it is
released; ordinary answers pass whole; the system prompt holds no user data, secrets or entitlements."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator

import pytest

from services.llm import TextDelta, Usage, build_messages, build_system_prompt
from services.llm.leak import MIN_LEAK_CHARS, LeakGuard, PromptLeak, guarded
from services.llm.prompts import canary

ANSWER = (
    "## BTC/USDT · 4h\n\n**Verdict:** cautiously bullish above **65,000**.\n\n- Trend: up, EMA20 above EMA50.\n"
    "- Momentum: RSI14 61 — room to run.\n\n🟢 Bullish: a close above 66,200 targets 68,000; invalid below 64,100.\n"
    "🔴 Bearish: a close below 64,100 targets 62,500.\n\n_Not financial advice; crypto is volatile; use a stop._"
)


def _chunks(text: str, rng: random.Random) -> list[str]:
    pieces, i = [], 0
    while i < len(text):
        step = rng.randint(1, 9)
        pieces.append(text[i : i + step])
        i += step
    return pieces


def _run(guard: LeakGuard, pieces: list[str]) -> str:
    shown = "".join(guard.feed(piece) for piece in pieces)
    return shown + guard.flush()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_a_reproduced_prompt_is_caught_before_any_of_it_is_released(seed: int, locale: str) -> None:
    system = build_system_prompt(locale)
    rng = random.Random(seed)
    start = rng.randrange(0, len(system) - 200)
    stretch = system[start : start + rng.randint(MIN_LEAK_CHARS, 200)]
    if rng.random() < 0.5:  # re-wrapped and bolded: still the same words
        stretch = "**" + re.sub(r"\s+", "\n  ", stretch.upper()) + "**"
    innocent = "BTC is holding its range. "
    guard = LeakGuard(system, canary())
    shown = _run(guard, _chunks(innocent + stretch + " more text", rng))
    assert guard.leak == "prompt"
    # Only the innocent part (perhaps a few characters short of it, perhaps with the opening "**").
    assert innocent.startswith(shown.removesuffix("**"))
    assert len(shown) >= len(innocent) - MIN_LEAK_CHARS


@pytest.mark.parametrize("seed", range(5))
def test_the_canary_is_caught_across_chunks_in_any_case(seed: int) -> None:
    token = canary()
    guard = LeakGuard(build_system_prompt("en"), token)
    shown = _run(guard, _chunks(f"Session code: {token.upper()} ok", random.Random(seed)))
    assert guard.leak == "canary" and token not in shown.lower() and "Session code:".startswith(shown.strip())


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_an_ordinary_answer_passes_whole_and_is_held_back_only_a_little(seed: int, locale: str) -> None:
    guard = LeakGuard(build_system_prompt(locale), canary())
    released = 0
    received = 0
    for piece in _chunks(ANSWER, random.Random(seed)):
        released += len(guard.feed(piece))
        received += len(piece)
        assert received - released < MIN_LEAK_CHARS
    assert guard.leak is None
    assert guard.flush() == ANSWER[released:]


async def _events(texts: list[str], closed: list[bool]) -> AsyncIterator[TextDelta | Usage]:
    try:
        for text in texts:
            yield TextDelta(text)
        yield Usage(prompt_tokens=1, completion_tokens=1, model="m")
    finally:
        closed.append(True)


async def test_guarded_closes_the_model_stream_on_a_leak() -> None:
    system = build_system_prompt("en")
    closed: list[bool] = []
    shown: list[str] = []
    with pytest.raises(PromptLeak) as leak:
        async for event in guarded(_events(["Fine. ", system[:40], system[40:120], "tail"], closed), _guard(system)):
            assert isinstance(event, TextDelta)
            shown.append(event.text)
    assert closed == [True] and leak.value.what == "prompt"
    assert "".join(shown) in ("Fine.", "Fine. ")


async def test_guarded_passes_a_clean_answer_and_its_usage() -> None:
    closed: list[bool] = []
    pieces = [ANSWER[:30], ANSWER[30:90], ANSWER[90:]]
    events = [e async for e in guarded(_events(pieces, closed), _guard(build_system_prompt("en")))]
    assert isinstance(events[-1], Usage) and closed == [True]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == ANSWER


def _guard(system: str) -> LeakGuard:
    return LeakGuard(system, canary())


def test_the_system_prompt_has_the_canary_and_nothing_about_the_user() -> None:
    token = canary()
    assert token == canary() and re.fullmatch(r"cs-[0-9a-f]{16}", token)  # one per process, random
    messages = build_messages(
        locale="en",
        market_block="symbol: BTC/USDT\nprice: 65000",
        history=[("user", "my api key is sk-live-123"), ("assistant", "noted")],
        user_text="I'm on the VIP plan with 40 credits, BTC?",
        token_budget=4000,
    )
    system = messages[0]["content"]
    assert messages[0]["role"] == "system" and system == build_system_prompt("en") and token in system
    lowered = system.lower()
    for private in ("sk-live", "vip", "credit", "plan", "quota", "api key", "password", "admin", "user id"):
        assert private not in lowered, private
