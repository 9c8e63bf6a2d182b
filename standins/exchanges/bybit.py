"""A fake Bybit v5 public REST server (the endpoints ccxt's bybit uses for market data).

Envelope and field formats follow real recorded responses: ``{"retCode": 0, "retMsg": "OK",
"result": {...}, "retExtInfo": {}, "time": <ms>}``, numbers as strings, kline lists newest first.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from standins.exchanges.base import FakeExchangeServer, Fault, SymbolSpec, fmt

INTERVALS = {"5": "5m", "15": "15m", "60": "1h", "240": "4h", "D": "1d", "W": "1w"}
OI_INTERVALS_MS = {"5min": 300_000, "15min": 900_000, "30min": 1_800_000, "1h": 3_600_000,
                   "4h": 14_400_000, "1d": 86_400_000}  # fmt: skip


class FakeBybit(FakeExchangeServer):
    name = "bybit"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v5/market/instruments-info", self.instruments_info),
            web.get("/v5/market/kline", self.kline),
            web.get("/v5/market/tickers", self.tickers),
            web.get("/v5/market/funding/history", self.funding_history),
            web.get("/v5/market/open-interest", self.open_interest),
            web.get("/v5/market/time", self.server_time),
        ]

    # ------------------------------------------------------------------ envelope
    def envelope(self, result: Any, *, code: int = 0, message: str = "OK") -> web.Response:
        body = {"retCode": code, "retMsg": message, "result": result, "retExtInfo": {}, "time": self.clock.ms()}
        return web.json_response(body)

    def error(self, code: int, message: str) -> web.Response:
        return self.envelope({}, code=code, message=message)

    def fault_response(self, fault: Fault) -> web.StreamResponse:
        kind = fault.kind
        if kind == "ratelimit":
            return self.error(10006, "Too many visits!")
        if kind == "http429":
            return web.Response(status=429, text="Too Many Requests")
        if kind == "ban":
            return web.Response(status=403, text="403 Forbidden: access too frequent")
        if kind == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if kind == "http502":
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        if kind == "http503":
            return web.Response(status=503, text="Service Unavailable")
        if kind == "malformed":
            return web.Response(
                text='{"retCode":0,"retMsg":"OK","result":{"list":[["17', content_type="application/json"
            )
        if kind == "empty":
            return web.Response(text="", content_type="application/json")
        if kind == "unknown_symbol":
            return self.error(10001, "Not supported symbols")
        raise ValueError(kind)

    def _spec(self, request: web.Request) -> SymbolSpec | None:
        category = request.query.get("category", "linear")
        if category not in ("spot", "linear"):
            return None
        return self.spec_for_id(request.query.get("symbol"), perp=category == "linear")

    # ------------------------------------------------------------------ endpoints
    async def server_time(self, request: web.Request) -> web.Response:
        now = self.clock.ms()
        return self.envelope({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    async def instruments_info(self, request: web.Request) -> web.Response:
        category = request.query.get("category", "")
        status = request.query.get("status")
        items: list[dict[str, Any]] = []
        if category == "spot":
            items = [self._spot_instrument(s) for s in self.book.specs.values() if s.spot]
        elif category == "linear" and status != "PreLaunch":
            items = [self._linear_instrument(s) for s in self.book.specs.values() if s.perp]
        result: dict[str, Any] = {"category": category, "list": items}
        if category != "spot":
            result["nextPageCursor"] = ""
        return self.envelope(result)

    def _spot_instrument(self, spec: SymbolSpec) -> dict[str, Any]:
        tick = _tick(spec.price)
        return {
            "symbol": spec.symbol_id,
            "baseCoin": spec.base,
            "quoteCoin": "USDT",
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": "0.000001",
                "quotePrecision": "0.0000001",
                "minOrderQty": "0.000011",
                "maxOrderQty": "83",
                "minOrderAmt": "5",
                "maxOrderAmt": "8000000",
            },
            "priceFilter": {"tickSize": tick},
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        }

    def _linear_instrument(self, spec: SymbolSpec) -> dict[str, Any]:
        tick = _tick(spec.price)
        return {
            "symbol": spec.symbol_id,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": spec.base,
            "quoteCoin": "USDT",
            "launchTime": "1584230400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(max(0, len(tick.split(".")[1]) if "." in tick else 0)),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
            "lotSizeFilter": {
                "maxOrderQty": "1190.000",
                "minOrderQty": "0.001",
                "qtyStep": "0.001",
                "postOnlyMaxOrderQty": "1190.000",
                "maxMktOrderQty": "119.000",
                "minNotionalValue": "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": spec.funding_interval_min,
            "settleCoin": "USDT",
            "copyTrading": "both",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "displayName": "",
        }

    async def kline(self, request: web.Request) -> web.Response:
        spec = self._spec(request)
        if spec is None:
            return self.error(10001, "Not supported symbols")
        timeframe = INTERVALS.get(request.query.get("interval", ""))
        if timeframe is None:
            return self.error(10001, "Invalid period!")
        limit = min(max(self.int_param(request, "limit") or 200, 1), 1000)
        rows = self.book.window(
            spec.base,
            timeframe,
            start=self.int_param(request, "start"),
            end=self.int_param(request, "end"),
            limit=limit,
            newest=False,
        )
        listed = [
            [str(int(r[0])), fmt(r[1]), fmt(r[2]), fmt(r[3]), fmt(r[4]), fmt(r[5], 4), fmt(r[5] * r[4], 4)]
            for r in rows[::-1]
        ]
        category = request.query.get("category", "linear")
        return self.envelope({"symbol": spec.symbol_id, "category": category, "list": listed})

    async def tickers(self, request: web.Request) -> web.Response:
        category = request.query.get("category", "")
        if category not in ("spot", "linear"):
            return self.envelope({"category": category, "list": []})
        symbol = request.query.get("symbol")
        if symbol is not None:
            spec = self._spec(request)
            if spec is None:
                return self.error(10001, "Not supported symbols")
            specs = [spec]
        else:
            specs = [s for s in self.book.specs.values() if (s.perp if category == "linear" else s.spot)]
        items = [self._ticker(s, category) for s in specs]
        return self.envelope({"category": category, "list": items})

    def _ticker(self, spec: SymbolSpec, category: str) -> dict[str, Any]:
        day = self.book.day_stats(spec.base)
        last = day["last"]
        common = {
            "symbol": spec.symbol_id,
            "bid1Price": fmt(last * 0.9999),
            "bid1Size": "2",
            "ask1Price": fmt(last * 1.0001),
            "ask1Size": "1.862172",
            "lastPrice": fmt(last),
            "prevPrice24h": fmt(day["prev"]),
            "price24hPcnt": fmt(day["pct"], 6),
            "highPrice24h": fmt(day["high"]),
            "lowPrice24h": fmt(day["low"]),
            "turnover24h": fmt(day["turnover"], 4),
            "volume24h": fmt(day["volume"], 4),
        }
        if category == "spot":
            return {**common, "usdIndexPrice": fmt(last * 1.0002)}
        now = self.clock.ms()
        interval = spec.funding_interval_min * 60_000
        return {
            **common,
            "indexPrice": fmt(last * 1.0002),
            "markPrice": fmt(last),
            "prevPrice1h": fmt(float(self.book.visible(spec.base, "1h")[-2, 4])),
            "openInterest": fmt(spec.open_interest, 3),
            "openInterestValue": fmt(spec.open_interest * last, 2),
            "fundingRate": fmt(spec.funding_rate, 8),
            "nextFundingTime": str((now // interval + 1) * interval),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "basis": "",
            "preOpenPrice": "",
            "preQty": "",
            "curPreListingPhase": "",
        }

    async def funding_history(self, request: web.Request) -> web.Response:
        spec = self._spec(request)
        if spec is None or request.query.get("category") != "linear":
            return self.error(10001, "Not supported symbols")
        interval = spec.funding_interval_min * 60_000
        end = self.int_param(request, "endTime") or self.clock.ms()
        limit = min(self.int_param(request, "limit") or 200, 200)
        last = end // interval * interval
        items = [
            {"symbol": spec.symbol_id, "fundingRate": fmt(spec.funding_rate, 8), "fundingRateTimestamp": str(ts)}
            for ts in range(last, last - limit * interval, -interval)
        ]
        start = self.int_param(request, "startTime")
        if start is not None:
            items = [i for i in items if int(i["fundingRateTimestamp"]) >= start]
        return self.envelope({"category": "linear", "list": items})

    async def open_interest(self, request: web.Request) -> web.Response:
        spec = self._spec(request)
        if spec is None or request.query.get("category") != "linear":
            return self.error(10001, "Not supported symbols")
        step = OI_INTERVALS_MS.get(request.query.get("intervalTime", ""))
        if step is None:
            return self.error(10001, "Invalid intervalTime")
        limit = min(self.int_param(request, "limit") or 50, 200)
        last = self.clock.ms() // step * step
        items = [
            {"openInterest": fmt(spec.open_interest * (1 - 0.001 * i), 8), "timestamp": str(last - i * step)}
            for i in range(limit)
        ]
        return self.envelope({"symbol": spec.symbol_id, "category": "linear", "list": items, "nextPageCursor": ""})


def _tick(price: float) -> str:
    """A plausible tick size: about 5 significant digits."""
    digits = max(0, 4 - int(f"{price:e}".split("e")[1]))
    return "1" if digits == 0 else "0." + "0" * (digits - 1) + "1"
