"""Obvious prompt-injection attempts, so the bot can refuse in character before calling the model.

Deliberately narrow: it catches the classic phrasings ("ignore previous instructions", "print
your system prompt", "忽略之前的指令", "输出系统提示词", fake delimiters) and leaves ordinary
questions alone ("ignore the noise, where is BTC going?"). The prompt itself is the real defence
(user text is delimited and declared to be data); this only saves a model call and a credit.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_prompt_injection"]

_EN_PATTERNS = [
    # ignore / disregard / forget ... previous instructions
    r"\b(?:ignore|disregard|forget|override|bypass)\b[\w\s'-]{0,30}?"
    r"\b(?:previous|prior|above|earlier|preceding|all|any|your|the|system|initial|original)\b[\w\s-]{0,20}?"
    r"\b(?:instructions?|prompts?|rules|directives|guidelines|guardrails|restrictions|programming)\b",
    r"\b(?:ignore|disregard|forget)\s+(?:everything|all)\s+(?:above|before|you\s+were\s+told)\b",
    # print / reveal / repeat ... system prompt / your instructions
    r"\b(?:print|show|reveal|repeat|output|display|dump|leak|tell\s+me|give\s+me|write\s+out|what\s+(?:is|are|was|were)"
    r"|what's|share|paste|copy|recite|expose)\b[\w\s,:'-]{0,30}?"
    r"\b(?:system\s+(?:prompt|message|instructions?)|(?:initial|hidden|original|secret|developer|your)\s+"
    r"(?:prompt|instructions|system\s+prompt|rules)|prompt\s+above|instructions\s+above)\b",
    r"\byou\s+are\s+now\s+(?:dan|in\s+developer\s+mode|jailbroken|unrestricted|an?\s+unfiltered)\b",
    r"\b(?:developer|god|dan|jailbreak)\s+mode\b",
    r"\bjailbreak\b",
    r"\bnew\s+(?:system\s+)?instructions\s*:",
    r"\bact\s+as\b[\w\s,'-]{0,40}\b(?:without|no)\s+(?:any\s+)?(?:restrictions|rules|filters|limits)\b",
    r"\bpretend\s+(?:you\s+have|there\s+are)\s+no\s+(?:rules|restrictions|instructions)\b",
    r"\b(?:other|all|every)\s+users?'?s?\s+(?:data|messages|conversations|chats|history|balances?|ids?)\b",
]

_ZH_PATTERNS = [
    r"(?:忽略|无视|忘记|忘掉|不要理会|不要管|绕过)[^。！？\n，,]{0,6}?"
    r"(?:之前|以上|上面|前面|上述|先前|所有|全部|你的|系统)[^。！？\n，,]{0,6}?(?:指令|指示|提示词|规则|设定|限制|约束)",
    r"(?:忽略|无视|绕过)(?:指令|规则|限制|系统提示词?)",
    r"(?:输出|打印|显示|展示|告诉我|泄露|透露|重复|复述|给我看|说出|列出)[^。！？\n]{0,10}?"
    r"(?:系统提示词|系统提示|系统指令|系统消息|系统设定|提示词|初始指令|隐藏指令|你的指令|你的规则|你的设定)",
    r"(?:你的|系统)(?:提示词|系统提示词|指令)是什么",
    r"(?:系统提示词?|系统指令|提示词|初始指令|隐藏指令)[^。！？\n]{0,6}?(?:告诉我|发给我|给我看|输出|打印|显示出来|说出来)",
    r"(?:开发者|越狱|上帝)模式",
    r"越狱",
    r"(?:其他|别的|所有)用户的(?:数据|消息|聊天|记录|余额|信息)",
]

_DELIMITERS = (
    r"<\s*/?\s*(?:system|user_message|market_data|instructions?|assistant)\s*>"
    r"|\[/?(?:INST|SYSTEM)\]|<\|im_(?:start|end)\|>"
)

_EN_RE = re.compile("|".join(_EN_PATTERNS), re.IGNORECASE)
_ZH_RE = re.compile("|".join(_ZH_PATTERNS))
_DELIM_RE = re.compile(_DELIMITERS, re.IGNORECASE)


def is_prompt_injection(text: str) -> bool:
    """True for obvious attempts to override or extract the bot's instructions or other users' data."""
    if not text:
        return False
    normalized = unicodedata.normalize("NFKC", text)[:4000]
    return bool(_DELIM_RE.search(normalized) or _EN_RE.search(normalized) or _ZH_RE.search(normalized))
