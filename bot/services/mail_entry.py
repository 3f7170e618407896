"""The one service entry of a message to the support mailbox (P-IN-6): one transaction from the inbox entry to
the ticket, the thread message and the replies.

A machine's message (out-of-office, list, bounce, our own) opens nothing and gets no answer; a bounce marks the
address failing and tells the desk. A reply to any message of a ticket (by Message-ID, or the number in its
subject from the same company) goes to the card's thread without its quoted history, and may answer the
severity question. Mail from a contact opens a ticket (at most MAIL_MAX_TICKETS_PER_HOUR an hour); mail from
nobody we know gets one polite reply and waits in "correo sin cliente" until the desk attaches it to a company.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.conversation.model import Msg
from bot.domain.types import TicketStatus
from bot.inbox import Receipt
from bot.services import mail_desk, mail_out, mail_severity, outbox
from bot.services.client_entry import LeaseLost
from bot.services.context import Services
from bot.services.desk_common import AGENT_LANGUAGE, agent_text, escape_mrkdwn
from bot.services.desk_deadline import restart_response_clock
from bot.services.desk_info import resume_from_waiting
from bot.services.intake_render import Renderer
from bot.services.mail_events import MailReceived
from bot.services.mail_open import MAIL_FILE_PREFIX, MailRequest, keep_files, open_from_mail
from bot.services.mail_text import plain_from_html, redact_secrets, strip_reply, ticket_numbers
from storage import NotFound, Tx
from storage.mail_records import MailDirection, MailFileRef, UnmatchedReason
from storage.records import AttachmentKind, Contact, InboxStatus, Ticket

__all__ = ["Outcome", "attach_unmatched", "failed", "handle", "mailbox_view", "read_file"]

log = logging.getLogger(__name__)

_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)
_REPLYABLE = (*_OPEN, TicketStatus.RESOLVED)  # a client answering the solution still reaches the thread
FLOOD_WINDOW = timedelta(hours=1)
SHORT_ANSWER = 40  # a reply this short that answers the severity question is only that answer


class Outcome(StrEnum):
    """What became of a message (logged, and returned for the tests)."""

    AUTOMATIC = "automatic"  # a machine wrote it: nothing opened, nothing answered
    BOUNCE = "bounce"  # a delivery failure: the address is marked failing, the desk is told
    REPLY = "reply"  # went to its ticket's thread
    TICKET = "ticket"  # opened a ticket
    REFUSED = "refused"  # the contract check refused it (answered by e-mail)
    UNMATCHED = "unmatched"  # waits in "correo sin cliente"
    DUPLICATE = "duplicate"  # kept already


@dataclass
class _Turn:
    tx: Tx
    services: Services
    now: datetime
    mail: MailReceived


async def handle(services: Services, receipt: Receipt | None, mail: MailReceived | None) -> Outcome | None:
    """Handle one received message in one transaction (receipt None: not from the inbox, e.g. a test)."""
    now = services.clock()
    async with services.store.transaction() as tx:
        if receipt is not None and not await tx.finish_inbox(receipt.entry_id, receipt.worker, now):
            raise LeaseLost(f"inbox entry {receipt.entry_id} was taken over")
        if mail is None:
            return None
        outcome = await _route(_Turn(tx, services, now, mail))
    log.info("mail %s: %s", mail.message_id, outcome.value)  # no address in the logs: it is personal data
    services.wake_delivery()
    return outcome


async def mailbox_view(services: Services, source: str, keys: list[str]) -> tuple[set[str], set[str]]:
    """For the mailbox: which of these Message-IDs the inbox holds, and which of them are handled (committed),
    so the server marks a message handled only then. Returns: (known, done)."""
    async with services.store.transaction() as tx:
        found = await tx.inbox_statuses(source, keys)
    return set(found), {key for key, status in found.items() if status is InboxStatus.DONE}


async def read_file(services: Services, file_id: int) -> bytes | None:
    """A file that came by e-mail, for its upload to the card's thread (None: it is gone)."""
    async with services.store.transaction() as tx:
        return await tx.get_mail_file(file_id)


async def failed(services: Services, receipt: Receipt, error: str) -> None:
    """Every attempt failed: the entry is kept as failed for a person (`supportbot inbox list --failed`); the
    message stays unhandled on the server, so nothing is lost."""
    async with services.store.transaction() as tx:
        await tx.finish_inbox(
            receipt.entry_id, receipt.worker, services.clock(), status=InboxStatus.FAILED, error=error
        )


async def _route(t: _Turn) -> Outcome:
    mail = t.mail
    if mail.bounced:
        await _bounce(t)
        return Outcome.BOUNCE
    if mail.automatic is not None or not mail.address:
        await t.tx.append_audit(
            None, at=t.now, actor_kind="system", actor_id="mail", action="mail_automatic_ignored",
            data={"message_id": mail.message_id, "reason": mail.automatic or "no sender"},
        )  # fmt: skip
        return Outcome.AUTOMATIC
    if await t.tx.find_mail_message_ticket([mail.message_id]) is not None:
        return Outcome.DUPLICATE  # read again after its inbox entry was forgotten: its ticket has it already
    contacts = [c for c in await t.tx.find_contacts_by_email(mail.address) if c.active and c.forgotten_at is None]
    if any(c.email_failing_since is not None for c in contacts):
        await t.tx.mark_email_failing(mail.address, None)  # they write to us: the address works again
        contacts = [replace(c, email_failing_since=None) for c in contacts]
    ticket = await _thread_of(t, contacts)
    if ticket is not None:
        contact = next((c for c in contacts if c.client_id == ticket.client_id), None)
        await _reply(t, ticket, contact)
        return Outcome.REPLY
    if t.now - mail.arrived_at > timedelta(days=t.services.settings.mail_max_age_days):
        return await _unmatched(t, UnmatchedReason.OLD)  # nobody answers mail from weeks ago out of the blue
    companies = {c.client_id for c in contacts}
    if not contacts:
        return await _unmatched(t, UnmatchedReason.UNKNOWN_SENDER)
    if len(companies) > 1:
        return await _unmatched(t, UnmatchedReason.AMBIGUOUS)
    contact = contacts[0]
    opened = await t.tx.count_mail_tickets(mail.address, t.now - FLOOD_WINDOW)
    if opened >= t.services.settings.mail_max_tickets_per_hour:
        return await _unmatched(t, UnmatchedReason.FLOOD, count=opened)
    body, secret = redact_secrets(mail.text)
    request = MailRequest(
        message_id=mail.message_id, address=mail.address, name=mail.name or contact.name, subject=mail.subject,
        body=body, arrived_at=mail.arrived_at, files=await keep_files(t.tx, mail.files, t.now),
        secret_removed=secret, too_big=mail.too_big,
    )  # fmt: skip
    opened_ticket = await open_from_mail(t.tx, t.services, contact, request, t.now)
    return Outcome.TICKET if opened_ticket is not None else Outcome.REFUSED


async def _thread_of(t: _Turn, contacts: list[Contact]) -> Ticket | None:
    """The ticket a message answers: by its Message-IDs, else by the number in its subject; only a contact of
    the ticket's company reaches it (anyone can type a number in a subject). A closed ticket is not answered
    here: the message opens a new one."""
    companies = {c.client_id for c in contacts}
    if not companies:
        return None
    candidates: list[Ticket] = []
    found = await t.tx.find_mail_message_ticket(t.mail.answers)
    if found is not None:
        ticket = await t.tx.get_ticket(found)
        if ticket is not None:
            candidates.append(ticket)
    for number in ticket_numbers(t.mail.subject):
        ticket = await t.tx.get_ticket_by_number(number)
        if ticket is not None:
            candidates.append(ticket)
    return next((tk for tk in candidates if tk.client_id in companies and tk.status in _REPLYABLE), None)


async def _reply(t: _Turn, ticket: Ticket, contact: Contact | None) -> None:
    """A client's reply: to the card's thread without its history; it may answer the severity question, and it
    ends a wait for the client (P-SLA-7)."""
    tx, services, mail, now = t.tx, t.services, t.mail, t.now
    if not await tx.add_mail_message(mail.message_id, ticket.id, MailDirection.IN, now):
        return  # the same message again (another copy of it): it is in the thread already
    mail_ticket = await tx.get_mail_ticket(ticket.id)
    if mail_ticket is not None:
        mail_ticket = await tx.update_mail_ticket(ticket.id, last_message_id=mail.message_id)
    text, secret = redact_secrets(strip_reply(mail.text))
    name = contact.name if contact is not None else (mail.name or mail.address)
    answered = False
    if mail_ticket is not None and mail_ticket.severity_pending:
        answered = await mail_severity.answer_by_mail(tx, services, ticket, mail_ticket, name, text, now)
    if text and not (answered and len(text) <= SHORT_ANSWER):
        note = services.catalogue.render(
            AGENT_LANGUAGE, "mail.desk.thread_text", {"name": name, "text": text}, escape_mrkdwn
        )
        await outbox.slack_thread(tx, ticket, note, at=now)
    for ref in await keep_files(tx, mail.files, now):
        kind = AttachmentKind.PHOTO if ref.mime.startswith("image/") else AttachmentKind.DOCUMENT
        attachment = await tx.add_attachment(
            ticket.id, kind, f"{MAIL_FILE_PREFIX}{ref.id}", at=now, file_name=ref.name, size=ref.size, mime=ref.mime
        )
        await outbox.slack_thread_file(tx, ticket, attachment.id, at=now)
    if secret:
        await outbox.slack_thread(tx, ticket, agent_text(services, "mail.desk.secret_removed"), at=now)
        if mail_ticket is not None and contact is not None:
            lang = contact.language or AGENT_LANGUAGE
            notice = plain_from_html(Renderer.for_services(services, lang).text(Msg("mail.secret_removed")))
            await mail_out.send_to_ticket(
                tx, services, ticket, mail_ticket, mail_out.compose(services, lang, notice, name=contact.name),
                at=now, auto=True, dedupe_key=f"mail-secret:{mail.message_id}",
            )  # fmt: skip
    await tx.append_audit(
        ticket.id, at=now, actor_kind="client", actor_id=mail.address, action="client_message",
        data={"channel": "email", "files": len(mail.files), "chars": len(text), "severity_answer": answered},
    )  # fmt: skip
    if ticket.status is TicketStatus.WAITING_CLIENT and await resume_from_waiting(tx, services, ticket.id, now):
        resumed = await tx.get_ticket(ticket.id)
        if resumed is not None and resumed.first_response_at is None:
            await restart_response_clock(tx, services, resumed, now)  # R-RESPONSE, P-SLA-7


async def _unmatched(t: _Turn, reason: UnmatchedReason, *, count: int = 0) -> Outcome:
    """Keep the message in "correo sin cliente", tell the desk; an unknown sender gets one polite reply a day
    with our contact details (P-CONTACT-1)."""
    tx, services, mail, now = t.tx, t.services, t.mail, t.now
    files = await keep_files(tx, mail.files, now)
    body, _secret = redact_secrets(mail.text)
    kept = await tx.add_unmatched_mail(
        message_id=mail.message_id, address=mail.address, name=mail.name, subject=mail.subject, body=body,
        files=files, reason=reason, at=mail.arrived_at,
    )  # fmt: skip
    if kept is None:
        return Outcome.DUPLICATE
    why = agent_text(
        services, f"mail.desk.reason.{reason.value}", count=count, days=services.settings.mail_max_age_days
    )
    notice = agent_text(
        services, "mail.desk.unmatched", id=kept.id, address=mail.address, name=mail.name or "—",
        subject=mail.subject or "—", reason=why,
    )  # fmt: skip
    blocks = mail_desk.notice_blocks(services, kept, notice)
    await outbox.slack_channel(tx, services.settings.slack_support_channel, notice, at=now, blocks=blocks)
    await tx.append_audit(
        None, at=now, actor_kind="client", actor_id=mail.address, action="mail_unmatched",
        data={"unmatched_id": kept.id, "reason": reason.value},
    )  # fmt: skip
    if reason is UnmatchedReason.UNKNOWN_SENDER:
        lang = AGENT_LANGUAGE
        renderer = Renderer.for_services(services, lang)
        body_text = plain_from_html(renderer.text(Msg("mail.unknown_sender")))
        day = now.astimezone(services.settings.zone).date().isoformat()
        await mail_out.send_mail(
            tx, services, to=mail.address, subject=f"Re: {mail.subject}".strip(),
            text=mail_out.compose(services, lang, body_text, name=mail.name), at=now, auto=True,
            in_reply_to=mail.message_id, references=(mail.message_id,), dedupe_key=f"mail-unknown:{mail.address}:{day}",
        )  # fmt: skip
    return Outcome.UNMATCHED


async def _bounce(t: _Turn) -> None:
    """A delivery failure: the addresses it names are marked failing on their contacts, and the desk hears it
    (in the threads of those contacts' open tickets, and in the support channel)."""
    tx, services, now = t.tx, t.services, t.now
    for address in t.mail.bounced:
        for contact in await tx.mark_email_failing(address, now):
            note = agent_text(services, "mail.desk.bounced", address=address, name=contact.name)
            tickets = await tx.list_tickets(status=_OPEN, client_id=contact.client_id, contact_id=contact.id)
            for ticket in tickets:
                await outbox.slack_thread(
                    tx, ticket, note, at=now, dedupe_key=f"bounce:{t.mail.message_id}:{ticket.id}"
                )
            if not tickets:
                await outbox.slack_channel(tx, services.settings.slack_support_channel, note, at=now)
            await tx.append_audit(
                None, at=now, actor_kind="system", actor_id="mail", action="mail_bounced",
                data={"contact_id": contact.id, "message_id": t.mail.message_id},
            )  # fmt: skip


async def attach_unmatched(
    tx: Tx, services: Services, mail_id: int, client_id: int, *, name: str | None, at: datetime
) -> Ticket | None:
    """The desk attaches a message of "correo sin cliente" to a company: its sender becomes (or is found as) a
    contact of it with that address, and the message opens a ticket under the same policy (a refusal is
    answered by e-mail). Returns: the ticket, None when the contract check refused it.
    Raises NotFound (no such message or company), StaleVersion (attached already)."""
    kept = await tx.get_unmatched_mail(mail_id)
    if kept is None:
        raise NotFound(f"unmatched mail {mail_id}")
    if await tx.get_client(client_id) is None:
        raise NotFound(f"client {client_id}")
    contact = next(
        (c for c in await tx.find_contacts_by_email(kept.address) if c.client_id == client_id and c.active), None
    )
    if contact is None:
        contact = await tx.add_contact(client_id, (name or kept.name or kept.address).strip(), at=at)
        contact = await tx.set_contact_email(contact.id, kept.address)
    request = MailRequest(
        message_id=kept.message_id, address=kept.address, name=kept.name, subject=kept.subject, body=kept.body,
        arrived_at=kept.received_at, files=tuple(MailFileRef(f.id, f.name, f.mime, f.size) for f in kept.files),
    )  # fmt: skip
    ticket = await open_from_mail(tx, services, contact, request, at)
    await tx.close_unmatched_mail(mail_id, at=at, ticket_id=ticket.id if ticket is not None else None)
    await tx.append_audit(
        ticket.id if ticket is not None else None, at=at, actor_kind="office", actor_id="cli",
        action="mail_attached", data={"unmatched_id": mail_id, "client_id": client_id, "contact_id": contact.id},
    )  # fmt: skip
    return ticket
