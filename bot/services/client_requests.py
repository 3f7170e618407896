"""What a linked client asks after the intake: /mis_tickets, /ticket N, /escalar N, /poliza, /contacto, /ayuda."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.conversation.model import Msg, Reply
from bot.conversation.moves import REACH_US
from bot.conversation.prompts import excerpt
from bot.dates import hours_number, long_date
from bot.domain.contracts import ContractStatus, certificate
from bot.domain.errors import DomainError
from bot.domain.types import TicketStatus
from bot.services.context import Services
from bot.services.desk_common import CLIENT, DeskError, NotTheClient, NotTheReporter, audit_client_refusal, may_act
from bot.services.escalation import request_in_tx
from bot.services.identity import ClientTurn, Profile, unknown_user
from bot.services.intake import arm_expiry
from bot.services.intake_render import Renderer
from storage import Tx
from storage.records import Ticket

__all__ = [
    "ESCALATE",
    "OPEN_STATUSES",
    "contact_card",
    "escalate",
    "escalate_reason",
    "find_ticket",
    "help_text",
    "my_tickets",
    "policy",
    "ticket_detail",
]

ESCALATE = "escalate"  # the draft kind while /escalar waits for the reason
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)
_LISTED = (*OPEN_STATUSES, TicketStatus.RESOLVED)
_TITLE_CHARS = 60
_NUMBER = re.compile(r"^[A-Za-z0-9]{1,10}-\d{4}-\d{1,6}$")
_Body = Callable[[ClientTurn, Profile], Awaitable[Reply | None]]


async def find_ticket(tx: Tx, profile: Profile, text: str) -> Ticket | None:
    """The client's company ticket named "SOP-2026-000124" or just "124"; None for anything else."""
    wanted = text.strip().upper()
    if _NUMBER.match(wanted):
        ticket = await tx.get_ticket_by_number(wanted)
    elif wanted.isdigit() and len(wanted) <= 6:
        ticket = await tx.find_client_ticket_by_suffix(profile.client.id, f"-{int(wanted):06d}")
    else:
        return None
    if ticket is None or ticket.client_id != profile.client.id:
        return None  # another company's ticket is "not found", never shown
    return ticket


def _example(services: Services, now: datetime) -> str:
    return f"{services.settings.ticket_prefix}-{now.year}-000123"


async def _answer(t: ClientTurn, body: _Body) -> None:
    """A linked client's question gets the body's reply; a stranger gets the contact card (P-CONTACT-1)."""
    if t.profile is None:
        await unknown_user(t)
        return
    reply = await body(t, t.profile)
    if reply is not None:
        await t.say(reply)


async def my_tickets(t: ClientTurn) -> None:
    """`/mis_tickets`: the company's open and resolved tickets, newest first."""

    async def body(t: ClientTurn, profile: Profile) -> Reply:
        tickets = await t.tx.list_tickets(status=_LISTED, client_id=profile.client.id, newest=20)
        if not tickets:
            return Reply((Msg("tickets.empty"),))
        items = [
            Msg(
                "tickets.item",
                {
                    "ticket": tk.number,
                    "status": Msg(f"tickets.status.{tk.status.value}"),
                    "title": excerpt(tk.description, _TITLE_CHARS),
                },
            )
            for tk in tickets
        ]
        return Reply((Msg("tickets.title"), *items))

    await _answer(t, body)


async def ticket_detail(t: ClientTurn, argument: str) -> None:
    """`/ticket N`: status, assignee and deadline of one of the company's tickets. Any contact of the company
    may read it (reading changes nothing, and a colleague covers for an absent reporter); acting on it is
    for the reporter or a contact acting for the company (P-ESC-2, P-CLOSE-2)."""

    async def body(t: ClientTurn, profile: Profile) -> Reply:
        if not argument.strip():
            return Reply((Msg("tickets.usage", {"example": _example(t.services, t.now)}),))
        ticket = await find_ticket(t.tx, profile, argument)
        if ticket is None:
            return Reply((Msg("tickets.not_found", {"ticket": argument.strip()[:40]}),))
        lines = [
            Msg(
                "tickets.detail",
                {
                    "ticket": ticket.number,
                    "severity": Msg(f"intake.severity.name.{int(ticket.severity)}"),
                    "status": Msg(f"tickets.status.{ticket.status.value}"),
                    "area": Msg(f"intake.area.{ticket.service_area.value}"),
                    "opened": ticket.opened_at,
                    "deadline": ticket.response_due_at or Msg("intake.since.unknown"),
                },
            )
        ]
        agent = None if ticket.assignee_id is None else await t.tx.get_agent(ticket.assignee_id)
        if agent is not None:
            lines.append(Msg("tickets.detail_assignee", {"agent": agent.name}))
        else:
            lines.append(Msg("tickets.detail_unassigned"))
        return Reply(tuple(lines))

    await _answer(t, body)


async def escalate(t: ClientTurn, argument: str) -> None:
    """`/escalar N` (P-ESC-1): asks why, remembering the ticket in the chat's draft. Only the contact who
    reported it, or one acting for the company, may ask (P-ESC-2); anyone else is refused kindly and audited."""

    async def body(t: ClientTurn, profile: Profile) -> Reply:
        if not argument.strip():
            return Reply((Msg("escalation.usage", {"example": _example(t.services, t.now)}),))
        ticket = await find_ticket(t.tx, profile, argument)
        if ticket is None:
            return Reply((Msg("tickets.not_found", {"ticket": argument.strip()[:40]}),))
        try:
            # P-ESC-2: checked before the reason is asked, so nobody explains only to be refused.
            await may_act(t.tx, ticket, t.user_id)
        except NotTheClient as refusal:
            return await _refused(t, ticket, refusal)
        if ticket.status not in OPEN_STATUSES:
            return Reply((Msg("escalation.not_allowed", {"ticket": ticket.number}),))
        t.draft = await t.tx.save_draft(
            t.chat_id,
            user_id=t.user_id,
            step="escalate_reason",
            data={"kind": ESCALATE, "ticket_id": ticket.id},
            language=t.lang,
            at=t.now,
        )
        await arm_expiry(t.tx, t.services, t.draft, t.now)
        return Reply((Msg("escalation.reason_prompt"),))

    await _answer(t, body)


async def escalate_reason(t: ClientTurn, reason: str) -> None:
    """The reason: an escalation request for the next level's managers to decide in Slack (P-ESC-2)."""

    async def body(t: ClientTurn, profile: Profile) -> Reply | None:
        draft = t.draft
        if draft is None or draft.data.get("kind") != ESCALATE:
            return None
        if not reason.strip():
            return Reply((Msg("bad_input.expected_text"), Msg("escalation.reason_prompt")))
        await t.tx.delete_draft(t.chat_id)
        t.draft = None
        ticket_id = int(draft.data["ticket_id"])
        ticket = await t.tx.get_ticket(ticket_id)
        number = ticket.number if ticket is not None else "?"
        try:
            # The desk's use case: request row, audit, DM to the managers, thread note, the client told.
            # In a savepoint: a refusal undoes whatever it wrote, and the client is told why.
            async with t.tx.savepoint():
                await request_in_tx(
                    t.tx,
                    t.services,
                    ticket_id=ticket_id,
                    requested_by_kind=CLIENT,
                    requested_by_id=str(t.user_id),
                    reason=reason.strip()[:2000],
                    new_severity=None,
                    at=t.now,
                )
        except NotTheClient as refusal:
            # P-ESC-2: the right is checked again by the request itself (it may have been taken away since).
            if ticket is None:
                return Reply((Msg("escalation.not_allowed", {"ticket": number}),))
            return await _refused(t, ticket, refusal)
        except (DomainError, DeskError):
            return Reply((Msg("escalation.not_allowed", {"ticket": number}),))
        return None

    await _answer(t, body)


async def _refused(t: ClientTurn, ticket: Ticket, refusal: NotTheClient) -> Reply:
    """A refused escalation (P-ESC-2): audited, and a kind word on who may ask."""
    await audit_client_refusal(t.tx, ticket.id, t.now, t.user_id, "escalate", refusal)
    if isinstance(refusal, NotTheReporter):
        return Reply((Msg("escalation.not_reporter", {"ticket": ticket.number}),))
    return Reply((Msg("escalation.not_allowed", {"ticket": ticket.number}),))


async def policy(t: ClientTurn) -> None:
    """`/poliza` (P-POL-8): number, tier, validity, products covered, hours used and left, and each advice pool
    apart (R-POOLS). A contract that is not active says so, never "disponibles" (R-CONTACT): "vencida" with its
    end date, "agotada", not started yet, or a per-event one in use or used (R-EVENT); with the way to renew,
    the phones and the support e-mail."""

    async def body(t: ClientTurn, profile: Profile) -> Reply:
        contract = profile.domain_contract()
        if contract is None:
            return Reply((Msg("contract.none"), REACH_US))
        services, lang = t.services, t.lang
        cert = certificate(contract, [o.product for o in profile.options()], rules=services.tiers)
        products = ", ".join(p.name for p in cert.products) or "—"
        facts: dict[str, object] = {
            "number": cert.number,
            "tier": Msg(f"tier.{cert.tier.value}"),
            "valid_from": long_date(cert.starts_on, lang, catalogue=services.catalogue),
            "valid_until": long_date(cert.ends_on, lang, catalogue=services.catalogue),
            "hours_left": hours_number(float(contract.hours_left)),
            "hours_total": hours_number(float(contract.hours_total)),
            "products": products,
        }
        status = contract.status(t.today)
        if status is not ContractStatus.ACTIVE:
            ticket = contract.event_ticket or "—"
            orders = {number: po for po, number in profile.used_purchase_orders().items()}
            state = Msg(
                f"contract.status.{status.value}",
                {**facts, "ticket": ticket, "purchase_order": orders.get(ticket, "—")},
            )
            return Reply((Msg("contract.certificate_summary", facts), state, Msg("contract.renew"), REACH_US))
        lines = [Msg("contract.certificate", facts)]
        if contract.office_hours_total > 0 or contract.onsite_hours_total > 0:  # P-POL-6, R-POOLS: two pools
            lines.append(
                Msg(
                    "contract.advice_hours",
                    {
                        "office_left": hours_number(float(contract.office_hours_left)),
                        "office_total": hours_number(float(contract.office_hours_total)),
                        "onsite_left": hours_number(float(contract.onsite_hours_left)),
                        "onsite_total": hours_number(float(contract.onsite_hours_total)),
                    },
                )
            )
        return Reply(tuple(lines))

    await _answer(t, body)


async def contact_card(t: ClientTurn) -> None:
    """`/contacto` (P-CONTACT-1): phones, e-mail and office hours, to anyone."""
    await t.say(Reply((Msg("contact.card"),)), renderer=Renderer.for_services(t.services, t.lang))


async def help_text(t: ClientTurn) -> None:
    """`/ayuda`: what the bot can do (an unknown user hears how to get an invite instead, P-CONTACT-1)."""

    async def body(t: ClientTurn, profile: Profile) -> Reply:
        return Reply((Msg("commands.help"),))

    await _answer(t, body)
