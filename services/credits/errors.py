"""Domain errors of the credits services. Each has a stable `code` the handlers localize."""

from __future__ import annotations


class CreditsError(Exception):
    code = "credits_error"


class InsufficientCredits(CreditsError):
    code = "no_credits"

    def __init__(self, user_id: int, required: int, available: int) -> None:
        super().__init__(f"user {user_id} needs {required} credits, has {available}")
        self.user_id = user_id
        self.required = required
        self.available = available


class UnknownUser(CreditsError):
    code = "unknown_user"

    def __init__(self, user_id: int) -> None:
        super().__init__(f"no user {user_id}")
        self.user_id = user_id


class ReferenceConflict(CreditsError):
    """A reference_id reused for a different operation (another account or direction)."""

    code = "reference_conflict"

    def __init__(self, reference_id: str) -> None:
        super().__init__(f"reference {reference_id!r} already belongs to another operation")
        self.reference_id = reference_id


class NotOnSale(CreditsError):
    code = "not_on_sale"

    def __init__(self, item: str) -> None:
        super().__init__(f"{item} is not on sale")
        self.item = item


class UserBanned(CreditsError):
    code = "banned"


class HigherPlanActive(CreditsError):
    """Buying a lower plan while a higher one is active would throw paid time away."""

    code = "higher_plan_active"

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"{current} is active; refusing to sell {requested}")
        self.current = current
        self.requested = requested
