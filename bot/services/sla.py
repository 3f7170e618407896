"""The SLA watch: response warning at 75% and breach auto-escalation until the first response (P-ESC-1,
R-RESPONSE), and every desk timer's wiring."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.dates import business_duration_in_words, short_date
from bot.delivery import Scheduler
from bot.domain.errors import EscalationError
from bot.domain.types import TicketStatus
from bot.i18n import Safe
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_common import AGENT_LANGUAGE, SYSTEM, agent_text, audit, load
from bot.services.desk_deadline import SLA_BREACH, SLA_WARNING, business_left, schedule_response_timers
from bot.services.desk_info import INFO_CLOSE, INFO_REMINDER, on_info_close, on_info_reminder
from bot.services.desk_resolve import RESOLVED_AUTOCLOSE, on_resolved_autoclose
from bot.services.escalation import request_in_tx
from storage import Tx
from storage.records import Ticket, Timer

__all__ = ["on_sla_breach", "on_sla_warning", "register_timers", "start_response_clock"]

log = logging.getLogger(__name__)


async def start_response_clock(tx: Tx, services: Services, ticket: Ticket) -> None:
    """Schedule the ticket's warning and breach timers (idempotent; intake and the card's record both call it)."""
    await schedule_response_timers(tx, services, ticket)


# R-RESPONSE, P-ESC-1: warnings and the automatic escalation apply until the first response, claimed or not.
# A ticket waiting for the client is off the clock (P-SLA-7): its timers do nothing, and the client's answer
# arms new ones for the moved deadline (bridge -> desk_deadline.restart_response_clock).
_ON_THE_CLOCK = (TicketStatus.NEW, TicketStatus.ASSIGNED)


async def _current(tx: Tx, timer: Timer) -> Ticket | None:
    """The ticket, when nobody has responded to the client yet, its clock runs, and the timer is for its current
    deadline."""
    if timer.ticket_id is None:
        return None
    ticket = await tx.get_ticket(timer.ticket_id)
    if ticket is None or ticket.status not in _ON_THE_CLOCK or ticket.response_due_at is None:
        return None
    if ticket.first_response_at is not None:
        return None
    if ticket.response_due_at != datetime.fromisoformat(str(timer.payload.get("due"))):
        return None
    return ticket


async def on_sla_warning(services: Services, tx: Tx, timer: Timer) -> None:
    """Timer: ESCALATION_WARNING_PERCENT of the response time is gone and nobody has responded to the client
    (R-RESPONSE): unclaimed, or claimed without a first contact (then the assignee is named)."""
    ticket = await _current(tx, timer)
    if ticket is None or ticket.response_due_at is None:
        return
    now = services.clock()
    left = business_left(services, ticket.response_due_at, now)
    assignee = None if ticket.assignee_id is None else await tx.get_agent(ticket.assignee_id)
    text = agent_text(
        services,
        "desk.sla.warning" if assignee is None else "desk.sla.warning_assigned",
        who=Safe(f"<@{assignee.slack_user_id}>") if assignee is not None else "",
        ticket=ticket.number,
        deadline=short_date(ticket.response_due_at, AGENT_LANGUAGE, services.calendar.tz, catalogue=services.catalogue),
        left=business_duration_in_words(max(left, timedelta(0)), AGENT_LANGUAGE, catalogue=services.catalogue),
    )
    channel = ticket.slack_channel or services.settings.slack_support_channel
    await outbox.slack_channel(tx, channel, text, at=now, dedupe_key=f"sla-warning:{timer.id}")
    await outbox.slack_card(tx, ticket, at=now)  # the time left on the card, as of now
    await audit(tx, ticket.id, now, SYSTEM, SLA_WARNING, "sla_warning")


async def on_sla_breach(services: Services, tx: Tx, timer: Timer) -> None:
    """Timer: the response deadline passed without a first response (R-RESPONSE), claimed or not -> an automatic
    escalation request (P-ESC-1)."""
    ticket = await _current(tx, timer)
    if ticket is None:
        return
    now = services.clock()
    await audit(tx, ticket.id, now, SYSTEM, SLA_BREACH, "sla_breached")
    view = await load(tx, ticket.id)
    try:
        await request_in_tx(
            tx,
            services,
            ticket_id=ticket.id,
            requested_by_kind=SYSTEM,
            requested_by_id=SLA_BREACH,
            reason=agent_text(
                services, "desk.sla.breach_reason" if ticket.assignee_id is None else "desk.sla.breach_reason_assigned"
            ),
            new_severity=None,
            at=now,
        )
    except EscalationError as exc:  # already pending or at the top: the channel still hears of it
        log.info("no automatic escalation for %s: %s", ticket.number, exc)
        await outbox.slack_card(tx, ticket, at=now)  # "vencido" on the card all the same
        return
    level = agent_text(services, f"desk.level.{view.ticket.escalation_level + 1}")
    text = agent_text(services, "desk.sla.breach", ticket=ticket.number, level=level)
    channel = ticket.slack_channel or services.settings.slack_support_channel
    await outbox.slack_channel(tx, channel, text, at=now, dedupe_key=f"sla-breach:{timer.id}")


Handler = Callable[[Services, Tx, Timer], Awaitable[None]]
_HANDLERS: dict[str, Handler] = {
    SLA_WARNING: on_sla_warning,
    SLA_BREACH: on_sla_breach,
    INFO_REMINDER: on_info_reminder,
    INFO_CLOSE: on_info_close,
    RESOLVED_AUTOCLOSE: on_resolved_autoclose,
}


def register_timers(scheduler: Scheduler, services: Services) -> None:
    """Give the scheduler every desk timer kind (called once by the composition root)."""
    for kind, handler in _HANDLERS.items():
        scheduler.register(kind, _bind(handler, services))


def _bind(handler: Handler, services: Services) -> Callable[[Tx, Timer], Awaitable[None]]:
    async def fire(tx: Tx, timer: Timer) -> None:
        await handler(services, tx, timer)

    return fire
