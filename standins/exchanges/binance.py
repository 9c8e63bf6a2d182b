"""A fake Binance public REST server: spot (`/api/v3`) and USDⓈ-M futures (`/fapi/v1`).

Used as the fallback exchange. Formats follow Binance's documented responses (the examples ccxt's
binance parser is written against): klines oldest first as arrays with integer times, tickers and
premium index as objects of decimal strings, errors as ``{"code": -1121, "msg": "Invalid symbol."}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from standins.exchanges.base import FakeExchangeServer, Fault, SymbolSpec, fmt

INTERVALS = {"5m": "5m", "15m": "15m", "1h": "1h", "4h": "4h", "1d": "1d", "1w": "1w"}
_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
]


class FakeBinance(FakeExchangeServer):
    name = "binance"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/exchangeInfo", self.spot_exchange_info),
            web.get("/fapi/v1/exchangeInfo", self.futures_exchange_info),
            web.get("/api/v3/klines", self.klines),
            web.get("/fapi/v1/klines", self.klines),
            web.get("/api/v3/ticker/24hr", self.ticker_24hr),
            web.get("/fapi/v1/ticker/24hr", self.ticker_24hr),
            web.get("/fapi/v1/premiumIndex", self.premium_index),
            web.get("/fapi/v1/openInterest", self.open_interest),
            web.get("/api/v3/time", self.server_time),
            web.get("/fapi/v1/time", self.server_time),
        ]

    @staticmethod
    def error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "msg": message}, status=status)

    def fault_response(self, fault: Fault) -> web.StreamResponse:
        kind = fault.kind
        if kind in ("ratelimit", "http429"):
            return self.error(429, -1003, "Too many requests; current limit of IP is 6000 requests per minute.")
        if kind == "ban":
            return self.error(418, -1003, "Way too much request weight used; IP banned until 1767225600000.")
        if kind == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if kind == "http502":
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        if kind == "http503":
            return self.error(503, -1001, "Internal error; unable to process your request. Please try again.")
        if kind == "malformed":
            return web.Response(text='[[1767225600000,"60000.1","60010', content_type="application/json")
        if kind == "empty":
            return web.Response(text="", content_type="application/json")
        if kind == "unknown_symbol":
            return self.error(400, -1121, "Invalid symbol.")
        raise ValueError(kind)

    def _spec(self, request: web.Request) -> SymbolSpec | None:
        return self.spec_for_id(request.query.get("symbol"), perp=request.path.startswith("/fapi"))

    async def server_time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.clock.ms()})

    async def spot_exchange_info(self, request: web.Request) -> web.Response:
        symbols = [self._spot_symbol(s) for s in self.book.specs.values() if s.spot]
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": self.clock.ms(),
                "rateLimits": _RATE_LIMITS,
                "exchangeFilters": [],
                "symbols": symbols,
            }
        )

    def _spot_symbol(self, spec: SymbolSpec) -> dict[str, Any]:
        return {
            "symbol": spec.symbol_id,
            "status": "TRADING",
            "baseAsset": spec.base,
            "baseAssetPrecision": 8,
            "quoteAsset": "USDT",
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": True,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.00000100",
                    "maxPrice": "1000000.00000000",
                    "tickSize": "0.00000100",
                },
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                {
                    "filterType": "NOTIONAL",
                    "minNotional": "5.00000000",
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT", "MARGIN"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    async def futures_exchange_info(self, request: web.Request) -> web.Response:
        symbols = [self._futures_symbol(s) for s in self.book.specs.values() if s.perp]
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": self.clock.ms(),
                "futuresType": "U_MARGINED",
                "rateLimits": _RATE_LIMITS,
                "exchangeFilters": [],
                "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
                "symbols": symbols,
            }
        )

    def _futures_symbol(self, spec: SymbolSpec) -> dict[str, Any]:
        return {
            "symbol": spec.symbol_id,
            "pair": spec.symbol_id,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": spec.base,
            "quoteAsset": "USDT",
            "marginAsset": "USDT",
            "pricePrecision": 2,
            "quantityPrecision": 3,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": ["PoW"],
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.10", "maxPrice": "4529764", "tickSize": "0.10"},
                {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            "permissionSets": ["GRID", "COPY"],
        }

    async def klines(self, request: web.Request) -> web.Response:
        spec = self._spec(request)
        if spec is None:
            return self.error(400, -1121, "Invalid symbol.")
        timeframe = INTERVALS.get(request.query.get("interval", ""))
        if timeframe is None:
            return self.error(400, -1120, "Invalid interval.")
        cap = 1500 if request.path.startswith("/fapi") else 1000
        limit = min(max(self.int_param(request, "limit") or 500, 1), cap)
        rows = self.book.window(
            spec.base,
            timeframe,
            start=self.int_param(request, "startTime"),
            end=self.int_param(request, "endTime"),
            limit=limit,
            newest=False,
        )
        step = int(rows[1, 0] - rows[0, 0]) if rows.shape[0] > 1 else 60_000
        body = [
            [int(r[0]), fmt(r[1]), fmt(r[2]), fmt(r[3]), fmt(r[4]), fmt(r[5], 5), int(r[0]) + step - 1,
             fmt(r[5] * r[4], 5), 1000, fmt(r[5] / 2, 5), fmt(r[5] * r[4] / 2, 5), "0"]
            for r in rows
        ]  # fmt: skip
        return web.json_response(body)

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        futures = request.path.startswith("/fapi")
        if request.query.get("symbol") is None:
            specs = [s for s in self.book.specs.values() if (s.perp if futures else s.spot)]
            return web.json_response([self._ticker(s, futures) for s in specs])
        spec = self._spec(request)
        if spec is None:
            return self.error(400, -1121, "Invalid symbol.")
        return web.json_response(self._ticker(spec, futures))

    def _ticker(self, spec: SymbolSpec, futures: bool) -> dict[str, Any]:
        day = self.book.day_stats(spec.base)
        now = self.clock.ms()
        last = day["last"]
        body: dict[str, Any] = {
            "symbol": spec.symbol_id,
            "priceChange": fmt(last - day["prev"]),
            "priceChangePercent": fmt(day["pct"] * 100, 3),
            "weightedAvgPrice": fmt(day["turnover"] / day["volume"] if day["volume"] else last),
            "lastPrice": fmt(last),
            "lastQty": "0.00731000",
            "openPrice": fmt(day["prev"]),
            "highPrice": fmt(day["high"]),
            "lowPrice": fmt(day["low"]),
            "volume": fmt(day["volume"], 5),
            "quoteVolume": fmt(day["turnover"], 5),
            "openTime": now - 86_400_000,
            "closeTime": now,
            "firstId": 5116031635,
            "lastId": 5117964946,
            "count": 1933312,
        }
        if not futures:
            body.update(
                {
                    "prevClosePrice": fmt(day["prev"]),
                    "bidPrice": fmt(last * 0.9999),
                    "bidQty": "7.15931000",
                    "askPrice": fmt(last * 1.0001),
                    "askQty": "0.09592000",
                }
            )
        return body

    async def premium_index(self, request: web.Request) -> web.Response:
        spec = self._spec(request)
        if spec is None:
            return self.error(400, -1121, "Invalid symbol.")
        now = self.clock.ms()
        interval = spec.funding_interval_min * 60_000
        last = self.book.last_price(spec.base)
        return web.json_response(
            {
                "symbol": spec.symbol_id,
                "markPrice": fmt(last),
                "indexPrice": fmt(last * 1.0002),
                "estimatedSettlePrice": fmt(last * 1.0001),
                "lastFundingRate": fmt(spec.funding_rate, 8),
                "interestRate": "0.00010000",
                "nextFundingTime": (now // interval + 1) * interval,
                "time": now,
            }
        )

    async def open_interest(self, request: web.Request) -> web.Response:
        spec = self._spec(request)
        if spec is None:
            return self.error(400, -1121, "Invalid symbol.")
        return web.json_response(
            {"openInterest": fmt(spec.open_interest, 3), "symbol": spec.symbol_id, "time": self.clock.ms()}
        )
