"""E-mail the bot owes to people, as outbox rows (destination "email"): each reply of a ticket carries its number
in the subject and the Message-IDs it threads under (In-Reply-To, References); what the desk tells a client of an
e-mail ticket goes by e-mail, and P-CLOSE-3's reminders go by e-mail as well as Telegram."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.services.context import Services
from bot.services.mail_text import plain_from_html, reply_subject
from storage import Tx
from storage.mail_records import MailDirection, MailTicket
from storage.records import Contact, Ticket

if TYPE_CHECKING:
    from bot.services.desk_common import TicketView
    from bot.services.events import ThreadMessage

__all__ = [
    "ALSO_BY_MAIL",
    "EMAIL",
    "MAIL_LANE",
    "MAIL_SEND",
    "MAIL_VARIANTS",
    "compose",
    "mail_address_of",
    "new_message_id",
    "notify_by_mail",
    "relay_files",
    "send_mail",
    "send_to_ticket",
]

EMAIL = "email"  # outbox destination
MAIL_SEND = "send"  # {to, subject, text, message_id, in_reply_to?, references, auto, ticket_id?, ticket?, ...}
MAIL_LANE = "mail:smtp"
# Sent by e-mail as well as Telegram when the contact has an address: P-CLOSE-3's "por teléfono o correo".
ALSO_BY_MAIL = frozenset({"tickets.reminder"})
# Texts that name Telegram's buttons have an e-mail wording ("responde a este correo" instead of "toca «Reabrir»").
MAIL_VARIANTS = {
    key: f"mail.variant.{key.removeprefix('tickets.')}"
    for key in ("tickets.resolved", "tickets.solution", "tickets.closed_unanswered", "tickets.closed_no_answer")
}


def new_message_id(services: Services, seed: str | None = None) -> str:
    """A Message-ID on the mailbox's domain; from a seed (a dedupe key) it is the same on every try."""
    domain = services.settings.mailbox_address.rpartition("@")[2] or "supportbot.invalid"
    token = hashlib.sha256(seed.encode()).hexdigest()[:32] if seed else uuid.uuid4().hex
    return f"<{token}@{domain}>"


def compose(services: Services, lang: str, body: str, *, name: str = "") -> str:
    """A whole e-mail text: greeting, the body, and the company's footer (P-CONTACT-1)."""
    cat, s = services.catalogue, services.settings
    first = name.split()[0] if name.split() else ""
    greeting = cat.plain(lang, "mail.greeting", name=first) if first else cat.plain(lang, "mail.greeting_anonymous")
    footer = cat.plain(
        lang, "mail.footer", company=s.company_name, phones=s.support_phones, office_hours=s.office_hours_text
    )
    return f"{greeting}\n\n{body.strip()}\n\n{footer}\n"


async def send_mail(
    tx: Tx,
    services: Services,
    *,
    to: str,
    subject: str,
    text: str,
    at: datetime,
    ticket: Ticket | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto: bool = False,
    dedupe_key: str | None = None,
    **extra: Any,
) -> int | None:
    """Queue one e-mail (auto: an automatic reply, marked Auto-Submitted so other robots do not answer it).
    Its Message-ID is kept with the ticket, so a reply to it finds the ticket. Returns: the row id, None when
    the dedupe key was queued before."""
    message_id = new_message_id(services, dedupe_key)
    payload: dict[str, Any] = {
        "to": to,
        "subject": subject,
        "text": text,
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": [r for r in dict.fromkeys(references) if r],
        "auto": auto,
        **extra,
    }
    if ticket is not None:
        payload.update(ticket_id=ticket.id, ticket=ticket.number)
    row = await tx.enqueue(
        EMAIL, f"mail:{to.lower()}", MAIL_SEND, payload, at=at, dedupe_key=dedupe_key, pace_key=MAIL_LANE
    )
    if row is not None and ticket is not None:
        await tx.add_mail_message(message_id, ticket.id, MailDirection.OUT, at)
    return row


async def send_to_ticket(
    tx: Tx,
    services: Services,
    ticket: Ticket,
    mail: MailTicket,
    text: str,
    *,
    at: datetime,
    auto: bool = False,
    dedupe_key: str | None = None,
    **extra: Any,
) -> int | None:
    """Queue a message in the ticket's e-mail conversation: "Re: [SOP-…] subject", answering the client's latest."""
    return await send_mail(
        tx, services, to=mail.address, subject=reply_subject(ticket.number, mail.subject), text=text, at=at,
        ticket=ticket, in_reply_to=mail.last_message_id, references=(mail.root_message_id, mail.last_message_id),
        auto=auto, dedupe_key=dedupe_key, **extra,
    )  # fmt: skip


MAX_MAIL_FILES_BYTES = 20 * 1024 * 1024  # what most mail servers take in one message, with room for encoding


async def relay_files(
    tx: Tx, services: Services, view: TicketView, agent_name: str, message: ThreadMessage, at: datetime
) -> int:
    """The assignee's files in the thread of an e-mail ticket go to the client as attachments of one e-mail,
    fetched from Slack when it is sent (nothing but their addresses rests in the outbox). Returns: how many."""
    ticket = view.ticket
    mail = await tx.get_mail_ticket(ticket.id)
    files = [f for f in message.files if f.url]
    if mail is None or not mail.address or not files or not services.settings.mail_enabled:
        return 0
    total = sum(f.size for f in files)
    if total > MAX_MAIL_FILES_BYTES:
        from bot.services.desk_relay import tell_unheard

        await tell_unheard(tx, services, message, "mail.desk.files_too_big", at, max_mb=MAX_MAIL_FILES_BYTES // 2**20)
        return 0
    body = plain_from_html(
        services.catalogue.t(view.language, "tickets.agent_file", ticket=ticket.number, agent=agent_name)
    )
    name = view.contact.name if view.contact is not None else ""
    attached = [{"url": f.url, "name": f.name, "mimetype": f.mimetype, "size": f.size} for f in files]
    await send_to_ticket(
        tx, services, ticket, mail, compose(services, view.language, body, name=name), at=at, files=attached,
        dedupe_key=f"relay-files:{message.channel}:{message.ts}", first_response="reply",
        relayed={"channel": message.channel, "ts": message.ts},
    )  # fmt: skip
    return len(files)


def mail_address_of(contact: Contact | None) -> str | None:
    """The contact's address when mail can reach it (not failing)."""
    if contact is None or not contact.email or contact.email_failing_since is not None:
        return None
    return contact.email


async def notify_by_mail(
    tx: Tx,
    view: TicketView,
    services: Services,
    key: str,
    *,
    at: datetime,
    dedupe_key: str | None = None,
    thread_note: str | None = None,
    response: str | None = None,
    mark: tuple[str, str] | None = None,
    **params: object,
) -> bool:
    """The e-mail side of bot.services.desk_common.notify_client: a ticket that talks by e-mail hears everything
    there (with the thread note, first-response and delivery marks the Telegram message would carry); a Telegram
    ticket hears P-CLOSE-3's reminders by e-mail too when its contact has an address.
    Returns: whether an e-mail was queued that stands in for the Telegram message (the ticket has no chat)."""
    if not services.settings.mail_enabled:
        return False
    ticket = view.ticket
    mail = await tx.get_mail_ticket(ticket.id)
    talks_by_mail = mail is not None and bool(mail.address)
    if not talks_by_mail and key not in ALSO_BY_MAIL:
        return False
    contact = view.contact
    if not talks_by_mail:
        address = mail_address_of(contact)
        if address is None:
            return False
        body = plain_from_html(services.catalogue.t(view.language, key, ticket=ticket.number, **params))
        name = contact.name if contact is not None else ""
        subject = services.catalogue.plain(view.language, "mail.subject_ticket", ticket=ticket.number)
        await send_mail(
            tx, services, to=address, subject=subject, text=compose(services, view.language, body, name=name),
            at=at, ticket=ticket, dedupe_key=f"{dedupe_key}:mail" if dedupe_key else None,
        )  # fmt: skip
        return False
    assert mail is not None
    if contact is not None and contact.email_failing_since is not None and contact.email == mail.address:
        from bot.services.desk_common import agent_text  # the desk's module imports this one
        from bot.services.outbox import slack_thread

        note = agent_text(services, "mail.desk.failing", name=contact.name, address=mail.address)
        await slack_thread(tx, ticket, note, at=at, dedupe_key=f"mail-failing:{ticket.id}:{key}:{at.isoformat()}")
        return False
    wording = MAIL_VARIANTS.get(key, key)
    body = plain_from_html(services.catalogue.t(view.language, wording, ticket=ticket.number, **params))
    extra: dict[str, Any] = {}
    if thread_note:
        extra["thread_note"] = thread_note
    if response:
        extra["first_response"] = response
    if mark is not None:
        extra["relayed"] = {"channel": mark[0], "ts": mark[1]}
    name = contact.name if contact is not None else ""
    text = compose(services, view.language, body, name=name)
    await send_to_ticket(tx, services, ticket, mail, text, at=at, dedupe_key=dedupe_key, **extra)
    return True
