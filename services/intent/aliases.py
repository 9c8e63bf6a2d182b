"""Coin names and nicknames, English and Chinese (data; extend freely).

`COINS` maps a base ticker to the names people use for it. English names are matched
case-insensitively as whole words (spaces in a name match any run of spaces or a hyphen);
Chinese names are matched anywhere, longest first (比特币现金 before 比特币). A name that is also
an everyday word ("stellar", "maker", "compound", "the graph") is deliberately left out: the ticker
still works. `SUCCESSORS` lists the tickers a coin traded under before or after a rename; the first
one the exchanges list is used.
"""

from __future__ import annotations

__all__ = ["COINS", "CONTEXT_AFTER", "CONTEXT_AFTER_WEAK", "QUOTES", "STABLECOINS", "SUCCESSORS"]

COINS: dict[str, tuple[str, ...]] = {
    "BTC": ("bitcoin", "xbt", "比特币", "大饼", "比特幣"),
    "ETH": ("ethereum", "ether", "以太坊", "以太", "姨太", "二饼", "以太币", "以太幣"),
    "BNB": ("binance coin", "币安币", "幣安幣"),
    "SOL": ("solana", "索拉纳", "索拉拉"),
    "XRP": ("ripple", "瑞波", "瑞波币", "瑞波幣"),
    "DOGE": ("dogecoin", "狗狗币", "狗狗幣", "狗狗", "狗币"),
    "ADA": ("cardano", "艾达", "艾达币", "卡尔达诺"),
    "TRX": ("tron", "波场", "波场币", "波場"),
    "TON": ("toncoin", "电报币"),
    "AVAX": ("avalanche coin", "雪崩币", "雪崩协议"),
    "SHIB": ("shiba inu", "shiba", "shibainu", "柴犬币", "屎币", "柴犬"),
    "DOT": ("polkadot", "波卡"),
    "LINK": ("chainlink",),
    "BCH": ("bitcoin cash", "比特币现金", "比特现金", "比特币现金币"),
    "LTC": ("litecoin", "莱特币", "莱特", "萊特幣"),
    "NEAR": ("near protocol",),
    "POL": ("polygon", "matic", "马蹄", "马蹄币"),
    "UNI": ("uniswap",),
    "ICP": ("internet computer", "互联网计算机"),
    "ETC": ("ethereum classic", "以太经典", "以太坊经典"),
    "APT": ("aptos",),
    "XLM": ("stellar lumens", "恒星币"),
    "FIL": ("filecoin", "文件币"),
    "ATOM": ("cosmos", "阿童木"),
    "HBAR": ("hedera", "hedera hashgraph"),
    "ARB": ("arbitrum", "阿比"),
    "OP": ("optimism token",),
    "IMX": ("immutable x",),
    "VET": ("vechain", "唯链"),
    "MKR": ("makerdao",),
    "INJ": ("injective",),
    "RENDER": ("render token",),
    "SUI": ("sui network",),
    "SEI": ("sei network",),
    "TIA": ("celestia",),
    "STX": ("stacks token",),
    "PEPE": ("pepe coin", "pepecoin", "佩佩", "青蛙币"),
    "WIF": ("dogwifhat",),
    "BONK": ("bonk coin",),
    "FLOKI": ("floki inu",),
    "XMR": ("monero", "门罗币", "门罗"),
    "ALGO": ("algorand",),
    "AAVE": ("aave token",),
    "EOS": ("柚子", "柚子币"),
    "XTZ": ("tezos",),
    "SAND": ("sandbox token", "沙盒"),
    "MANA": ("decentraland",),
    "AXS": ("axie", "axie infinity"),
    "KAS": ("kaspa",),
    "TAO": ("bittensor",),
    "ENA": ("ethena",),
    "WLD": ("worldcoin",),
    "JUP": ("jupiter",),
    "PYTH": ("pyth network",),
    "LDO": ("lido", "lido dao"),
    "RUNE": ("thorchain",),
    "CHZ": ("chiliz",),
    "FET": ("fetch.ai", "fetch ai", "artificial superintelligence alliance"),
    "QNT": ("quant network",),
    "EGLD": ("multiversx", "elrond"),
    "HYPE": ("hyperliquid",),
    "TRUMP": ("trump coin", "official trump", "川普币", "特朗普币"),
    "NOT": ("notcoin",),
    "ZEC": ("zcash", "大零币"),
    "NEO": ("小蚁",),
    "ONE": ("harmony one",),
    "CAKE": ("pancakeswap", "pancake swap"),
    "GRT": ("the graph token",),
    "APE": ("apecoin",),
    "BOME": ("book of meme",),
    "WLFI": ("world liberty financial",),
    "PENGU": ("pudgy penguins",),
    "VIRTUAL": ("virtuals protocol",),
    "MNT": ("mantle token",),
    "GALA": ("gala games",),
    "ORDI": ("ordinals token",),
    "ZRO": ("layerzero",),
    "STRK": ("starknet",),
    "ZK": ("zksync",),
    "S": ("sonic labs",),
    "FTM": ("fantom",),
    "OM": ("mantra dao",),
    "LUNC": ("terra classic", "luna classic"),
    "LUNA": ("terra luna",),
    "ETHFI": ("ether.fi",),
    "GAS": ("neo gas",),
    "MOVE": ("movement network",),
    "ME": ("magic eden",),
    "ID": ("space id",),
    "IP": ("story protocol",),
}

# Renames: the first ticker the exchanges list wins.
SUCCESSORS: dict[str, tuple[str, ...]] = {
    "POL": ("POL", "MATIC"),
    "MATIC": ("POL", "MATIC"),
    "RENDER": ("RENDER", "RNDR"),
    "RNDR": ("RENDER", "RNDR"),
    "FTM": ("S", "FTM"),
    "EOS": ("EOS", "A"),
    "MKR": ("MKR", "SKY"),
}

# Quote currencies recognised in pairs (BTC/USDT, ETHUSDC, SOL-USD, ETH/BTC).
QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDE", "DAI", "USD", "EUR", "BTC", "ETH", "BNB")

# Never a coin of interest on their own: analysing USDT against USDT means nothing.
STABLECOINS = frozenset({"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDE", "DAI", "USD", "PYUSD", "USD1", "EUR"})

# Words right after a ticker that show it is meant as a coin ("MOVE token", "ONE币", "link price").
# Plurals are left out on purpose: "AI coins", "meme tokens" name a sector, not a coin.
CONTEXT_AFTER = (
    "coin",
    "token",
    "币",
    "幣",
    "usdt",
    "usdc",
    "perp",
    "perps",
    "perpetual",
    "合约",
    "现货",
)
# Weaker cues, enough for ticker-words ("link price") but not for common words ("gas price").
CONTEXT_AFTER_WEAK = ("price", "chart", "价格", "走势", "行情", "analysis", "ta", "k线")
