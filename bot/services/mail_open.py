"""Opening a ticket from an e-mail (P-IN-6): the same contract check as on Telegram (refusals by e-mail), the
deadline from the moment the mailbox received it, "severidad por confirmar" until the client answers the
numbered question (or the Telegram deep link) or a consultant sets it; files to the card's thread."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.conversation.model import IntakeContext, Msg
from bot.conversation.moves import REACH_US, refusal_msg
from bot.domain.entitlement import decide_entitlement
from bot.domain.types import ServiceArea, Severity
from bot.logs import bind_ticket
from bot.services import mail_out, outbox
from bot.services.context import Services
from bot.services.desk_common import AGENT_LANGUAGE, agent_text
from bot.services.identity import Profile, choose_contract
from bot.services.intake_render import Renderer
from bot.services.mail_events import MailFile
from bot.services.mail_text import plain_from_html
from bot.services.routing import card_channel
from bot.services.sla import start_response_clock
from storage import Tx
from storage.mail_records import MailDirection, MailFileRef, MailTicket
from storage.records import AttachmentKind, Contact, NewTicket, Ticket

__all__ = [
    "MAIL_FILE_PREFIX",
    "SEVERITY_DEEP_LINK",
    "MailRequest",
    "deep_link",
    "guess_area",
    "keep_files",
    "open_from_mail",
    "profile_of",
]

MAIL_FILE_PREFIX = "mail:"  # an attachment whose file came by e-mail: "mail:<mail_files id>"
SEVERITY_DEEP_LINK = "sev-"  # /start sev-<ticket id>: the severity question on Telegram
_AREAS = (
    (ServiceArea.FIREWALL, r"firewall|fortigate|fortinet|sonicwall|vpn"),
    (ServiceArea.WIRELESS, r"wi-?fi|inal[aá]mbric|access point|\bap\b"),
    (ServiceArea.SWITCHING, r"\bswitch"),
    (ServiceArea.ROUTING, r"router|ruteador|enrutador|internet|\bred\b"),
    (ServiceArea.CABLING, r"cablead|cable|nodo|rack"),
    (ServiceArea.MAINTENANCE, r"computadora|laptop|impresora|tel[eé]fono|conmutador|equipo de c[oó]mputo|pc\b"),
)


@dataclass(frozen=True)
class MailRequest:
    """What a ticket is opened from: a fresh e-mail, or one the desk attached from "correo sin cliente"."""

    message_id: str
    address: str
    name: str
    subject: str
    body: str  # passwords already taken out
    arrived_at: datetime
    files: tuple[MailFileRef, ...] = ()
    secret_removed: bool = False
    too_big: bool = False


def guess_area(text: str) -> ServiceArea:
    """The service area a mail talks about (the card needs one; software when nothing says otherwise)."""
    lowered = text.lower()
    for area, pattern in _AREAS:
        if re.search(pattern, lowered):
            return area
    return ServiceArea.SOFTWARE


async def profile_of(tx: Tx, contact: Contact, now: datetime, services: Services) -> Profile | None:
    """The contact's profile (client, governing contract, products), as bot.services.identity.load_profile
    builds it for a Telegram user."""
    client = await tx.get_client(contact.client_id)
    if client is None:
        return None
    contracts = await tx.contracts_for_client(client.id)
    events = {t.contract_id: t for t in await tx.list_purchase_order_tickets(client.id) if t.contract_id}
    today = now.astimezone(services.settings.zone).date()
    contract = choose_contract(contracts, today, events)
    return Profile(contact, client, contract, tuple(await tx.list_products(client.id)), events)


async def keep_files(tx: Tx, files: tuple[MailFile, ...], at: datetime) -> tuple[MailFileRef, ...]:
    """Store a message's files until they are in the card's thread."""
    return tuple([await tx.add_mail_file(f.name, f.mime, f.content, at=at) for f in files])


def deep_link(services: Services, ticket: Ticket) -> str | None:
    """t.me link that opens the bot on the ticket's severity question (None: the bot's name is not configured)."""
    name = services.settings.telegram_bot_username.strip().lstrip("@")
    return f"https://t.me/{name}?start={SEVERITY_DEEP_LINK}{ticket.id}" if name else None


def _render(services: Services, lang: str, msg: Msg) -> str:
    return plain_from_html(Renderer.for_services(services, lang).text(msg))


async def open_from_mail(
    tx: Tx, services: Services, contact: Contact, request: MailRequest, now: datetime
) -> Ticket | None:
    """P-IN-1 by e-mail: the contract check (a refusal is answered by e-mail, R-CONTACT), then the ticket, its
    card, files, SLA timers and the automatic reply. Returns: the ticket, None when refused."""
    profile = await profile_of(tx, contact, now, services)
    lang = contact.language or AGENT_LANGUAGE
    if profile is None:
        return None
    today = now.astimezone(services.settings.zone).date()
    decision = decide_entitlement(
        profile.domain_contract(), None, today, fails_documented_spec=False, purchase_order=None, rules=services.tiers
    )
    if not decision.allowed:
        assert decision.reason is not None
        ctx = IntakeContext(  # what the intake's refusal texts read (bot.conversation.moves.refusal_msg)
            now=now, tz=services.settings.zone, contract=profile.domain_contract(), products=profile.options(),
            tiers=services.tiers, targets=services.targets, used_purchase_orders=profile.used_purchase_orders(),
        )  # fmt: skip
        body = "\n\n".join(_render(services, lang, m) for m in (refusal_msg(decision.reason, ctx), REACH_US))
        await mail_out.send_mail(
            tx, services, to=request.address, subject=f"Re: {request.subject}".strip(),
            text=mail_out.compose(services, lang, body, name=contact.name), at=now, auto=True,
            in_reply_to=request.message_id, references=(request.message_id,),
            dedupe_key=f"mail-refused:{request.message_id}",
        )  # fmt: skip
        await tx.append_audit(
            None, at=now, actor_kind="client", actor_id=request.address, action="mail_refused",
            data={"contact_id": contact.id, "refusal": decision.reason.value, "rule": decision.rule},
        )  # fmt: skip
        return None
    arrived = min(request.arrived_at, now)
    severity = Severity(services.settings.mail_default_severity)
    cal = services.calendar
    due = cal.add(arrived, services.targets[severity])
    description = f"{request.subject}\n\n{request.body}".strip() if request.subject else request.body.strip()
    ticket = await tx.create_ticket(
        NewTicket(
            client_id=profile.client.id,
            contact_id=contact.id,
            service_area=guess_area(description),
            severity=severity,
            description=description or "(sin texto)",
            opened_at=arrived,
            contract_id=profile.contract.id if profile.contract is not None else None,
            clock_started_at=cal.next_open(arrived),
            response_due_at=due,
            slack_channel=card_channel(services.settings, profile.client.id, severity),
        ),
        prefix=services.settings.ticket_prefix,
        year=arrived.astimezone(services.settings.zone).year,
    )
    bind_ticket(ticket.number)
    mail = await tx.add_mail_ticket(
        ticket.id, address=request.address, subject=request.subject, message_id=request.message_id,
        severity_pending=True, at=now,
    )  # fmt: skip
    await tx.add_mail_message(request.message_id, ticket.id, MailDirection.IN, now)
    await tx.append_audit(
        ticket.id, at=now, actor_kind="client", actor_id=request.address, action="opened",
        data={"channel": "email", "severity": int(severity), "severity_pending": True,
              "attachments": len(request.files), "arrived_at": arrived.isoformat(),
              "secret_removed": request.secret_removed},
    )  # fmt: skip
    await outbox.slack_card(tx, ticket, at=now)
    for ref in request.files:
        kind = AttachmentKind.PHOTO if ref.mime.startswith("image/") else AttachmentKind.DOCUMENT
        attachment = await tx.add_attachment(
            ticket.id, kind, f"{MAIL_FILE_PREFIX}{ref.id}", at=now, file_name=ref.name, size=ref.size, mime=ref.mime
        )
        await outbox.slack_thread_file(tx, ticket, attachment.id, at=now)
    if request.secret_removed:
        await outbox.slack_thread(tx, ticket, agent_text(services, "mail.desk.secret_removed"), at=now)
    if request.too_big:
        max_mb = f"{services.settings.imap_max_message_mb:g}"
        note = agent_text(services, "mail.desk.too_big", address=request.address, max_mb=max_mb)
        await outbox.slack_thread(tx, ticket, note, at=now)
    await start_response_clock(tx, services, ticket)
    await _acknowledge(tx, services, ticket, mail, contact, request, due, now)
    return ticket


async def _acknowledge(
    tx: Tx, services: Services, ticket: Ticket, mail: MailTicket, contact: Contact, request: MailRequest,
    due: datetime, now: datetime,
) -> None:  # fmt: skip
    """The automatic reply: the number and deadline (P-IN-1), the severity question, a password's warning."""
    lang = contact.language or AGENT_LANGUAGE
    cal = services.calendar
    severity_words = Msg(f"intake.severity.name.{services.settings.mail_default_severity}")
    lines = [Msg("mail.created", {"ticket": ticket.number, "deadline": due})]
    if not cal.is_open(request.arrived_at):
        lines.append(Msg("intake.clock_starts_later", {"start": cal.next_open(request.arrived_at)}))
    lines.append(Msg("mail.severity_question", {"severity": severity_words}))
    link = deep_link(services, ticket)
    if link is not None and contact.telegram_user_id is not None:
        lines.append(Msg("mail.severity_telegram", {"link": link}))
    if request.secret_removed:
        lines.append(Msg("mail.secret_removed"))
    if request.too_big:
        lines.append(Msg("mail.too_big", {"max_mb": f"{services.settings.imap_max_message_mb:g}"}))
    body = "\n\n".join(_render(services, lang, m) for m in lines)
    await mail_out.send_to_ticket(
        tx, services, ticket, mail, mail_out.compose(services, lang, body, name=contact.name), at=now, auto=True,
        dedupe_key=f"mail-created:{ticket.id}",
    )  # fmt: skip
