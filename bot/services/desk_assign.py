"""Who holds a ticket and how urgent it is: release, (re)assign by a manager, change the severity (R-SEVERITY)."""

from __future__ import annotations

from datetime import datetime

from bot.dates import business_duration_in_words, deadline_in_words
from bot.domain import lifecycle
from bot.domain.types import Role, Severity
from bot.i18n import Safe
from bot.services import mail_severity, outbox
from bot.services.context import Services
from bot.services.desk import require_assignee
from bot.services.desk_common import (
    AGENT,
    AGENT_LANGUAGE,
    DeskError,
    NotTheAssignee,
    TicketView,
    agent_text,
    audit,
    client_text,
    load,
    notify_client,
    require_agent,
)
from bot.services.desk_deadline import response_deadline, schedule_response_timers
from storage import Tx
from storage.records import Agent, Ticket

__all__ = [
    "MANAGERS",
    "NotAConsultant",
    "NotAManager",
    "SameAssignee",
    "change_severity",
    "reassign",
    "release",
    "require_manager",
    "require_severity_changer",
]

MANAGERS = frozenset({Role.QUALITY_MANAGER, Role.OPERATIONS_MANAGER})


class NotAManager(DeskError):
    """Only the Quality Manager or the Operations Manager assigns a ticket to someone else."""


class NotAConsultant(DeskError):
    """The person chosen to receive the ticket has no active role in the bot."""


class SameAssignee(DeskError):
    """The ticket already belongs to the person chosen."""

    def __init__(self, agent: Agent) -> None:
        super().__init__(agent.slack_user_id)
        self.agent = agent


def _mention(agent: Agent) -> Safe:
    return Safe(f"<@{agent.slack_user_id}>")


async def require_manager(tx: Tx, slack_user_id: str) -> Agent:
    """The caller, who must be an active manager. Raises NotAnAgent (no role), NotAManager."""
    agent = await require_agent(tx, slack_user_id)
    if agent.role not in MANAGERS:
        raise NotAManager(slack_user_id)
    return agent


async def require_severity_changer(tx: Tx, view: TicketView, slack_user_id: str) -> Agent:
    """R-SEVERITY: the assignee or a manager. Raises NotAnAgent, NotTheAssignee."""
    agent = await require_agent(tx, slack_user_id)
    if agent.id != view.ticket.assignee_id and agent.role not in MANAGERS:
        raise NotTheAssignee(view.assignee)
    return agent


async def release(tx: Tx, services: Services, *, ticket_id: int, slack_user_id: str, at: datetime) -> Ticket:
    """ "Soltar": the assignee gives the ticket back; it is new and unassigned again, for anyone to take.
    Raises NotAnAgent, NotTheAssignee, IllegalTransition (waiting for the client, resolved, closed)."""
    view = await load(tx, ticket_id)
    agent = await require_assignee(tx, view, slack_user_id)
    ticket = view.ticket
    state = lifecycle.apply(view.state(), lifecycle.Action.RELEASE, expected_version=ticket.version)
    updated = await tx.update_ticket(ticket_id, ticket.version, status=state.status, assignee_id=None)
    await schedule_response_timers(tx, services, updated)  # unanswered: its warning and breach count again
    await audit(tx, ticket_id, at, AGENT, slack_user_id, "released", agent_id=agent.id)
    await outbox.slack_thread(tx, updated, agent_text(services, "desk.thread.released", who=_mention(agent)), at=at)
    await outbox.slack_card(tx, updated, at=at)
    await notify_client(tx, view, services, "tickets.released", at=at)
    return updated


async def reassign(
    tx: Tx, services: Services, *, ticket_id: int, slack_user_id: str, to_slack_id: str, at: datetime
) -> Ticket:
    """ "Asignar / Reasignar": a manager gives the ticket to a consultant; both are told, and so is the client.
    Raises NotAnAgent, NotAManager, NotAConsultant, SameAssignee, IllegalTransition (resolved, closed)."""
    manager = await require_manager(tx, slack_user_id)
    view = await load(tx, ticket_id)
    target = await tx.get_agent_by_slack(to_slack_id)
    if target is None or not target.active:
        raise NotAConsultant(to_slack_id)
    ticket = view.ticket
    if ticket.assignee_id == target.id:
        raise SameAssignee(target)
    state = lifecycle.apply(
        view.state(), lifecycle.Action.REASSIGN, expected_version=ticket.version, actor=str(target.id)
    )
    updated = await tx.update_ticket(ticket_id, ticket.version, status=state.status, assignee_id=target.id)
    previous = view.assignee
    await audit(
        tx, ticket_id, at, AGENT, slack_user_id, "reassigned",
        by_agent_id=manager.id, from_agent_id=previous.id if previous else None, to_agent_id=target.id,
    )  # fmt: skip
    if previous is None:
        note = agent_text(services, "desk.thread.assigned", by=_mention(manager), to=_mention(target))
    else:
        note = agent_text(
            services, "desk.thread.reassigned", by=_mention(manager), before=_mention(previous), to=_mention(target)
        )
    await outbox.slack_thread(tx, updated, note, at=at)
    await outbox.slack_card(tx, updated, at=at)
    if target.slack_user_id != slack_user_id:
        dm = agent_text(services, "desk.dm.assigned", by=_mention(manager), ticket=ticket.number)
        await outbox.slack_dm(tx, target.slack_user_id, dm, at=at)
    await notify_client(tx, view, services, "tickets.reassigned", at=at, agent=target.name)
    return updated


async def change_severity(
    tx: Tx,
    services: Services,
    *,
    ticket_id: int,
    slack_user_id: str,
    severity: Severity,
    reason: str,
    at: datetime,
) -> Ticket:
    """ "Cambiar severidad" (R-SEVERITY, P-ESC-1 "el problema cambia de prioridad"): the assignee or a manager
    sets another severity with a reason; an unanswered ticket's deadline is recomputed from its clock start
    (its old warning and breach timers find their deadline gone and do nothing), and the client is told.
    Raises NotAnAgent, NotTheAssignee, IllegalTransition (finished), InvalidInput (same severity, no reason)."""
    view = await load(tx, ticket_id)
    agent = await require_severity_changer(tx, view, slack_user_id)
    ticket = view.ticket
    # P-IN-6: an e-mail ticket's "severidad por confirmar" is settled here too (the same level only confirms it).
    if await mail_severity.confirm_by_desk(tx, ticket, severity, slack_user_id=slack_user_id, at=at):
        return ticket
    lifecycle.change_severity(view.state(), severity, reason, expected_version=ticket.version)
    changes: dict[str, object] = {"severity": severity}
    due = None
    if ticket.first_response_at is None and ticket.response_due_at is not None:
        due = await response_deadline(tx, services, ticket, severity, at)
        changes["response_due_at"] = due
    updated = await tx.update_ticket(ticket_id, ticket.version, **changes)
    await schedule_response_timers(tx, services, updated)
    await audit(
        tx, ticket_id, at, AGENT, slack_user_id, "severity_changed",
        agent_id=agent.id, before=int(ticket.severity), after=int(severity), reason=reason.strip(),
        response_due_at=due.isoformat() if due else None,
    )  # fmt: skip
    note = agent_text(
        services, "desk.thread.severity_changed", who=_mention(agent), before=int(ticket.severity),
        after=int(severity), reason=reason.strip(),
    )  # fmt: skip
    if due is not None:
        tz = services.calendar.tz
        deadline = deadline_in_words(due, AGENT_LANGUAGE, tz, catalogue=services.catalogue)
        target = business_duration_in_words(services.targets[severity], AGENT_LANGUAGE, catalogue=services.catalogue)
        note += "\n" + agent_text(services, "desk.thread.new_deadline", deadline=deadline, target=target)
    await outbox.slack_thread(tx, updated, note, at=at)
    await outbox.slack_card(tx, updated, at=at)
    lang = view.language
    words = client_text(services, lang, f"intake.severity.name.{int(severity)}")
    if due is not None:
        when = deadline_in_words(due, lang, services.calendar.tz, catalogue=services.catalogue)
        await notify_client(
            tx, view, services, "tickets.severity_changed_deadline", at=at,
            severity=words, reason=reason.strip(), deadline=when,
        )  # fmt: skip
    else:
        await notify_client(
            tx, view, services, "tickets.severity_changed", at=at, severity=words, reason=reason.strip()
        )
    return updated
