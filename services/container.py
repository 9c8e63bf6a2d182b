"""The typed service container: every app-wide service the handlers use, built once by the
composition root (bot/factory.py) and put in the dispatcher's workflow data.

Handlers take what they use by name (`market: MarketService`, `chat_service: ChatService`, …): the
workflow data holds the container as `services` and each of its fields under the field's name, so
both spellings are typed and there is one source for them. Handlers never import the composition
root or the settings; what they need of the configuration (`admin_ids`) is a field here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from services.admin.prices import ModelPrice
from services.admin.throttled import RateLimitLog
from services.chat import AnswerGate, AnswerSlots, ChatService
from services.chat.stops import RunningAnswers
from services.credits.config import CreditsConfig
from services.delivery import OutboxWake
from services.feeds.access import AdminCache
from services.i18n import Translations
from services.kv import KeyValueStore
from services.llm import LLMService
from services.market import MarketService
from services.market.chart_cache import ChartCache
from services.ratelimit import Backlog
from services.risk import RiskConfig, RiskEngine
from services.signals.engine import SignalEngine


@dataclass(frozen=True, kw_only=True)
class Services:
    translations: Translations
    store: KeyValueStore
    market: MarketService
    chart_cache: ChartCache
    llm: LLMService | None
    chat_service: ChatService
    answer_gate: AnswerGate
    answer_slots: AnswerSlots  # analyst answers running at once (ANSWER_CONCURRENCY), first come first served
    credits_config: CreditsConfig
    admin_ids: frozenset[int]
    llm_prices: dict[str, ModelPrice] = field(default_factory=dict)  # LLM_PRICES, for /stats
    rate_limits: RateLimitLog | None = None  # Telegram's 429s per minute (the limiter notes them), for /stats
    # Replies waiting in this process's outgoing limiter (it counts them): answers skip previews in a burst.
    backlog: Backlog
    feed_admins: AdminCache  # chat admin checks for feed changes, cached briefly
    # Set after a commit that enqueued deliveries (`enqueue(..., wake=)`): the outbox sender looks now.
    outbox_wake: OutboxWake = field(default_factory=OutboxWake)
    risk_config: RiskConfig  # liquidation rates and warning steps (positions), alert checks
    risk: RiskEngine  # the scheduler's risk tick and scans
    signals: SignalEngine  # the strategy at the scans' candle closes, for what signals feeds follow
    # Analyst answers being written in this process, for the Stop buttons (drafts' and inline).
    running_answers: RunningAnswers = field(default_factory=RunningAnswers)
    # Track record (/performance, digest): no figure below this many graded signals (PERFORMANCE_MIN_SIGNALS).
    performance_min_signals: int = 20

    def workflow_data(self) -> dict[str, Any]:
        """`services` plus each field by name, for aiogram's keyword injection."""
        data: dict[str, Any] = {field.name: getattr(self, field.name) for field in fields(self)}
        data["services"] = self
        return data

    def is_admin(self, telegram_id: int | None) -> bool:
        return telegram_id is not None and telegram_id in self.admin_ids
