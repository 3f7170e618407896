"""Escalation use cases (P-ESC-1/2): request by assignee, client or the SLA clock; decide by the level's role."""

from __future__ import annotations

from datetime import datetime

from bot.domain import lifecycle
from bot.domain.errors import NoPendingEscalation, NotAuthorized
from bot.domain.types import EscalationStatus, Role, Severity
from bot.i18n import Safe
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_common import (
    AGENT,
    CLIENT,
    SYSTEM,
    NotAnAgent,
    NotTheAssignee,
    NotTheClient,
    TicketGone,
    TicketView,
    agent_text,
    audit,
    load,
    may_act,
    notify_client,
)
from bot.services.desk_deadline import response_deadline, schedule_response_timers
from storage import StaleVersion as StoreStale
from storage import Tx
from storage.records import Agent, Escalation

__all__ = [
    "COPY",
    "MANAGER_ROLES",
    "check_decider",
    "decide_in_tx",
    "decided_text",
    "record_copy",
    "refresh_copies",
    "request_in_tx",
]

COPY = "escalation_copy"  # the audit action naming where a copy of a request was posted

MANAGER_ROLES = frozenset({Role.QUALITY_MANAGER, Role.OPERATIONS_MANAGER})
_LEVEL_KEY = {2: "desk.level.2", 3: "desk.level.3"}
_CLIENT_APPROVED_KEY = {2: "escalation.approved_quality", 3: "escalation.approved_operations"}


async def _check_requester(tx: Tx, view: TicketView, kind: str, who: str) -> str:
    """Who asks, in words for the managers; raises when they may not ask."""
    if kind == AGENT:
        agent = await tx.get_agent_by_slack(who)
        if agent is None or not agent.active:
            raise NotAnAgent(who)
        # P-ESC-2 level 1 is the assigned consultant; a manager may always push a ticket up.
        if agent.id != view.ticket.assignee_id and agent.role not in MANAGER_ROLES:
            raise NotTheAssignee(view.assignee)
        return f"<@{agent.slack_user_id}>"
    if kind == CLIENT:
        # P-ESC-2: the client who asks is the one who reported the ticket, or a contact the company named to act
        # on all its tickets; a colleague is refused (NotTheReporter), like a stranger (NotTheClient).
        if not who.lstrip("-").isdigit():
            raise NotTheClient(who, "not_a_contact")
        contact = await may_act(tx, view.ticket, int(who))
        return contact.name
    if kind == SYSTEM:
        return kind
    raise ValueError(f"unknown requester kind {kind!r}")


async def request_in_tx(
    tx: Tx,
    services: Services,
    *,
    ticket_id: int,
    requested_by_kind: str,
    requested_by_id: str,
    reason: str,
    new_severity: Severity | None = None,
    at: datetime,
) -> Escalation:
    """Ask to raise a ticket one level (P-ESC-1); the next level's managers get Aprobar / Rechazar (P-ESC-2).

    requested_by_kind is "agent" (id: Slack user id; must be the assignee or a manager), "client" (id: the
    Telegram user id; must be the contact who reported the ticket or one acting for the company, P-ESC-2) or
    "system" (the SLA clock).
    Raises TicketGone, NotAnAgent, NotTheAssignee, NotTheClient / NotTheReporter, and the domain's EscalationError /
    InvalidInput (already pending, top level, finished ticket, empty reason, severity not more urgent).
    """
    view = await load(tx, ticket_id)
    ticket = view.ticket
    who = await _check_requester(tx, view, requested_by_kind, requested_by_id)
    # The domain refuses a finished ticket, a second pending request, level 3, an empty reason.
    lifecycle.request_escalation(view.state(), requested_by_id, reason, new_severity, expected_version=ticket.version)
    to_level = ticket.escalation_level + 1
    escalation = await tx.create_escalation(
        ticket_id,
        from_level=ticket.escalation_level,
        to_level=to_level,
        requested_by_kind=requested_by_kind,
        requested_by_id=requested_by_id,
        reason=reason.strip(),
        at=at,
        new_severity=new_severity,
    )
    # Bumping the version makes two simultaneous requests collide: one commits, the other rolls back.
    updated = await tx.update_ticket(ticket_id, ticket.version)
    role = lifecycle.approver_role(to_level)
    sev = (
        "" if new_severity is None else agent_text(services, "desk.escalation.new_severity", severity=int(new_severity))
    )
    text = agent_text(
        services,
        "desk.escalation.request_dm",
        ticket=ticket.number,
        level=agent_text(services, _LEVEL_KEY[to_level]),
        who=Safe(who) if requested_by_kind == AGENT else who,
        reason=reason.strip(),
        severity=Safe(sev),
    )
    await audit(
        tx,
        ticket_id,
        at,
        requested_by_kind,
        requested_by_id,
        "escalation_requested",
        escalation_id=escalation.id,
        to_level=to_level,
        reason=reason.strip(),
        new_severity=None if new_severity is None else int(new_severity),
        text=text,  # the request as every copy shows it, kept for the copies' decided form
    )
    for manager in await tx.list_agents(role, active_only=True):
        await outbox.slack_dm(
            tx,
            manager.slack_user_id,
            text,
            at=at,
            dedupe_key=f"esc-dm:{escalation.id}:{manager.id}",
            escalation_id=escalation.id,
        )
    # The thread shows the request with its buttons too: the team sees it, and only the role may decide.
    await outbox.slack_thread(
        tx, updated, text, at=at, dedupe_key=f"esc-thread:{escalation.id}", escalation_id=escalation.id
    )
    await outbox.slack_card(tx, updated, at=at)
    if requested_by_kind == CLIENT:
        await notify_client(tx, view, services, "escalation.requested", at=at)
    return escalation


async def _authorize(tx: Tx, escalation_id: int, slack_id: str, at: datetime) -> tuple[Escalation, Agent | Exception]:
    """The decider, or the refusal (already audited) when they lack the level's role (P-ESC-2).
    Raises TicketGone, NoPendingEscalation (already decided)."""
    escalation = await tx.get_escalation(escalation_id)
    if escalation is None:
        raise TicketGone(f"escalation {escalation_id} not found")
    agent = await tx.get_agent_by_slack(slack_id)
    required = lifecycle.approver_role(escalation.to_level)
    if agent is None or not agent.active:
        return escalation, await _refuse(tx, escalation, slack_id, at, NotAnAgent(slack_id))
    if agent.role is not required:
        return escalation, await _refuse(tx, escalation, slack_id, at, NotAuthorized(agent.role, required))
    if escalation.status is not EscalationStatus.REQUESTED:
        raise NoPendingEscalation(f"escalation {escalation_id} was already {escalation.status.value}")
    return escalation, agent


async def check_decider(tx: Tx, *, escalation_id: int, decider_slack_id: str, at: datetime) -> Escalation | Exception:
    """Before the rejection modal opens: may this user decide? A refusal is audited and returned (NotAnAgent /
    NotAuthorized) so the caller commits the audit row. Raises NoPendingEscalation when already decided."""
    escalation, agent = await _authorize(tx, escalation_id, decider_slack_id, at)
    return agent if isinstance(agent, Exception) else escalation


async def _refuse(tx: Tx, escalation: Escalation, slack_id: str, at: datetime, error: Exception) -> Exception:
    await audit(
        tx,
        escalation.ticket_id,
        at,
        AGENT,
        slack_id,
        "escalation_decision_refused",
        escalation_id=escalation.id,
        error=type(error).__name__,
    )
    return error


async def decide_in_tx(
    tx: Tx,
    services: Services,
    *,
    escalation_id: int,
    decider_slack_id: str,
    approve: bool,
    reason: str | None,
    at: datetime,
    pressed: tuple[str, str] | None = None,
) -> Escalation | Exception:
    """The decision inside the caller's transaction; an authorization refusal is returned (after its audit
    row is written) so the caller can commit the audit and then raise it. Every copy of the request (each
    manager's DM, the thread, and `pressed`, the (channel, ts) the decider pressed) then shows the decision."""
    escalation, agent = await _authorize(tx, escalation_id, decider_slack_id, at)
    if isinstance(agent, Exception):
        return agent
    view = await load(tx, escalation.ticket_id)
    ticket = view.ticket
    new_state = lifecycle.decide_escalation(view.state(), agent.role, approve, expected_version=ticket.version)
    try:
        decided = await tx.decide_escalation(
            escalation_id,
            status=EscalationStatus.APPROVED if approve else EscalationStatus.REJECTED,
            decided_by=agent.id,
            at=at,
            reason=(reason or "").strip() or None,
        )
    except StoreStale:
        raise NoPendingEscalation(f"escalation {escalation_id} was decided meanwhile") from None
    changes: dict[str, object] = {}
    if approve:
        changes["escalation_level"] = new_state.escalation_level
        if new_state.severity is not ticket.severity:
            changes["severity"] = new_state.severity
            changes["response_due_at"] = await response_deadline(tx, services, ticket, new_state.severity, at)
    updated = await tx.update_ticket(ticket.id, ticket.version, **changes)
    if "response_due_at" in changes:
        await schedule_response_timers(tx, services, updated)
    await audit(
        tx,
        ticket.id,
        at,
        AGENT,
        decider_slack_id,
        "escalation_approved" if approve else "escalation_rejected",
        escalation_id=escalation_id,
        to_level=escalation.to_level,
        level=updated.escalation_level,
        severity=int(updated.severity),
        reason=decided.decision_reason,
    )
    await _tell_decision(tx, services, view, decided, agent, approve, at)
    await refresh_copies(tx, services, decided, at, pressed=pressed)
    return decided


# --- the copies of a request: each manager's DM and the thread -------------------------------------------
async def record_copy(tx: Tx, escalation_id: int, channel: str, ts: str, *, at: datetime) -> None:
    """Note where a copy of the request was posted (recorded when Slack answered with its place)."""
    found = await tx.get_escalation(escalation_id)
    if found is not None:
        await audit(tx, found.ticket_id, at, SYSTEM, "slack", COPY, escalation_id=escalation_id, channel=channel, ts=ts)


async def decided_text(tx: Tx, services: Services, esc: Escalation) -> str:
    """The request as it was asked (ticket, level, who, reason) and, below it, the decision: who decided what,
    and why when rejected; a request dropped because the ticket was resolved or closed says so."""
    events = await tx.list_audit(esc.ticket_id)
    asked = next(
        (str(e.data["text"]) for e in events
         if e.action == "escalation_requested" and e.data.get("escalation_id") == esc.id and e.data.get("text")),
        None,
    )  # fmt: skip
    if asked is None:  # a request made before its text was kept: rebuilt from the row
        ticket = await tx.get_ticket(esc.ticket_id)
        asked = agent_text(
            services, "desk.escalation.request_dm", ticket=ticket.number if ticket else "?",
            level=agent_text(services, _LEVEL_KEY.get(esc.to_level, "desk.level.2")), who=esc.requested_by_id,
            reason=esc.reason, severity="",
        )  # fmt: skip
    if esc.status is EscalationStatus.REQUESTED:
        return asked
    if esc.status is EscalationStatus.REJECTED and esc.decision_reason in _DROPPED:
        return f"{asked}\n{agent_text(services, f'desk.escalation.dropped_{esc.decision_reason}')}"
    decider = None if esc.decided_by is None else await tx.get_agent(esc.decided_by)
    who = Safe(f"<@{decider.slack_user_id}>") if decider is not None else "—"
    approved = esc.status is EscalationStatus.APPROVED
    word = agent_text(services, "desk.escalation.approved_word" if approved else "desk.escalation.rejected_word")
    line = agent_text(services, "desk.escalation.decided_note", who=who, decision=word)
    if not approved and esc.decision_reason:
        line += " · " + agent_text(services, "desk.escalation.decided_reason", reason=esc.decision_reason)
    return f"{asked}\n{line}"


_DROPPED = ("resolved", "closed")  # desk_common.drop_pending_escalation's reasons


async def refresh_copies(
    tx: Tx, services: Services, esc: Escalation, at: datetime, *, pressed: tuple[str, str] | None = None
) -> None:
    """Replace every posted copy of a decided request with its decided form: no copy keeps live buttons, and
    each keeps the ticket, who asked, the reason and the decision. A copy not posted yet is rendered decided
    when it is sent (the Slack senders read the request's state at send time)."""
    places = {
        (str(e.data["channel"]), str(e.data["ts"]))
        for e in await tx.list_audit(esc.ticket_id)
        if e.action == COPY and e.data.get("escalation_id") == esc.id
    }
    if pressed is not None and pressed[0] and pressed[1]:
        places.add(pressed)
    text = await decided_text(tx, services, esc)
    for channel, ts in sorted(places):
        await outbox.slack_update(tx, channel, ts, text, at=at)


async def _tell_decision(
    tx: Tx, services: Services, view: TicketView, esc: Escalation, decider: Agent, approve: bool, at: datetime
) -> None:
    ticket = view.ticket
    level = agent_text(services, _LEVEL_KEY[esc.to_level])
    key = "desk.escalation.approved" if approve else "desk.escalation.rejected"
    text = agent_text(
        services,
        key,
        ticket=ticket.number,
        level=level,
        who=Safe(f"<@{decider.slack_user_id}>"),
        reason=esc.decision_reason or "—",
    )
    current = await tx.get_ticket(ticket.id) or ticket
    await outbox.slack_thread(tx, current, text, at=at, dedupe_key=f"esc-decided:{esc.id}")
    await outbox.slack_card(tx, current, at=at)
    if view.assignee is not None:
        await outbox.slack_dm(tx, view.assignee.slack_user_id, text, at=at)
    if esc.requested_by_kind == AGENT and (view.assignee is None or view.assignee.slack_user_id != esc.requested_by_id):
        await outbox.slack_dm(tx, esc.requested_by_id, text, at=at)
    if approve:
        await notify_client(tx, view, services, _CLIENT_APPROVED_KEY[esc.to_level], at=at)
    elif esc.requested_by_kind == CLIENT:
        # The rejection's reason goes back to whoever asked (here: the client).
        await notify_client(tx, view, services, "escalation.rejected_reason", at=at, reason=esc.decision_reason or "—")
