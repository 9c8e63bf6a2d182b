"""Answers being written right now in this process, so that a Stop reaches the answer it is for.

    running = answers.start(chat_id, asker_id)      # its `answer_id` is the draft id / button data
    ... stream; `running.stopped` is an asyncio.Event set by `answers.stop(...)` ...
    answers.finish(running)

A stop arrives as another update (the draft's stop button in a private chat, an inline Stop button
in a group) and is handled by this process: with several webhook replicas, an update that reaches a
replica not writing that answer finds nothing to stop (the answer then simply runs to its end).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Literal

StopOutcome = Literal["stopped", "unknown", "not_yours"]


@dataclass(eq=False)
class RunningAnswer:
    chat_id: int
    answer_id: int  # non-zero, 31 bits: a Bot API draft_id and a callback-data field
    asker_id: int  # the Telegram user who asked
    stopped: asyncio.Event = field(default_factory=asyncio.Event)


class RunningAnswers:
    def __init__(self) -> None:
        self._running: dict[tuple[int, int], RunningAnswer] = {}

    def __len__(self) -> int:
        return len(self._running)

    def start(self, chat_id: int, asker_id: int) -> RunningAnswer:
        while True:
            answer_id = secrets.randbits(31)
            if answer_id and (chat_id, answer_id) not in self._running:
                break
        running = RunningAnswer(chat_id=chat_id, answer_id=answer_id, asker_id=asker_id)
        self._running[(chat_id, answer_id)] = running
        return running

    def stop(self, chat_id: int, answer_id: int, *, by: int | None = None) -> StopOutcome:
        """Stop that answer. `by`: who pressed a button anyone in the chat can see (None: Telegram
        already knows it is the asker, as with a private chat's draft)."""
        running = self._running.get((chat_id, answer_id))
        if running is None:
            return "unknown"
        if by is not None and by != running.asker_id:
            return "not_yours"
        running.stopped.set()
        return "stopped"

    def finish(self, running: RunningAnswer) -> None:
        self._running.pop((running.chat_id, running.answer_id), None)
