"""Chat benchmark: the bot's own overhead around the LLM, end to end over HTTP against the fakes.

Run: `python -m tests.bench.bench_chat [questions]` (default 200; exit status 1 when a target is missed).

The production bot (same factories as `python -m bot`, SQLite, in-process store) polls the fake Bot
API; 200 questions from 200 users, one at a time, with a warm market cache. Measured:
* received → LLM request: the user's message pushed to the fake Bot API → the request reaching the
  fake OpenAI server (long poll, middlewares, DB, intent, market cache, prompt);
* last token → final message: the fake OpenAI server writing the answer's last content chunk (the
  model's last token leaving it; the stream's end follows at once) → the final
  `editMessageText`/`sendMessage` reaching the fake Bot API (stream parsing, the final HTML, the
  database writes of the turn and the Telegram call).
Target: p95 ≤ 50 ms for each.

Then, with the stand-in model streaming like a real one (`STREAM_QUESTIONS` questions; its first token
`MODEL_FIRST_TOKEN` s after the request, the rest in chunks), time to first visible text, from the
user's message pushed:
* first feedback: the "thinking" draft reaching the fake Bot API (target ≤ 1 s, the issue's bound);
* first answer text: the first draft with words of the answer in it, against the model's own time to
  first token (request → first content chunk) as a ratio: what the bot adds before the user reads.
The streamed part asks a quarter as many questions.

Questions come back to back, faster than Telegram's ~30 messages a second allow for their answers,
previews and charts: the stand-in enforces those limits, and the bot's outgoing limiter waits on the
stand-in's SkippingClock (as in the tests), so its waits take no real time and the figures are the
bot's own work. The limiter's total (virtual) wait and the stand-in's 429 count are printed too.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from db import migrate
from db.engine import create_engine
from standins.exchanges import FakeBybit, FakeClock, default_specs
from standins.openai_server import FakeOpenAI, Reply
from standins.telegram import FakeTelegramServer
from tests.backends import Backend
from tests.harness import RunningBot, SkippingClock, make_settings, running_bot

QUESTIONS = 200
TARGET_MS = 50.0
FIRST_FEEDBACK_TARGET_MS = 1000.0
MODEL_FIRST_TOKEN = 0.3
ANSWER = "**BTC** holds its range; support and resistance as in the data. Not financial advice."
STREAMED_ANSWER = (
    "**BTC** holds its range between the levels in the data; momentum cools while funding stays flat. "
    "A close above resistance opens the next level; a close below support invalidates it. Not financial advice."
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


Figures = dict[str, list[float]]


def _first_draft(tg: FakeTelegramServer, chat_id: int, after: int, answer: bool) -> float | None:
    """When the first draft to the chat (since call `after`) reached the stand-in; with `answer`,
    the first one showing words of the answer rather than the placeholder."""
    for call in tg.calls[after:]:
        if call.method != "sendMessageDraft" or call.params.get("chat_id") not in (chat_id, str(chat_id)):
            continue
        if not answer or "BTC" in str(call.params.get("text")):
            return call.timestamp
    return None


async def run(questions: int) -> tuple[Figures, Figures, float, int]:
    """(overhead figures in ms, streaming figures in ms, the outgoing limiter's virtual wait in s,
    429s from the Bot API stand-in)."""
    llm_times: list[float] = []
    clock = SkippingClock()

    def responder(body: dict[str, Any]) -> str:
        llm_times.append(time.time())
        return ANSWER

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        async with (
            FakeTelegramServer(bot_username="coinsight_bot", clock=clock) as tg,
            FakeOpenAI(responder=responder, chunks=1) as llm,
        ):
            exchange = FakeBybit(default_specs(), clock=FakeClock())
            await exchange.start()
            settings = make_settings(
                tg, Backend("sqlite", url, ""), exchange.url,
                openai_api_key="sk-test", openai_base_url=llm.base_url, throttle_enabled=False,
            )  # fmt: skip
            try:
                async with running_bot(settings, tg) as app:
                    warm = tg.add_user("Warm")
                    await tg.send_message(warm, "BTC 4h")
                    await app.settle(30)
                    assert len(llm_times) == 1, "the warm-up question did not reach the model"
                    llm_times.clear()
                    waited_before = clock.skipped
                    received: list[float] = []
                    finished: list[float] = []
                    feedback: list[float] = []
                    for i in range(questions):
                        user = tg.add_user(f"User{i}")
                        calls_before = len(tg.calls)
                        sent = time.time()
                        await tg.send_message(user, "how does BTC look on the 4h?")
                        await app.settle(30)
                        assert len(llm_times) == i + 1, f"question {i} did not reach the model"
                        chat_ids = (user.id, str(user.id))
                        final = [
                            c for c in tg.calls
                            if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") in chat_ids
                        ][-1]  # fmt: skip
                        last_token = llm.chat_requests[-1].last_chunk_time
                        assert last_token is not None, "the answer was not streamed"
                        first = _first_draft(tg, user.id, calls_before, answer=False)
                        assert first is not None, "no draft was shown"
                        received.append((llm_times[i] - sent) * 1000)
                        finished.append((final.timestamp - last_token) * 1000)
                        feedback.append((first - sent) * 1000)
                    streamed = await _streamed(app, tg, llm, max(1, questions // 4))
                    waited = clock.skipped - waited_before
            finally:
                await exchange.close()
    overhead = {
        "received → LLM request": received,
        "last token → final message": finished,
    }
    return overhead, {"received → first feedback": feedback, **streamed}, waited, tg.count_429


async def _streamed(app: RunningBot, tg: FakeTelegramServer, llm: FakeOpenAI, questions: int) -> Figures:
    """Questions answered by a model that streams like a real one: time to first visible text."""
    model: list[float] = []
    visible: list[float] = []
    for i in range(questions):
        llm.script(Reply(STREAMED_ANSWER, chunks=12, delay=0.01, first_delay=MODEL_FIRST_TOKEN))
        user = tg.add_user(f"Streamed{i}")
        calls_before = len(tg.calls)
        sent = time.time()
        await tg.send_message(user, "how does BTC look on the 4h?")
        await app.settle(30)
        request = llm.chat_requests[-1]
        first_text = _first_draft(tg, user.id, calls_before, answer=True)
        assert request.first_chunk_time is not None and first_text is not None, f"streamed question {i}"
        model.append((request.first_chunk_time - request.arrived) * 1000)
        visible.append((first_text - sent) * 1000)
    return {"model's own first token": model, "received → first answer text": visible}


def main() -> int:
    questions = int(sys.argv[1]) if len(sys.argv) > 1 else QUESTIONS
    results, streaming, waited, count_429 = asyncio.run(run(questions))
    print(f"chat overhead, {questions} questions, warm market cache (target p95 ≤ {TARGET_MS:.0f} ms)")
    print(f"{'figure':<32} {'p50 ms':>8} {'p95 ms':>8} {'limit':>6} {'ratio':>6}  ok")
    ok = True
    for name, values in results.items():
        p50, p95 = statistics.median(values), percentile(values, 95)
        good = p95 <= TARGET_MS
        ok &= good
        print(f"{name:<32} {p50:>8.1f} {p95:>8.1f} {TARGET_MS:>6.0f} {p95 / TARGET_MS:>6.2f}  {'✓' if good else '✗'}")
    print(f"outgoing limiter waited {waited:.1f} s (virtual, not in the figures); 429s from the stand-in: {count_429}")
    streamed = len(streaming["received → first answer text"])
    print()
    print(f"time to first visible text, {streamed} streamed answers (model's first token after {MODEL_FIRST_TOKEN} s)")
    print(f"{'figure':<32} {'p50 ms':>8} {'p95 ms':>8}")
    for name, values in streaming.items():
        print(f"{name:<32} {statistics.median(values):>8.1f} {percentile(values, 95):>8.1f}")
    feedback_p95 = percentile(streaming["received → first feedback"], 95)
    good = feedback_p95 <= FIRST_FEEDBACK_TARGET_MS
    ok &= good
    print(f"first feedback p95 ≤ {FIRST_FEEDBACK_TARGET_MS:.0f} ms: {'✓' if good else '✗'}")
    text, model = streaming["received → first answer text"], streaming["model's own first token"]
    print(
        "first answer text ÷ model's own first token: "
        f"p50 {statistics.median(text) / statistics.median(model):.2f}, "
        f"p95 {percentile(text, 95) / percentile(model, 95):.2f}"
    )
    return 0 if ok and count_429 == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
