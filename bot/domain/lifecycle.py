"""Ticket lifecycle: the status transition table, compare-and-set versions, and escalation (P-ESC, P-CLOSE).

Every change returns a new `TicketState` with `version + 1`; the store saves it only if the stored
version is still the one the change was computed from, so two agents pressing "Tomar" at once give
one owner.

Order of checks, on purpose: first whether the action is legal from the current status at all, then
whether the caller's view is current. An illegal action is refused whatever version it carries, and
naming the real cause ("already claimed by @x", "already resolved") helps the person more than
"stale"; a legal action computed from an old view is refused as `StaleVersion`. Either way the ticket
does not move, so a late "claim" can never pull a resolved ticket back (Grafana OnCall #3161).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import (
    AlreadyClaimed,
    EscalationAlreadyPending,
    EscalationLimitReached,
    EscalationNotAllowed,
    IllegalTransition,
    InvalidInput,
    NoPendingEscalation,
    NotAuthorized,
    RemindersPending,
    StaleVersion,
)
from bot.domain.types import Role, Severity, TicketStatus

__all__ = [
    "DEFAULT_APPROVERS",
    "DEFAULT_INFO_REMINDERS",
    "ESCALATABLE",
    "MAX_ESCALATION_LEVEL",
    "MIN_ESCALATION_LEVEL",
    "TRANSITIONS",
    "Action",
    "PendingEscalation",
    "TicketState",
    "allowed_actions",
    "apply",
    "approver_role",
    "change_severity",
    "decide_escalation",
    "request_escalation",
]

DEFAULT_INFO_REMINDERS = 3  # P-CLOSE-3: three contact attempts before closing
MIN_ESCALATION_LEVEL = 1
MAX_ESCALATION_LEVEL = 3  # P-ESC-2
# P-ESC-2: who approves reaching each level.
DEFAULT_APPROVERS: Mapping[int, Role] = MappingProxyType({2: Role.QUALITY_MANAGER, 3: Role.OPERATIONS_MANAGER})


class Action(StrEnum):
    """What can happen to a ticket's status."""

    CLAIM = "claim"
    ASK_CLIENT = "ask_client"
    CLIENT_ANSWERED = "client_answered"
    REMIND = "remind"  # P-CLOSE-3: one more contact attempt while waiting for the client
    CLOSE_UNANSWERED = "close_unanswered"  # P-CLOSE-3: after the last attempt went unanswered
    RESOLVE = "resolve"
    CLOSE = "close"  # P-CLOSE-1: the consultant closes
    CLIENT_CONFIRMED = "client_confirmed"
    AUTO_CLOSE = "auto_close"
    REOPEN = "reopen"  # P-CLOSE-2
    RELEASE = "release"  # the assignee gives the ticket back: unassigned again
    REASSIGN = "reassign"  # a manager gives it to another consultant (or assigns an unclaimed one)


_S = TicketStatus
# The whole flow in one table (django-helpdesk style): (from, action) -> to. Anything absent is refused.
TRANSITIONS: Mapping[tuple[TicketStatus, Action], TicketStatus] = MappingProxyType(
    {
        (_S.NEW, Action.CLAIM): _S.ASSIGNED,
        (_S.ASSIGNED, Action.ASK_CLIENT): _S.WAITING_CLIENT,
        (_S.WAITING_CLIENT, Action.CLIENT_ANSWERED): _S.ASSIGNED,
        (_S.WAITING_CLIENT, Action.REMIND): _S.WAITING_CLIENT,
        (_S.WAITING_CLIENT, Action.CLOSE_UNANSWERED): _S.CLOSED,
        (_S.ASSIGNED, Action.RESOLVE): _S.RESOLVED,
        (_S.WAITING_CLIENT, Action.RESOLVE): _S.RESOLVED,
        (_S.RESOLVED, Action.CLOSE): _S.CLOSED,
        (_S.RESOLVED, Action.CLIENT_CONFIRMED): _S.CLOSED,
        (_S.RESOLVED, Action.AUTO_CLOSE): _S.CLOSED,
        (_S.RESOLVED, Action.REOPEN): _S.ASSIGNED,
        (_S.CLOSED, Action.REOPEN): _S.ASSIGNED,
        (_S.ASSIGNED, Action.RELEASE): _S.NEW,
        (_S.NEW, Action.REASSIGN): _S.ASSIGNED,
        (_S.ASSIGNED, Action.REASSIGN): _S.ASSIGNED,
        (_S.WAITING_CLIENT, Action.REASSIGN): _S.WAITING_CLIENT,
    }
)
_TAKES_ACTOR = frozenset({Action.CLAIM, Action.REASSIGN})
# P-ESC-1: escalation is for work not delivered yet; a resolved ticket is reopened instead.
ESCALATABLE: frozenset[TicketStatus] = frozenset({_S.NEW, _S.ASSIGNED, _S.WAITING_CLIENT})
_FINISHED: frozenset[TicketStatus] = frozenset({_S.RESOLVED, _S.CLOSED})


@dataclass(frozen=True)
class PendingEscalation:
    """An escalation request waiting for the approver of `target_level` (P-ESC-2)."""

    target_level: int
    requested_by: str
    reason: str
    new_severity: Severity | None = None


@dataclass(frozen=True)
class TicketState:
    """The part of a ticket the lifecycle rules read and write."""

    status: TicketStatus
    version: int
    severity: Severity
    escalation_level: int = MIN_ESCALATION_LEVEL
    assignee: str | None = None
    pending_escalation: PendingEscalation | None = None
    reminders_sent: int = 0  # P-CLOSE-3 attempts made in the current wait for the client

    def __post_init__(self) -> None:
        # States come back from storage: refuse a row that the rules could never have produced.
        if not isinstance(self.status, TicketStatus):
            raise InvalidInput(f"not a ticket status: {self.status!r}")
        if not isinstance(self.severity, Severity):
            raise InvalidInput(f"not a severity: {self.severity!r}")
        if self.version < 0:
            raise InvalidInput(f"version cannot be negative, got {self.version}")
        if not MIN_ESCALATION_LEVEL <= self.escalation_level <= MAX_ESCALATION_LEVEL:
            raise InvalidInput(f"escalation level must be 1..3, got {self.escalation_level}")
        if (self.status is _S.NEW) != (self.assignee is None):
            raise InvalidInput("a ticket has an assignee exactly when it is no longer new")
        if self.reminders_sent < 0 or (self.reminders_sent and self.status is not _S.WAITING_CLIENT):
            raise InvalidInput(f"{self.reminders_sent} reminders make no sense in status {self.status.value}")
        pending = self.pending_escalation
        if pending is not None and pending.target_level != self.escalation_level + 1:
            raise InvalidInput("a pending escalation targets the next level")

    @classmethod
    def new(cls, severity: Severity) -> TicketState:
        """A ticket just opened: new, unassigned, level 1, version 0."""
        return cls(status=_S.NEW, version=0, severity=severity)


def allowed_actions(status: TicketStatus) -> tuple[Action, ...]:
    """The actions the table allows from `status` (the adapters show only these buttons)."""
    return tuple(action for (source, action) in TRANSITIONS if source is status)


def _check_version(state: TicketState, expected_version: int) -> None:
    if expected_version != state.version:
        raise StaleVersion(expected_version, state.version)


def apply(
    state: TicketState,
    action: Action,
    *,
    expected_version: int,
    actor: str | None = None,
    max_reminders: int = DEFAULT_INFO_REMINDERS,
) -> TicketState:
    """Apply `action` if the table allows it from the current status and the caller's view is current.

    `actor` is the agent who claims or receives the ticket (required for CLAIM and REASSIGN, ignored
    otherwise); RELEASE leaves it without one. REMIND is allowed until
    `max_reminders` attempts were made; CLOSE_UNANSWERED only after all of them (P-CLOSE-3).
    Leaving for resolved or closed drops a pending escalation: there is nothing left to escalate.
    """
    if not isinstance(action, Action):
        raise InvalidInput(f"not an action: {action!r}")
    if max_reminders < 1:
        raise InvalidInput(f"at least one reminder is needed, got {max_reminders}")
    target = TRANSITIONS.get((state.status, action))
    if target is None:
        if action is Action.CLAIM and state.assignee is not None:
            raise AlreadyClaimed(state.status, action, state.assignee)
        raise IllegalTransition(state.status, action)
    if action in _TAKES_ACTOR and (actor is None or not actor.strip()):
        raise InvalidInput(f"{action.value} needs the agent who takes the ticket")
    if action is Action.REMIND and state.reminders_sent >= max_reminders:
        raise IllegalTransition(state.status, action, f"all {max_reminders} reminders already sent")
    if action is Action.CLOSE_UNANSWERED and state.reminders_sent < max_reminders:
        raise RemindersPending(state.status, action, state.reminders_sent, max_reminders)
    _check_version(state, expected_version)
    return replace(
        state,
        status=target,
        version=state.version + 1,
        assignee=actor if action in _TAKES_ACTOR else (None if action is Action.RELEASE else state.assignee),
        reminders_sent=state.reminders_sent + 1 if action is Action.REMIND else 0,
        pending_escalation=None if target in _FINISHED else state.pending_escalation,
    )


def approver_role(level: int, approvers: Mapping[int, Role] = DEFAULT_APPROVERS) -> Role:
    """Who approves raising a ticket to `level` (P-ESC-2: 2 → quality, 3 → operations manager)."""
    if level not in approvers:
        raise InvalidInput(f"no approver for escalation level {level}")
    return approvers[level]


def request_escalation(
    state: TicketState,
    requested_by: str,
    reason: str,
    new_severity: Severity | None = None,
    *,
    expected_version: int,
    max_level: int = MAX_ESCALATION_LEVEL,
) -> TicketState:
    """Ask to raise the ticket one level (P-ESC-1), optionally to a more urgent severity.

    The level changes only when the approver says yes (`decide_escalation`).
    """
    if state.status not in ESCALATABLE:
        raise EscalationNotAllowed(f"a {state.status.value} ticket cannot be escalated")
    if state.pending_escalation is not None:
        raise EscalationAlreadyPending(
            f"level {state.pending_escalation.target_level} is already waiting for a decision"
        )
    if state.escalation_level >= max_level:
        raise EscalationLimitReached(f"already at level {state.escalation_level}")
    if not requested_by.strip():
        raise InvalidInput("an escalation request needs who asks")
    if not reason.strip():
        raise InvalidInput("an escalation request needs a reason")
    # "aumente su prioridad": escalation may only make a ticket more urgent.
    if new_severity is not None and (not isinstance(new_severity, Severity) or new_severity >= state.severity):
        raise InvalidInput(f"new severity must be more urgent than {int(state.severity)}, got {new_severity!r}")
    _check_version(state, expected_version)
    pending = PendingEscalation(state.escalation_level + 1, requested_by, reason, new_severity)
    return replace(state, version=state.version + 1, pending_escalation=pending)


def change_severity(state: TicketState, severity: Severity, reason: str, *, expected_version: int) -> TicketState:
    """R-SEVERITY (P-ESC-1, "el problema cambia de prioridad"): the consultant or a manager sets another
    severity, with a reason, on a ticket not finished yet; the caller recomputes the deadline."""
    if state.status not in ESCALATABLE:
        raise IllegalTransition(state.status, "change_severity")
    if not isinstance(severity, Severity):
        raise InvalidInput(f"not a severity: {severity!r}")
    if severity is state.severity:
        raise InvalidInput(f"the ticket is already severity {int(severity)}")
    if not reason.strip():
        raise InvalidInput("a severity change needs a reason")
    _check_version(state, expected_version)
    return replace(state, version=state.version + 1, severity=severity)


def decide_escalation(
    state: TicketState,
    decider_role: Role,
    approve: bool,
    *,
    expected_version: int,
    approvers: Mapping[int, Role] = DEFAULT_APPROVERS,
) -> TicketState:
    """Approve or reject the pending request; only the level's approver may (P-ESC-2).

    Approval raises the level (and the severity, if the request asked for it); rejection keeps both.
    Either way the request is gone, so a second press finds nothing to decide.
    """
    pending = state.pending_escalation
    if pending is None:
        raise NoPendingEscalation("no escalation request is waiting")
    required = approver_role(pending.target_level, approvers)
    if decider_role is not required:
        raise NotAuthorized(decider_role, required)
    _check_version(state, expected_version)
    if not approve:
        return replace(state, version=state.version + 1, pending_escalation=None)
    return replace(
        state,
        version=state.version + 1,
        escalation_level=pending.target_level,
        severity=pending.new_severity or state.severity,
        pending_escalation=None,
    )
