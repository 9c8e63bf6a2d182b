"""/stats as plain data: a few aggregate statements (db/repositories/admin_stats.py), the LLM's
estimated cost from the configured prices (LLM_PRICES: `model=in/out` in USD per 1M tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import utcnow
from db.repositories.admin_stats import (
    AdminStatsRepository,
    FeedCounts,
    LedgerSums,
    ModelUsage,
    SignalCounts,
    StarsSums,
    UserCounts,
)
from services.admin.prices import ModelPrice
from services.admin.throttled import RateLimitLog

RULES_MODEL_PREFIX = "rules:"  # answers of the built-in analyst (no LLM call)
LLM_WINDOW_DAYS = 30


@dataclass(frozen=True)
class LlmUsage:
    requests: int  # answers written by an LLM (the built-in analyst's are not counted)
    prompt_tokens: int
    completion_tokens: int
    cost: float  # USD, for the models with a price
    unpriced: tuple[str, ...]  # models answered with but missing from LLM_PRICES
    rules_answers: int  # answers of the built-in analyst


@dataclass(frozen=True)
class AdminStats:
    now: datetime
    users: UserCounts
    plans: dict[str, int]
    questions_today: int
    questions_7d: int
    llm: LlmUsage  # the last LLM_WINDOW_DAYS days
    ledger: LedgerSums
    stars: StarsSums
    feeds: FeedCounts
    signals: SignalCounts
    signals_delivered: int
    backlog: int
    oldest_open_age: float  # seconds
    rate_limited_last_hour: int  # outbox rows waiting after a 429 received within the hour
    telegram_429_last_hour: int  # every 429 the outgoing limiter got within the hour (RateLimitLog)


def llm_usage(rows: list[ModelUsage], prices: Mapping[str, ModelPrice]) -> LlmUsage:
    llm = [row for row in rows if not row.model.startswith(RULES_MODEL_PREFIX)]
    cost = 0.0
    unpriced: list[str] = []
    for row in llm:
        price = prices.get(row.model)
        if price is None:
            unpriced.append(row.model)
            continue
        cost += (row.prompt_tokens * price.prompt + row.completion_tokens * price.completion) / 1_000_000
    return LlmUsage(
        requests=sum(row.requests for row in llm),
        prompt_tokens=sum(row.prompt_tokens for row in llm),
        completion_tokens=sum(row.completion_tokens for row in llm),
        cost=cost,
        unpriced=tuple(unpriced),
        rules_answers=sum(row.requests for row in rows if row.model.startswith(RULES_MODEL_PREFIX)),
    )


async def collect_stats(
    session: AsyncSession,
    prices: Mapping[str, ModelPrice],
    now: datetime | None = None,
    *,
    rate_limits: RateLimitLog | None = None,
) -> AdminStats:
    """Everything /stats shows, read in one transaction (ended before the caller replies); the
    429 count comes from the key-value store, read after the transaction ended."""
    now = now or utcnow()
    day_start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = now - timedelta(days=7)
    repository = AdminStatsRepository(session)
    users = await repository.users(day_start, now)
    plans = await repository.plans(now)
    questions_today, questions_7d = await repository.questions(day_start, week_start)
    models = await repository.model_usage(now - timedelta(days=LLM_WINDOW_DAYS))
    ledger = await repository.ledger()
    stars = await repository.stars()
    feeds = await repository.feeds()
    signals = await repository.signals(week_start)
    outbox = await repository.outbox(now - timedelta(hours=1))
    await session.commit()  # end the read: no connection held while the caller replies
    telegram_429 = await rate_limits.last_hour() if rate_limits is not None else 0
    oldest = (now - outbox.oldest_open_at).total_seconds() if outbox.oldest_open_at is not None else 0.0
    return AdminStats(
        now=now,
        users=users,
        plans=plans,
        questions_today=questions_today,
        questions_7d=questions_7d,
        llm=llm_usage(models, prices),
        ledger=ledger,
        stars=stars,
        feeds=feeds,
        signals=signals,
        signals_delivered=outbox.signals_delivered,
        backlog=outbox.backlog,
        oldest_open_age=max(0.0, oldest),
        rate_limited_last_hour=outbox.rate_limited_last_hour,
        telegram_429_last_hour=telegram_429,
    )
