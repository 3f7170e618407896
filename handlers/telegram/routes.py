"""Telegram update callbacks: parse the update, pick the one service that owns it, call it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.conversation.model import Choice, Command, Document, Input, Media, Msg, Photo, Reply, Text
from bot.i18n import language_for
from bot.services import bridge, client_requests, identity, intake
from bot.services.context import Services
from bot.services.identity import send
from bot.services.intake_render import Renderer
from storage import SecretBox

__all__ = ["COMMANDS", "Routes", "to_input"]

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

# Command menu order (setMyCommands); descriptions are catalogue keys commands.description.<name>.
COMMANDS = ("reportar", "mis_tickets", "ticket", "escalar", "poliza", "contacto", "ayuda", "cancelar", "start")
_VOICE_KINDS = ("voice", "audio", "video_note")


def to_input(message: Message) -> Input:
    """The conversation's view of a message: text, the biggest photo size, a document, or another kind."""
    if message.text is not None:
        return Text(message.text, message.message_id)
    if message.photo:
        biggest = message.photo[-1]
        return Photo(biggest.file_id, biggest.file_size, message.caption)
    if message.document is not None:
        d = message.document
        return Document(d.file_id, d.file_name, d.file_size, d.mime_type, message.caption)
    if message.sticker is not None:
        return Media("sticker")
    if any(getattr(message, kind) is not None for kind in _VOICE_KINDS):
        return Media("voice")
    return Media("other")


@dataclass(frozen=True)
class _Who:
    update_key: str
    chat_id: int
    user_id: int
    lang: str
    first_name: str

    def client(self) -> dict[str, Any]:
        """The keyword arguments every client use case takes."""
        return {"update_key": self.update_key, "chat_id": self.chat_id, "user_id": self.user_id, "lang": self.lang}


def _who(update: Update) -> _Who | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return None  # the bot serves clients in private chats only
    return _Who(str(update.update_id), chat.id, user.id, language_for(user.language_code), user.first_name)


class Routes:
    """The callbacks registered on the PTB Application; each calls one service."""

    def __init__(self, services: Services, box: SecretBox) -> None:
        self.services = services
        self.box = box

    # --- commands ----------------------------------------------------------------------------------
    async def start(self, update: Update, context: Context) -> None:
        """`/start [CODE]`: link by invite, or greet."""
        who = _who(update)
        if who is None:
            return
        await self._greet(who, context.args[0] if context.args else None)

    async def _greet(self, who: _Who, code: str | None) -> None:
        """Link by invite code when given, else greet (or, for strangers, show the contact details)."""
        await identity.start(
            self.services,
            update_key=who.update_key,
            chat_id=who.chat_id,
            user_id=who.user_id,
            first_name=who.first_name,
            lang=who.lang,
            code=code,
        )

    async def report(self, update: Update, context: Context) -> None:
        """`/reportar`: start (or resume) the intake."""
        who = _who(update)
        if who is not None:
            await self._begin(who)

    async def _begin(self, who: _Who) -> None:
        await intake.begin(
            self.services, self.box, update_key=who.update_key, chat_id=who.chat_id, user_id=who.user_id, lang=who.lang
        )

    async def cancel(self, update: Update, context: Context) -> None:
        """`/cancelar`: drop the report (or question) in progress."""
        who = _who(update)
        if who is not None:
            await intake.cancel(self.services, update_key=who.update_key, chat_id=who.chat_id, lang=who.lang)

    async def _after_intake_question(self, update: Update, answer: Callable[[_Who], Awaitable[None]]) -> None:
        """A client command that may come in the middle of the intake: answered, then the pending question
        is asked again."""
        who = _who(update)
        if who is not None:
            await answer(who)
            await self._resume_after(who)

    async def my_tickets(self, update: Update, context: Context) -> None:
        """`/mis_tickets`."""
        await self._after_intake_question(update, lambda w: client_requests.my_tickets(self.services, **w.client()))

    async def ticket(self, update: Update, context: Context) -> None:
        """`/ticket N`."""
        argument = " ".join(context.args or [])
        await self._after_intake_question(
            update, lambda w: client_requests.ticket_detail(self.services, **w.client(), argument=argument)
        )

    async def escalate(self, update: Update, context: Context) -> None:
        """`/escalar N`: asks why next (so the intake's question is not asked again in between)."""
        who = _who(update)
        if who is not None:
            argument = " ".join(context.args or [])
            await client_requests.escalate(self.services, **who.client(), argument=argument)

    async def policy(self, update: Update, context: Context) -> None:
        """`/poliza` (P-POL-8)."""
        await self._after_intake_question(update, lambda w: client_requests.policy(self.services, **w.client()))

    async def contact(self, update: Update, context: Context) -> None:
        """`/contacto` (P-CONTACT-1)."""
        await self._after_intake_question(
            update,
            lambda w: client_requests.contact_card(
                self.services, update_key=w.update_key, chat_id=w.chat_id, lang=w.lang
            ),
        )

    async def help(self, update: Update, context: Context) -> None:
        """`/ayuda`."""
        await self._after_intake_question(update, lambda w: client_requests.help_text(self.services, **w.client()))

    async def _resume_after(self, who: _Who) -> None:
        """A command in the middle of the intake is answered, then the pending question is asked again."""
        if await intake.draft_kind(self.services, who.chat_id) == intake.INTAKE:
            await intake.resume(
                self.services,
                self.box,
                update_key=f"{who.update_key}:resume",
                chat_id=who.chat_id,
                user_id=who.user_id,
                lang=who.lang,
                fresh=False,
            )

    async def unknown_command(self, update: Update, context: Context) -> None:
        """A command the bot does not have: inside the intake the step repeats with a hint."""
        who = _who(update)
        message = update.effective_message
        if who is None or message is None or message.text is None:
            return
        name = message.text.split()[0].lstrip("/")[:32]
        if not await self._answer(who, Command(name, message.text, message.message_id)):
            await self._say(who, "bad_input.unknown_command")

    # --- messages ----------------------------------------------------------------------------------
    async def shared_contact(self, update: Update, context: Context) -> None:
        """A shared contact card: links by phone only when it is the sender's own."""
        who = _who(update)
        message = update.effective_message
        if who is None or message is None or message.contact is None:
            return
        await identity.shared_contact(
            self.services,
            update_key=who.update_key,
            chat_id=who.chat_id,
            user_id=who.user_id,
            phone=message.contact.phone_number,
            contact_user_id=message.contact.user_id,
            lang=who.lang,
        )

    async def message(self, update: Update, context: Context) -> None:
        """Anything else typed or sent: the intake's answer, an escalation reason, or a message for a ticket."""
        who = _who(update)
        message = update.effective_message
        if who is None or message is None:
            return
        event = to_input(message)
        if await self._answer(who, event):  # the intake in progress, if any, takes it (one transaction)
            return
        kind = await intake.draft_kind(self.services, who.chat_id)
        if kind == client_requests.ESCALATE and isinstance(event, Text):
            await client_requests.escalate_reason(
                self.services,
                update_key=who.update_key,
                chat_id=who.chat_id,
                user_id=who.user_id,
                lang=who.lang,
                reason=event.text,
            )
            return
        if isinstance(event, Text | Photo | Document):
            item = bridge.Relayed(text=event.text) if isinstance(event, Text) else bridge.Relayed(file=event)
            relayed = await bridge.relay(
                self.services,
                update_key=who.update_key,
                chat_id=who.chat_id,
                user_id=who.user_id,
                lang=who.lang,
                item=item,
            )
            if relayed:
                return
        if isinstance(event, Media) and event.kind in ("sticker", "voice"):
            await self._say(who, "bad_input.sticker" if event.kind == "sticker" else "bad_input.voice")
            return
        await self._greet(who, None)

    async def _answer(self, who: _Who, event: Input) -> bool:
        return await intake.answer(
            self.services,
            self.box,
            update_key=who.update_key,
            chat_id=who.chat_id,
            user_id=who.user_id,
            lang=who.lang,
            event=event,
        )

    # --- buttons -----------------------------------------------------------------------------------
    async def button(self, update: Update, context: Context) -> None:
        """A tapped inline button: never trusted, always answered (answerCallbackQuery)."""
        query = update.callback_query
        who = _who(update)
        if query is None:
            return
        notice: str | None = None
        try:
            if who is not None:
                notice = await self._button(who, query.data or "")
        finally:
            await query.answer(notice)

    async def _button(self, who: _Who, data: str) -> str | None:
        if data.startswith("i:"):
            if not await self._answer(who, Choice(data)):
                await self._say(who, "bad_input.old_button")  # the intake it belonged to is over
            return None
        if data == identity.MENU_REPORT:
            await self._begin(who)
        elif data == identity.MENU_TICKETS:
            await client_requests.my_tickets(
                self.services, update_key=who.update_key, chat_id=who.chat_id, user_id=who.user_id, lang=who.lang
            )
        elif data == identity.MENU_POLICY:
            await client_requests.policy(
                self.services, update_key=who.update_key, chat_id=who.chat_id, user_id=who.user_id, lang=who.lang
            )
        elif data == identity.MENU_CONTACT:
            await client_requests.contact_card(
                self.services, update_key=who.update_key, chat_id=who.chat_id, lang=who.lang
            )
        elif data in ("r:go", "r:new"):
            await intake.resume(
                self.services,
                self.box,
                update_key=who.update_key,
                chat_id=who.chat_id,
                user_id=who.user_id,
                lang=who.lang,
                fresh=data == "r:new",
            )
        elif data.startswith(bridge.PICK_PREFIX):
            await bridge.pick(
                self.services,
                update_key=who.update_key,
                chat_id=who.chat_id,
                user_id=who.user_id,
                lang=who.lang,
                data=data,
            )
        else:
            await self._say(who, "bad_input.old_button")
        return None

    async def _say(self, who: _Who, key: str) -> None:
        """A one-line reply through the outbox (remembering the update, so a redelivery says nothing twice)."""
        services = self.services
        now = services.clock()
        async with services.store.transaction() as tx:
            if not await tx.mark_processed("telegram", who.update_key, now):
                return
            await send(tx, who.chat_id, Renderer.for_services(services, who.lang), Reply((Msg(key),)), now)
        services.wake_delivery()

    # --- errors ------------------------------------------------------------------------------------
    async def error(self, update: object, context: Context) -> None:
        """Log first with the traceback, then tell the person something useful (P-CONTACT-1)."""
        log.error("telegram update failed", exc_info=context.error)
        if not isinstance(update, Update):
            return
        who = _who(update)
        if who is None:
            return
        try:
            await self._say(_with_key(who, f"{who.update_key}:error"), "bad_input.error")
        except Exception:  # the store itself may be what failed
            log.exception("could not tell the client about the failure")


def _with_key(who: _Who, key: str) -> _Who:
    return _Who(key, who.chat_id, who.user_id, who.lang, who.first_name)
