"""Opening the ticket a confirmed intake describes: one transaction with audit, card, SLA timers, files, secrets."""

from __future__ import annotations

import json
from datetime import datetime

from bot.conversation.model import IntakeState, Msg, Reply
from bot.domain.contracts import purchase_order_key
from bot.domain.remote_access import format_teamviewer_id
from bot.domain.types import ServiceArea, Severity
from bot.i18n import Safe
from bot.logs import bind_ticket
from bot.services import outbox
from bot.services.context import Services
from bot.services.identity import Profile, send
from bot.services.intake_render import Renderer
from bot.services.routing import card_channel
from bot.services.sla import start_response_clock
from storage import SecretBox, Tx
from storage.records import AttachmentKind, CredentialKind, NewTicket, Ticket

__all__ = ["escape_mrkdwn", "open_ticket"]

AGENT_LANGUAGE = "es"


def escape_mrkdwn(text: str) -> str:
    """Slack mrkdwn escaping of client text (LIMITS.md): `& < >`, so nobody can ping or disguise a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _onsite_details(state: IntakeState) -> str | None:
    """P-IN-5: the visit's address, who receives the consultant and the access rules, kept apart (JSON) so the
    card shows each as its own field (bot.services.desk_queries.onsite_fields reads it back)."""
    if state.access != "onsite":
        return None
    fields = {"address": state.onsite_address or "", "contact": state.onsite_contact or "", "rules": state.onsite_rules}
    return json.dumps(fields, ensure_ascii=False)


async def open_ticket(
    tx: Tx,
    services: Services,
    box: SecretBox,
    profile: Profile,
    state: IntakeState,
    *,
    chat_id: int,
    user_id: int,
    renderer: Renderer,
    now: datetime,
) -> Ticket:
    """P-IN-1: the ticket, its "opened" audit event, the support-channel card, SLA timers (P-SLA-5/6),
    attachments with their uploads to the thread, encrypted credentials (P-IN-3); then the client's answer."""
    severity = Severity(state.severity or Severity.LOW)
    target = services.targets[severity]
    cal = services.calendar
    due = cal.add(now, target)
    since = state.since()
    description = state.description
    if state.product_name and state.product_id is None:
        description = f"[{state.product_name}]\n{description}"
    ticket = await tx.create_ticket(
        NewTicket(
            client_id=profile.client.id,
            contact_id=profile.contact.id,
            service_area=ServiceArea(state.area or ServiceArea.SOFTWARE),
            severity=severity,
            description=description,
            opened_at=now,
            # R-WARRANTY: on the warranty route alone the contract is not valid: the ticket takes none.
            contract_id=profile.contract.id if profile.contract is not None and not state.warranty_only else None,
            product_id=state.product_id,
            since_at=since.instant if since is not None else None,
            since_text=state.since_text,
            onsite_details=_onsite_details(state),
            telegram_chat_id=chat_id,
            clock_started_at=cal.next_open(now),
            response_due_at=due,
            slack_channel=card_channel(services.settings, profile.client.id, severity),
            warranty=not state.charged,  # R-WARRANTY: the mark the card shows and the resolution confirms
            # R-EVENT: a charged per-event report takes its contract's one event and uses its order up.
            purchase_order=purchase_order_key(state.purchase_order) if state.purchase_order and state.charged else None,
        ),
        prefix=services.settings.ticket_prefix,
        # The year of the number is the client's year: a ticket opened at 19:30 on 31 Dec in Mexico City
        # (01:30 UTC on 1 Jan) is still a ticket of the old year.
        year=now.astimezone(services.settings.zone).year,
    )
    bind_ticket(ticket.number)  # the lines logged from here on name it
    if state.tv_password:
        # The label is what the card shows (never the secret): "TeamViewer 1 234 567 890".
        label = f"TeamViewer {format_teamviewer_id(state.teamviewer_id or '')}".strip()
        secret = box.decrypt(state.tv_password)
        await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, label, secret, at=now)
    if state.equipment_password:
        secret = box.decrypt(state.equipment_password)
        await tx.put_credential(ticket.id, CredentialKind.EQUIPMENT_PASSWORD, "Equipo", secret, at=now)
    await tx.append_audit(
        ticket.id,
        at=now,
        actor_kind="client",
        actor_id=str(user_id),
        action="opened",
        data={
            "channel": "telegram",
            "severity": int(severity),
            "access": state.access,
            "teamviewer_id": state.teamviewer_id,
            "product_name": state.product_name,
            "purchase_order": state.purchase_order,
            "charged": state.charged,
            "entitlement_rule": state.entitlement_rule,
            "warranty_cause": state.cause,  # R-WARRANTY: what the client said came before the failure
            "triage": {"symptom": state.symptom, "impact": state.impact, "reach": state.reach},
            # The precision the client gave (a day, a part of the day, an hour): the card never adds an hour.
            "since_precision": since.precision.value if since is not None else None,
            "since_part": since.part.value if since is not None and since.part is not None else None,
            "attachments": len(state.attachments),
            "links": list(state.links),
        },
    )
    # The card first (same ordering key: its files and notes wait for it, and hang in its thread).
    await outbox.slack_card(tx, ticket, at=now)
    for kind, file_id, name, size, mime in state.attachments:
        attachment = await tx.add_attachment(
            ticket.id, AttachmentKind(kind), file_id, at=now, file_name=name, size=size, mime=mime
        )
        await outbox.slack_thread_file(tx, ticket, attachment.id, at=now)
    if state.links:
        links = "\n".join(escape_mrkdwn(link) for link in state.links)
        text = services.catalogue.render(AGENT_LANGUAGE, "intake.links_thread", {"links": Safe(links)}, escape_mrkdwn)
        await outbox.slack_thread(tx, ticket, text, at=now)
    # The desk owns the response clock's timers (sla_warning at ESCALATION_WARNING_PERCENT, sla_breach at
    # the deadline, P-SLA-5/6); scheduling them through its helper keeps the payload its handlers read.
    await start_response_clock(tx, services, ticket)
    lines = [Msg("intake.created", {"ticket": ticket.number, "deadline": due})]
    if not cal.is_open(now):
        lines.append(Msg("intake.clock_starts_later", {"start": cal.next_open(now)}))
    await send(tx, chat_id, renderer, Reply(tuple(lines)), now)
    return ticket
