"""The numbers reconcile: every figure of the report, recomputed here from the raw audit log of a generated month
(pauses, reopenings, escalations, warranty tickets, the 16 Nov holiday), is the same.

The report reads the store's tables (tickets, pauses, escalations, the hours ledger); this test reads only the
audit events, in the order they were written, plus who each ticket belongs to and each contract's total."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.types import Severity
from bot.reports.figures import age_bucket, response_bucket
from storage.records import AuditEvent
from tests.reports.conftest import Month

CLOSING = {"resolved", "client_confirmed", "auto_close", "closed_unanswered", "close"}
BUSINESS_DAY = timedelta(hours=8)


@dataclass
class Story:
    """One ticket as its audit events tell it."""

    ticket_id: int
    events: list[AuditEvent] = field(default_factory=list)

    def first(self, *actions: str, before: datetime) -> AuditEvent | None:
        return next((e for e in self.events if e.action in actions and e.at < before), None)

    @property
    def opened(self) -> AuditEvent:
        found = next(e for e in self.events if e.action == "opened")
        return found

    def severity(self, before: datetime) -> int:
        value = int(self.opened.data["severity"])
        for e in self.events:
            if e.action == "escalation_approved" and e.at < before:
                value = int(e.data["severity"])
        return value

    def pauses(self, until: datetime) -> list[tuple[datetime, datetime]]:
        """P-SLA-7: from each information request to the client's answer (or the end of the work)."""
        spans, started = [], None
        for e in self.events:
            if e.at >= until:
                break
            if e.action == "info_requested" and started is None:
                started = e.at
            elif e.action in {"client_answered", *CLOSING} and started is not None:
                spans.append((started, e.at))
                started = None
        if started is not None:
            spans.append((started, until))
        return spans

    def open_at(self, instant: datetime) -> bool:
        last = None
        for e in self.events:
            if e.at < instant and (e.action in CLOSING or e.action == "reopened"):
                last = e.action
        return last is None or last == "reopened"


def stories(month: Month) -> dict[int, Story]:
    found: dict[int, Story] = {}
    for e in month.events:
        if e.ticket_id is not None:
            found.setdefault(e.ticket_id, Story(e.ticket_id)).events.append(e)
    return found


def cohort(month: Month) -> list[Story]:
    return [s for s in stories(month).values() if month.period.holds(s.opened.at)]


def verdict(month: Month, story: Story) -> tuple[str, float | None]:
    cal, as_of = month.services.calendar, month.figures.as_of
    target = month.services.targets[Severity(story.severity(as_of))]
    answered = story.first("first_response", before=as_of)
    if answered is not None:
        return ("met" if answered.data["met"] else "breached"), answered.data["minutes"] / 60
    stop = story.first(*CLOSING, before=as_of)
    end = stop.at if stop is not None else as_of
    on_clock = cal.between(cal.next_open(story.opened.at), end, story.pauses(end))
    return ("breached" if on_clock >= target else "pending"), None


def route(story: Story) -> str:
    return "warranty" if story.opened.data.get("charged") is False else "contract"


def test_the_month_has_every_kind_of_story(month: Month) -> None:
    actions = Counter(e.action for e in month.events)
    for action in ("info_requested", "client_answered", "reopened", "escalation_approved", "escalation_rejected",
                   "sla_breached", "rated", "auto_close", "client_confirmed", "closed_unanswered"):  # fmt: skip
        assert actions[action] > 0, action
    assert sum(s.opened.data.get("charged") is False for s in cohort(month)) > 0  # warranty tickets
    # The 16 Nov holiday (LIMITS.md): nothing was claimed on it, the clock did not run.
    assert not [
        e for e in month.events if e.action == "claimed" and e.at.astimezone(month.services.calendar.tz).day == 16
    ]


def test_sla_met_and_breached_by_severity_and_by_client(month: Month) -> None:
    by_severity: Counter[tuple[str, str, str]] = Counter()
    by_client: Counter[tuple[str, str, str]] = Counter()
    for story in cohort(month):
        outcome, _ = verdict(month, story)
        by_severity[(str(story.severity(month.figures.as_of)), route(story), outcome)] += 1
        name = month.client_names[month.tickets[story.ticket_id].client_id]
        by_client[(name, route(story), outcome)] += 1
        if story.first("sla_breached", before=month.figures.as_of):
            assert outcome == "breached", story.ticket_id  # the clock's own breach agrees
    reported = {
        (r.group, r.route, o): getattr(r, o)
        for r in month.figures.sla_by_severity
        for o in ("met", "breached", "pending")
    }
    assert {k: v for k, v in reported.items() if v} == dict(by_severity)
    reported = {
        (r.group, r.route, o): getattr(r, o)
        for r in month.figures.sla_by_client
        for o in ("met", "breached", "pending")
    }
    assert {k: v for k, v in reported.items() if v} == dict(by_client)
    assert month.figures.opened == len(cohort(month))
    assert month.figures.opened_warranty == sum(route(s) == "warranty" for s in cohort(month))


def test_first_response_time_in_business_hours(month: Month) -> None:
    mine = {}
    for story in cohort(month):
        _, hours = verdict(month, story)
        if hours is not None:
            mine[month.tickets[story.ticket_id].number] = (hours, route(story))
    reported = {r.number: (r.hours, r.route) for r in month.figures.responses}
    assert reported.keys() == mine.keys()
    for number, (hours, way) in mine.items():
        assert abs(reported[number][0] - hours) <= 1 / 60 and reported[number][1] == way, number  # whole minutes
    buckets = Counter(response_bucket(h) for h, way in mine.values() if way == "contract")
    assert dict(month.figures.response_buckets) == {
        label: buckets[label] for label, _ in month.figures.response_buckets
    }


def test_contract_hours_used_and_left(month: Month) -> None:
    used: Counter[str] = Counter()
    for e in month.events:
        if e.action == "resolved" and e.data["charged"] and month.period.holds(e.at):
            covered = e.data["minutes"].get("remote", 0) - round(float(e.data["overage_hours"]) * 60)
            ticket = month.tickets[e.ticket_id]  # type: ignore[index]
            used[month.client_names[ticket.client_id]] += covered
    rows = {h.client_name: h for h in month.figures.hours}
    assert {name: round(h.used_in_period * 60) for name, h in rows.items()} == {n: used[n] for n in rows}
    totals = {month.client_names[c.client_id]: c.minutes_total / 60 for c in month.contracts}
    for name, h in rows.items():
        assert h.total_hours == totals[name] and abs(h.used_to_date + h.left - h.total_hours) < 1e-9
        assert h.used_in_period <= h.used_to_date


def test_backlog_by_age(month: Month) -> None:
    cal, as_of = month.services.calendar, month.figures.as_of
    ages = {}
    for story in stories(month).values():
        if story.opened.at < as_of and story.open_at(as_of):
            ages[month.tickets[story.ticket_id].number] = (
                cal.between(cal.next_open(story.opened.at), as_of) / BUSINESS_DAY
            )
    assert {b.number: b.age_days for b in month.figures.backlog} == {n: round(a, 2) for n, a in ages.items()}
    counts = Counter(age_bucket(a) for a in ages.values())
    assert dict(month.figures.backlog_buckets) == {label: counts[label] for label, _ in month.figures.backlog_buckets}
    assert ages, "a month that ends with nothing open tests nothing"


def test_reopen_rate_and_ratings(month: Month) -> None:
    as_of = month.figures.as_of
    resolved = [s for s in cohort(month) if s.first("resolved", before=as_of)]
    reopened = [s for s in resolved if s.first("reopened", before=as_of)]
    assert (month.figures.resolved, month.figures.reopened) == (len(resolved), len(reopened))
    assert month.figures.reopen_percent == round(100 * len(reopened) / len(resolved), 1)
    ratings = Counter(
        int(e.data["rating"]) for s in cohort(month) for e in s.events if e.action == "rated" and e.at < as_of
    )
    assert month.figures.ratings == {k: ratings[k] for k in range(1, 6)}


def test_escalations_by_level_and_outcome(month: Month) -> None:
    as_of = month.figures.as_of
    counted: Counter[tuple[int, str]] = Counter()
    for story in cohort(month):
        asked: dict[int, AuditEvent] = {}
        decided: dict[int, str] = {}
        for e in story.events:
            if e.at >= as_of:
                break
            if e.action == "escalation_requested":
                asked[int(e.data["escalation_id"])] = e
            elif e.action in ("escalation_approved", "escalation_rejected"):
                decided[int(e.data["escalation_id"])] = e.action.removeprefix("escalation_")
        for esc_id, request in asked.items():
            if esc_id in decided:
                outcome = decided[esc_id]
            elif any(e.action in CLOSING and request.at <= e.at < as_of for e in story.events):
                outcome = "dropped"  # the ticket was resolved or closed before anyone decided
            else:
                outcome = "pending"
            counted[(int(request.data["to_level"]), outcome)] += 1
    reported = {(r.level, r.outcome): r.count for r in month.figures.escalations if r.count}
    assert reported == dict(counted)
    assert any(level == 3 for level, _ in counted) or any(o == "pending" for _, o in counted)


def test_summary_csv_says_the_same(month: Month) -> None:
    rows = dict(line.split(",", 1) for line in (month.files.folder / "summary.csv").read_text().splitlines()[1:])
    own = month.figures.sla_totals()
    assert (int(rows["sla_met"]), int(rows["sla_breached"]), int(rows["tickets_opened"])) == (
        own.met,
        own.breached,
        month.figures.opened,
    )
    assert int(rows["reopened"]) == month.figures.reopened and int(rows["rated"]) == month.figures.rated
    by_client = defaultdict(int)
    for line in (month.files.folder / "sla_by_client.csv").read_text().splitlines()[1:]:
        client, _route, met, *_ = line.split(",")
        by_client[client] += int(met)
    assert sum(by_client.values()) == own.met + month.figures.sla_totals("warranty").met
