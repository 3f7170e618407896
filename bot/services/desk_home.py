"""What a manager's App Home shows: live figures, escalations to decide, tickets at risk, contracts running out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain import lifecycle
from bot.domain.contracts import Contract as DomainContract
from bot.domain.errors import InvalidInput
from bot.domain.types import EscalationStatus, Role, TicketStatus
from bot.reports.build import figures_for
from bot.reports.figures import CONTRACT
from bot.reports.period import month_period
from bot.services.context import Services
from bot.services.convert import domain_contract
from bot.services.desk_deadline import business_left
from bot.services.escalation import MANAGER_ROLES, decided_text
from storage import Tx
from storage.records import Agent, Ticket

__all__ = [
    "EXPIRING_DAYS",
    "ExpiringContract",
    "ManagerFacts",
    "PendingEscalation",
    "RiskItem",
    "expiring_contracts",
    "is_manager",
    "manager_facts",
    "running_out",
]

EXPIRING_DAYS = 30  # a contract ending within this many days is running out (issue 12)
_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)


def is_manager(agent: Agent | None) -> bool:
    return agent is not None and agent.active and agent.role in MANAGER_ROLES


def running_out(contract: DomainContract, today: date, *, within_days: int, low_percent: float) -> bool:
    """About to run out: active and ending within `within_days`, or hours under the warning share (P-POL-2)."""
    ending = today <= contract.ends_on <= today + timedelta(days=within_days)
    return contract.status(today).value == "active" and (ending or float(contract.percent_left) < low_percent)


@dataclass(frozen=True)
class PendingEscalation:
    escalation_id: int
    text: str  # the request as every copy shows it


@dataclass(frozen=True)
class RiskItem:
    ticket: Ticket
    client_name: str
    left: timedelta  # business time to the response deadline; negative when overdue


@dataclass(frozen=True)
class ExpiringContract:
    contract_id: int
    number: str
    client_name: str
    ends_on: date
    days_left: int
    hours_left: float
    percent_left: float


@dataclass(frozen=True)
class ManagerFacts:
    open_by_status: dict[TicketStatus, int]
    sla_met: int
    sla_breached: int
    sla_pending: int
    month: str
    escalations: list[PendingEscalation]
    at_risk: list[RiskItem]
    contracts: list[ExpiringContract]


async def expiring_contracts(tx: Tx, services: Services, today: date) -> list[ExpiringContract]:
    """Active contracts under the hours warning share or ending within EXPIRING_DAYS, soonest end first."""
    names = {c.id: c.name for c in await tx.list_clients()}
    low = services.settings.low_hours_warning_percent
    found = []
    for record in await tx.list_contracts():
        contract = domain_contract(record)
        if not running_out(contract, today, within_days=EXPIRING_DAYS, low_percent=low):
            continue
        found.append(
            ExpiringContract(
                record.id,
                record.number,
                names.get(record.client_id, "?"),
                record.ends_on,
                (record.ends_on - today).days,
                float(contract.hours_left),
                float(contract.percent_left),
            )
        )
    found.sort(key=lambda c: (c.ends_on, c.percent_left, c.number))
    return found


async def manager_facts(services: Services, agent: Agent, now: datetime) -> ManagerFacts:
    """The manager's figures as of `now`: the escalations listed are those the viewer's role decides (P-ESC-2)."""
    local = now.astimezone(services.calendar.tz)
    period = month_period(f"{local.year:04d}-{local.month:02d}", services.calendar.tz)
    figures = await figures_for(services, period, now=now)
    sla = figures.sla_totals(CONTRACT)
    share = 1 - services.settings.escalation_warning_percent / 100
    async with services.store.transaction() as tx:
        names = {c.id: c.name for c in await tx.list_clients()}
        tickets = await tx.list_tickets(status=_OPEN)
        pending: list[PendingEscalation] = []
        risk: list[RiskItem] = []
        for t in tickets:
            for esc in await tx.list_escalations(t.id):
                if esc.status is EscalationStatus.REQUESTED and _decides(agent.role, esc.to_level):
                    pending.append(PendingEscalation(esc.id, await decided_text(tx, services, esc)))
            if t.response_due_at is None or t.first_response_at is not None:
                continue
            left = business_left(services, t.response_due_at, now)
            if left <= services.targets[t.severity] * share:  # past the warning share (P-ESC-1), or overdue
                risk.append(RiskItem(t, names.get(t.client_id, "?"), left))
        contracts = await expiring_contracts(tx, services, local.date())
    risk.sort(key=lambda r: (r.left, r.ticket.id))
    return ManagerFacts(
        dict(Counter(t.status for t in tickets)),
        sla.met,
        sla.breached,
        sla.pending,
        period.label,
        pending,
        risk,
        contracts,
    )


def _decides(role: Role, level: int) -> bool:
    try:
        return lifecycle.approver_role(level) is role
    except InvalidInput:  # a level with no approver: nobody decides it from a Home
        return False
