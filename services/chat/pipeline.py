"""The chat analyst: question → intent → conversation → charge → live data → prompt → answer.

No aiogram here: the handler drives `prepare` → `answering` (around `stream` and the delivery) and
does the Telegram side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from services.chat import memory
from services.chat.answers import (
    Answer,
    Answering,
    ChatEvent,
    Delta,
    Done,
    Prepared,
    Refusal,
    Restart,
)
from services.chat.comparison_text import comparison_answer, comparison_block
from services.chat.market_block import market_block
from services.chat.numbers import NumberCounts, StreamVerifier, facts_from_views, verify_answer
from services.chat.rules import rule_based_answer
from services.credits.charging import ChargePolicy, charged
from services.format import exchange_name
from services.i18n import Translations, Translator
from services.intent import DEFAULT_TIMEFRAME, Intent, extract, is_prompt_injection
from services.intent.horizon import find_horizon
from services.intent.language import answer_language
from services.intent.unknown import asked_unknown_coins, near_matches
from services.llm import LLMError, LLMService, TextDelta, Usage, build_messages, estimate_tokens
from services.llm.leak import LeakGuard, PromptLeak, guarded
from services.llm.prompts import MAX_USER_CHARS, canary
from services.market import (
    MarketError,
    MarketService,
    MarketView,
    NotEnoughData,
    UnknownSymbol,
)
from services.market.comparison import Comparison, compare

log = logging.getLogger(__name__)

PROMPT_TOKEN_BUDGET = 6000
ANSWER_MAX_TOKENS = 1200
TEMPERATURE = 0.3


@dataclass
class ChatService:
    market: MarketService
    llm: LLMService | None
    charge: ChargePolicy
    model: str
    idle: timedelta = timedelta(hours=3)
    translations: Translations | None = None  # to answer in the question's language; None: the interface's
    numbers: NumberCounts = field(default_factory=NumberCounts)  # numbers checked in answers (services.chat.numbers)
    _markets_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _known_bases(self) -> set[str]:
        bases = self.market.known_bases()
        if not bases:
            async with self._markets_lock:
                bases = self.market.known_bases()
                if not bases:
                    await self.market.refresh_markets()
                    bases = self.market.known_bases()
        return bases

    async def prepare(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        chat_id: int,
        message_id: int,
        text: str,
        t: Translator,
        now: datetime | None = None,
    ) -> Prepared | Refusal:
        now = now or utcnow()
        question = text.strip()
        if len(question) > MAX_USER_CHARS:
            question = question[:MAX_USER_CHARS] + "…"
        if is_prompt_injection(question):
            return Refusal(reason="injection")
        bases = await self._known_bases()
        if not bases:
            return Refusal(reason="exchange_down")
        intent = extract(question, known_bases=bases)
        unknown = self._unknown_coin(question, intent, bases)
        if unknown is not None:
            return unknown
        conversation = await memory.current(session, user_id, chat_id, now, self.idle)
        coins = intent.coins
        horizon = find_horizon(question)
        timeframe = intent.timeframe or (horizon.timeframe if horizon else None)
        if not coins and conversation.last_symbol:
            coins = tuple(conversation.last_symbol.split(","))
        timeframe = timeframe or conversation.last_timeframe or DEFAULT_TIMEFRAME
        if not coins:
            await session.rollback()  # end the memory read: no connection held while the handler replies
            return Refusal(reason="need_coin")
        conversation = await memory.started(session, conversation, user_id, chat_id, now)
        decision = await self.charge.authorize(session, user_id, f"q:{chat_id}:{message_id}")
        if not decision.allowed:
            await session.rollback()  # whatever a refusal read or staged: nothing held while the handler replies
            return Refusal(reason="no_credits", decision=decision)
        try:
            views = list(await asyncio.gather(*(self.market.snapshot(coin, timeframe) for coin in coins)))
        except UnknownSymbol as exc:
            await self.charge.settle(session, decision, success=False)
            return Refusal(
                reason="unknown_coin",
                query=exc.query,
                suggestions=tuple(exc.suggestions),
                exchanges=tuple(exchange_name(exchange) for exchange in self.market.exchanges),
            )
        except NotEnoughData:
            await self.charge.settle(session, decision, success=False)
            return Refusal(reason="not_enough_data", query=",".join(coins), timeframe=timeframe)
        except MarketError as exc:
            log.warning("market data unavailable for %s %s: %s", coins, timeframe, exc)
            await self.charge.settle(session, decision, success=False)
            return Refusal(reason="exchange_down")
        if self.translations is not None:
            t = self.translations.get(answer_language(question, t.locale))
        comparison = _comparison(views)
        block = market_block(views, horizon.note if horizon else None, t.locale)
        if comparison is not None:
            block = f"{block}\n\n{comparison_block(comparison)}"
        messages = build_messages(
            locale=t.locale,
            market_block=block,
            history=conversation.history,
            user_text=question,
            token_budget=PROMPT_TOKEN_BUDGET,
        )
        return Prepared(
            user_id=user_id,
            chat_id=chat_id,
            question=question,
            intent=intent,
            coins=coins,
            timeframe=timeframe,
            views=views,
            decision=decision,
            conversation=conversation,
            messages=messages,
            translator=t,
            facts=facts_from_views(views, f"{block}\n{question}"),  # the user's own numbers may be quoted
            comparison=comparison,
        )

    def _unknown_coin(self, question: str, intent: Intent, bases: set[str]) -> Refusal | None:
        """A coin-like word that no exchange lists ("how is FOOBARCOIN doing?", "$SOLL", "BTC vs FOOBAR"):
        said to be unknown, with the nearest listed coins, before anything is charged — never answered
        with the conversation's last coin."""
        unknown = asked_unknown_coins(question, bases, names_a_coin=bool(intent.coins))
        if not unknown:
            return None
        return Refusal(
            reason="unknown_coin",
            query=unknown[0],
            suggestions=near_matches(unknown[0], bases),
            exchanges=tuple(exchange_name(exchange) for exchange in self.market.exchanges),
        )

    async def stream(self, prepared: Prepared) -> AsyncGenerator[ChatEvent, None]:
        """Deltas of the answer, then `Done`, every number checked (`services.chat.numbers`): one the
        data does not explain is marked as unverified, in the streamed text and in the final answer."""
        t = prepared.translator
        label = t("numbers-unverified")
        verifier = StreamVerifier(prepared.facts, label=label)
        async with aclosing(self._answer_events(prepared)) as events:
            async for event in events:
                if isinstance(event, Delta):
                    shown = verifier.feed(event.text)
                    if shown:
                        yield Delta(shown)
                elif isinstance(event, Restart):
                    verifier = StreamVerifier(prepared.facts, label=label)
                    yield event
                else:
                    rest = verifier.finish()
                    if rest:
                        yield Delta(rest)
                    checked = verify_answer(event.answer.text, prepared.facts, label=label)
                    self.numbers.add(checked)
                    if checked.has_unverified:
                        log.info("answer with %d unverified number(s): %s", len(checked.unverified), checked.unverified)
                        text = f"{checked.text}\n\n{t('numbers-note')}"
                        event = Done(replace(event.answer, text=text))
                    yield event

    async def _answer_events(self, prepared: Prepared) -> AsyncGenerator[ChatEvent, None]:
        """Deltas of the answer, then `Done`. An LLM failure turns into the labelled rule-based answer."""
        if self.llm is None:
            text = _rules(prepared, fallback=False)
            yield Delta(text)
            yield Done(Answer(text=text, source="rules"))
            return
        parts: list[str] = []
        usage: Usage | None = None
        events = self.llm.stream_chat(
            prepared.messages, model=self.model, max_tokens=ANSWER_MAX_TOKENS, temperature=TEMPERATURE
        )
        try:
            # Closed on leaving, whatever the way (a stop closes this generator at a yield): the
            # model's HTTP stream ends at once, not when the garbage collector gets to it.
            async with aclosing(guarded(events, _leak_guard(prepared))) as safe:
                async for event in safe:
                    if isinstance(event, TextDelta):
                        parts.append(event.text)
                        yield Delta(event.text)
                    else:
                        usage = event
        except PromptLeak as leak:
            log.warning(
                "prompt leak blocked (%s) in chat %s: the answer was replaced after %d safe characters",
                leak.what,
                prepared.chat_id,
                leak.shown_chars,
            )
            if parts:
                yield Restart()
            text = prepared.translator("chat-leak-refused")
            yield Delta(text)
            yield Done(Answer(text=text, source="refused"))
            return
        except LLMError as exc:
            log.warning("LLM failed (%s), answering with the rule-based analyst", exc)
            if parts:
                yield Restart()
            text = _rules(prepared, fallback=True)
            yield Delta(text)
            yield Done(Answer(text=text, source="rules_fallback"))
            return
        text = "".join(parts).strip()
        if not text:
            text = _rules(prepared, fallback=True)
            yield Restart()
            yield Delta(text)
            yield Done(Answer(text=text, source="rules_fallback"))
            return
        yield Done(Answer(text=text, source="llm", usage=usage, model=usage.model if usage else self.model))

    @asynccontextmanager
    async def answering(self, session: AsyncSession, prepared: Prepared) -> AsyncIterator[Answering]:
        """The answer's charge lifecycle. The handler streams and delivers inside the block and calls
        `answering.delivered(answer)` once the answer reached the chat. Leaving the block always
        settles: a delivered answer is remembered (not a refusal) and charged when `answer.charged`
        (not the rule-based fallback after an LLM failure, a refusal or a stopped answer); anything
        else — not delivered, an exception, a cancellation — releases the reservation.
        `answering.settled` has the result."""
        turn = Answering(prepared=prepared)
        async with charged(self.charge, session, prepared.decision) as charge:
            yield turn
            answer = turn.answer
            if answer is not None:
                if answer.source != "refused" and answer.text.strip():
                    await self._remember(session, prepared, answer)
                if answer.charged:
                    charge.succeed()
        turn.settled = charge.result

    def stopped(self, shown: str) -> Answer:
        """The answer the user stopped, as far as it was shown (never charged)."""
        return Answer(text=shown, source="llm" if self.llm is not None else "rules", stopped=True)

    @property
    def renew_every(self) -> float:
        """Seconds between renewals of a waiting question's reservation (`renew`)."""
        return self.charge.renew_every

    async def renew(self, session: AsyncSession, prepared: Prepared) -> bool:
        """Keep a waiting question's reservation a full lifetime from now (the credits policy's
        `renew`). A database error is logged, not raised: the question still gets its answer, and
        at worst the sweeper gives its reservation back (the answer is then free)."""
        try:
            return await self.charge.renew(session, prepared.decision)
        except SQLAlchemyError as exc:
            await session.rollback()
            log.warning("could not renew the reservation of question %s: %s", prepared.decision.question_ref, exc)
            return False

    async def give_back(self, session: AsyncSession, prepared: Prepared) -> None:
        """The prepared question will not be answered (dropped while it waited for its turn): its
        reservation is released now, not when it expires."""
        async with charged(self.charge, session, prepared.decision):
            pass

    async def _remember(self, session: AsyncSession, prepared: Prepared, answer: Answer) -> None:
        """Stage the exchange in the conversation (committed with the charge's settle)."""
        conversation_id = prepared.conversation.id
        if conversation_id is None:
            return
        now = utcnow()
        memory.record_exchange(
            session,
            conversation_id,
            now,
            prepared.question,
            answer.text,
            question_tokens=answer.usage.prompt_tokens if answer.usage else estimate_tokens(prepared.question),
            answer_tokens=answer.usage.completion_tokens if answer.usage else estimate_tokens(answer.text),
            model=answer.model if answer.source == "llm" else f"rules:{answer.source}",
        )
        await memory.touch(session, conversation_id, now, ",".join(prepared.coins), prepared.timeframe)


def _comparison(views: list[MarketView]) -> Comparison | None:
    """Two or three coins in one question are compared (one table, one chart), not analysed one by one."""
    if len(views) < 2:
        return None
    try:
        return compare(views)
    except NotEnoughData:
        return None  # no shared candles: each coin on its own


def _rules(prepared: Prepared, *, fallback: bool) -> str:
    """The rule-based answer: the comparison's when there is one, else each coin's analysis."""
    if prepared.comparison is not None:
        return comparison_answer(prepared.translator, prepared.comparison, fallback=fallback)
    return rule_based_answer(prepared.translator, prepared.views, fallback=fallback)


def _leak_guard(prepared: Prepared) -> LeakGuard:
    """A guard against the model reproducing this request's system prompt or the canary in it."""
    system = "\n".join(m["content"] for m in prepared.messages if m.get("role") == "system")
    return LeakGuard(system, canary())
