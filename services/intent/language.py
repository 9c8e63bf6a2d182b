"""The language to answer a chat question in: the question's own, else the user's interface language.

A question with Chinese characters is answered in Chinese; one with English words ("how", "look",
"today"…) in English; one with neither — tickers and timeframes only ("BTC 4h", "$ETH", "🚀") — in
the interface language. The interface language itself is never changed by a question.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ENGLISH_WORDS", "answer_language"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
# Words that make a text English (tickers, coin names and timeframe words alone do not).
_WORDS = """
    a about after analyse analysis analyze and any are at be before bearish best bullish buy can chart
    could do does doing down for going good hello help hi how i if in is it it's its level levels like
    long look looking looks me month my next now of on or outlook please price right say see sell short
    should show support resistance target tell term than thanks the there think this to today tomorrow
    trade trend up view was week what what's when where which why will with would you your
    """
ENGLISH_WORDS = frozenset(_WORDS.split())


def answer_language(text: str, interface_locale: str) -> str:
    """ "zh" or "en": the language of `text`, or `interface_locale` when the text shows none."""
    text = unicodedata.normalize("NFKC", text or "")
    if _CJK.search(text):
        return "zh"
    if any(word.lower() in ENGLISH_WORDS for word in _WORD.findall(text)):
        return "en"
    return "zh" if interface_locale.lower().startswith("zh") else "en"
