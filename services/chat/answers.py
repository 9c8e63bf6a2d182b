"""What the chat analyst hands the handler: a refusal or a prepared question, the stream's events
(`Delta`, `Restart`, `Done` with the `Answer`), and `Answering`, one answer's charge lifecycle
inside `ChatService.answering` (services/chat/pipeline.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from services.chat import memory
from services.chat.numbers import Facts
from services.credits.charging import ChargeDecision, SettleResult
from services.i18n import Translator
from services.intent import Intent
from services.llm import Usage
from services.market import MarketView
from services.market.comparison import Comparison

RefusalReason = Literal["need_coin", "unknown_coin", "exchange_down", "not_enough_data", "injection", "no_credits"]
# "refused": the model's answer was replaced by a short refusal (it was leaking the system prompt).
Source = Literal["llm", "rules", "rules_fallback", "refused"]


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    query: str | None = None
    suggestions: tuple[str, ...] = ()
    timeframe: str | None = None
    decision: ChargeDecision | None = None
    exchanges: tuple[str, ...] = ()  # display names of the configured exchanges (unknown_coin)


@dataclass(frozen=True)
class Prepared:
    user_id: int
    chat_id: int
    question: str
    intent: Intent
    coins: tuple[str, ...]
    timeframe: str
    views: list[MarketView]
    decision: ChargeDecision
    conversation: memory.ConversationState
    messages: list[dict[str, str]]
    translator: Translator  # the answer's language: the question's (`answer_language`), not always the interface's
    facts: Facts = field(default_factory=Facts)  # what the model was given, to check its numbers against
    comparison: Comparison | None = None  # two or three coins: answered as one comparison


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Restart:
    """The answer so far is discarded (the LLM failed mid-answer); a fallback follows."""


@dataclass(frozen=True)
class Answer:
    text: str  # Markdown
    source: Source
    usage: Usage | None = None
    model: str | None = None
    stopped: bool = False  # the user stopped it: `text` is what had been shown

    @property
    def charged(self) -> bool:
        """Users pay for the analyst they asked for, delivered whole: not for the rule-based fallback
        after an LLM failure, a refusal, or an answer they stopped."""
        return self.source in ("llm", "rules") and not self.stopped


@dataclass(frozen=True)
class Done:
    answer: Answer


ChatEvent = Delta | Restart | Done


@dataclass
class Answering:
    """One prepared answer inside `ChatService.answering`."""

    prepared: Prepared
    answer: Answer | None = None  # set by `delivered`
    settled: SettleResult | None = None  # set once the block has been left

    def delivered(self, answer: Answer) -> None:
        """The answer reached the chat: remember it, and charge it when the block ends."""
        self.answer = answer
