"""The named exceptions the policy core raises when a rule refuses an input or an action."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.domain.types import Role, TicketStatus

__all__ = [
    "AlreadyClaimed",
    "DomainError",
    "EscalationAlreadyPending",
    "EscalationError",
    "EscalationLimitReached",
    "EscalationNotAllowed",
    "IllegalTransition",
    "IncompleteTriage",
    "InvalidAnswer",
    "InvalidHours",
    "InvalidInput",
    "NoPendingEscalation",
    "NotAuthorized",
    "RemindersPending",
    "StaleVersion",
]


class DomainError(Exception):
    """Base of every refusal raised by bot.domain."""


class InvalidInput(DomainError, ValueError):
    """A value outside what a rule accepts (also a ValueError, so plain callers can catch that)."""


class InvalidHours(InvalidInput):
    """An hours amount that is zero, negative, not finite or not a number."""


class IncompleteTriage(InvalidInput):
    """Triage was asked for a severity before every needed question was answered."""

    def __init__(self, missing: object) -> None:
        super().__init__(f"triage needs an answer to {missing!s}")
        self.missing = missing


class InvalidAnswer(InvalidInput):
    """An answer code that is not one of the choices of its question."""


class IllegalTransition(DomainError):
    """The action is not allowed from the ticket's current status."""

    def __init__(self, status: TicketStatus, action: object, detail: str = "") -> None:
        message = f"action {action!s} is not allowed from status {status.value}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.status = status
        self.action = action


class AlreadyClaimed(IllegalTransition):
    """Someone tried to claim a ticket that already has an assignee (the adapter names who)."""

    def __init__(self, status: TicketStatus, action: object, assignee: str) -> None:
        super().__init__(status, action, f"already claimed by {assignee}")
        self.assignee = assignee


class RemindersPending(IllegalTransition):
    """A ticket waiting for the client cannot be closed as unanswered before every reminder went out."""

    def __init__(self, status: TicketStatus, action: object, sent: int, required: int) -> None:
        super().__init__(status, action, f"{sent} of {required} reminders sent")
        self.sent = sent
        self.required = required


class StaleVersion(DomainError):
    """The action was decided on an older version of the ticket; nothing was changed."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"ticket is at version {actual}, the action expected version {expected}")
        self.expected = expected
        self.actual = actual


class NotAuthorized(DomainError):
    """The person's role may not take this decision."""

    def __init__(self, role: Role, required: Role) -> None:
        super().__init__(f"role {role.value} may not decide this; {required.value} may")
        self.role = role
        self.required = required


class EscalationError(DomainError):
    """Base of the escalation refusals (P-ESC-1/2)."""


class EscalationLimitReached(EscalationError):
    """The ticket is already at the highest escalation level."""


class EscalationAlreadyPending(EscalationError):
    """An escalation request is already waiting for a decision."""


class NoPendingEscalation(EscalationError):
    """There is no escalation request to decide (for example, it was already decided)."""


class EscalationNotAllowed(EscalationError):
    """The ticket's status does not allow escalation (it is resolved or closed)."""
