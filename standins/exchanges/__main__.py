"""Run the fake exchanges standalone (for a bot process in e2e tests or by hand).

    python -m standins.exchanges [--bybit-port 0] [--binance-port 0]

Prints the `EXCHANGE_API_URLS=...` line to give the bot, then serves until interrupted. The clock
follows real time, so candles keep forming as they would on a live exchange.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from standins.exchanges.base import FakeClock, default_specs
from standins.exchanges.binance import FakeBinance
from standins.exchanges.bybit import FakeBybit


async def serve(bybit_port: int, binance_port: int) -> None:
    clock = FakeClock(frozen=False)
    bybit = FakeBybit(clock=clock, port=bybit_port)
    binance_specs = default_specs([*(s.base for s in default_specs()), "WIF", "PEPE"])
    binance = FakeBinance(binance_specs, clock=clock, port=binance_port)
    await bybit.start()
    await binance.start()
    print(f"EXCHANGE_API_URLS=bybit={bybit.url},binance={binance.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await bybit.close()
        await binance.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bybit-port", type=int, default=0)
    parser.add_argument("--binance-port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.bybit_port, args.binance_port))


if __name__ == "__main__":
    main()
