"""Administering a client's contacts: who acts for the whole company (P-ESC-2, P-CLOSE-2), deactivating a
contact, and erasing a person's data on request (LFPDPPP) while tickets, hours and the audit trail stay.

Audit rows here never carry the personal data itself (a name, a phone): the audit log is append-only and
outlives an erasure, so it records which fields changed, not their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.types import TicketStatus
from bot.i18n import Catalogue
from bot.services import outbox
from bot.services.desk_common import AGENT_LANGUAGE, escape_mrkdwn
from storage import Tx
from storage.records import Contact, ForgetResult

__all__ = [
    "FORGOTTEN_NAME",
    "ContactRefused",
    "deactivate",
    "edit",
    "forget",
    "require",
]

# What is shown wherever the person's name was (the Slack thread, `supportbot tickets show`, the audit trail).
FORGOTTEN_NAME = "contacto eliminado"
_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)


class ContactRefused(Exception):
    """The operation does not apply to this contact (unknown, forgotten, deactivated): one line says why.

    `key` names the sentence in the catalogues (cli.refused.*) and `params` fill it; str() is the English line."""

    def __init__(self, key: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Forgotten:
    """What `forget` did: the store's account, and how many still-open tickets were told in their thread."""

    result: ForgetResult
    open_tickets: int


async def require(tx: Tx, contact_id: int) -> Contact:
    """The contact. Raises ContactRefused when there is none."""
    contact = await tx.get_contact(contact_id)
    if contact is None:
        raise ContactRefused(
            "missing", f"no contact with id {contact_id} (see `supportbot contacts list`)", id=contact_id
        )
    return contact


def _not_forgotten(contact: Contact) -> None:
    if contact.forgotten_at is not None:
        day = contact.forgotten_at.date().isoformat()
        raise ContactRefused(
            "forgotten",
            f"contact {contact.id} was forgotten on {day}: nothing of theirs is left to change",
            id=contact.id,
            day=day,
        )


async def edit(
    tx: Tx,
    contact_id: int,
    *,
    name: str | None = None,
    phone: str | None = None,
    acts_for_company: bool | None = None,
    at: datetime,
    actor: str,
) -> Contact:
    """Change a contact's name, phone, or whether they act on all the company's tickets (P-ESC-2, P-CLOSE-2:
    escalate, reopen, rate those a colleague reported). Audited without the values of personal fields.
    Raises ContactRefused (unknown, forgotten, nothing to change, a deactivated contact named to act)."""
    if name is None and phone is None and acts_for_company is None:
        raise ContactRefused("nothing", "nothing to change: give --name, --phone or --acts-for-company")
    contact = await require(tx, contact_id)
    _not_forgotten(contact)
    if acts_for_company and not contact.active:
        raise ContactRefused(
            "cannot_act", f"contact {contact_id} is deactivated: it cannot act for the company", id=contact_id
        )
    if name is not None and not name.strip():
        raise ContactRefused("no_name", "a contact needs a name")
    updated = await tx.update_contact(contact_id, name=name, phone=phone, acts_for_company=acts_for_company)
    fields = [f for f, v in (("name", name), ("phone", phone), ("acts_for_company", acts_for_company)) if v is not None]
    data: dict[str, object] = {"contact_id": contact_id, "fields": fields}
    if acts_for_company is not None:
        data["acts_for_company"] = acts_for_company
    await tx.append_audit(None, at=at, actor_kind=actor, actor_id=actor, action="contact_edited", data=data)
    return updated


async def deactivate(tx: Tx, contact_id: int, *, at: datetime, actor: str) -> Contact:
    """The person no longer reports nor acts for the company: unlinked from Telegram (their unfinished
    conversation goes), never linked again by phone; their name stays on their tickets.
    Raises ContactRefused (unknown, forgotten, already deactivated)."""
    contact = await require(tx, contact_id)
    _not_forgotten(contact)
    if not contact.active:
        raise ContactRefused("deactivated", f"contact {contact_id} is deactivated already", id=contact_id)
    drafts = 0
    if contact.telegram_user_id is not None:
        drafts = int(await tx.get_draft(contact.telegram_user_id) is not None)
    updated = await tx.deactivate_contact(contact_id)
    await tx.append_audit(
        None,
        at=at,
        actor_kind=actor,
        actor_id=actor,
        action="contact_deactivated",
        data={"contact_id": contact_id, "drafts_deleted": drafts},
    )
    return updated


async def forget(tx: Tx, catalogue: Catalogue, contact_id: int, *, at: datetime, actor: str) -> Forgotten:
    """Erase a person's personal data on request (LFPDPPP): name (shown as "contacto eliminado" from now on),
    phone, Telegram id and language; their unfinished conversation and the stored secrets of their tickets.
    Ticket numbers, descriptions, hours and the audit trail stay. The consultants of their still-open tickets
    are told in the thread that Telegram no longer reaches the person. Audited (with counts, never the data).
    Raises ContactRefused (unknown, forgotten already)."""
    contact = await require(tx, contact_id)
    _not_forgotten(contact)
    tickets = await tx.list_tickets(contact_id=contact_id)
    result = await tx.forget_contact(contact_id, name=FORGOTTEN_NAME, at=at)
    note = catalogue.render(AGENT_LANGUAGE, "desk.thread.contact_forgotten", {}, escape_mrkdwn)
    still_open = 0
    for ticket in tickets:
        await tx.append_audit(
            ticket.id, at=at, actor_kind=actor, actor_id=actor, action="contact_forgotten",
            data={"contact_id": contact_id},
        )  # fmt: skip
        if ticket.status in _OPEN:
            still_open += 1
            await outbox.slack_thread(tx, ticket, note, at=at)
    await tx.append_audit(
        None,
        at=at,
        actor_kind=actor,
        actor_id=actor,
        action="contact_forgotten",
        data={
            "contact_id": contact_id,
            "client_id": contact.client_id,
            "tickets": result.tickets,
            "credentials_erased": result.credentials,
            "drafts_deleted": result.drafts,
        },
    )
    return Forgotten(result, still_open)
