"""Recorded OHLCV candles from files, for the backtest: the common layouts, detected from the content.

- ccxt lists JSON (`fetch_ohlcv`'s result) and freqtrade JSON: `[[ts, open, high, low, close, volume], ...]`
  (volume may be null).
- jesse JSON: rows `[ts, open, close, high, low, volume]` (jesse's column order). A bare list of
  rows is read as jesse's when the ccxt order is impossible (a high below the close or a low above
  it somewhere) and jesse's order is consistent; `layout="jesse"` forces it. A JSON object may hold
  several named series (`{"series": {name: rows}}`, or `{name: rows}`) and name its columns
  (`"_columns"`/`"columns"`: timestamp, open, high, low, close, volume in any order).
- header CSV: a header row naming date/time/timestamp, open, high, low, close and (optionally) volume
  columns, case-insensitive, after any banner lines (CryptoDataDownload's); several assets in one
  file as `BTC:open, BTC:high, …` give one series each. Dates are epoch seconds or milliseconds, ISO
  (`2019-07-04 01:00`, `2014-11-28`) or CryptoDataDownload's `2019-10-17 09-AM`; UTC unless stated.

Every series comes out oldest first, one row per timestamp (a duplicate keeps the first), rows with
a missing price dropped. Timestamps are candle open times in ms (seconds are recognised and scaled).
The timeframe is the most common spacing of the timestamps; the symbol is the CSV's symbol column
or the file name (freqtrade's `ETH_BTC-5m` → ETH/BTC). Unusable files raise `CandleFileError`
naming the file and the problem.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from services.market import Candles

Layout = Literal["auto", "ccxt", "jesse"]
MIN_CANDLES = 2
CCXT_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
JESSE_COLUMNS = ("timestamp", "open", "close", "high", "low", "volume")
TIME_COLUMNS = ("timestamp", "date", "datetime", "time", "open_time", "unix", "")
DATE_FORMATS = ("%Y-%m-%d %I-%p", "%Y-%m-%d %H-%M", "%m/%d/%Y %H:%M", "%m/%d/%Y")
QUOTES = ("USDT", "USDC", "BUSD", "USD", "EUR", "BTC", "ETH")
_STEPS = {
    60_000: "1m",
    180_000: "3m",
    300_000: "5m",
    900_000: "15m",
    1_800_000: "30m",
    3_600_000: "1h",
    7_200_000: "2h",
    14_400_000: "4h",
    21_600_000: "6h",
    28_800_000: "8h",
    43_200_000: "12h",
    86_400_000: "1d",
    604_800_000: "1w",
}


class CandleFileError(ValueError):
    """A file that holds no usable candles; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class CandleSeries:
    source: str  # file (and series name inside it)
    symbol: str  # the pair as named by the file ("ETH/BTC", "BTCUSD")
    coin: str  # its base ("ETH", "BTC")
    timeframe: str  # from the spacing ("5m", "1h", "8h" …)
    candles: Candles


def load_candles(path: Path, *, layout: Layout = "auto") -> list[CandleSeries]:
    """The series in one file (.json or .csv)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CandleFileError(f"{path}: cannot read it ({exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        raw = list(_json_series(path, text, layout))
    elif suffix == ".csv":
        raw = list(_csv_series(path, text))
    else:
        raise CandleFileError(f"{path}: not a .json or .csv file")
    if not raw:
        raise CandleFileError(f"{path}: no candle rows found")
    return [_series(path, name, symbol, rows) for name, symbol, rows in raw]


def candle_paths(path: Path) -> list[Path]:
    """`path` itself, or every .json/.csv under a folder (sorted)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in (".json", ".csv") and p.is_file())
    if not path.exists():
        raise CandleFileError(f"{path}: no such file or folder")
    return [path]


def coin_of(symbol: str) -> str:
    base = re.split(r"[/:_\- ]", symbol.upper())[0]
    for quote in QUOTES:
        if base.endswith(quote) and len(base) > len(quote):
            return base[: -len(quote)]
    return base


def timeframe_of(timestamps: np.ndarray) -> str:
    steps = np.diff(timestamps)
    step = Counter(steps.tolist()).most_common(1)[0][0] if len(steps) else 0
    return _STEPS.get(int(step), f"{int(step) // 1000}s")


# --------------------------------------------------------------------------- JSON
def _json_series(path: Path, text: str, layout: Layout) -> Iterator[tuple[str, str, np.ndarray]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CandleFileError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    symbol = _symbol_of_name(path.stem)
    if isinstance(doc, list):
        yield path.name, symbol, _ordered(path, path.name, doc, _columns(doc, layout))
        return
    if not isinstance(doc, dict):
        raise CandleFileError(f"{path}: expected a list of rows or an object of named series")
    named = doc.get("columns", doc.get("_columns"))
    series = doc.get("series", doc.get("data", {k: v for k, v in doc.items() if not k.startswith("_")}))
    if not isinstance(series, dict):
        series = {path.stem: series}
    for name, rows in series.items():
        if not isinstance(rows, list):
            continue
        columns = _named_columns(path, named) if named else _columns(rows, layout)
        yield f"{path.name}:{name}", symbol, _ordered(path, name, rows, columns)


def _named_columns(path: Path, names: Any) -> tuple[str, ...]:
    aliases = {"timestamp_ms_utc": "timestamp", "date": "timestamp", "time": "timestamp"}
    columns = tuple(aliases.get(str(name).lower(), str(name).lower()) for name in names)
    if not set(CCXT_COLUMNS[:5]) <= set(columns):
        raise CandleFileError(f"{path}: columns {list(names)} lack one of timestamp, open, high, low, close")
    return columns


def _columns(rows: Sequence[Any], layout: Layout) -> tuple[str, ...]:
    if layout == "jesse":
        return JESSE_COLUMNS
    if layout == "ccxt":
        return CCXT_COLUMNS
    try:
        table = np.array([[math.nan if v is None else v for v in row[1:5]] for row in rows], dtype=float)
    except (TypeError, ValueError, IndexError):
        return CCXT_COLUMNS  # the row check below names the problem
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] != 4:
        return CCXT_COLUMNS
    o, h, lo, c = table.T
    ccxt_ok = bool(np.nanmin(h - np.fmax(o, c)) >= 0 and np.nanmin(np.fmin(o, c) - lo) >= 0)
    o, c, h, lo = table.T  # jesse: open, close, high, low
    jesse_ok = bool(np.nanmin(h - np.fmax(o, c)) >= 0 and np.nanmin(np.fmin(o, c) - lo) >= 0)
    return JESSE_COLUMNS if jesse_ok and not ccxt_ok else CCXT_COLUMNS


def _ordered(path: Path, name: str, rows: Sequence[Any], columns: tuple[str, ...]) -> np.ndarray:
    """(n, 6) rows in the ccxt order: timestamp, open, high, low, close, volume (NaN kept for now)."""
    index = [columns.index(c) if c in columns else -1 for c in CCXT_COLUMNS]
    out = np.full((len(rows), 6), math.nan)
    for i, row in enumerate(rows):
        if not isinstance(row, list | tuple) or len(row) < 5:
            raise CandleFileError(f"{path}: {name} row {i + 1} is not a list of at least 5 numbers")
        for j, k in enumerate(index):
            value = row[k] if 0 <= k < len(row) else None
            try:
                out[i, j] = math.nan if value is None else float(value)
            except (TypeError, ValueError):
                raise CandleFileError(f"{path}: {name} row {i + 1} has a non-number {value!r}") from None
    return out


# --------------------------------------------------------------------------- CSV
def _csv_series(path: Path, text: str) -> Iterator[tuple[str, str, np.ndarray]]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if {"open", "close"} <= _header_words(line)), None)
    if start is None:
        raise CandleFileError(f"{path}: no header row naming open/high/low/close columns")
    table = list(csv.reader(lines[start:]))
    header = [cell.strip().lower() for cell in table[0]]
    body = [row for row in table[1:] if any(cell.strip() for cell in row)]
    time_col = next((header.index(name) for name in TIME_COLUMNS if name in header), None)
    if time_col is None:
        raise CandleFileError(f"{path}: no date/time/timestamp column in the header")
    stamps = np.array([_stamp(path, row[time_col] if time_col < len(row) else "") for row in body])
    prefixes = sorted({h.split(":")[0] for h in header if ":" in h and h.split(":")[1] == "close"})
    symbol_col = header.index("symbol") if "symbol" in header else None
    for prefix in prefixes or [""]:
        lead = f"{prefix}:" if prefix else ""
        cols = [_column(path, header, lead + name) for name in ("open", "high", "low", "close")]
        volume = _volume_column(header, lead)
        out = np.full((len(body), 6), math.nan)
        out[:, 0] = stamps
        for i, row in enumerate(body):
            for j, col in enumerate([*cols, volume], start=1):
                out[i, j] = _number(row, col)
        symbol = prefix.upper() or (body[0][symbol_col] if symbol_col is not None and body else "")
        yield f"{path.name}{':' + prefix.upper() if prefix else ''}", symbol or _symbol_of_name(path.stem), out


def _header_words(line: str) -> set[str]:
    return {cell.strip().lower().split(":")[-1] for cell in line.split(",")}


def _column(path: Path, header: list[str], name: str) -> int:
    if name not in header:
        raise CandleFileError(f"{path}: no {name!r} column in the header")
    return header.index(name)


def _volume_column(header: list[str], lead: str) -> int | None:
    names = [h for h in header if h.startswith(lead + "volume")]
    base = [h for h in names if h != lead + "volume" and not h.endswith(("usd", "usdt", "to", "quote"))]
    preferred = base or ([lead + "volume"] if lead + "volume" in names else [])
    return header.index(preferred[0]) if preferred else None


def _number(row: list[str], col: int | None) -> float:
    if col is None or col >= len(row) or not row[col].strip():
        return math.nan
    try:
        return float(row[col])
    except ValueError:
        return math.nan


def _stamp(path: Path, value: str) -> float:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    for parse in (datetime.fromisoformat, *(lambda v, f=f: datetime.strptime(v, f) for f in DATE_FORMATS)):
        try:
            moment = parse(value)
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000
    raise CandleFileError(f"{path}: cannot read the date {value!r}")


# --------------------------------------------------------------------------- common
def _symbol_of_name(stem: str) -> str:
    pair = re.split(r"[-.]", stem)[0]
    parts = [part for part in pair.split("_") if part]
    if len(parts) >= 2 and all(part.isalnum() and part.isupper() for part in parts[:2]):
        return f"{parts[0]}/{parts[1]}" + (f":{parts[2]}" if len(parts) > 2 and parts[2].isupper() else "")
    return stem


def _series(path: Path, name: str, symbol: str, rows: np.ndarray) -> CandleSeries:
    rows = rows[np.isfinite(rows[:, :5]).all(axis=1)]
    if len(rows) < MIN_CANDLES:
        raise CandleFileError(f"{path}: {name} has fewer than {MIN_CANDLES} complete candles")
    if (rows[:, 1:5] <= 0).any():
        raise CandleFileError(f"{path}: {name} has prices ≤ 0 (not OHLC candles, e.g. a funding-rate file)")
    if rows[:, 0].max() < 1e11:  # epoch seconds
        rows[:, 0] *= 1000
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    rows = rows[np.concatenate(([True], np.diff(rows[:, 0]) > 0))]
    rows[:, 5] = np.nan_to_num(rows[:, 5], nan=0.0)
    bad = (rows[:, 2] < np.maximum(rows[:, 1], rows[:, 4]) - 1e-9) | (
        rows[:, 3] > np.minimum(rows[:, 1], rows[:, 4]) + 1e-9
    )
    if bad.any():
        first = datetime.fromtimestamp(rows[bad][0, 0] / 1000, UTC)
        raise CandleFileError(
            f"{path}: {name} has {int(bad.sum())} rows whose high/low do not contain open/close "
            f"(first at {first:%Y-%m-%d %H:%M})"
        )
    timeframe = timeframe_of(rows[:, 0].astype(np.int64))
    candles = Candles.from_array(rows, exchange="recorded", symbol=symbol, timeframe=timeframe)
    return CandleSeries(source=name, symbol=symbol, coin=coin_of(symbol), timeframe=timeframe, candles=candles)
