"""The deployment files keep migrations a single explicit step (the bot image never migrates)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_runs_only_the_bot() -> None:
    commands = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")]
    assert commands == ['CMD ["python", "-m", "bot"]']


def test_compose_migrates_once_before_the_bot() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    services = dict(re.findall(r"^  (\w+):\n((?:    .*\n|\n)*)", compose.split("\nservices:\n", 1)[1], re.M))
    assert 'command: ["python", "-m", "bot", "migrate"]' in services["migrate"]
    assert 'restart: "no"' in services["migrate"]
    bot = services["bot"]
    assert re.search(r"depends_on:\n      migrate:\n        condition: service_completed_successfully", bot)
    assert "command:" not in bot  # the image's CMD: the bot only


def test_make_run_migrates_then_starts_the_bot() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run: .*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe is not None
    assert recipe.group(1).split("\n")[:2] == ["\t$(BIN)/python -m bot migrate", "\t$(BIN)/python -m bot"]
