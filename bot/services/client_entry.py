"""The one service entry of a client's Telegram event: one transaction from the inbox entry to the replies.

It marks the inbox entry done, loads who is asking and what their chat has in progress (ClientTurn), routes
by that, runs the use case, and leaves every reply, card update and timer as rows of the same transaction:
kill the process at any point and either all of it happened or none of it did, and the event is handled again.
"""

from __future__ import annotations

import logging

from bot.conversation.model import Choice, Document, Media, Msg, Photo, Reply, Text
from bot.domain.errors import IllegalTransition, InvalidInput
from bot.domain.types import TicketStatus
from bot.inbox import Receipt
from bot.services import bridge, client_requests, desk_resolve, identity, intake, mail_triage, outbox
from bot.services.context import Services
from bot.services.desk_common import NotTheClient, NotTheReporter, TicketGone, agent_text, audit_client_refusal
from bot.services.events import (
    BotBlocked,
    ButtonTapped,
    ClientAct,
    ClientEvent,
    CommandSent,
    ContactShared,
    Person,
)
from bot.services.identity import ClientTurn, load_profile
from bot.services.intake_render import Renderer, clip_html
from storage import StaleVersion, StoreError
from storage.records import InboxStatus

__all__ = ["LeaseLost", "failed", "handle"]

log = logging.getLogger(__name__)

_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)


class LeaseLost(StoreError):
    """The inbox entry is no longer leased to this worker (another took it over): nothing is done here."""


async def handle(services: Services, receipt: Receipt | None, event: ClientEvent | None) -> None:
    """Handle one client event in one transaction (receipt None: not from the inbox, e.g. a test; event
    None: an update that carries nothing to answer, only marked done)."""
    now = services.clock()
    async with services.store.transaction() as tx:
        if receipt is not None and not await tx.finish_inbox(receipt.entry_id, receipt.worker, now):
            raise LeaseLost(f"inbox entry {receipt.entry_id} was taken over")
        if event is None:
            return
        who = event.who
        today = now.astimezone(services.settings.zone).date()
        turn = ClientTurn(
            tx=tx,
            services=services,
            box=services.box,
            chat_id=who.chat_id,
            user_id=who.user_id,
            lang=who.lang,
            first_name=who.first_name,
            now=now,
            profile=await load_profile(tx, who.user_id, today),
            draft=await tx.get_draft(who.chat_id),
        )
        await _route(turn, event.act)
    services.wake_delivery()


async def failed(services: Services, receipt: Receipt, who: Person | None, tapped: str | None, error: str) -> None:
    """Every attempt failed: the client still gets an answer (and the button stops spinning), and the
    entry is kept as failed for a person to look at."""
    now = services.clock()
    async with services.store.transaction() as tx:
        if not await tx.finish_inbox(receipt.entry_id, receipt.worker, now, status=InboxStatus.FAILED, error=error):
            return
        if who is None:
            return
        if tapped is not None:
            await outbox.telegram_answer(tx, tapped, None, at=now)
        renderer = Renderer.for_services(services, who.lang)
        await identity.send(tx, who.chat_id, renderer, Reply((Msg("bad_input.error"),)), now)
    services.wake_delivery()


async def _route(t: ClientTurn, act: ClientAct) -> None:
    if isinstance(act, BotBlocked):
        await _blocked(t, act.blocked)
        return
    if t.profile is not None and t.profile.contact.unreachable_since is not None:
        await _blocked(t, False)  # they write to us: they can read us again
    if isinstance(act, ButtonTapped):
        notice = await _tap(t, act.data)
        await outbox.telegram_answer(t.tx, act.query_id, notice, at=t.now)
        await _close_question(t, act, notice)
    elif isinstance(act, CommandSent):
        await _command(t, act)
    elif isinstance(act, ContactShared):
        await identity.shared_contact(t, phone=act.phone, contact_user_id=act.owner_id)
    else:
        await _message(t, act.input)


# --- commands ---------------------------------------------------------------------------------------------
async def _command(t: ClientTurn, act: CommandSent) -> None:
    name, argument = act.name, act.argument
    if name == "start" and mail_triage.is_deep_link(argument):
        # P-IN-6: the severity question of a ticket that came by e-mail (a stale link greets as /start does).
        if not await mail_triage.ask(t, argument):
            await identity.start(t, None)
    elif name == "start":
        await identity.start(t, argument.split()[0] if argument.split() else None)
    elif name == "reportar":
        await intake.begin(t)
    elif name == "cancelar":
        await intake.cancel(t)
    elif name == "escalar":
        await client_requests.escalate(t, argument)  # asks why next: the intake's question is not repeated
    elif name in _QUESTIONS:
        await _QUESTIONS[name](t, argument)
        if t.draft_kind == intake.INTAKE:  # answered in the middle of the intake: the pending question again
            await intake.resume(t, fresh=False)
    elif not await intake.answer(t, act.message):
        await t.say(Reply((Msg("bad_input.unknown_command"),)))


async def _my_tickets(t: ClientTurn, argument: str) -> None:
    await client_requests.my_tickets(t)


async def _ticket(t: ClientTurn, argument: str) -> None:
    await client_requests.ticket_detail(t, argument)


async def _policy(t: ClientTurn, argument: str) -> None:
    await client_requests.policy(t)


async def _contact(t: ClientTurn, argument: str) -> None:
    await client_requests.contact_card(t)


async def _help(t: ClientTurn, argument: str) -> None:
    await client_requests.help_text(t)


_QUESTIONS = {
    "mis_tickets": _my_tickets,
    "ticket": _ticket,
    "poliza": _policy,
    "contacto": _contact,
    "ayuda": _help,
}


# --- messages ---------------------------------------------------------------------------------------------
async def _message(t: ClientTurn, event: Text | Photo | Document | Media) -> None:
    """The intake's answer, an escalation reason, a message for an open ticket, or a greeting."""
    if await intake.answer(t, event):
        return
    if t.draft_kind == client_requests.ESCALATE and isinstance(event, Text):
        await client_requests.escalate_reason(t, event.text)
        return
    if isinstance(event, Text | Photo | Document):
        item = bridge.Relayed(text=event.text) if isinstance(event, Text) else bridge.Relayed(file=event)
        if await bridge.relay(t, item):
            return
    if isinstance(event, Media) and event.kind in ("sticker", "voice"):
        await t.say(Reply((Msg("bad_input.sticker" if event.kind == "sticker" else "bad_input.voice"),)))
        return
    if t.profile is None:
        await identity.unknown_user(t)
    else:
        await identity.greet(t)


# --- buttons ----------------------------------------------------------------------------------------------
async def _tap(t: ClientTurn, data: str) -> str | None:
    """Run a tapped button. Returns: the short notice its answer shows (a toast), or None.
    A button pressed twice, late or replayed gets a toast and changes nothing."""
    cat = t.services.catalogue
    if data.startswith("desk:"):
        return await _desk_tap(t, data)
    if data.startswith(mail_triage.TAP_PREFIX):
        return await mail_triage.tapped(t, data)
    if data.startswith("i:"):
        # A button of an earlier question (or of an intake that is over): a toast, not the question again.
        if not intake.stale_choice(t, data) and await intake.answer(t, Choice(data)):
            return None
        return cat.plain(t.lang, "bad_input.old_button")
    if t.profile is None:
        await identity.unknown_user(t)
        return None
    if data == identity.MENU_REPORT:
        await intake.begin(t)
    elif data == identity.MENU_TICKETS:
        await client_requests.my_tickets(t)
    elif data == identity.MENU_POLICY:
        await client_requests.policy(t)
    elif data == identity.MENU_CONTACT:
        await client_requests.contact_card(t)
    elif data == identity.MENU_HOME:
        await identity.greet(t)  # a refused report's way back (never a dead end)
    elif data in ("r:go", "r:new"):
        if data == "r:go" and t.draft_kind != intake.INTAKE:
            return cat.plain(t.lang, "bad_input.old_button")
        await intake.resume(t, fresh=data == "r:new")
    elif data.startswith(bridge.PICK_PREFIX):
        if not await bridge.pick(t, data):
            return cat.plain(t.lang, "bad_input.old_button")
    else:
        return cat.plain(t.lang, "bad_input.old_button")
    return None


async def _close_question(t: ClientTurn, act: ButtonTapped, notice: str | None) -> None:
    """Once a question is answered its buttons go, and the message shows the choice ("✅ Firewall"); a button
    that no longer applies loses its keyboard too. Under a solution each row is its own question: "Resuelto"
    leaves the rating, the rating leaves "Resuelto / Reabrir"."""
    if act.message_id is None or not act.keyboard:
        return  # no buttons left to take away (an edit changing nothing is refused: "message is not modified")
    cat = t.services.catalogue
    stale = notice in (cat.plain(t.lang, "bad_input.old_button"), cat.plain(t.lang, "tickets.button_expired"))
    if notice is not None and not stale:
        return  # a refusal or a note ("ya calificaste"): the question stays as it is
    if not stale and act.label is None:
        return  # data no button of this message carries (tampered): the message stays as it is
    rows: list[list[dict[str, str]]] = []
    if not stale and act.data.startswith("desk:"):
        rows = [
            [{"text": label, "data": data} for label, data in row]
            for row in act.keyboard
            if row and all(data != act.data for _, data in row)
        ]
    if stale or act.message_html is None:
        await outbox.telegram_markup(t.tx, t.chat_id, act.message_id, rows or None, at=t.now)
        return
    chosen = cat.t(t.lang, "common.chosen", choice=act.label or "")
    text = clip_html(f"{act.message_html}\n\n{chosen}")
    await outbox.telegram_edit(t.tx, t.chat_id, act.message_id, text, rows or None, at=t.now)


async def _desk_tap(t: ClientTurn, data: str) -> str | None:
    """Resuelto, Reabrir (P-CLOSE-2) and the 1-5 rating under a solution; each effect happens once."""
    cat = t.services.catalogue
    tap = desk_resolve.DeskTap.parse(data)
    if tap is None:
        return cat.plain(t.lang, "tickets.button_expired")
    try:
        async with t.tx.savepoint():
            return await desk_resolve.client_tap(t.tx, t.services, tap, telegram_user_id=t.user_id, at=t.now)
    except NotTheClient as refusal:
        # P-CLOSE-2: only the reporter (or a contact acting for the company) answers the solution; the tap's
        # writes were undone by the savepoint, the refusal is audited here.
        attempted = "confirm" if tap.action == "ok" else tap.action
        await audit_client_refusal(t.tx, tap.ticket_id, t.now, t.user_id, attempted, refusal)
        return cat.plain(t.lang, "tickets.not_reporter" if isinstance(refusal, NotTheReporter) else "tickets.not_yours")
    except TicketGone:
        return cat.plain(t.lang, "tickets.not_yours")
    except (IllegalTransition, InvalidInput, StaleVersion):
        # A second tap, or a button from an older state (Grafana OnCall #3161): nothing moves backwards.
        return cat.plain(t.lang, "tickets.button_expired")


# --- a client who blocked the bot ---------------------------------------------------------------------------
async def _blocked(t: ClientTurn, blocked: bool) -> None:
    """Mark (or clear) the contact as unreachable; the threads of their open tickets are told at once."""
    contact = await t.tx.set_contact_unreachable(t.user_id, t.now if blocked else None)
    if contact is None:
        return
    if t.profile is not None:
        t.profile = await load_profile(t.tx, t.user_id, t.today)
    key = "desk.thread.client_blocked" if blocked else "desk.thread.client_unblocked"
    for ticket in await t.tx.list_tickets(status=_OPEN, client_id=contact.client_id):
        if ticket.contact_id == contact.id:
            await outbox.slack_thread(t.tx, ticket, agent_text(t.services, key, name=contact.name), at=t.now)
    await t.tx.append_audit(
        None,
        at=t.now,
        actor_kind="client",
        actor_id=str(t.user_id),
        action="bot_blocked" if blocked else "bot_unblocked",
        data={"contact_id": contact.id},
    )
