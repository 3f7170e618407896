"""Turns store records into the policy core's values (the domain never imports the store)."""

from __future__ import annotations

from bot.domain import contracts as dc
from bot.domain.types import TicketStatus
from storage.records import Contract, Product, Ticket, minutes_to_hours

_DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def domain_contract(record: Contract, event: Ticket | None = None) -> dc.Contract:
    """The domain's view of a stored contract (hours as exact Decimal). `event`: for a per-event contract, the
    ticket that took its purchase order (R-EVENT: the contract covers that one ticket)."""
    return dc.Contract(
        number=record.number,
        tier=record.tier,
        starts_on=record.starts_on,
        ends_on=record.ends_on,
        hours_total=minutes_to_hours(record.minutes_total),
        hours_used=minutes_to_hours(record.minutes_used),
        onsite_hours_total=minutes_to_hours(record.onsite_minutes_total),
        onsite_hours_used=minutes_to_hours(record.onsite_minutes_used),
        purchase_order=record.purchase_order,
        special_eol_support=record.special_eol_support,
        office_hours_total=minutes_to_hours(record.office_minutes_total),
        office_hours_used=minutes_to_hours(record.office_minutes_used),
        event_ticket=None if event is None else event.number,
        event_resolved=event is not None and event.status in _DONE,
    )


def domain_product(record: Product) -> dc.Product:
    """The domain's view of a stored product."""
    return dc.Product(
        name=record.name,
        area=record.service_area,
        warranty_until=record.warranty_until,
        discontinued=record.discontinued,
    )
