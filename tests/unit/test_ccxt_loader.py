"""ccxt loaded one exchange at a time (services/market/ccxt_loader.py), in a fresh interpreter: only the
configured exchange's module is imported, the package names ccxt's own modules use are there, and the
client works against the fake exchange like a whole import would."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.e2e.conftest import ROOT

SCRIPT = textwrap.dedent(
    """
    import sys
    from services.market.ccxt_loader import errors, exchange_class

    bybit = exchange_class("bybit")
    loaded = sorted(name for name in sys.modules if name.startswith("ccxt.async_support.") and
                    name.count(".") == 2 and not name.endswith(".base"))
    import ccxt
    import ccxt.async_support
    print(bybit.__module__, loaded, "binance" in ccxt.async_support.__dict__)
    same_errors = ccxt.BaseError is errors().BaseError
    print(ccxt.Exchange.__name__, same_errors, bool(ccxt.__version__), "bybit" in ccxt.exchanges)
    try:
        exchange_class("nosuchexchange")
    except ValueError as exc:
        print("refused:", exc)
    """
)


def test_one_exchange_is_imported_not_all_of_them() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ccxt.async_support.bybit ['ccxt.async_support.bybit'] False"
    assert lines[1] == "Exchange True True True"
    assert lines[2] == "refused: unknown ccxt exchange id 'nosuchexchange'"
