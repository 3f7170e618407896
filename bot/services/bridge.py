"""What a client sends while a ticket is open reaches that ticket's Slack thread; an answer resumes a waiting ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.conversation.model import Button, Document, Msg, Photo, Reply
from bot.conversation.prompts import excerpt
from bot.domain.types import TicketStatus
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_deadline import response_deadline, schedule_response_timers
from bot.services.desk_info import resume_from_waiting
from bot.services.identity import Profile, load_profile, send
from bot.services.intake import arm_expiry
from bot.services.intake_open import AGENT_LANGUAGE, escape_mrkdwn
from bot.services.intake_render import Renderer
from storage import Tx
from storage.records import AttachmentKind, Ticket

__all__ = ["BRIDGE", "PICK_PREFIX", "Relayed", "open_tickets", "pick", "relay"]

TELEGRAM = "telegram"
BRIDGE = "bridge"  # draft kind while the bot asks which ticket a message is for
PICK_PREFIX = "b:"
_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)
_PICK_LABEL_CHARS = 40
MAX_FILE_BYTES = 20 * 1024 * 1024  # Telegram getFile limit (LIMITS.md)


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
    tickets = await tx.list_tickets(status=_OPEN, client_id=profile.client.id)
    return [t for t in tickets if t.contact_id == profile.contact.id]


async def _forward(
    tx: Tx,
    services: Services,
    profile: Profile,
    ticket: Ticket,
    item: Relayed,
    renderer: Renderer,
    chat_id: int,
    *,
    confirm: bool = True,
) -> None:
    now = services.clock()
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
        await outbox.slack_thread_file(tx, ticket.id, attachment.id, at=now)
    caption = item.file.caption if item.file is not None else None
    text = item.text if item.file is None else caption
    if text:
        note = services.catalogue.render(
            AGENT_LANGUAGE, "bridge.thread_text", {"name": profile.contact.name, "text": text}, escape_mrkdwn
        )
        await outbox.slack_thread(tx, ticket.id, note, at=now)
    await tx.append_audit(
        ticket.id,
        at=now,
        actor_kind="client",
        actor_id=str(profile.contact.telegram_user_id),
        action="client_message",
        data={"file": item.file is not None, "chars": len(item.text or "")},
    )
    if ticket.status is TicketStatus.WAITING_CLIENT:
        await _resume(tx, services, ticket.id, now)
    if confirm:
        await send(tx, chat_id, renderer, Reply((Msg("tickets.reply_sent", {"ticket": ticket.number}),)), now)


async def _resume(tx: Tx, services: Services, ticket_id: int, now: datetime) -> None:
    """P-SLA-7: the wait ends (lifecycle CLIENT_ANSWERED, pause closed, info reminders cancelled, card
    updated, all by the desk's use case); an unanswered ticket's deadline moves by the paused time."""
    if not await resume_from_waiting(tx, services, ticket_id, now):
        return
    ticket = await tx.get_ticket(ticket_id)
    if ticket is None or ticket.first_response_at is not None:
        return
    due = await response_deadline(tx, services, ticket, ticket.severity, now)
    if due != ticket.response_due_at:
        ticket = await tx.update_ticket(ticket.id, ticket.version, response_due_at=due)
        await schedule_response_timers(tx, services, ticket)


async def relay(services: Services, *, update_key: str, chat_id: int, user_id: int, lang: str, item: Relayed) -> bool:
    """Send a client's message to their open ticket (asks which when several are open).
    Returns: False when the client has no open ticket (the adapter shows the menu instead)."""
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    async with services.store.transaction() as tx:
        profile = await load_profile(tx, user_id, today)
        if profile is None:
            return False
        tickets = await open_tickets(tx, profile)
        if not tickets:
            return False
        if not await tx.mark_processed(TELEGRAM, update_key, now):
            return True
        renderer = Renderer.for_services(services, lang, client=profile.client.name, name=profile.first_name)
        size = item.file.size if item.file is not None else None
        too_big_file = size is not None and size > MAX_FILE_BYTES
        if too_big_file:
            # Over Telegram's getFile limit nobody can fetch it: the client hears so now, and the file still
            # goes to the ticket, whose thread then says what arrived and could not be fetched (Zammad #2289:
            # big files failing without a word to anyone).
            too_big = Msg("bad_input.file_too_big", {"max_mb": MAX_FILE_BYTES // 2**20})
            await send(tx, chat_id, renderer, Reply((too_big,)), now)
        if len(tickets) == 1:
            # "Sent to your ticket" would contradict the limit the client was just told about.
            await _forward(tx, services, profile, tickets[0], item, renderer, chat_id, confirm=not too_big_file)
        else:
            draft = await tx.save_draft(
                chat_id,
                user_id=user_id,
                step="bridge_pick",
                data={"kind": BRIDGE, "item": item.to_data()},
                language=lang,
                at=now,
            )
            await arm_expiry(tx, services, draft, now)
            rows = tuple(
                (Button(f"{t.number} · {excerpt(t.description, _PICK_LABEL_CHARS)}", f"{PICK_PREFIX}{t.id}"),)
                for t in reversed(tickets[-10:])
            )
            await send(tx, chat_id, renderer, Reply((Msg("bridge.which_ticket"),), rows), now)
    services.wake_delivery()
    return True


async def pick(services: Services, *, update_key: str, chat_id: int, user_id: int, lang: str, data: str) -> None:
    """The client chose the ticket for the message kept in the draft (callback_data "b:<ticket id>")."""
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    async with services.store.transaction() as tx:
        if not await tx.mark_processed(TELEGRAM, update_key, now):
            return
        profile = await load_profile(tx, user_id, today)
        draft = await tx.get_draft(chat_id)
        if profile is None:
            return
        renderer = Renderer.for_services(services, lang, client=profile.client.name, name=profile.first_name)
        raw = data.removeprefix(PICK_PREFIX)
        chosen = None
        if raw.isdigit() and draft is not None and draft.data.get("kind") == BRIDGE:
            chosen = next((t for t in await open_tickets(tx, profile) if t.id == int(raw)), None)
        if chosen is None or draft is None:
            await send(tx, chat_id, renderer, Reply((Msg("bad_input.old_button"),)), now)
        else:
            await tx.delete_draft(chat_id)
            await _forward(
                tx, services, profile, chosen, Relayed.from_data(dict(draft.data["item"])), renderer, chat_id
            )
    services.wake_delivery()
