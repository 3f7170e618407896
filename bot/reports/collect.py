"""Read a period's rows from the store for bot.reports.figures (one read transaction)."""

from __future__ import annotations

from datetime import datetime

from bot.reports.figures import ContractFacts, MonthData, TicketFacts
from bot.reports.period import Period
from storage import Tx

__all__ = ["collect"]


async def collect(tx: Tx, period: Period, as_of: datetime, client_id: int | None = None) -> MonthData:
    """The cohort's tickets (with pauses, escalations, audit), every ticket still open at `as_of` (for the
    backlog), and the contracts in force during the period with their ledgers. `client_id`: only that client."""
    names = {c.id: c.name for c in await tx.list_clients()}
    tickets = []
    for t in await tx.list_tickets(client_id=client_id):
        if t.opened_at >= min(as_of, period.end):
            continue
        in_cohort = period.holds(t.opened_at)
        maybe_open = t.closed_at is None or t.closed_at >= as_of  # closed before as_of: closed then
        if not in_cohort and not maybe_open:
            continue
        tickets.append(
            TicketFacts(
                ticket=t,
                client_name=names.get(t.client_id, "?"),
                pauses=await tx.list_pauses(t.id),
                escalations=await tx.list_escalations(t.id),
                events=await tx.list_audit(t.id),
            )
        )
    contracts = []
    for c in await tx.list_contracts(client_id):
        if c.starts_on > period.last_day or c.ends_on < period.first_day:
            continue
        contracts.append(ContractFacts(c, names.get(c.client_id, "?"), await tx.list_hours(c.id)))
    name = names.get(client_id) if client_id is not None else None
    return MonthData(period=period, as_of=as_of, tickets=tickets, contracts=contracts, client_name=name)
