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
    "schedule_response_timers",
]

SLA_WARNING = "sla_warning"
SLA_BREACH = "sla_breach"


async def pauses_of(tx: Tx, ticket_id: int, now: datetime) -> list[tuple[datetime, datetime]]:
    """The ticket's client waits (P-SLA-7) as (start, end); an open one ends now."""
    return [(p.started_at, p.ended_at or now) for p in await tx.list_pauses(ticket_id)]


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


async def schedule_response_timers(tx: Tx, services: Services, ticket: Ticket) -> None:
    """Queue the warning (ESCALATION_WARNING_PERCENT of the target, P-ESC-1) and breach timers of the
    ticket's current deadline. Idempotent: the dedupe key names the deadline, so a new deadline (severity
    raised) gets new timers and the old ones find a deadline that is no longer current and do nothing."""
    due = ticket.response_due_at
    if due is None or ticket.first_response_at is not None:
        return
    target = services.targets[ticket.severity]
    share = services.settings.escalation_warning_percent / 100
    pauses = await pauses_of(tx, ticket.id, due)
    warn_at = services.calendar.add(_start(ticket), target * share, pauses)
    stamp = due.isoformat()
    payload = {"due": stamp}
    await tx.schedule_timer(
        SLA_WARNING, warn_at, ticket_id=ticket.id, payload=payload, dedupe_key=f"{SLA_WARNING}:{ticket.id}:{stamp}"
    )
    await tx.schedule_timer(
        SLA_BREACH, due, ticket_id=ticket.id, payload=payload, dedupe_key=f"{SLA_BREACH}:{ticket.id}:{stamp}"
    )
