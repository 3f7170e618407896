"""Resolving and closing: hours deducted (P-POL-2/4/6), the client confirms, reopens (P-CLOSE-2) or rates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from bot.domain import lifecycle
from bot.domain.contracts import deduct
from bot.domain.errors import InvalidHours, InvalidInput
from bot.domain.types import HoursKind, TicketStatus
from bot.i18n import Safe
from bot.services import desk_response, outbox
from bot.services.context import Services
from bot.services.convert import domain_contract
from bot.services.desk import require_assignee
from bot.services.desk_common import (
    AGENT,
    CLIENT,
    SYSTEM,
    DeskError,
    TicketView,
    agent_text,
    audit,
    drop_pending_escalation,
    load,
    may_act,
    notify_client,
)
from bot.services.desk_info import INFO_CLOSE, INFO_REMINDER, business_days_words, reopen_keyboard
from storage import Tx
from storage.records import Contract, Ticket, Timer

__all__ = [
    "MAX_HOURS",
    "RESOLVED_AUTOCLOSE",
    "BillingReasonRequired",
    "DeskTap",
    "ResolveResult",
    "client_confirm",
    "client_rate",
    "client_reopen",
    "client_tap",
    "on_resolved_autoclose",
    "resolve",
    "solution_keyboard",
]

RESOLVED_AUTOCLOSE = "resolved_autoclose"
MAX_HOURS = Decimal(1000)  # a typo guard for one ticket's hours, not a policy number
_MINUTE = Decimal(60)


class BillingReasonRequired(DeskError):
    """R-WARRANTY: the billing differs from the ticket's warranty mark and no reason was given."""


@dataclass(frozen=True)
class ResolveResult:
    ticket: Ticket
    contract: Contract | None
    low_hours: bool
    billed_extra_hours: Decimal
    overage_hours: Decimal


def solution_keyboard(services: Services, lang: str, ticket_id: int) -> list[list[dict[str, str]]]:
    """Resuelto / Reabrir (P-CLOSE-2) and a 1-5 satisfaction rating; callback data stays far below 64 bytes."""
    cat = services.catalogue
    return [
        [
            {"text": cat.plain(lang, "tickets.resolved_button"), "data": f"desk:ok:{ticket_id}"},
            {"text": cat.plain(lang, "tickets.reopen"), "data": f"desk:reopen:{ticket_id}"},
        ],
        [{"text": "⭐" * n, "data": f"desk:rate:{ticket_id}:{n}"} for n in range(1, 6)],
    ]


def _minutes(hours: Decimal) -> int:
    return int((hours * _MINUTE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def resolve(
    tx: Tx,
    services: Services,
    *,
    ticket_id: int,
    slack_user_id: str,
    solution: str,
    hours: Mapping[HoursKind, Decimal],
    charged: bool,
    at: datetime,
    billing_reason: str | None = None,
) -> ResolveResult:
    """ "Resolver" (P-CLOSE-1): the assignee records the solution and the hours worked. Charged hours come
    off the contract (P-POL-5/6: remote from the yearly budget, in-office and on-site advice each from its own
    included hours (R-POOLS), the excess billed; a per-event contract's hours beyond its one hour billed,
    R-EVENT); warranty work is recorded but free (P-POL-4). The billing defaults to the ticket's warranty mark
    (R-WARRANTY): the consultant confirms it, or changes it with a reason (audited). Below
    LOW_HOURS_WARNING_PERCENT the channel is warned. The client gets the solution with Resuelto / Reabrir and a
    rating (the first response, if the ticket had none: R-RESPONSE), and the ticket closes by itself after
    RESOLVED_AUTOCLOSE_BUSINESS_DAYS without an answer.
    Raises NotAnAgent, NotTheAssignee, IllegalTransition, InvalidInput / InvalidHours, BillingReasonRequired."""
    if not solution.strip():
        raise InvalidInput("the solution is empty")
    for kind, amount in hours.items():
        if not isinstance(kind, HoursKind) or not amount.is_finite() or amount < 0 or amount > MAX_HOURS:
            raise InvalidHours(f"bad hours for {kind}: {amount}")
    view = await load(tx, ticket_id)
    agent = await require_assignee(tx, view, slack_user_id)
    ticket = view.ticket
    reason = (billing_reason or "").strip()
    changed = charged is ticket.warranty  # the mark says free and it is charged, or the other way round
    if changed and not reason:
        raise BillingReasonRequired(ticket.number)
    lifecycle.apply(view.state(), lifecycle.Action.RESOLVE, expected_version=ticket.version)
    await drop_pending_escalation(tx, view, at, "resolved", services)
    if ticket.status is TicketStatus.WAITING_CLIENT:
        await tx.close_pause(ticket_id, at)
        await tx.cancel_timers(ticket_id, INFO_REMINDER)
        await tx.cancel_timers(ticket_id, INFO_CLOSE)
    before = None if ticket.contract_id is None else await tx.get_contract(ticket.contract_id)
    contract, extra, overage, lines = await _record_hours(tx, services, ticket, hours, charged, at)
    if changed:
        await audit(
            tx, ticket_id, at, AGENT, slack_user_id, "billing_changed", warranty_mark=ticket.warranty,
            charged=charged, reason=reason,
        )  # fmt: skip
    updated = await tx.update_ticket(
        ticket_id, ticket.version, status=TicketStatus.RESOLVED, resolved_at=at, solution=solution.strip()
    )
    days = services.settings.resolved_autoclose_business_days
    await tx.schedule_timer(
        RESOLVED_AUTOCLOSE,
        services.calendar.add_business_days(at, days),
        ticket_id=ticket_id,
        payload={"resolved_at": at.isoformat()},
        dedupe_key=f"{RESOLVED_AUTOCLOSE}:{ticket_id}:{at.isoformat()}",
    )
    await audit(
        tx,
        ticket_id,
        at,
        AGENT,
        slack_user_id,
        "resolved",
        charged=charged,
        warranty_mark=ticket.warranty,
        billing_reason=reason or None,
        minutes={k.value: _minutes(v) for k, v in hours.items() if v > 0},
        billed_extra_hours=str(extra),
        overage_hours=str(overage),
    )
    # "Falls below": warn when this deduction crosses the threshold, not at every ticket after it.
    low = contract is not None and before is not None and _is_low(services, contract) and not _is_low(services, before)
    await _tell_resolved(tx, services, view, agent.slack_user_id, solution.strip(), charged, lines, extra, overage, at)
    if low and contract is not None:
        await _warn_low(tx, services, view, contract, at)
    return ResolveResult(updated, contract, low, extra, overage)


def _is_low(services: Services, contract: Contract) -> bool:
    return domain_contract(contract).percent_left < Decimal(str(services.settings.low_hours_warning_percent))


_USED = {
    HoursKind.REMOTE: "hours_used",
    HoursKind.IN_OFFICE: "office_hours_used",  # R-POOLS: two advice pools
    HoursKind.ON_SITE: "onsite_hours_used",
}


async def _record_hours(
    tx: Tx, services: Services, ticket: Ticket, hours: Mapping[HoursKind, Decimal], charged: bool, at: datetime
) -> tuple[Contract | None, Decimal, Decimal, list[str]]:
    """Ledger rows: the part the contract covers is charged; the rest (billed advice, hours beyond a per-event
    contract's one hour, overage) is recorded uncharged and reported, so nothing is taken silently and the
    contract never goes negative."""
    contract = None if ticket.contract_id is None else await tx.get_contract(ticket.contract_id)
    extra = overage = Decimal(0)
    lines: list[str] = []
    for kind in HoursKind:
        amount = hours.get(kind, Decimal(0))
        if amount <= 0:
            continue
        lines.append(
            agent_text(services, "desk.hours.item", kind=agent_text(services, f"desk.hours.{kind.value}"), hours=amount)
        )
        if contract is None:
            continue
        total = _minutes(amount)
        covered = 0
        if charged:
            before = domain_contract(contract)
            d = deduct(before, amount, kind, rules=services.tiers)
            used_before: Decimal = getattr(before, _USED[kind])
            used_after: Decimal = getattr(d.contract, _USED[kind])
            covered = _minutes(used_after - used_before)
            extra += d.billed_extra_hours
            overage += d.overage
        if covered > 0:
            contract = await tx.record_hours(contract.id, ticket.id, covered, kind, True, at)
        if total - covered > 0:
            contract = await tx.record_hours(contract.id, ticket.id, total - covered, kind, False, at)
    return contract, extra, overage, lines


async def _tell_resolved(
    tx: Tx,
    services: Services,
    view: TicketView,
    slack_user_id: str,
    solution: str,
    charged: bool,
    lines: list[str],
    extra: Decimal,
    overage: Decimal,
    at: datetime,
) -> None:
    ticket = view.ticket
    key = "desk.thread.billing_charged" if charged else "desk.thread.billing_warranty"
    if charged and ticket.contract_id is None:
        key = "desk.thread.billing_no_contract"  # R-WARRANTY: not free after all, and no contract: billed
    billing = agent_text(services, key)
    hours_text = ", ".join(lines) or agent_text(services, "desk.thread.hours_none")
    text = agent_text(
        services,
        "desk.thread.resolved",
        who=Safe(f"<@{slack_user_id}>"),
        billing=billing,
        solution=solution,
        hours=Safe(hours_text),
    )
    if extra > 0:
        text += "\n" + agent_text(services, "desk.thread.billed_extra", hours=extra)
    if overage > 0:
        text += "\n" + agent_text(services, "desk.thread.overage", hours=overage)
    await outbox.slack_thread(tx, ticket, text, at=at)
    await outbox.slack_card(tx, ticket, at=at)
    days = services.settings.resolved_autoclose_business_days
    await notify_client(
        tx,
        view,
        services,
        "tickets.solution",
        at=at,
        solution=solution,
        remaining=business_days_words(services, view.language, days),
        keyboard=solution_keyboard(services, view.language, ticket.id),
        response=desk_response.SOLUTION,  # R-RESPONSE: reaches the client, so it counts if nothing came before
    )


async def _warn_low(tx: Tx, services: Services, view: TicketView, contract: Contract, at: datetime) -> None:
    dc = domain_contract(contract)
    client = await tx.get_client(view.ticket.client_id)
    text = agent_text(
        services,
        "desk.thread.low_hours",
        contract=contract.number,
        client=client.name if client else "?",
        left=dc.hours_left,
        total=dc.hours_total,
        percent=dc.percent_left.quantize(Decimal(1)),
    )
    channel = services.settings.slack_support_channel
    await outbox.slack_channel(tx, channel, text, at=at, dedupe_key=f"low-hours:{contract.id}:{contract.minutes_used}")
    await audit(tx, view.ticket.id, at, SYSTEM, "contracts", "low_hours_warning", contract=contract.number)


async def _client_view(tx: Tx, ticket_id: int, telegram_user_id: int) -> TicketView:
    """The ticket, for a client who may act on it: its reporter or a contact acting for the whole company
    (P-CLOSE-2: only they confirm, reopen or rate). Raises TicketGone, NotTheClient, NotTheReporter."""
    view = await load(tx, ticket_id)
    await may_act(tx, view.ticket, telegram_user_id)
    return view


async def _close(
    tx: Tx, services: Services, view: TicketView, action: lifecycle.Action, at: datetime, by: int | None = None
) -> Ticket:
    """Close the ticket; `by` is the Telegram user who confirmed (the reporter, or a contact acting for the
    company: the audit names who it was), None for the scheduler."""
    ticket = view.ticket
    lifecycle.apply(view.state(), action, expected_version=ticket.version)
    await drop_pending_escalation(tx, view, at, "closed", services)
    closed = await tx.update_ticket(ticket.id, ticket.version, status=TicketStatus.CLOSED, closed_at=at)
    await tx.cancel_timers(ticket.id, RESOLVED_AUTOCLOSE)
    erased = await tx.erase_credentials(ticket.id)  # passwords live no longer than the ticket
    await audit(
        tx,
        ticket.id,
        at,
        CLIENT if action is lifecycle.Action.CLIENT_CONFIRMED else SYSTEM,
        str(ticket.telegram_chat_id if by is None else by),
        action.value,
        credentials_erased=erased,
    )
    await outbox.slack_card(tx, closed, at=at)
    return closed


# Built by solution_keyboard / desk_info.reopen_keyboard; never trusted as is.
_TAP = re.compile(r"^desk:(ok|reopen|rate):(\d{1,12})(?::([1-5]))?$")


@dataclass(frozen=True)
class DeskTap:
    """A tap on a button under a solution or a closing notice, parsed from its callback data."""

    action: str  # "ok" (Resuelto), "reopen", "rate"
    ticket_id: int
    rating: int | None

    @classmethod
    def parse(cls, data: str | None) -> DeskTap | None:
        match = _TAP.match(data or "")
        if match is None:
            return None
        action, ticket, rating = match.groups()
        if (action == "rate") != (rating is not None):
            return None
        return cls(action, int(ticket), int(rating) if rating else None)


async def client_tap(tx: Tx, services: Services, tap: DeskTap, *, telegram_user_id: int, at: datetime) -> str | None:
    """Run a tapped Resuelto / Reabrir / rating. Returns: a short notice for the tap's answer, or None.
    Raises NotTheClient / NotTheReporter (P-CLOSE-2: only the reporter or a contact acting for the company),
    TicketGone, IllegalTransition, InvalidInput (a button from another state)."""
    if tap.action == "ok":
        await client_confirm(tx, services, ticket_id=tap.ticket_id, telegram_user_id=telegram_user_id, at=at)
    elif tap.action == "reopen":
        await client_reopen(tx, services, ticket_id=tap.ticket_id, telegram_user_id=telegram_user_id, at=at)
    else:
        assert tap.rating is not None
        view = await _client_view(tx, tap.ticket_id, telegram_user_id)
        if view.ticket.rating is not None:
            # The rating is given once: a second tap (or a replay) changes nothing and says so quietly.
            contact = await tx.get_contact_by_telegram_user(telegram_user_id)  # who tapped, in their language
            return services.catalogue.plain(contact.language if contact else "es", "tickets.already_rated")
        await client_rate(tx, services, ticket_id=tap.ticket_id, telegram_user_id=telegram_user_id,
                          rating=tap.rating, at=at)  # fmt: skip
    return None


async def client_confirm(tx: Tx, services: Services, *, ticket_id: int, telegram_user_id: int, at: datetime) -> Ticket:
    """ "Resuelto": the client accepts the solution and the ticket closes. Raises NotTheClient, NotTheReporter
    (P-CLOSE-2), IllegalTransition (not resolved: e.g. a second tap)."""
    view = await _client_view(tx, ticket_id, telegram_user_id)
    closed = await _close(tx, services, view, lifecycle.Action.CLIENT_CONFIRMED, at, telegram_user_id)
    await outbox.slack_thread(tx, closed, agent_text(services, "desk.thread.confirmed"), at=at)
    await notify_client(tx, view, services, "tickets.closed", at=at)
    return closed


async def client_reopen(tx: Tx, services: Services, *, ticket_id: int, telegram_user_id: int, at: datetime) -> Ticket:
    """ "Reabrir" (P-CLOSE-2): back to the assignee, who is told in the thread. Raises NotTheClient,
    NotTheReporter (a colleague may not reopen for the reporter), IllegalTransition (not resolved or closed)."""
    view = await _client_view(tx, ticket_id, telegram_user_id)
    ticket = view.ticket
    lifecycle.apply(view.state(), lifecycle.Action.REOPEN, expected_version=ticket.version)
    updated = await tx.update_ticket(
        ticket_id, ticket.version, status=TicketStatus.ASSIGNED, resolved_at=None, closed_at=None
    )
    await tx.cancel_timers(ticket_id, RESOLVED_AUTOCLOSE)
    await audit(tx, ticket_id, at, CLIENT, str(telegram_user_id), "reopened", previous=ticket.status.value)
    note = agent_text(services, "desk.thread.reopened")
    if view.assignee is not None:
        note = f"<@{view.assignee.slack_user_id}> {note}"
        await outbox.slack_dm(tx, view.assignee.slack_user_id, f"*{ticket.number}*: {note}", at=at)
    await outbox.slack_thread(tx, updated, note, at=at)
    await outbox.slack_card(tx, updated, at=at)
    await notify_client(tx, view, services, "tickets.reopened", at=at)
    return updated


async def client_rate(
    tx: Tx, services: Services, *, ticket_id: int, telegram_user_id: int, rating: int, at: datetime
) -> Ticket:
    """The 1-5 satisfaction rating offered with the solution, given once, by the reporter or a contact acting
    for the company (P-CLOSE-2). Raises NotTheClient, NotTheReporter, InvalidInput."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(f"a rating is 1 to 5, got {rating!r}")
    view = await _client_view(tx, ticket_id, telegram_user_id)
    ticket = view.ticket
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise InvalidInput("only a resolved ticket can be rated")
    if ticket.rating is not None:
        raise InvalidInput("the ticket was rated already")
    updated = await tx.update_ticket(ticket_id, ticket.version, rating=rating)
    await audit(tx, ticket_id, at, CLIENT, str(telegram_user_id), "rated", rating=rating)
    await outbox.slack_thread(tx, updated, agent_text(services, "desk.thread.rated", rating=rating), at=at)
    await notify_client(tx, view, services, "tickets.rated", at=at)
    return updated


async def on_resolved_autoclose(services: Services, tx: Tx, timer: Timer) -> None:
    """Timer: no answer to the solution within RESOLVED_AUTOCLOSE_BUSINESS_DAYS -> closed; the client may reopen."""
    if timer.ticket_id is None:
        return
    view = await load(tx, timer.ticket_id)
    ticket = view.ticket
    if ticket.status is not TicketStatus.RESOLVED or ticket.resolved_at is None:
        return
    if ticket.resolved_at != datetime.fromisoformat(str(timer.payload.get("resolved_at"))):
        return  # resolved again since: that resolution has its own timer
    now = services.clock()
    closed = await _close(tx, services, view, lifecycle.Action.AUTO_CLOSE, now)
    days = services.settings.resolved_autoclose_business_days
    await outbox.slack_thread(tx, closed, agent_text(services, "desk.thread.autoclosed", days=days), at=now)
    await notify_client(
        tx,
        view,
        services,
        "tickets.closed_no_answer",
        at=now,
        keyboard=reopen_keyboard(services, view.language, ticket.id),
    )
