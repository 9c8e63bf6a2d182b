"""Domain errors for the LLM client: what the chat flow needs to decide, not what the SDK raised.

The chat flow answers every `LLMError` with a localized "the analyst is unavailable" message and
releases the credit hold; the subclasses only change wording, logging and alerting.
"""

from __future__ import annotations

__all__ = ["LLMAuthError", "LLMBadRequest", "LLMError", "LLMRateLimited", "LLMUnavailable"]


class LLMError(Exception):
    """Any failure to get an answer from the model.

    `after_output` is True when part of the answer had already been streamed: the caller must not
    present the partial text as a complete analysis.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        after_output: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.after_output = after_output

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r}, "
            f"code={self.code!r}, after_output={self.after_output!r})"
        )


class LLMUnavailable(LLMError):
    """Timeouts, connection failures, 5xx after the client's own retries, broken or failed streams."""


class LLMRateLimited(LLMError):
    """429 after the client's own retries (provider rate limit or exhausted quota)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = 429,
        code: str | None = None,
        after_output: bool = False,
    ) -> None:
        super().__init__(message, status_code=status_code, code=code, after_output=after_output)
        self.retry_after = retry_after


class LLMBadRequest(LLMError):
    """The request itself was refused (400/404/409/422: unknown model, context too long, bad params)."""


class LLMAuthError(LLMError):
    """401/403: the API key is wrong, revoked or lacks access. An operator problem, not a user one."""
