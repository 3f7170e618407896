"""`supportbot tickets list|show`: tickets with names and zone dates, and one ticket with its audit trail as
readable lines (when, who, what), in business time where the policy counts in it."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from bot.cli.base import CliError, command, transaction
from bot.cli.parser import Noun, choices, whole
from bot.cli.text import emit, say, stamp
from bot.domain.types import TicketStatus
from bot.services import contacts
from bot.settings import Settings
from storage.records import AuditEvent

__all__ = ["add_parsers", "describe"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tickets = Noun(sub, "tickets")
    (tickets.verb("list").arg("--status", choices=choices(TicketStatus), default=None)
     .arg("--client", type=whole, default=None).arg("--json", action="store_true"))  # fmt: skip
    tickets.verb("show").arg("number")


# The audit actions that have a sentence (cli.audit.<action>); any other prints as its name and its fields.
_KNOWN = frozenset({
    "opened", "claimed", "released", "reassigned", "assigned", "info_requested", "info_reminder", "client_answered",
    "first_response", "contact_recorded", "sla_warning", "sla_breached", "escalation_requested",
    "escalation_approved", "escalation_rejected", "resolved", "reopened", "rated", "client_confirmed", "auto_close",
    "closed_unanswered", "agent_replied", "internal_note", "credentials_revealed", "severity_changed",
    "billing_changed",
})  # fmt: skip


def _flat(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    parts = []
    for key, value in data.items():
        if key == "text":
            continue  # an escalation request's whole text: the reason says it
        if isinstance(value, Mapping):
            parts += _flat(value, f"{prefix}{key}.")
        elif value not in (None, "", [], {}):
            parts.append(f"{prefix}{key}={value}")
    return parts


def _business(minutes: object) -> str:
    total = int(minutes) if isinstance(minutes, int | float) else 0
    return say("business_time", hours=total // 60, minutes=total % 60)


def describe(event: AuditEvent) -> str:
    """What happened, in words (the catalogue's cli.audit.*), with the fields the sentence does not name."""
    d = dict(event.data)
    if event.action not in _KNOWN:
        return " ".join([event.action, *_flat(d)])
    params: dict[str, object] = {}
    if event.action == "opened":
        params = {"severity": d.get("severity", "?"), "channel": d.get("channel") or "telegram"}
    elif event.action == "first_response":
        params = {"how": say(f"how.{d.get('how', 'reply')}"), "taken": _business(d.get("minutes")),
                  "verdict": say("on_time" if d.get("met") else "late")}  # fmt: skip
    elif event.action in ("escalation_requested", "escalation_approved", "escalation_rejected"):
        params = {"level": d.get("to_level", "?"), "reason": d.get("reason") or "-"}
    elif event.action == "resolved":
        minutes = d.get("minutes") or {}
        hours = sum(int(v) for v in minutes.values()) / 60 if isinstance(minutes, Mapping) else 0
        params = {"billing": say("charged" if d.get("charged") else "free"), "hours": f"{hours:g}"}
    elif event.action in ("info_requested",):
        params = {"question": d.get("question") or "-"}
    elif event.action == "info_reminder":
        params = {"attempt": d.get("attempt", "?")}
    elif event.action == "closed_unanswered":
        params = {"attempts": d.get("attempts", "?")}
    elif event.action == "rated":
        params = {"rating": d.get("rating", "?")}
    elif event.action == "severity_changed":
        params = {"severity": d.get("after") or "?", "reason": d.get("reason") or "-"}
    return say(f"audit.{event.action}", **params)


@command("tickets", "list")
async def _tickets_list(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.zone
    async with transaction(settings) as tx:
        tickets = await tx.list_tickets(TicketStatus(args.status) if args.status else None, args.client)
        clients = {c.id: c.name for c in await tx.list_clients()}
        agents = {a.id: a.name for a in await tx.list_agents()}
    rows: list[dict[str, Any]] = [
        {"number": t.number, "status": t.status.value, "severity": int(t.severity), "client_id": t.client_id,
         "client": clients.get(t.client_id, "?"), "assignee_id": t.assignee_id,
         "assignee": agents.get(t.assignee_id) if t.assignee_id else None, "opened_at": t.opened_at,
         "response_due_at": t.response_due_at, "first_response_at": t.first_response_at,
         "response_met": t.response_met, "warranty": t.warranty, "escalation_level": t.escalation_level}
        for t in tickets
    ]  # fmt: skip
    if not args.json:
        rows = [{**r, "status": say(f"status.{r['status']}"), "severity": say("sev", severity=r["severity"]),
                 "opened_at": stamp(r["opened_at"], zone), "response_due_at": stamp(r["response_due_at"], zone)}
                for r in rows]  # fmt: skip
    columns = [("number", "number"), ("status", "status"), ("severity", "severity"), ("client", "client"),
               ("opened_at", "opened"), ("response_due_at", "due"), ("assignee", "assignee")]  # fmt: skip
    emit(rows, columns, as_json=args.json)
    return 0


@command("tickets", "show")
async def _tickets_show(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.zone
    async with transaction(settings) as tx:
        ticket = await tx.get_ticket_by_number(args.number.strip().upper())
        if ticket is None:
            raise CliError(say("missing.ticket", number=args.number))
        client = await tx.get_client(ticket.client_id)
        assignee = await tx.get_agent(ticket.assignee_id) if ticket.assignee_id else None
        contact = await tx.get_contact(ticket.contact_id) if ticket.contact_id else None
        audit = await tx.list_audit(ticket.id)
        agents = {a.slack_user_id: a.name for a in await tx.list_agents()}
        people: dict[str, str] = {}
        for e in audit:
            if e.actor_kind == "client" and e.actor_id not in people and e.actor_id.lstrip("-").isdigit():
                found = await tx.get_contact_by_telegram_user(int(e.actor_id))
                if found is not None:
                    people[e.actor_id] = found.name
    forgotten = contact is not None and contact.forgotten_at is not None

    def who(e: AuditEvent) -> str:
        if e.actor_kind == "agent":
            return agents.get(e.actor_id, e.actor_id)
        if e.actor_kind == "client":
            if e.actor_id in people:
                return people[e.actor_id]
            # The log keeps the number; the person it named was erased (LFPDPPP).
            return contacts.FORGOTTEN_NAME if forgotten else (contact.name if contact else e.actor_id)
        return say("system")

    status = say(f"status.{ticket.status.value}")
    print(f"{say('show.ticket'):<13}{ticket.number}  [{status}]  {say('show.level', level=ticket.escalation_level)}")
    lines = [
        ("client", client.name if client else str(ticket.client_id)),
        ("contact", contact.name if contact else "-"),
        ("severity", f"{int(ticket.severity)} · {ticket.service_area.value}" + (
            f" · {say('warranty')}" if ticket.warranty else "")),
        ("assignee", assignee.name if assignee else "-"),
        ("opened", stamp(ticket.opened_at, zone)),
        ("due", stamp(ticket.response_due_at, zone)),
        ("answered", stamp(ticket.first_response_at, zone) + (
            "" if ticket.response_met is None else f"  ({say('on_time' if ticket.response_met else 'late')})")),
        ("description", " ".join(ticket.description.split())),
    ]  # fmt: skip
    if ticket.solution:
        lines.append(("solution", " ".join(ticket.solution.split())))
    for key, value in lines:
        print(f"{say(f'show.{key}'):<13}{value}")
    print(say("show.trail"))
    width = max((len(who(e)) for e in audit), default=0)
    for e in audit:
        print(f"  {stamp(e.at, zone)}  {who(e):<{width}}  {describe(e)}".rstrip())
    return 0
