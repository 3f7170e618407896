"""What a client sends while a ticket is open reaches that ticket's Slack thread; an answer resumes a waiting ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.conversation.model import Button, Document, Msg, Photo, Reply
from bot.conversation.prompts import excerpt
from bot.domain.types import TicketStatus
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_deadline import restart_response_clock
from bot.services.desk_info import resume_from_waiting
from bot.services.identity import ClientTurn, Profile
from bot.services.intake import arm_expiry
from bot.services.intake_open import AGENT_LANGUAGE, escape_mrkdwn
from storage import Tx
from storage.records import AttachmentKind, Ticket

__all__ = ["BRIDGE", "PICK_PREFIX", "Relayed", "open_tickets", "pick", "relay"]

BRIDGE = "bridge"  # draft kind while the bot asks which ticket a message is for
PICK_PREFIX = "b:"
_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)
_PICK_LABEL_CHARS = 40
MAX_FILE_BYTES = 20 * 1024 * 1024  # Telegram getFile limit (LIMITS.md)
# Messages a client sends in a row are one burst: "Le envié tu respuesta…" once, not under every message.
# A burst ends after this long without a message, or when anything else happens on the ticket.
ACK_BURST = timedelta(minutes=10)
_BOOKKEEPING = frozenset({"client_answered"})  # written by the burst's own first message


@dataclass(frozen=True)
class Relayed:
    """What was sent: text, or one file (photo or document)."""

    text: str | None = None
    file: Photo | Document | None = None

    def to_data(self) -> dict[str, Any]:
        if isinstance(self.file, Photo):
            return {"photo": [self.file.file_id, self.file.size, self.file.caption]}
        if isinstance(self.file, Document):
            f = self.file
            return {"document": [f.file_id, f.name, f.size, f.mime, f.caption]}
        return {"text": self.text or ""}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Relayed:
        if "photo" in data:
            return cls(file=Photo(*data["photo"]))
        if "document" in data:
            return cls(file=Document(*data["document"]))
        return cls(text=str(data.get("text", "")))


async def open_tickets(tx: Tx, profile: Profile) -> list[Ticket]:
    """The contact's open tickets (their own, not the whole company's), oldest first."""
    return await tx.list_tickets(status=_OPEN, client_id=profile.client.id, contact_id=profile.contact.id)


async def _in_burst(tx: Tx, ticket_id: int, now: datetime) -> bool:
    """Whether the ticket's latest event is a message of this client a moment ago (already acknowledged)."""
    for event in reversed(await tx.list_audit(ticket_id)):
        if event.action in _BOOKKEEPING:
            continue
        return event.action == "client_message" and now - event.at <= ACK_BURST
    return False


async def _forward(t: ClientTurn, ticket: Ticket, item: Relayed, *, confirm: bool = True) -> None:
    assert t.profile is not None
    tx, services, now = t.tx, t.services, t.now
    confirm = confirm and not await _in_burst(tx, ticket.id, now)
    if item.file is not None:
        if isinstance(item.file, Photo):
            attachment = await tx.add_attachment(
                ticket.id, AttachmentKind.PHOTO, item.file.file_id, at=now, size=item.file.size
            )
        else:
            attachment = await tx.add_attachment(
                ticket.id,
                AttachmentKind.DOCUMENT,
                item.file.file_id,
                at=now,
                file_name=item.file.name,
                size=item.file.size,
                mime=item.file.mime,
            )
        await outbox.slack_thread_file(tx, ticket, attachment.id, at=now)
    caption = item.file.caption if item.file is not None else None
    text = item.text if item.file is None else caption
    if text:
        note = services.catalogue.render(
            AGENT_LANGUAGE, "bridge.thread_text", {"name": t.profile.contact.name, "text": text}, escape_mrkdwn
        )
        await outbox.slack_thread(tx, ticket, note, at=now)
    await tx.append_audit(
        ticket.id,
        at=now,
        actor_kind="client",
        actor_id=str(t.user_id),
        action="client_message",
        data={"file": item.file is not None, "chars": len(item.text or "")},
    )
    if ticket.status is TicketStatus.WAITING_CLIENT:
        await _resume(tx, services, ticket.id, now)
    if confirm:
        await t.say(Reply((Msg("tickets.reply_sent", {"ticket": ticket.number}),)))


async def _resume(tx: Tx, services: Services, ticket_id: int, now: datetime) -> None:
    """P-SLA-7: the wait ends (lifecycle CLIENT_ANSWERED, pause closed, info reminders cancelled, card
    updated, all by the desk's use case); an unanswered ticket's deadline moves by the paused time."""
    if not await resume_from_waiting(tx, services, ticket_id, now):
        return
    ticket = await tx.get_ticket(ticket_id)
    if ticket is None or ticket.first_response_at is not None:
        return
    await restart_response_clock(tx, services, ticket, now)  # R-RESPONSE: warned and escalated until answered


async def relay(t: ClientTurn, item: Relayed) -> bool:
    """Send a client's message to their open ticket (asks which when several are open).
    Returns: False when the client has no open ticket (the entry shows the menu instead)."""
    if t.profile is None:
        return False
    tickets = await open_tickets(t.tx, t.profile)
    if not tickets:
        return False
    size = item.file.size if item.file is not None else None
    too_big_file = size is not None and size > MAX_FILE_BYTES
    if too_big_file:
        # Over Telegram's getFile limit nobody can fetch it: the client hears so now, and the file still
        # goes to the ticket, whose thread then says what arrived and could not be fetched (Zammad #2289:
        # big files failing without a word to anyone).
        await t.say(Reply((Msg("bad_input.file_too_big", {"max_mb": MAX_FILE_BYTES // 2**20}),)))
    if len(tickets) == 1:
        # "Sent to your ticket" would contradict the limit the client was just told about.
        await _forward(t, tickets[0], item, confirm=not too_big_file)
        return True
    t.draft = await t.tx.save_draft(
        t.chat_id,
        user_id=t.user_id,
        step="bridge_pick",
        data={"kind": BRIDGE, "item": item.to_data()},
        language=t.lang,
        at=t.now,
    )
    await arm_expiry(t.tx, t.services, t.draft, t.now)
    rows = tuple(
        (Button(f"{tk.number} · {excerpt(tk.description, _PICK_LABEL_CHARS)}", f"{PICK_PREFIX}{tk.id}"),)
        for tk in reversed(tickets[-10:])
    )
    await t.say(Reply((Msg("bridge.which_ticket"),), rows))
    return True


async def pick(t: ClientTurn, data: str) -> bool:
    """The client chose the ticket for the message kept in the draft (callback_data "b:<ticket id>").
    Returns: False for a button that no longer applies (the message went already, or the ticket closed)."""
    draft = t.draft
    raw = data.removeprefix(PICK_PREFIX)
    if t.profile is None or draft is None or draft.data.get("kind") != BRIDGE or not raw.isdigit():
        return False
    chosen = next((tk for tk in await open_tickets(t.tx, t.profile) if tk.id == int(raw)), None)
    if chosen is None:
        return False
    await t.tx.delete_draft(t.chat_id)
    t.draft = None
    await _forward(t, chosen, Relayed.from_data(dict(draft.data["item"])))
    return True
