"""The response clock of a ticket: its deadline with pauses, the 75% warning and breach timers (P-SLA-5..7)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.types import Severity
from bot.services.context import Services
from storage import Tx
from storage.records import Ticket

__all__ = [
    "SLA_BREACH",
    "SLA_WARNING",
    "business_left",
    "pauses_of",
    "response_deadline",
    "response_taken",
    "restart_response_clock",
    "schedule_response_timers",
]

SLA_WARNING = "sla_warning"
SLA_BREACH = "sla_breach"


async def pauses_of(tx: Tx, ticket_id: int, now: datetime) -> list[tuple[datetime, datetime]]:
    """The ticket's client waits (P-SLA-7) as (start, end) as seen at `now`: an open one ends now, and one that
    starts after `now` is no pause yet. A card rendered for an instant a moment before "Pedir información"
    opened the pause once failed every time with "a pause must not end before it starts"."""
    spans = []
    for p in await tx.list_pauses(ticket_id):
        if p.started_at >= now:
            continue
        end = p.ended_at if p.ended_at is not None and p.ended_at <= now else now
        spans.append((p.started_at, end))
    return spans


def _start(ticket: Ticket) -> datetime:
    return ticket.clock_started_at or ticket.opened_at


async def response_deadline(tx: Tx, services: Services, ticket: Ticket, severity: Severity, now: datetime) -> datetime:
    """When the first response is due for `severity`, counted from the clock start, pauses excluded."""
    pauses = await pauses_of(tx, ticket.id, now)
    return services.calendar.add(_start(ticket), services.targets[severity], pauses)


async def response_taken(tx: Tx, services: Services, ticket: Ticket, at: datetime) -> timedelta:
    """Business time from the clock start to `at`, client waits excluded (P-SLA-6/7)."""
    return services.calendar.between(_start(ticket), at, await pauses_of(tx, ticket.id, at))


def business_left(services: Services, due: datetime, now: datetime) -> timedelta:
    """Business time from now to the deadline; negative when it has passed."""
    if due >= now:
        return services.calendar.between(now, due)
    return -services.calendar.between(due, now)


async def schedule_response_timers(
    tx: Tx, services: Services, ticket: Ticket, *, after: datetime | None = None, generation: str = ""
) -> None:
    """Queue the warning (ESCALATION_WARNING_PERCENT of the target, P-ESC-1) and breach timers of the
    ticket's current deadline. Idempotent: the dedupe key names the deadline, so a new deadline (severity
    raised) gets new timers and the old ones find a deadline that is no longer current and do nothing.
    `after`: a timer due by then is not queued (it already fired before a wait); `generation` tells the
    timers of a clock restarted after a wait from the ones it replaced."""
    due = ticket.response_due_at
    if due is None or ticket.first_response_at is not None:
        return
    target = services.targets[ticket.severity]
    share = services.settings.escalation_warning_percent / 100
    pauses = await pauses_of(tx, ticket.id, due)
    warn_at = services.calendar.add(_start(ticket), target * share, pauses)
    stamp = due.isoformat()
    payload = {"due": stamp}
    suffix = f":{generation}" if generation else ""
    for kind, when in ((SLA_WARNING, warn_at), (SLA_BREACH, due)):
        if after is not None and when <= after:
            continue
        await tx.schedule_timer(
            kind, when, ticket_id=ticket.id, payload=payload, dedupe_key=f"{kind}:{ticket.id}:{stamp}{suffix}"
        )


async def restart_response_clock(tx: Tx, services: Services, ticket: Ticket, now: datetime) -> Ticket:
    """P-SLA-7, R-RESPONSE: the client answered an information request before anyone responded to them. The
    deadline moves by the time waited, and the warning and breach are armed again for it: those that fell in
    the wait did nothing (the clock stood still), those still pending are replaced, and one whose moment had
    come before the wait is not given twice. Returns: the ticket as it is now."""
    if ticket.first_response_at is not None or ticket.response_due_at is None:
        return ticket
    due = await response_deadline(tx, services, ticket, ticket.severity, now)
    if due != ticket.response_due_at:
        ticket = await tx.update_ticket(ticket.id, ticket.version, response_due_at=due)
    await tx.cancel_timers(ticket.id, SLA_WARNING)
    await tx.cancel_timers(ticket.id, SLA_BREACH)
    waits = len(await tx.list_pauses(ticket.id))
    await schedule_response_timers(tx, services, ticket, after=now, generation=f"wait{waits}")
    return ticket
