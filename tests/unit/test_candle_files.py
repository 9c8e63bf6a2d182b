"""Candle files in the common layouts (generated here, seeded), and one clear error per unusable file."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from services.signals.candle_files import CandleFileError, candle_paths, load_candles

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR_MS = 3_600_000


def candles(count: int, seed: int = 1, step_ms: int = HOUR_MS) -> list[list[float]]:
    """[ts, open, high, low, close, volume] rows, oldest first."""
    rng = random.Random(seed)
    price, rows = 100.0, []
    for index in range(count):
        close = price * (1 + rng.uniform(-0.02, 0.02))
        high = max(price, close) * (1 + rng.uniform(0, 0.01))
        low = min(price, close) * (1 - rng.uniform(0, 0.01))
        rows.append([int(T0.timestamp() * 1000) + index * step_ms, price, high, low, close, rng.uniform(1, 50)])
        price = close
    return rows


def as_array(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=float)


def test_ccxt_lists_json(tmp_path: Path) -> None:
    rows = candles(50)
    path = tmp_path / "BTC_USDT-1h.json"
    path.write_text(json.dumps(rows))
    [series] = load_candles(path)
    assert (series.symbol, series.coin, series.timeframe) == ("BTC/USDT", "BTC", "1h")
    assert np.allclose(series.candles.to_array(), as_array(rows))


def test_freqtrade_json_with_null_volume_and_a_futures_name(tmp_path: Path) -> None:
    rows = [[*row[:5], None] for row in candles(30, step_ms=5 * 60_000)]
    path = tmp_path / "XRP_USDT_USDT-5m-futures.json"
    path.write_text(json.dumps(rows))
    [series] = load_candles(path)
    assert (series.symbol, series.coin, series.timeframe) == ("XRP/USDT:USDT", "XRP", "5m")
    assert (series.candles.volume == 0).all()


def jesse_rows(rows: list[list[float]]) -> list[list[float]]:
    return [[ts, o, c, h, lo, v] for ts, o, h, lo, c, v in rows]


def test_jesse_json_named_series_and_columns(tmp_path: Path) -> None:
    four_hours, daily = candles(40, 2, 4 * HOUR_MS), candles(20, 3, 24 * HOUR_MS)
    doc = {
        "_columns": ["timestamp_ms_utc", "open", "close", "high", "low", "volume"],
        "series": {"eth": jesse_rows(four_hours), "sol": jesse_rows(daily)},
    }
    path = tmp_path / "jesse.json"
    path.write_text(json.dumps(doc))
    eth, sol = load_candles(path)
    assert (eth.source, eth.timeframe, sol.timeframe) == ("jesse.json:eth", "4h", "1d")
    assert np.allclose(eth.candles.to_array(), as_array(four_hours))
    assert np.allclose(sol.candles.to_array(), as_array(daily))


def test_jesse_order_detected_in_a_bare_list_or_forced(tmp_path: Path) -> None:
    rows = candles(60, 4)
    path = tmp_path / "candles.json"
    path.write_text(json.dumps(jesse_rows(rows)))
    assert np.allclose(load_candles(path)[0].candles.to_array(), as_array(rows))
    assert np.allclose(load_candles(path, layout="jesse")[0].candles.to_array(), as_array(rows))


def test_header_csv_with_banner_newest_first_and_12_hour_dates(tmp_path: Path) -> None:
    rows = candles(48, 5)
    lines = [
        "Timestamps are UTC timezone,https://www.CryptoDataDownload.com",
        "date,symbol,open,high,low,close,volume_btc,volume",
    ]
    for ts, o, h, lo, c, v in reversed(rows):
        stamp = datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%d %I-%p")
        lines.append(f"{stamp},BTCUSD,{o!r},{h!r},{lo!r},{c!r},{v!r},{v * c!r}")
    path = tmp_path / "Coinbase_BTCUSD_1h.csv"
    path.write_text("\n".join(lines) + "\n")
    [series] = load_candles(path)
    assert (series.symbol, series.coin, series.timeframe) == ("BTCUSD", "BTC", "1h")
    assert np.allclose(series.candles.to_array(), as_array(rows))  # base volume, oldest first


def test_header_csv_epoch_seconds_duplicates_and_blank_rows(tmp_path: Path) -> None:
    rows = candles(30, 6)
    lines = ["Timestamp,Open,High,Low,Close,Volume"]
    for ts, o, h, lo, c, v in [*rows, rows[3]]:
        lines.append(f"{ts // 1000},{o!r},{h!r},{lo!r},{c!r},{v!r}")
    lines.insert(5, ",,,,,")
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines))
    [series] = load_candles(path)
    assert len(series.candles) == 30 and np.allclose(series.candles.to_array(), as_array(rows))


def test_multi_asset_csv_gives_one_series_per_asset(tmp_path: Path) -> None:
    btc, eth = candles(20, 7, 24 * HOUR_MS), candles(20, 8, 24 * HOUR_MS)
    lines = [",BTC:open,BTC:high,BTC:low,BTC:close,BTC:volume,ETH:open,ETH:high,ETH:low,ETH:close,ETH:volume"]
    for index, (a, b) in enumerate(zip(btc, eth, strict=True)):
        day = (T0 + timedelta(days=index)).strftime("%Y-%m-%d")
        other = ",,,," if index < 5 else ",".join(repr(x) for x in b[1:])  # ETH listed later
        lines.append(f"{day}," + ",".join(repr(x) for x in a[1:]) + "," + other)
    path = tmp_path / "bitstamp_d.csv"
    path.write_text("\n".join(lines))
    got = {series.coin: series for series in load_candles(path)}
    assert set(got) == {"BTC", "ETH"} and got["BTC"].timeframe == "1d"
    assert np.allclose(got["BTC"].candles.to_array(), as_array(btc))
    assert np.allclose(got["ETH"].candles.to_array(), as_array(eth[5:]))


def test_a_folder_lists_its_candle_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("a.json", "sub/b.csv", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in candle_paths(tmp_path)] == ["a.json", "sub/b.csv"]
    with pytest.raises(CandleFileError, match="no such file"):
        candle_paths(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "[[1, 2,", "not valid JSON"),
        ("text.json", '"candles"', "expected a list of rows"),
        ("short.json", "[[1, 2, 3]]", "row 1 is not a list of at least 5 numbers"),
        ("word.json", '[[1, "a", 2, 3, 4, 5]]', "non-number 'a'"),
        ("funding.json", "[[1000000000000, 0.0001, 0, 0, 0, 0], [1000003600000, 0.0002, 0, 0, 0, 0]]", "prices ≤ 0"),
        ("one.json", "[[1000000000000, 1, 2, 0.5, 1.5, 3]]", "fewer than 2 complete candles"),
        ("inside.json", "[[1000000000000, 1, 2, 0.5, 3, 3], [1000003600000, 1, 2, 0.5, 1.5, 3]]", "do not contain"),
        ("noheader.csv", "1,2,3\n4,5,6\n", "no header row"),
        ("notime.csv", "open,high,low,close\n1,2,0.5,1.5\n", "no date/time/timestamp column"),
        ("date.csv", "date,open,high,low,close\nyesterday,1,2,0.5,1.5\n", "cannot read the date 'yesterday'"),
        ("candles.txt", "[]", "not a .json or .csv file"),
    ],
)
def test_unusable_files_raise_one_clear_error(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CandleFileError, match=message) as caught:
        load_candles(path)
    assert str(caught.value).startswith(str(path))
