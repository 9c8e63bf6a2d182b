"""A question's reservation expires after the longest the answer can take, from the LLM settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.factory import build_resources
from bot.settings import load_settings
from services.credits.config import answer_hold_ttl


def test_every_attempt_timing_out_plus_the_margin() -> None:
    assert answer_hold_ttl(60.0, 2, 120.0) == timedelta(seconds=300)
    assert answer_hold_ttl(2.5, 0, 0.0) == timedelta(seconds=2.5)


@pytest.mark.parametrize(("timeout", "retries", "margin"), [(0.0, 2, 10.0), (5.0, -1, 10.0), (5.0, 1, -1.0)])
def test_impossible_inputs_are_refused(timeout: float, retries: int, margin: float) -> None:
    with pytest.raises(ValueError):
        answer_hold_ttl(timeout, retries, margin)


async def test_the_app_derives_it_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        llm_timeout=7.0,
        llm_max_retries=1,
        hold_margin_seconds=5.0,
    )
    resources = build_resources(settings)
    try:
        assert resources.services.credits_config.hold_ttl == timedelta(seconds=19)
    finally:
        await resources.close()
