"""A generated month of support: five client companies, their contracts and a month of tickets worked through
the bot's own use cases (claims, information requests and client waits, first responses late and on time,
escalations decided or left waiting, resolutions with hours, ratings, reopenings, warranty tickets), with the
real timers firing (warnings, automatic escalations, reminders, automatic closes) and Mexico's holidays.

The sample report under docs/ and the reconcile test are made from it; the same seed gives the same month.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.delivery import Dispatcher, Outgoing, Scheduler
from bot.domain.contracts import Contract as DomainContract
from bot.domain.errors import DomainError
from bot.domain.types import EscalationStatus, HoursKind, Role, ServiceArea, Severity, Tier
from bot.reports.period import Period
from bot.services import delivered, desk, desk_info, desk_resolve, desk_response, escalation, outbox
from bot.services.context import Services
from bot.services.desk_common import DeskError
from bot.services.desk_deadline import restart_response_clock
from bot.services.sla import register_timers, start_response_clock
from bot.settings import Settings
from storage import StoreError, Tx
from storage.records import NewTicket

__all__ = ["COMPANIES", "Generated", "MonthClock", "generate_month", "month_services"]

# (name, tier, contract start, Telegram id of its contact, contact name, warranty product)
COMPANIES: tuple[tuple[str, Tier, date, int, str], ...] = (
    ("Comercializadora del Valle", Tier.BUSINESS, date(2026, 3, 15), 7000001, "Laura Pérez"),
    ("Grupo Textil Atlixco", Tier.BASIC, date(2026, 1, 20), 7000002, "Jorge Hernández"),
    ("Clínica San Rafael", Tier.CORPORATE, date(2026, 6, 1), 7000003, "Patricia Luna"),
    ("Despacho Fiscal Morales", Tier.BUSINESS_PLUS, date(2025, 12, 10), 7000004, "Andrés Morales"),
    ("Transportes Cholula", Tier.BUSINESS, date(2026, 2, 1), 7000005, "Mónica Ríos"),
)
AGENTS = (("U0MARCO", "Marco", Role.AGENT), ("U0ANA", "Ana", Role.AGENT), ("U0LUIS", "Luis", Role.AGENT))
QUALITY, OPERATIONS = "U0SOFIA", "U0RICARDO"
MANAGERS = ((QUALITY, "Sofía", Role.QUALITY_MANAGER), (OPERATIONS, "Ricardo", Role.OPERATIONS_MANAGER))
_REFUSED = (DeskError, DomainError, StoreError)  # a step the ticket's state no longer allows is skipped
_WEIGHTS = {"sev": [0.1, 0.2, 0.4, 0.3], "client": [0.3, 0.15, 0.25, 0.15, 0.15]}
_RATINGS = ([5, 4, 3, 2, 1], [0.5, 0.3, 0.12, 0.05, 0.03])


class MonthClock:
    """The services' clock, moved by the generator."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)


Step = Callable[[Tx], Awaitable[object]]


@dataclass
class Generated:
    """What was made: client ids by name, and how many tickets."""

    clients: dict[str, int] = field(default_factory=dict)
    tickets: int = 0
    steps: int = 0
    skipped: int = 0


@dataclass
class _Seeded:
    clients: dict[str, int]
    contracts: dict[str, int]
    products: dict[str, tuple[int, int]]  # client name -> (charged product, warranty product)
    contacts: dict[str, tuple[int, int]]  # client name -> (contact id, Telegram id)


async def _seed(tx: Tx, services: Services, now: datetime, month: Period) -> _Seeded:
    seeded = _Seeded({}, {}, {}, {})
    for i, (name, tier, starts, telegram_id, person) in enumerate(COMPANIES, start=1):
        client = await tx.add_client(name, phone=f"222 248 {1000 + i:04d}", at=now)
        terms = DomainContract.new(f"POL-{starts.year}-{100 + i:03d}", tier, starts, rules=services.tiers)
        contract = await tx.add_contract(
            number=terms.number, client_id=client.id, tier=tier, starts_on=terms.starts_on, ends_on=terms.ends_on,
            minutes_total=int(terms.hours_total * 60), onsite_minutes_total=int(terms.onsite_hours_total * 60),
            office_minutes_total=int(terms.office_hours_total * 60),
        )  # fmt: skip
        # Hours used before the month (the contract started months ago): about a third, less for the small one.
        before = int(terms.hours_total * 60 * Decimal("0.15")) if tier is not Tier.BASIC else 120
        await tx.record_hours(contract.id, None, before, HoursKind.REMOTE, True, month.start - timedelta(days=20))
        charged = await tx.add_product(client.id, "FortiGate 60F", ServiceArea.FIREWALL, contract_id=contract.id)
        free = await tx.add_product(
            client.id, "Sistema de facturación", ServiceArea.SOFTWARE, contract_id=contract.id,
            warranty_until=month.last_day + timedelta(days=90),
        )  # fmt: skip
        contact = await tx.add_contact(
            client.id, person, phone=f"+52 222 555 {i:04d}", telegram_user_id=telegram_id, at=now
        )
        seeded.clients[name] = client.id
        seeded.contracts[name] = contract.id
        seeded.products[name] = (charged.id, free.id)
        seeded.contacts[name] = (contact.id, telegram_id)
    for slack_id, person, role in AGENTS + MANAGERS:
        await tx.add_agent(person, slack_id, role)
    return seeded


class _Month:
    def __init__(self, services: Services, clock: MonthClock, seeded: _Seeded, rng: random.Random) -> None:
        self.s, self.clock, self.seeded, self.rng = services, clock, seeded, rng
        self.steps: list[tuple[datetime, int, Step]] = []
        self._order = 0

    def at(self, when: datetime, step: Step) -> None:
        self._order += 1
        self.steps.append((when, self._order, step))

    def later(self, start: datetime, hours: float) -> datetime:
        """`hours` of business time after start."""
        return self.s.calendar.add(start, timedelta(hours=hours))

    def u(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def plan(self, opened: datetime) -> None:
        """One ticket's story, from its opening on: each step runs at its instant, if the ticket still allows it."""
        rng, s = self.rng, self.s
        name = rng.choices([c[0] for c in COMPANIES], _WEIGHTS["client"])[0]
        severity = Severity(rng.choices([1, 2, 3, 4], _WEIGHTS["sev"])[0])
        warranty = rng.random() < 0.12 and severity is not Severity.LOW
        target = s.targets[severity].total_seconds() / 3600
        start = s.calendar.next_open(opened)
        agent = rng.choice(AGENTS)[0]
        ids: dict[str, int] = {}
        contact_id, telegram_id = self.seeded.contacts[name]
        charged_product, free_product = self.seeded.products[name]

        async def open_ticket(tx: Tx) -> None:
            ticket = await tx.create_ticket(
                NewTicket(
                    client_id=self.seeded.clients[name], contact_id=contact_id, service_area=(
                        ServiceArea.SOFTWARE if warranty else ServiceArea.FIREWALL), severity=severity,
                    description="Reporte generado", opened_at=opened, contract_id=self.seeded.contracts[name],
                    product_id=free_product if warranty else charged_product, telegram_chat_id=telegram_id,
                    clock_started_at=start, response_due_at=s.calendar.add(start, s.targets[severity]),
                    warranty=warranty,
                ),
                prefix=s.settings.ticket_prefix,
            )  # fmt: skip
            ids["ticket"] = ticket.id
            await tx.append_audit(
                ticket.id, at=opened, actor_kind="client", actor_id=str(telegram_id), action="opened",
                data={"channel": "telegram", "severity": int(severity), "charged": not warranty},
            )  # fmt: skip
            await outbox.slack_card(tx, ticket, at=opened)
            await start_response_clock(tx, s, ticket)

        self.at(opened, open_ticket)
        late_claim = rng.random() < 0.1
        claim_at = self.later(start, target * (self.u(1.05, 1.3) if late_claim else self.u(0.02, 0.4)))
        self.at(claim_at, self._do(ids, desk.claim, slack_user_id=agent))
        t = claim_at
        if late_claim:  # the breach asked for level 2 (by the timer); Sofía decides a little later
            self.at(self.later(t, self.u(0.5, 4)), self._decide(ids, QUALITY, approve=rng.random() < 0.7))
        if rng.random() < 0.3:
            t = self.later(t, self.u(0.1, 1))
            self.at(t, self._do(ids, desk_info.ask_client, slack_user_id=agent, question="¿Nos envías una captura?"))
            if rng.random() < 0.25:
                return  # never answered: three reminders on business days, then closed (P-CLOSE-3)
            t = self.later(t, self.u(0.5, 10))
            self.at(t, self._answer(ids))
        late = rng.random() < 0.12 and not late_claim
        respond_at = self.later(start, target * self.u(1.05, 1.5)) if late else self.later(t, self.u(0.05, 0.5))
        t = max(t, respond_at) + timedelta(minutes=1)
        self.at(t, self._do(ids, desk_response.record_contact, slack_user_id=agent))
        if rng.random() < 0.12:
            t = self.later(t, self.u(0.2, 3))
            self.at(t, self._do(ids, escalation.request_in_tx, requested_by_kind="client",
                                requested_by_id=str(telegram_id), reason="Urge: no podemos facturar"))  # fmt: skip
            t = self.later(t, self.u(0.2, 2))
            approve = rng.random() < 0.7
            self.at(t, self._decide(ids, QUALITY, approve=approve))
            if approve and rng.random() < 0.8:
                t = self.later(t, self.u(0.5, 4))
                self.at(t, self._do(ids, escalation.request_in_tx, requested_by_kind="agent", requested_by_id=agent,
                                    reason="Necesitamos al gerente"))  # fmt: skip
                if rng.random() < 0.7:
                    t = self.later(t, self.u(0.5, 6))
                    self.at(t, self._decide(ids, OPERATIONS, approve=rng.random() < 0.8))
        t = self.later(t, self.u(0.5, 14))
        self.at(t, self._resolve(ids, agent, warranty))
        if rng.random() < 0.6:
            rated = self.later(t, self.u(0.2, 6))
            weights = _RATINGS
            self.at(rated, self._do(ids, desk_resolve.client_rate, telegram_user_id=telegram_id,
                                    rating=rng.choices(*weights)[0]))  # fmt: skip
        if rng.random() < 0.13:
            t = self.later(t, self.u(0.5, 12))
            self.at(t, self._do(ids, desk_resolve.client_reopen, telegram_user_id=telegram_id))
            t = self.later(t, self.u(1, 10))
            self.at(t, self._resolve(ids, agent, warranty))
        if rng.random() < 0.45:
            self.at(self.later(t, self.u(0.2, 8)), self._do(ids, desk_resolve.client_confirm,
                                                            telegram_user_id=telegram_id))  # fmt: skip

    # --- steps ------------------------------------------------------------------------------------------
    def _do(self, ids: dict[str, int], use_case: Callable[..., Awaitable[object]], **kwargs: object) -> Step:
        async def step(tx: Tx) -> object:
            return await use_case(tx, self.s, ticket_id=ids["ticket"], at=self.clock(), **kwargs)

        return step

    def _answer(self, ids: dict[str, int]) -> Step:
        async def step(tx: Tx) -> None:
            now = self.clock()
            if not await desk_info.resume_from_waiting(tx, self.s, ids["ticket"], now):
                return
            ticket = await tx.get_ticket(ids["ticket"])
            if ticket is not None and ticket.first_response_at is None:
                await restart_response_clock(tx, self.s, ticket, now)

        return step

    def _decide(self, ids: dict[str, int], manager: str, *, approve: bool) -> Step:
        async def step(tx: Tx) -> None:
            pending = [e for e in await tx.list_escalations(ids["ticket"]) if e.status is EscalationStatus.REQUESTED]
            if not pending:
                return
            result = await escalation.decide_in_tx(
                tx, self.s, escalation_id=pending[-1].id, decider_slack_id=manager, approve=approve,
                reason=None if approve else "Se atiende en el nivel actual", at=self.clock(),
            )  # fmt: skip
            if isinstance(result, Exception):
                raise result

        return step

    def _resolve(self, ids: dict[str, int], agent: str, warranty: bool) -> Step:
        hours = {HoursKind.REMOTE: Decimal(str(round(self.u(0.25, 1.75) * 4) / 4 or 0.25))}
        return self._do(ids, desk_resolve.resolve, slack_user_id=agent, solution="Se corrigió la configuración.",
                        hours=hours, charged=not warranty)  # fmt: skip


def _opening_instants(rng: random.Random, month: Period, count: int) -> list[datetime]:
    """Mostly on business days in business hours, some in the evening, the lunch break or on weekends."""
    zone = month.start.tzinfo
    days = [month.first_day + timedelta(days=i) for i in range((month.last_day - month.first_day).days + 1)]
    instants: list[datetime] = []
    while len(instants) < count:
        day = rng.choice(days)
        if day.weekday() >= 5 and rng.random() < 0.8:
            continue
        minute = rng.randint(7 * 60, 21 * 60)
        instants.append(datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone))
    return sorted(instants)


async def generate_month(
    services: Services, clock: MonthClock, month: Period, *, tickets: int = 70, seed: int = 2026
) -> Generated:
    """Fill an empty store (services.store) with the companies and `tickets` tickets opened in `month`, worked
    until the month's end. services.clock must be `clock`."""
    rng = random.Random(seed)
    store = services.store
    clock.set(month.start - timedelta(days=30))
    async with store.transaction() as tx:
        seeded = await _seed(tx, services, clock(), month)
    plan = _Month(services, clock, seeded, rng)
    for opened in _opening_instants(rng, month, tickets):
        plan.plan(opened)
    scheduler = Scheduler(store, clock=clock)
    register_timers(scheduler, services)
    dispatcher = _accepting_dispatcher(services, clock)

    async def settle() -> None:
        # Every message reaches its person at once (the reminders count as attempts, replies as responses).
        await scheduler.drain()
        await dispatcher.drain()

    done = Generated(dict(seeded.clients), tickets)
    ticks = _ticks(services, month)
    steps = sorted((s for s in plan.steps if s[0] < month.end), key=lambda s: (s[0], s[1]))
    for when, _, step in steps:
        while ticks and ticks[0] <= when:  # the timers due before this step fire at their moment
            clock.set(ticks.pop(0))
            await settle()
        clock.set(when)
        await settle()
        try:
            async with store.transaction() as tx:
                await step(tx)
            done.steps += 1
        except _REFUSED:
            done.skipped += 1
    for tick in [*ticks, month.end]:
        clock.set(tick)
        await settle()
    return done


def _accepting_dispatcher(services: Services, clock: MonthClock) -> Dispatcher:
    """A dispatcher whose Telegram and Slack both accept every message, with the hooks that record what a
    delivery means (bot.services.delivered)."""
    dispatcher = Dispatcher(services.store, clock=clock)

    async def accept(out: Outgoing) -> dict[str, object]:
        return {}

    for name in dir(outbox):
        value = getattr(outbox, name)
        if isinstance(value, str) and name.startswith(("TG_", "SLACK_")):
            dispatcher.register(outbox.TELEGRAM if name.startswith("TG_") else outbox.SLACK, value, accept)
    delivered.register(dispatcher, services)
    return dispatcher


def _ticks(services: Services, month: Period) -> list[datetime]:
    """Every quarter hour inside business windows of the month (timers are due inside them)."""
    out = []
    t = services.calendar.next_open(month.start)
    while t < month.end:
        out.append(t)
        t = services.calendar.next_open(t + timedelta(minutes=15))
    return out


async def month_services(settings: Settings, path: Path, clock: MonthClock) -> Services:
    """Services on a new SQLite file at `path` (never the configured database), driven by `clock`."""
    from bot.i18n import Catalogue
    from bot.wiring import build_calendar, response_targets, tier_rules
    from storage import SecretBox, generate_key, open_store

    box = SecretBox([generate_key()])
    store = await open_store(path, box)
    return Services(
        settings=settings, store=store, calendar=build_calendar(settings), tiers=tier_rules(settings),
        targets=response_targets(settings), catalogue=Catalogue.load(), box=box, clock=clock,
    )  # fmt: skip
