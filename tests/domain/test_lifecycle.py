"""Ticket lifecycle: the transition table, stale versions, reminders (P-CLOSE) and escalation (P-ESC)."""

from __future__ import annotations

from dataclasses import replace
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from bot.domain.lifecycle import (
    DEFAULT_INFO_REMINDERS,
    TRANSITIONS,
    Action,
    PendingEscalation,
    TicketState,
    allowed_actions,
    apply,
    approver_role,
    change_severity,
    decide_escalation,
    request_escalation,
)
from bot.domain.types import Role, Severity, TicketStatus

S = TicketStatus
AGENT = "marco"
EXPECTED_FLOW = {
    (S.NEW, Action.CLAIM): S.ASSIGNED,
    (S.ASSIGNED, Action.ASK_CLIENT): S.WAITING_CLIENT,
    (S.WAITING_CLIENT, Action.CLIENT_ANSWERED): S.ASSIGNED,
    (S.WAITING_CLIENT, Action.REMIND): S.WAITING_CLIENT,
    (S.WAITING_CLIENT, Action.CLOSE_UNANSWERED): S.CLOSED,
    (S.ASSIGNED, Action.RESOLVE): S.RESOLVED,
    (S.WAITING_CLIENT, Action.RESOLVE): S.RESOLVED,
    (S.RESOLVED, Action.CLOSE): S.CLOSED,
    (S.RESOLVED, Action.CLIENT_CONFIRMED): S.CLOSED,
    (S.RESOLVED, Action.AUTO_CLOSE): S.CLOSED,
    (S.RESOLVED, Action.REOPEN): S.ASSIGNED,
    (S.CLOSED, Action.REOPEN): S.ASSIGNED,
    (S.ASSIGNED, Action.RELEASE): S.NEW,
    (S.NEW, Action.REASSIGN): S.ASSIGNED,
    (S.ASSIGNED, Action.REASSIGN): S.ASSIGNED,
    (S.WAITING_CLIENT, Action.REASSIGN): S.WAITING_CLIENT,
}
RULE_OF = {
    Action.CLAIM: "P-SLA-6",
    Action.ASK_CLIENT: "P-SLA-7",
    Action.CLIENT_ANSWERED: "P-SLA-7",
    Action.REMIND: "P-CLOSE-3",
    Action.CLOSE_UNANSWERED: "P-CLOSE-3",
    Action.RESOLVE: "P-CLOSE-1",
    Action.CLOSE: "P-CLOSE-1",
    Action.CLIENT_CONFIRMED: "P-CLOSE-1",
    Action.AUTO_CLOSE: "P-CLOSE-1",
    Action.REOPEN: "P-CLOSE-2",
    Action.RELEASE: "desk",
    Action.REASSIGN: "desk",
}
_TAKES = (Action.CLAIM, Action.REASSIGN)


def state_in(status: TicketStatus, **changes: Any) -> TicketState:
    """A plausible ticket in `status` at version 4, owned by AGENT unless new."""
    base = TicketState(status=status, version=4, severity=Severity.HIGH, assignee=None if status is S.NEW else AGENT)
    return replace(base, **changes)


def run(state: TicketState, action: Action, **kwargs: Any) -> TicketState:
    kwargs.setdefault("actor", AGENT)
    return apply(state, action, expected_version=state.version, **kwargs)


def test_table_is_the_documented_flow() -> None:
    assert dict(TRANSITIONS) == EXPECTED_FLOW


LEGAL = [
    pytest.param(src, action, dst, id=f"{RULE_OF[action]}-{src.value}-{action.value}-{dst.value}")
    for (src, action), dst in EXPECTED_FLOW.items()
]


@pytest.mark.parametrize(("source", "action", "target"), LEGAL)
def test_every_legal_transition(source: TicketStatus, action: Action, target: TicketStatus) -> None:
    before = state_in(source)
    if action is Action.CLOSE_UNANSWERED:
        before = replace(before, reminders_sent=DEFAULT_INFO_REMINDERS)
    after = apply(before, action, expected_version=before.version, actor="ana" if action in _TAKES else None)
    assert after.status is target
    assert after.version == before.version + 1
    expected = "ana" if action in _TAKES else (None if action is Action.RELEASE else AGENT)
    assert after.assignee == expected
    assert before.status is source, "the old state is not mutated"


ILLEGAL = [
    pytest.param(status, action, id=f"illegal-{status.value}-{action.value}")
    for status, action in product(TicketStatus, Action)
    if (status, action) not in EXPECTED_FLOW
]


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_every_illegal_transition_is_refused_by_name(status: TicketStatus, action: Action) -> None:
    state = state_in(status)
    with pytest.raises(IllegalTransition) as caught:
        apply(state, action, expected_version=state.version, actor="ana")
    assert (caught.value.status, caught.value.action) == (status, action)


@pytest.mark.parametrize("status", [s for s in TicketStatus if s is not S.NEW])
def test_claim_when_already_assigned_names_the_owner(status: TicketStatus) -> None:
    """The adapter turns this into "ya lo tomó @marco"."""
    with pytest.raises(AlreadyClaimed) as caught:
        run(state_in(status), Action.CLAIM, actor="ana")
    assert caught.value.assignee == AGENT


@pytest.mark.parametrize("actor", [None, "", "  "])
def test_claim_needs_an_agent(actor: str | None) -> None:
    with pytest.raises(InvalidInput):
        apply(TicketState.new(Severity.LOW), Action.CLAIM, expected_version=0, actor=actor)


def test_allowed_actions_follow_the_table() -> None:
    assert allowed_actions(S.NEW) == (Action.CLAIM, Action.REASSIGN)
    assert set(allowed_actions(S.RESOLVED)) == {
        Action.CLOSE,
        Action.CLIENT_CONFIRMED,
        Action.AUTO_CLOSE,
        Action.REOPEN,
    }
    assert allowed_actions(S.CLOSED) == (Action.REOPEN,)


# ---------------------------------------------------------------- versions


def test_two_claims_on_the_same_version_give_one_owner() -> None:
    """The second "Tomar" finds the ticket taken: refused by name, the first owner stays."""
    ticket = TicketState.new(Severity.CRITICAL)
    first = apply(ticket, Action.CLAIM, expected_version=0, actor="marco")
    with pytest.raises(AlreadyClaimed):
        apply(first, Action.CLAIM, expected_version=0, actor="ana")
    assert first.assignee == "marco"


def test_late_claim_after_resolve_never_reopens() -> None:
    """Grafana OnCall #3161: an acknowledge arriving after resolve must not move the ticket back."""
    ticket = run(run(TicketState.new(Severity.HIGH), Action.CLAIM), Action.RESOLVE)
    with pytest.raises(IllegalTransition):
        apply(ticket, Action.CLAIM, expected_version=0, actor="ana")
    assert ticket.status is S.RESOLVED


@pytest.mark.parametrize("offset", [-1, 1, -4])
def test_legal_action_on_a_stale_version_is_refused(offset: int) -> None:
    """A legal action computed from an old (or impossible future) view changes nothing."""
    closed = state_in(S.CLOSED)
    with pytest.raises(StaleVersion) as caught:
        apply(closed, Action.REOPEN, expected_version=closed.version + offset)
    assert (caught.value.expected, caught.value.actual) == (closed.version + offset, closed.version)


def test_stale_reopen_after_close_does_not_reopen() -> None:
    """P-CLOSE-2: the client's "reopen" pressed on the resolved message, after the agent closed it."""
    resolved = state_in(S.RESOLVED)
    closed = run(resolved, Action.CLOSE)
    with pytest.raises(StaleVersion):
        apply(closed, Action.REOPEN, expected_version=resolved.version)


def test_version_increments_on_every_action() -> None:
    ticket = TicketState.new(Severity.MEDIUM)
    for action in (Action.CLAIM, Action.ASK_CLIENT, Action.CLIENT_ANSWERED, Action.RESOLVE, Action.CLOSE):
        ticket = run(ticket, action)
    assert (ticket.status, ticket.version) == (S.CLOSED, 5)


# ---------------------------------------------------------------- reopen and P-CLOSE-3


@pytest.mark.parametrize("source", [S.RESOLVED, S.CLOSED], ids=lambda s: f"P-CLOSE-2-reopen-from-{s.value}")
def test_p_close_2_reopen_returns_to_the_same_consultant(source: TicketStatus) -> None:
    reopened = run(state_in(source, escalation_level=2), Action.REOPEN)
    assert (reopened.status, reopened.assignee, reopened.escalation_level) == (S.ASSIGNED, AGENT, 2)


def test_p_close_3_three_reminders_then_close_unanswered() -> None:
    waiting = run(state_in(S.ASSIGNED), Action.ASK_CLIENT)
    for sent in range(1, DEFAULT_INFO_REMINDERS + 1):
        with pytest.raises(RemindersPending) as caught:
            run(waiting, Action.CLOSE_UNANSWERED)
        assert (caught.value.sent, caught.value.required) == (sent - 1, DEFAULT_INFO_REMINDERS)
        waiting = run(waiting, Action.REMIND)
        assert (waiting.status, waiting.reminders_sent) == (S.WAITING_CLIENT, sent)
    with pytest.raises(IllegalTransition):
        run(waiting, Action.REMIND)
    closed = run(waiting, Action.CLOSE_UNANSWERED)
    assert (closed.status, closed.reminders_sent) == (S.CLOSED, 0)


def test_p_close_3_client_answer_resets_the_reminders() -> None:
    waiting = run(run(state_in(S.ASSIGNED), Action.ASK_CLIENT), Action.REMIND)
    answered = run(waiting, Action.CLIENT_ANSWERED)
    again = run(answered, Action.ASK_CLIENT)
    assert again.reminders_sent == 0


def test_p_close_3_reminder_count_is_a_parameter() -> None:
    waiting = run(state_in(S.WAITING_CLIENT), Action.REMIND, max_reminders=1)
    assert run(waiting, Action.CLOSE_UNANSWERED, max_reminders=1).status is S.CLOSED
    with pytest.raises(InvalidInput):
        run(waiting, Action.REMIND, max_reminders=0)


# ---------------------------------------------------------------- state validation


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"status": S.NEW, "assignee": AGENT}, id="new-with-assignee"),
        pytest.param({"status": S.ASSIGNED, "assignee": None}, id="assigned-without-assignee"),
        pytest.param({"version": -1}, id="negative-version"),
        pytest.param({"escalation_level": 0}, id="level-0"),
        pytest.param({"escalation_level": 4}, id="level-4"),
        pytest.param({"reminders_sent": 1}, id="reminders-outside-waiting"),
        pytest.param({"status": S.WAITING_CLIENT, "reminders_sent": -1}, id="negative-reminders"),
        pytest.param({"pending_escalation": PendingEscalation(3, "x", "y")}, id="pending-skips-a-level"),
        pytest.param({"status": "assigned"}, id="raw-status"),
        pytest.param({"severity": 2}, id="raw-severity"),
    ],
)
def test_impossible_states_are_refused(fields: dict[str, Any]) -> None:
    base: dict[str, Any] = {"status": S.ASSIGNED, "version": 1, "severity": Severity.HIGH, "assignee": AGENT}
    with pytest.raises(InvalidInput):
        TicketState(**{**base, **fields})


def test_raw_action_is_refused() -> None:
    with pytest.raises(InvalidInput):
        run(state_in(S.NEW), "claim")  # type: ignore[arg-type]


# ---------------------------------------------------------------- escalation (P-ESC-1/2)


@pytest.mark.parametrize(
    ("level", "role"),
    [
        pytest.param(2, Role.QUALITY_MANAGER, id="P-ESC-2-level-2-quality"),
        pytest.param(3, Role.OPERATIONS_MANAGER, id="P-ESC-2-level-3-operations"),
    ],
)
def test_p_esc_2_approver_role(level: int, role: Role) -> None:
    assert approver_role(level) is role


@pytest.mark.parametrize("level", [0, 1, 4])
def test_approver_role_refuses_levels_without_approver(level: int) -> None:
    with pytest.raises(InvalidInput):
        approver_role(level)


def escalate(state: TicketState, severity: Severity | None = None) -> TicketState:
    return request_escalation(state, "laura", "sin respuesta en 8 h", severity, expected_version=state.version)


def test_p_esc_1_request_creates_pending_for_next_level_only() -> None:
    ticket = state_in(S.ASSIGNED)
    pending = escalate(ticket, Severity.CRITICAL)
    assert pending.pending_escalation == PendingEscalation(2, "laura", "sin respuesta en 8 h", Severity.CRITICAL)
    assert (pending.escalation_level, pending.severity, pending.version) == (
        1,
        Severity.HIGH,
        ticket.version + 1,
    )


def test_p_esc_2_full_path_to_level_3_with_priority_raise() -> None:
    ticket = escalate(state_in(S.ASSIGNED))
    ticket = decide_escalation(ticket, Role.QUALITY_MANAGER, True, expected_version=ticket.version)
    assert (ticket.escalation_level, ticket.pending_escalation, ticket.severity) == (2, None, Severity.HIGH)
    ticket = escalate(ticket, Severity.CRITICAL)
    ticket = decide_escalation(ticket, Role.OPERATIONS_MANAGER, True, expected_version=ticket.version)
    assert (ticket.escalation_level, ticket.severity) == (3, Severity.CRITICAL)
    with pytest.raises(EscalationLimitReached):
        escalate(ticket)


def test_p_esc_2_rejection_keeps_level_and_severity_and_clears_request() -> None:
    ticket = escalate(state_in(S.ASSIGNED), Severity.CRITICAL)
    rejected = decide_escalation(ticket, Role.QUALITY_MANAGER, False, expected_version=ticket.version)
    assert (rejected.escalation_level, rejected.severity, rejected.pending_escalation) == (
        1,
        Severity.HIGH,
        None,
    )
    assert rejected.version == ticket.version + 1
    assert escalate(rejected).pending_escalation is not None, "a new request may follow a rejection"


@pytest.mark.parametrize("role", [Role.AGENT, Role.OPERATIONS_MANAGER])
def test_p_esc_2_wrong_role_cannot_decide_level_2(role: Role) -> None:
    ticket = escalate(state_in(S.ASSIGNED))
    with pytest.raises(NotAuthorized) as caught:
        decide_escalation(ticket, role, True, expected_version=ticket.version)
    assert (caught.value.role, caught.value.required) == (role, Role.QUALITY_MANAGER)


def test_p_esc_2_quality_manager_cannot_decide_level_3() -> None:
    ticket = escalate(state_in(S.ASSIGNED, escalation_level=2))
    with pytest.raises(NotAuthorized):
        decide_escalation(ticket, Role.QUALITY_MANAGER, True, expected_version=ticket.version)


def test_deciding_twice_is_an_error_not_a_second_raise() -> None:
    ticket = escalate(state_in(S.ASSIGNED))
    approved = decide_escalation(ticket, Role.QUALITY_MANAGER, True, expected_version=ticket.version)
    for version in (ticket.version, approved.version):
        with pytest.raises(NoPendingEscalation):
            decide_escalation(approved, Role.QUALITY_MANAGER, True, expected_version=version)
    assert approved.escalation_level == 2


def test_second_request_while_one_is_pending_is_refused() -> None:
    with pytest.raises(EscalationAlreadyPending):
        escalate(escalate(state_in(S.ASSIGNED)))


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_finished_ticket_cannot_be_escalated(status: TicketStatus) -> None:
    with pytest.raises(EscalationNotAllowed):
        escalate(state_in(status))


@pytest.mark.parametrize("status", [S.NEW, S.WAITING_CLIENT])
def test_p_esc_1_unanswered_or_waiting_ticket_can_be_escalated(status: TicketStatus) -> None:
    assert escalate(state_in(status)).pending_escalation is not None


@pytest.mark.parametrize(
    ("requested_by", "reason", "severity"),
    [
        pytest.param("", "x", None, id="no-requester"),
        pytest.param("laura", " ", None, id="no-reason"),
        pytest.param("laura", "x", Severity.HIGH, id="same-severity"),
        pytest.param("laura", "x", Severity.LOW, id="less-urgent"),
        pytest.param("laura", "x", 1, id="raw-int-severity"),
    ],
)
def test_bad_escalation_requests_are_refused(requested_by: str, reason: str, severity: Any) -> None:
    ticket = state_in(S.ASSIGNED)
    with pytest.raises(InvalidInput):
        request_escalation(ticket, requested_by, reason, severity, expected_version=ticket.version)


def test_stale_escalation_request_and_decision_are_refused() -> None:
    ticket = state_in(S.ASSIGNED)
    with pytest.raises(StaleVersion):
        request_escalation(ticket, "laura", "x", expected_version=ticket.version - 1)
    pending = escalate(ticket)
    with pytest.raises(StaleVersion):
        decide_escalation(pending, Role.QUALITY_MANAGER, True, expected_version=ticket.version)
    assert pending.escalation_level == 1


@pytest.mark.parametrize("action", [Action.RESOLVE, Action.CLOSE_UNANSWERED])
def test_finishing_a_ticket_drops_its_pending_escalation(action: Action) -> None:
    ticket = escalate(state_in(S.WAITING_CLIENT, reminders_sent=DEFAULT_INFO_REMINDERS))
    finished = run(ticket, action)
    assert finished.pending_escalation is None
    with pytest.raises(NoPendingEscalation):
        decide_escalation(finished, Role.QUALITY_MANAGER, True, expected_version=finished.version)


def test_pending_escalation_survives_work_on_the_ticket() -> None:
    ticket = escalate(state_in(S.ASSIGNED))
    waiting = run(ticket, Action.ASK_CLIENT)
    assert waiting.pending_escalation == ticket.pending_escalation


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list(Action)), max_size=25))
def test_random_action_sequences_keep_the_state_consistent(actions: list[Action]) -> None:
    """Whatever is pressed in whatever order: legal moves follow the table, the rest change nothing."""
    ticket = TicketState.new(Severity.MEDIUM)
    for action in actions:
        try:
            after = run(ticket, action)
        except IllegalTransition:
            continue
        assert after.status is TRANSITIONS[(ticket.status, action)]
        assert after.version == ticket.version + 1
        assert (after.assignee is None) == (after.status is S.NEW)
        ticket = after


# ---------------------------------------------------------------- R-SEVERITY


@pytest.mark.parametrize("status", [S.NEW, S.ASSIGNED, S.WAITING_CLIENT])
def test_r_severity_an_open_ticket_changes_severity_either_way_with_a_reason(status: TicketStatus) -> None:
    before = state_in(status)
    up = change_severity(before, Severity.CRITICAL, "ya no factura nadie", expected_version=before.version)
    down = change_severity(before, Severity.LOW, "era una duda de uso", expected_version=before.version)
    assert (up.severity, down.severity) == (Severity.CRITICAL, Severity.LOW)
    assert up.version == before.version + 1 and up.status is status and up.assignee == before.assignee


def test_r_severity_refuses_the_same_severity_no_reason_a_finished_ticket_and_an_old_view() -> None:
    open_ = state_in(S.ASSIGNED)
    with pytest.raises(InvalidInput):
        change_severity(open_, open_.severity, "igual", expected_version=open_.version)
    with pytest.raises(InvalidInput):
        change_severity(open_, Severity.LOW, "  ", expected_version=open_.version)
    with pytest.raises(IllegalTransition):
        change_severity(state_in(S.RESOLVED), Severity.LOW, "x", expected_version=4)
    with pytest.raises(StaleVersion):
        change_severity(open_, Severity.LOW, "x", expected_version=open_.version - 1)


def test_release_leaves_the_ticket_unassigned_and_reassign_names_the_new_owner() -> None:
    released = run(state_in(S.ASSIGNED), Action.RELEASE)
    assert (released.status, released.assignee) == (S.NEW, None)
    moved = run(state_in(S.WAITING_CLIENT), Action.REASSIGN, actor="ana")
    assert (moved.status, moved.assignee) == (S.WAITING_CLIENT, "ana")
    with pytest.raises(InvalidInput):
        run(state_in(S.NEW), Action.REASSIGN, actor=" ")
