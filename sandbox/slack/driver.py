"""The support team as a test driver: find the ticket card, press its buttons, fill modals, write in threads."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox.slack.delivery import Delivery
from sandbox.slack.model import Ephemeral, Message, User, View
from sandbox.slack.standin import SlackStandIn

T = TypeVar("T")


class DriverTimeout(AssertionError):
    """The bot did not do what the test waited for in time; the message says what was seen instead."""


class NotAcknowledged(AssertionError):
    """The bot did not answer a delivery with a 2xx in time (Slack would show an error or retry)."""


@dataclass(frozen=True)
class Card:
    """A message the bot posted, by its address; its content is always read fresh from the stand-in."""

    channel: str
    ts: str


def _mentions(message: Message, needle: str) -> bool:
    return needle in message.text or needle in json.dumps(message.blocks, ensure_ascii=False)


class SlackTeam:
    """Plays agents and managers against the stand-in; each action returns once the bot has gone quiet."""

    def __init__(self, standin: SlackStandIn, *, quiet: float = 0.1, timeout: float = 5.0) -> None:
        self.s = standin
        self.quiet = quiet
        self.timeout = timeout

    # -- people -------------------------------------------------------------------------------------

    def member(self, user_id: str, name: str, *, real_name: str = "") -> User:
        """Add a person to the workspace and the support channel."""
        return self.s.add_user(user_id, name, real_name=real_name)

    # -- waiting ------------------------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait until the bot's Web API calls have stopped for a moment."""
        if not await self.s.wait_quiet(self.quiet, self.timeout):
            raise DriverTimeout(
                f"the bot kept calling the Web API for {self.timeout}s; last calls: "
                f"{[c['method'] for c in self.s.api_log[-10:]]}"
            )

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float | None = None,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
        what: str = "condition",
    ) -> T:
        """Poll `predicate` until it returns something truthy; fail loudly with recent activity."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise DriverTimeout(f"timed out waiting for {what}.\n{self.describe()}")
            await asyncio.sleep(0.02)

    def describe(self) -> str:
        """Recent messages, API calls and violations, for failure messages."""
        recent = list(self.s.messages.values())[-8:]
        lines = ["messages (newest last):"]
        lines += [f"  {m.channel} {m.ts} {m.user}: {(m.text or m.rendered)[:120]!r}" for m in recent]
        lines.append(f"api calls: {[(c['method'], c['error']) for c in self.s.api_log[-10:]]}")
        lines.append(f"violations: {[(v.kind, v.method, v.error) for v in self.s.violations[-10:]]}")
        return "\n".join(lines)

    # -- reading ------------------------------------------------------------------------------------

    async def card_for(
        self,
        needle: str,
        *,
        channel: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    ) -> Card:
        """The newest top-level message whose text or blocks contain `needle`.

        Looks in the support channel unless `channel` names another (an id, `#name`, or a user id for
        the bot's DM with that user).
        """
        resolved = self.s.resolve_channel(channel) if channel else self.s.support_channel
        if resolved is None:
            raise AssertionError(f"no conversation {channel!r}")
        chan = resolved.id

        def find() -> Card | None:
            for message in reversed(self.s.top_level(chan)):
                if _mentions(message, needle):
                    return Card(chan, message.ts)
            return None

        card = await self.wait_for(find, timeout, f"a card containing {needle!r} in {chan}")
        await self.settle()
        return card

    def message(self, card: Card) -> Message:
        """The current version of a card."""
        message = self.s.messages.get((card.channel, card.ts))
        if message is None or message.deleted:
            raise AssertionError(f"card {card.ts} in {card.channel} no longer exists")
        return message

    def thread(self, card: Card) -> list[Message]:
        """The replies in a card's thread, oldest first."""
        return self.s.replies(card.channel, card.ts)

    def ephemerals(self, user: User | str) -> list[Ephemeral]:
        user_id = user.id if isinstance(user, User) else user
        return [e for e in self.s.ephemerals if e.user == user_id]

    def dms(self, user: User | str) -> list[Message]:
        """What the bot wrote to a user in their direct messages."""
        user_id = user.id if isinstance(user, User) else user
        return [m for m in self.s.messages.values() if m.channel == self.s.dm_with(user_id).id and not m.deleted]

    def view(self, user: User | str) -> View | None:
        """The modal on top of the user's stack, if any."""
        return self.s.actions.top_view(user)

    async def modal(
        self,
        user: User | str,
        timeout: float | None = None,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    ) -> View:
        """Wait until the user has a modal open and return it."""
        return await self.wait_for(lambda: self.view(user), timeout, f"a modal for {user}")

    def home(self, user: User | str) -> View | None:
        user_id = user.id if isinstance(user, User) else user
        return self.s.homes.get(user_id)

    # -- acting -------------------------------------------------------------------------------------

    async def _done(self, delivery: Delivery | None, expect_ack: bool) -> Delivery | None:
        if delivery is not None and expect_ack and not delivery.acked:
            attempts = [(a.status, a.reason) for a in delivery.attempts]
            raise NotAcknowledged(f"{delivery.payload.get('type')} was not acknowledged: {attempts}")
        await self.settle()
        return delivery

    async def click(
        self,
        card: Card,
        action_id: str,
        *,
        as_user: User | str,
        block_id: str | None = None,
        option: Any = None,
        expect_ack: bool = True,
    ) -> Delivery:
        """Press a button on the card as it is now (fails listing the action_ids it has)."""
        delivery = await self.s.actions.click(
            as_user, card.channel, card.ts, action_id, block_id=block_id, option=option
        )
        await self._done(delivery, expect_ack)
        return delivery

    async def click_ephemeral(
        self, ephemeral: Ephemeral, action_id: str, *, block_id: str | None = None, expect_ack: bool = True
    ) -> Delivery:
        """Press a button in an ephemeral message (only its recipient can)."""
        delivery = await self.s.actions.click_ephemeral(ephemeral, action_id, block_id=block_id)
        await self._done(delivery, expect_ack)
        return delivery

    async def forge_click(
        self, card: Card, action_id: str, *, as_user: User | str, value: str | None = None, block_id: str = "forged"
    ) -> Delivery:
        """Send a click for a button that need not exist (stale or crafted); no ack is required."""
        delivery = await self.s.actions.forge_click(
            as_user, card.channel, card.ts, action_id, block_id=block_id, value=value
        )
        await self._done(delivery, False)
        return delivery

    async def submit(
        self, view: View, values: dict[str, dict[str, Any]], *, as_user: User | str, expect_ack: bool = True
    ) -> Delivery:
        """Fill the modal (`{block_id: {action_id: value}}`) and press submit."""
        delivery = await self.s.actions.submit(as_user, view.id, values)
        await self._done(delivery, expect_ack)
        return delivery

    async def close(self, view: View, *, as_user: User | str) -> Delivery | None:
        return await self._done(await self.s.actions.close(as_user, view.id), True)

    async def click_in_view(
        self, view: View, action_id: str, *, as_user: User | str, block_id: str | None = None, option: Any = None
    ) -> Delivery:
        delivery = await self.s.actions.click_in_view(as_user, view.id, action_id, block_id=block_id, option=option)
        await self._done(delivery, True)
        return delivery

    async def reply_in_thread(
        self, card: Card, text: str, *, as_user: User | str, expect_ack: bool = True, raw: bool = False
    ) -> Message:
        """Write in the card's thread, as an agent does to talk to the client (or to colleagues).

        The text arrives escaped as the Slack client sends it (`<` as `&lt;`); `raw=True` sends markup.
        """
        message, delivery = await self.s.actions.post(as_user, card.channel, text, thread_ts=card.ts, raw=raw)
        await self._done(delivery, expect_ack)
        return message

    async def share_file(
        self,
        card: Card,
        name: str,
        content: bytes,
        *,
        as_user: User | str,
        mimetype: str = "application/octet-stream",
        text: str = "",
        expect_ack: bool = True,
    ) -> Message:
        """Drop a file (with optional text) into the card's thread, as an agent sends the client a file."""
        message, delivery = await self.s.actions.share_file(
            as_user, card.channel, name, content, mimetype=mimetype, text=text, thread_ts=card.ts
        )
        await self._done(delivery, expect_ack)
        return message

    def reactions(self, message: Message) -> dict[str, list[str]]:
        """The reactions on a message as it is now (name -> users who reacted)."""
        current = self.s.messages.get((message.channel, message.ts))
        return dict(current.reactions) if current is not None else {}

    async def open_home(self, user: User | str) -> View | None:
        """Open the App Home tab; returns the Home view the bot published (if it did)."""
        await self._done(await self.s.actions.open_home(user), True)
        return self.home(user)

    # -- checking -----------------------------------------------------------------------------------

    def assert_no_violations(self) -> None:
        """Fail listing every refused call and broken rule recorded so far."""
        if self.s.violations:
            listing = "\n".join(f"  {v.kind} {v.method}: {v.error} {v.details}" for v in self.s.violations)
            raise AssertionError(f"Slack stand-in recorded violations:\n{listing}")
