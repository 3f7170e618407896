"""People who keep using the bot while it dies and comes back: Telegram clients and Slack consultants.

They act as people do and never as a test harness would: a client sends each answer once (Telegram keeps an
update the bot has not confirmed and hands it to the next process), taps a button once, and waits for the
bot's answer; a consultant whose click or form the bot did not acknowledge sees Slack's error and presses
again, as a person would. Nobody is told about a kill. What each of them did is recorded, so the figures
can be counted at the end from the stand-ins' state and the database, never assumed.

Waiting has a patience: past it, a person stops waiting (the step is written down as waiting, and the final
count looks again once everything is quiet, so a late answer still counts as an answer: speed is not judged
here).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from handlers.slack.senders import CARD_EVENT
from sandbox.slack.actions import ActionError as SlackActionError
from sandbox.slack.driver import Card
from sandbox.slack.model import View
from sandbox.slack.standin import SlackStandIn
from sandbox.telegram.actions import Sent
from sandbox.telegram.models import StoredMessage, User
from sandbox.telegram.standin import StandIn

T = TypeVar("T")
TICKET_NUMBER = re.compile(r"[A-Z]+-\d{4}-\d+")
TV_ID = "1 234 567 890"
TV_PASSWORD = "k9#Lm2"


@dataclass(frozen=True)
class Step:
    """One thing a client does, and a piece of the bot's answer that shows it was understood."""

    kind: str  # "send" | "photo" | "tap" (an intake button by its action)
    value: str
    answer: str


def intake(product_id: int, tag: str) -> list[Step]:
    """One complete remote intake (the bench's script), with a description of its own."""
    return [
        Step("send", "/reportar", "¿Sobre qué servicio"),
        Step("tap", "a.firewall", "¿Qué equipo"),
        Step("tap", f"p.{product_id}", "¿El servicio está completamente caído?"),
        Step("tap", "t.down", "¿A cuántas personas"),
        Step("tap", "t.whole_company", "Cuéntame qué pasa"),
        Step("send", f"No hay internet en la oficina ({tag}); el firewall tiene la alarma en rojo.", "¿Desde cuándo"),
        # The bot runs on the real clock here: "hoy a las 9" would be in the future before 9:00.
        Step("send", "hace 2 horas", "¿Tienes capturas"),
        Step("photo", "", "Recibí 1 archivo"),
        Step("tap", "ok", "¿Cómo te atendemos?"),
        Step("tap", "acc.remote", "ID de TeamViewer"),
        Step("send", TV_ID, "contraseña de TeamViewer"),
        Step("send", TV_PASSWORD, "¿El equipo pide contraseña"),
        Step("tap", "n", "Revisa tu reporte"),
        Step("tap", "ok", "Tu ticket es"),  # the confirmation: from here on a ticket is owed
    ]


async def poll(check: Callable[[], T | None], patience: float, every: float = 0.05) -> T | None:
    """check() until it returns something truthy, or None once the patience is spent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            return None
        await asyncio.sleep(every)


@dataclass
class Waiting:
    """A client's act whose answer had not come when the client stopped waiting."""

    after: int  # the answer is a bot message newer than this message id
    answer: str
    what: str


@dataclass
class Client:
    """A person in their Telegram app."""

    telegram: StandIn
    user: User
    patience: float
    taps: list[tuple[str, str]] = field(default_factory=list)  # (callback query id, callback data)
    waiting: list[Waiting] = field(default_factory=list)
    acts: int = 0
    confirmed: int = 0  # intakes confirmed (the summary's "ok" tapped): each one owes a ticket
    said: list[str] = field(default_factory=list)  # what the client wrote to an open ticket

    @property
    def chat(self) -> int:
        return self.user.id

    def messages(self) -> list[StoredMessage]:
        """The chat, oldest first, read straight from the stand-in's state (deleted ones left out)."""
        st = self.telegram.state
        found = (st.messages[(self.chat, m)] for m in st.chat_order.get(self.chat, []))
        return [m for m in found if not m.deleted]

    def newest_id(self) -> int:
        order = self.telegram.state.chat_order.get(self.chat, [])
        return order[-1] if order else 0

    def answer_after(self, after: int, text: str) -> StoredMessage | None:
        """The first bot message newer than `after` that contains `text`."""
        for m in self.messages():
            if m.message_id > after and m.from_bot and text in _text(m):
                return m
        return None

    def button(self, action: str) -> tuple[int, str]:
        """(message id, callback_data) of the newest intake button with this action ("i:<seq>:<action>")."""
        for m in reversed(self.messages()):
            if not m.from_bot:
                continue
            for row in m.inline_keyboard:
                for b in row:
                    data = str(b.get("callback_data", ""))
                    if data.startswith("i:") and data.split(":", 2)[2] == action:
                        return m.message_id, data
        shown = [_text(m) for m in self.messages()]
        raise AssertionError(f"client {self.chat}: no intake button {action!r} in {shown}")

    async def act(self, step: Step) -> StoredMessage | None:
        """Do the step once, then wait (up to the patience) for the answer; None when it did not come."""
        after, _ = await self.begin(step)
        return await self.expect(after, step.answer, f"{step.kind} {step.value!r}")

    async def begin(self, step: Step) -> tuple[int, Sent]:
        """Do the step once. Returns: the message id its answer comes after, and what was sent."""
        after = self.newest_id()
        if step.kind == "send":
            sent = await self.telegram.send_text(self.user, step.value)
        elif step.kind == "photo":
            sent = await self.telegram.send_photo(self.user)
        elif step.kind == "tap":
            message_id, data = self.button(step.value)
            sent = await self.telegram.tap(self.user, message_id, data)
            assert sent.query_id is not None
            self.taps.append((sent.query_id, data))
        else:
            raise ValueError(step.kind)
        self.acts += 1
        if sent.message is not None and step.kind != "tap":
            after = max(after, sent.message.message_id)
        return after, sent

    async def expect(self, after: int, answer: str, what: str) -> StoredMessage | None:
        """Wait for a bot message newer than `after` containing `answer`; written down as waiting if none."""
        found = await poll(lambda: self.answer_after(after, answer), self.patience)
        if found is None:
            self.waiting.append(Waiting(after, answer, what))
        return found

    async def sees(self, after: int, text: str) -> StoredMessage | None:
        """Wait for a bot message newer than `after` containing `text` that is not an answer to the client's
        own act (a consultant's reply, a claim): None when it did not come within the patience."""
        return await poll(lambda: self.answer_after(after, text), self.patience)

    async def say(self, text: str, answer: str) -> StoredMessage | None:
        """Write to the open ticket (the bot relays it to the card's thread and says so)."""
        self.said.append(text)
        return await self.act(Step("send", text, answer))


@dataclass
class Consultant:
    """A person in the support channel on Slack."""

    slack: SlackStandIn
    user_id: str
    name: str
    patience: float
    replies: list[tuple[int, str, Card]] = field(default_factory=list)  # (client chat, text, card)
    presses: int = 0
    refused: int = 0  # presses the bot did not acknowledge (it was dead): pressed again
    _deliveries: list[asyncio.Future[Any]] = field(default_factory=list)

    async def card(self, number: str) -> Card | None:
        """The ticket's card in the support channel, once it is there."""
        channel = self.slack.config.channel_id

        def find() -> Card | None:
            for m in self.slack.top_level(channel):
                payload = (m.metadata or {}).get("event_payload") or {}
                if (m.metadata or {}).get("event_type") == CARD_EVENT and payload.get("number") == number:
                    return Card(channel, m.ts)
            return None

        return await poll(find, self.patience)

    async def _until_acked(self, deliver: Callable[[], Awaitable[Any]]) -> bool:
        """Send the click or form again each time the bot did not acknowledge it (a person sees the error)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        while loop.time() < deadline:
            delivery = await deliver()
            self.presses += 1
            if delivery.acked:
                return True
            self.refused += 1
            await asyncio.sleep(0.3)
        return False

    async def press(self, card: Card, action_id: str) -> bool:
        """Press a button of the card until the bot acknowledges it. False when the button is gone (an earlier
        press went through and changed the card) or the bot never answered within the patience."""

        async def click() -> Any:
            return await self.slack.actions.click(self.user_id, card.channel, card.ts, action_id)

        try:
            return await self._until_acked(click)
        except SlackActionError:
            return False

    def reply(self, card: Card, chat: int, text: str) -> None:
        """Write in the card's thread for the client. Slack delivers the event on its own time, retrying while
        the bot is down, and the consultant does not wait for it (`delivered` waits for every delivery)."""
        self.replies.append((chat, text, card))
        post = self.slack.actions.post(self.user_id, card.channel, text, thread_ts=card.ts)
        self._deliveries.append(asyncio.ensure_future(post))

    async def delivered(self) -> None:
        """Wait until Slack has finished delivering (or given up on) every reply written so far."""
        await asyncio.gather(*self._deliveries)

    async def resolve(self, card: Card, solution: str) -> bool:
        """Resolver -> the modal -> submit, pressing again when no modal came (the trigger lives 3 s)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        # A tenth of an hour each: the demo contract's hours last the longest soak. Billing as the form proposes.
        values = {"solution": {"value": solution}, "hours_remote": {"value": "0.1"}}
        while loop.time() < deadline:
            before = self._top()
            if not await self.press(card, "desk_resolve"):
                return False
            view = await poll(lambda before=before: self._new_top(before), 6.0)  # type: ignore[misc]
            if view is None:
                continue  # no modal: its trigger expired while the bot was down; press again

            async def submit(view: View = view) -> Any:
                return await self.slack.actions.submit(self.user_id, view.id, values)

            if not await self._until_acked(submit):
                return False
            if view.errors:
                raise AssertionError(f"the resolve form was refused: {view.errors}")
            return True
        return False

    def _top(self) -> str | None:
        view = self.slack.actions.top_view(self.user_id)
        return None if view is None else view.id

    def _new_top(self, before: str | None) -> View | None:
        view = self.slack.actions.top_view(self.user_id)
        return view if view is not None and view.id != before else None


def _text(m: StoredMessage) -> str:
    return str(m.payload.get("text", m.payload.get("caption", "")))


def ticket_number(m: StoredMessage) -> str:
    found = TICKET_NUMBER.search(_text(m))
    assert found is not None, _text(m)
    return found.group(0)
