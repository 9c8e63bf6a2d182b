"""Which ccxt exchange ids exist, known without importing ccxt.

`import ccxt` runs its package `__init__`, which loads every exchange it has (~0.5 s of CPU, ~70 MB):
too much for checking the settings at start. Each id is a module `ccxt/async_support/<id>.py`, so the
package is located (`find_spec` does not execute it) and the file looked up. tests/unit/test_settings.py
checks that this gives exactly `ccxt.exchanges`.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

EXCHANGE_ID_SHAPE = re.compile(r"[a-z0-9]+")


@cache
def ccxt_exchanges_dir() -> Path | None:
    """ccxt's `async_support` folder (None when ccxt is not installed)."""
    spec = importlib.util.find_spec("ccxt")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "async_support"


def is_ccxt_exchange(exchange_id: str) -> bool:
    folder = ccxt_exchanges_dir()
    return (
        folder is not None
        and EXCHANGE_ID_SHAPE.fullmatch(exchange_id) is not None
        and (folder / f"{exchange_id}.py").is_file()
    )
