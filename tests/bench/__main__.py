"""`python -m tests.bench`: every benchmark, each printing its own table."""

from __future__ import annotations

import sys

from tests.bench import (
    bench_backtest,
    bench_chat,
    bench_intent,
    bench_load,
    bench_market,
    bench_numbers,
    bench_outbox,
    bench_risk,
    bench_signals,
)


def main() -> int:
    status = 0
    benches = (
        bench_market,
        bench_chat,
        bench_intent,
        bench_numbers,
        bench_outbox,
        bench_risk,
        bench_signals,
        bench_backtest,
    )
    for bench in (*benches, bench_load):
        print(f"\n=== {bench.__name__} ===")
        status |= bench.main()
    return status


if __name__ == "__main__":
    sys.exit(main())
