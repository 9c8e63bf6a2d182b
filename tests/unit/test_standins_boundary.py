"""The local stand-ins stay out of the product: an import rule checked over the source tree.

- Product packages (bot, handlers, services, db, migrations) never import `standins`, except
  bot/console.py, and there only inside functions (or under `if TYPE_CHECKING:`), so the production
  path (`python -m bot`, polling, webhook) never loads it and the image can leave it out.
- Whoever uses the stand-ins (console mode, tests) imports their public API only: the packages
  `standins.telegram`, `standins.exchanges`, the modules `standins.openai_server`, `standins.demo`,
  and only names those list in `__all__`.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "services", "db", "migrations")
LAZY_ALLOWED = {"bot/console.py"}
PUBLIC_MODULES = {"standins.telegram", "standins.exchanges", "standins.openai_server", "standins.demo"}


def _imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement with whether it runs at module import time."""

    def visit(node: ast.AST, eager: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, eager
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(child, False)
            elif isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                for stmt in child.body:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), eager)
            else:
                yield from visit(child, eager)

    yield from visit(tree, True)


def _targets(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    """(module, imported name) pairs; name None for `import x.y`."""
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names]
    if node.level:  # relative imports stay inside their own package
        return []
    return [(node.module or "", alias.name) for alias in node.names]


def product_violations(relative: str, source: str) -> list[str]:
    """Imports of `standins` in a product module that break the rule."""
    found = []
    for node, eager in _imports(ast.parse(source)):
        for module, _name in _targets(node):
            if module != "standins" and not module.startswith("standins."):
                continue
            if relative in LAZY_ALLOWED and not eager:
                continue
            where = "at module level" if eager else "(only bot/console.py may, inside a function)"
            found.append(f"{relative}:{node.lineno} imports {module} {where}")
    return found


def private_api_uses(relative: str, source: str) -> list[str]:
    """Imports reaching past the stand-ins' public API."""
    found = []
    for node, _eager in _imports(ast.parse(source)):
        for module, name in _targets(node):
            if module == "standins" and name is not None:
                module, name = f"standins.{name}", None
            if not module.startswith("standins."):
                continue
            if module not in PUBLIC_MODULES:
                found.append(f"{relative}:{node.lineno} imports private module {module}")
            elif name is not None and name not in getattr(importlib.import_module(module), "__all__", ()):
                found.append(f"{relative}:{node.lineno} imports {name} from {module}, not in its __all__")
    return found


def _sources(*folders: str) -> Iterator[tuple[str, str]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_product_code_does_not_import_standins() -> None:
    violations = [v for relative, source in _sources(*PRODUCT) for v in product_violations(relative, source)]
    assert violations == []


def test_console_and_tests_use_the_public_api_only() -> None:
    violations = [v for relative, source in _sources("bot", "tests") for v in private_api_uses(relative, source)]
    assert violations == []


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("services/x.py", "from standins.telegram import FakeTelegramServer\n", "at module level"),
        ("handlers/x.py", "def f():\n    import standins.exchanges\n", "inside a function"),
        ("bot/console.py", "from standins.openai_server import FakeOpenAI\n", "at module level"),
        ("bot/runner.py", "if True:\n    from standins import telegram\n", "at module level"),
    ],
)
def test_product_rule_catches_each_kind_of_import(relative: str, source: str, expected: str) -> None:
    (violation,) = product_violations(relative, source)
    assert expected in violation


def test_product_rule_allows_lazy_and_type_checking_imports_in_console() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from standins.telegram import FakeMessage\n"
        "async def run():\n    from standins.telegram import FakeTelegramServer\n"
    )
    assert product_violations("bot/console.py", source) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from standins.telegram.state import FakeUser\n", "private module standins.telegram.state"),
        ("import standins.exchanges.base\n", "private module standins.exchanges.base"),
        ("from standins.telegram import TelegramState\n", "TelegramState from standins.telegram, not in its __all__"),
        ("from standins import telegram, harness\n", "private module standins.harness"),
    ],
)
def test_public_api_rule_catches_private_imports(source: str, expected: str) -> None:
    (violation,) = private_api_uses("tests/x.py", source)
    assert expected in violation


# That importing bot.console (as `python -m bot` does) loads no stand-in is checked in a fresh interpreter
# by tests/unit/test_start_imports.py, in the start-path interpreter it already spawns.
