"""LLM client (streaming, domain errors) and the analyst's prompt builder."""

from services.llm.client import LLMEvent, LLMService, TextDelta, Usage, build_llm_client, map_openai_error
from services.llm.errors import LLMAuthError, LLMBadRequest, LLMError, LLMRateLimited, LLMUnavailable
from services.llm.prompts import (
    MAX_USER_CHARS,
    build_messages,
    build_system_prompt,
    estimate_messages_tokens,
    estimate_tokens,
    neutralise,
)

__all__ = [
    "MAX_USER_CHARS",
    "LLMAuthError",
    "LLMBadRequest",
    "LLMError",
    "LLMEvent",
    "LLMRateLimited",
    "LLMService",
    "LLMUnavailable",
    "TextDelta",
    "Usage",
    "build_llm_client",
    "build_messages",
    "build_system_prompt",
    "estimate_messages_tokens",
    "estimate_tokens",
    "map_openai_error",
    "neutralise",
]
