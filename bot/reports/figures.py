"""A period's figures as the policy counts them, computed from plain rows (no I/O, no clock read).

The cohort is the tickets opened in the period (of one client with --client); every figure is as of `as_of`
(the period's end, or the moment the report is made when the period has not ended): what happened later is
left out, so a report of a past month is the same whenever it is made.

- SLA (P-SLA-1..7, R-RESPONSE): met when the first response came within the severity's target in business
  hours, client waits off the clock; breached when it came late, or when, with no response yet, the business
  time on the clock reached the target. Otherwise pending. Warranty tickets (P-POL-4) are counted apart.
- First response: business hours from the clock's start to the first response, client waits excluded.
- Contract hours (P-POL-2, R-POOLS): charged minutes of the ledger, in the period and up to `as_of`.
- Backlog: tickets opened before `as_of` and not resolved or closed at `as_of`, by business age.
- Reopen rate (P-CLOSE-2): resolved tickets that the client reopened at least once.
- Ratings: the 1-5 answers given by `as_of`.
- Escalations (P-ESC-1/2): by the level asked for and what became of them (approved, rejected, dropped when
  the ticket was resolved or closed first, pending).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.calendar import BusinessCalendar
from bot.domain.types import EscalationStatus, HoursKind, Severity
from bot.reports.period import Period
from storage.records import AuditEvent, Contract, Escalation, HoursEntry, SlaPause, Ticket

__all__ = [
    "AGE_BUCKETS",
    "CLOSING_ACTIONS",
    "RESPONSE_BUCKETS",
    "BacklogItem",
    "ContractFacts",
    "EscalationRow",
    "Figures",
    "HoursRow",
    "MonthData",
    "Response",
    "SlaRow",
    "TicketFacts",
    "age_bucket",
    "compute",
    "response_bucket",
]

MET, BREACHED, PENDING = "met", "breached", "pending"
CONTRACT, WARRANTY = "contract", "warranty"
# The audit actions that end a ticket's work (resolved, or closed by the client, the clock or the consultant).
CLOSING_ACTIONS = frozenset({"resolved", "client_confirmed", "auto_close", "closed_unanswered", "close"})
REOPENED = "reopened"
# First-response distribution, in business hours: (label, upper bound inclusive).
RESPONSE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("0-1", 1),
    ("1-2", 2),
    ("2-4", 4),
    ("4-8", 8),
    ("8-12", 12),
    ("12-24", 24),
    (">24", float("inf")),
)
# Backlog age in business days (a business day is the calendar's open time of a nominal weekday).
AGE_BUCKETS: tuple[tuple[str, float], ...] = (("<1", 1), ("1-2", 2), ("2-5", 5), ("5-10", 10), (">10", float("inf")))
ESCALATION_OUTCOMES = ("approved", "rejected", "dropped", "pending")
_DROP_REASONS = frozenset({"resolved", "closed"})  # bot.services.desk_common.drop_pending_escalation


@dataclass(frozen=True)
class TicketFacts:
    """One ticket of the cohort with what the figures read: its pauses, escalations and audit events."""

    ticket: Ticket
    client_name: str
    pauses: Sequence[SlaPause]
    escalations: Sequence[Escalation]
    events: Sequence[AuditEvent]


@dataclass(frozen=True)
class ContractFacts:
    """A contract in force during the period, with its hours ledger."""

    contract: Contract
    client_name: str
    entries: Sequence[HoursEntry]


@dataclass(frozen=True)
class MonthData:
    period: Period
    as_of: datetime
    tickets: Sequence[TicketFacts]
    contracts: Sequence[ContractFacts]
    client_name: str | None = None  # the one client the report is about (--client), None for all


@dataclass(frozen=True)
class SlaRow:
    group: str  # "1".."4" for severities, or a client's name
    route: str  # CONTRACT or WARRANTY
    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.met + self.breached + self.pending

    @property
    def met_percent(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else round(100 * self.met / decided, 1)


@dataclass(frozen=True)
class Response:
    number: str
    client_name: str
    severity: int
    route: str
    hours: float  # business hours from the clock's start to the first response, waits excluded
    met: bool


@dataclass(frozen=True)
class HoursRow:
    client_name: str
    contract: str
    tier: str
    ends_on: str
    total_hours: float
    used_in_period: float
    used_to_date: float
    left: float
    office_total: float = 0.0
    office_left: float = 0.0
    onsite_total: float = 0.0
    onsite_left: float = 0.0

    @property
    def percent_left(self) -> float:
        return 0.0 if self.total_hours == 0 else round(100 * self.left / self.total_hours, 1)


@dataclass(frozen=True)
class BacklogItem:
    number: str
    client_name: str
    severity: int
    age_days: float  # business days
    bucket: str


@dataclass(frozen=True)
class EscalationRow:
    level: int
    outcome: str
    count: int


@dataclass(frozen=True)
class Figures:
    period: Period
    as_of: datetime
    client_name: str | None
    opened: int
    opened_warranty: int
    sla_by_severity: list[SlaRow]
    sla_by_client: list[SlaRow]
    responses: list[Response]
    response_buckets: list[tuple[str, int]]
    hours: list[HoursRow]
    backlog: list[BacklogItem]
    backlog_buckets: list[tuple[str, int]]
    resolved: int
    reopened: int
    ratings: dict[int, int]
    escalations: list[EscalationRow]
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def reopen_percent(self) -> float | None:
        return None if self.resolved == 0 else round(100 * self.reopened / self.resolved, 1)

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_average(self) -> float | None:
        if not self.rated:
            return None
        return round(sum(k * v for k, v in self.ratings.items()) / self.rated, 2)

    @property
    def median_response_hours(self) -> float | None:
        own = [r.hours for r in self.responses if r.route == CONTRACT]
        return None if not own else round(statistics.median(own), 2)

    def sla_totals(self, route: str = CONTRACT) -> SlaRow:
        rows = [r for r in self.sla_by_severity if r.route == route]
        return SlaRow(
            "all", route, sum(r.met for r in rows), sum(r.breached for r in rows), sum(r.pending for r in rows)
        )


def response_bucket(hours: float) -> str:
    return next(label for label, top in RESPONSE_BUCKETS if hours <= top)


def age_bucket(days: float) -> str:
    return next(label for label, top in AGE_BUCKETS if days < top)


def _pauses_until(pauses: Iterable[SlaPause], until: datetime) -> list[tuple[datetime, datetime]]:
    spans = []
    for p in pauses:
        if p.started_at >= until:
            continue
        end = p.ended_at if p.ended_at is not None and p.ended_at <= until else until
        spans.append((p.started_at, end))
    return spans


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _first(events: Iterable[AuditEvent], actions: frozenset[str], before: datetime) -> AuditEvent | None:
    return next((e for e in events if e.action in actions and e.at < before), None)


def _verdict(
    facts: TicketFacts, calendar: BusinessCalendar, target: timedelta, as_of: datetime
) -> tuple[str, float | None]:
    """(MET / BREACHED / PENDING, business hours to the first response or None)."""
    t = facts.ticket
    start = t.clock_started_at or t.opened_at
    answered = t.first_response_at
    if answered is not None and answered < as_of:
        taken = calendar.between(start, answered, _pauses_until(facts.pauses, answered))
        return (MET if taken <= target else BREACHED), _hours(taken)
    stop = _first(facts.events, CLOSING_ACTIONS, as_of)
    end = stop.at if stop is not None else as_of
    on_clock = calendar.between(start, end, _pauses_until(facts.pauses, end))
    return (BREACHED if on_clock >= target else PENDING), None


def _open_at(events: Sequence[AuditEvent], as_of: datetime) -> bool:
    last = None
    for e in events:
        if e.at >= as_of:
            break
        if e.action in CLOSING_ACTIONS or e.action == REOPENED:
            last = e.action
    return last is None or last == REOPENED


def _escalation_outcome(esc: Escalation, as_of: datetime) -> str:
    if esc.decided_at is None or esc.decided_at >= as_of or esc.status is EscalationStatus.REQUESTED:
        return "pending"
    if esc.status is EscalationStatus.APPROVED:
        return "approved"
    return "dropped" if (esc.decision_reason or "") in _DROP_REASONS else "rejected"


def _sla_rows(counts: dict[tuple[str, str], Counter[str]], groups: Iterable[str]) -> list[SlaRow]:
    rows = []
    for group in groups:
        for route in (CONTRACT, WARRANTY):
            c = counts.get((group, route))
            if c is None and route == WARRANTY:
                continue
            c = c or Counter()
            rows.append(SlaRow(group, route, c[MET], c[BREACHED], c[PENDING]))
    return rows


def _hours_row(facts: ContractFacts, period: Period, as_of: datetime) -> HoursRow:
    c = facts.contract

    def charged(kind: HoursKind, since: datetime | None) -> int:
        return sum(
            e.minutes
            for e in facts.entries
            if e.charged and e.kind is kind and e.at < as_of and (since is None or e.at >= since)
        )

    used = charged(HoursKind.REMOTE, None)
    return HoursRow(
        client_name=facts.client_name,
        contract=c.number,
        tier=c.tier.value,
        ends_on=c.ends_on.isoformat(),
        total_hours=c.minutes_total / 60,
        used_in_period=charged(HoursKind.REMOTE, period.start) / 60,
        used_to_date=used / 60,
        left=max(0, c.minutes_total - used) / 60,
        office_total=c.office_minutes_total / 60,
        office_left=max(0, c.office_minutes_total - charged(HoursKind.IN_OFFICE, None)) / 60,
        onsite_total=c.onsite_minutes_total / 60,
        onsite_left=max(0, c.onsite_minutes_total - charged(HoursKind.ON_SITE, None)) / 60,
    )


def compute(data: MonthData, calendar: BusinessCalendar, targets: dict[Severity, timedelta]) -> Figures:
    """Every figure of the report from the period's rows (see the module's docstring for each definition)."""
    as_of = data.as_of
    cohort = [f for f in data.tickets if data.period.holds(f.ticket.opened_at) and f.ticket.opened_at < as_of]
    by_sev: dict[tuple[str, str], Counter[str]] = {}
    by_client: dict[tuple[str, str], Counter[str]] = {}
    responses: list[Response] = []
    resolved = reopened = 0
    ratings: Counter[int] = Counter()
    escalations: Counter[tuple[int, str]] = Counter()
    for facts in cohort:
        t = facts.ticket
        route = WARRANTY if t.warranty else CONTRACT
        verdict, taken = _verdict(facts, calendar, targets[t.severity], as_of)
        by_sev.setdefault((str(int(t.severity)), route), Counter())[verdict] += 1
        by_client.setdefault((facts.client_name, route), Counter())[verdict] += 1
        if taken is not None:
            responses.append(Response(t.number, facts.client_name, int(t.severity), route, taken, verdict == MET))
        if _first(facts.events, frozenset({"resolved"}), as_of) is not None:
            resolved += 1
            reopened += _first(facts.events, frozenset({REOPENED}), as_of) is not None
        rated = _first(facts.events, frozenset({"rated"}), as_of)
        if rated is not None:
            ratings[int(rated.data["rating"])] += 1
        for esc in facts.escalations:
            if esc.requested_at < as_of:
                escalations[(esc.to_level, _escalation_outcome(esc, as_of))] += 1
    day = calendar.schedule
    business_day = timedelta(minutes=max(sum(w.minutes for w in day.windows(wd)) for wd in range(7)))
    backlog = []
    for facts in data.tickets:
        t = facts.ticket
        if t.opened_at >= as_of or not _open_at(facts.events, as_of):
            continue
        age = calendar.between(t.clock_started_at or t.opened_at, as_of) / business_day
        backlog.append(BacklogItem(t.number, facts.client_name, int(t.severity), round(age, 2), age_bucket(age)))
    backlog.sort(key=lambda b: (-b.age_days, b.number))
    clients = sorted({f.client_name for f in cohort})
    response_counts = Counter(response_bucket(r.hours) for r in responses if r.route == CONTRACT)
    age_counts = Counter(b.bucket for b in backlog)
    return Figures(
        period=data.period,
        as_of=as_of,
        client_name=data.client_name,
        opened=len(cohort),
        opened_warranty=sum(f.ticket.warranty for f in cohort),
        sla_by_severity=_sla_rows(by_sev, [str(int(s)) for s in Severity]),
        sla_by_client=_sla_rows(by_client, clients),
        responses=sorted(responses, key=lambda r: r.number),
        response_buckets=[(label, response_counts[label]) for label, _ in RESPONSE_BUCKETS],
        hours=sorted(
            (_hours_row(c, data.period, as_of) for c in data.contracts), key=lambda h: (h.client_name, h.contract)
        ),
        backlog=backlog,
        backlog_buckets=[(label, age_counts[label]) for label, _ in AGE_BUCKETS],
        resolved=resolved,
        reopened=reopened,
        ratings={k: ratings[k] for k in range(1, 6)},
        escalations=[
            EscalationRow(level, outcome, escalations[(level, outcome)])
            for level in (2, 3)
            for outcome in ESCALATION_OUTCOMES
        ],
    )
