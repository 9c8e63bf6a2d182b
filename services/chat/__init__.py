"""The chat analyst (issue 4): memory, market context, rule-based fallback, and the pipeline."""

from services.chat.answers import Answer, ChatEvent, Delta, Done, Prepared, Refusal, Restart
from services.chat.gate import AnswerGate
from services.chat.pipeline import ChatService
from services.chat.slots import AnswerSlots

__all__ = [
    "Answer",
    "AnswerGate",
    "AnswerSlots",
    "ChatEvent",
    "ChatService",
    "Delta",
    "Done",
    "Prepared",
    "Refusal",
    "Restart",
]
