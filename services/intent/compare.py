"""Whether a chat message asks for a comparison: "compare BTC and ETH", "BTC vs ETH", "比较 BTC 和 ETH".

Two or more coins in one question are always answered as a comparison (one table, one chart); these
words matter where a coin is missing: "compare BTC and FOOBAR" names one listed coin, and the
unknown one must be said to be unknown rather than BTC analysed alone.
"""

from __future__ import annotations

import re

__all__ = ["asks_comparison"]

_COMPARE = re.compile(
    r"(?<![A-Za-z])(?:compare[sd]?|comparing|comparison|vs\.?|versus|against|stronger|weaker|better|outperform\w*)"
    r"(?![A-Za-z])|比较|比一比|对比|相比|比起|哪个|哪一个|谁更|强弱",
    re.IGNORECASE,
)


def asks_comparison(text: str) -> bool:
    return _COMPARE.search(text or "") is not None
