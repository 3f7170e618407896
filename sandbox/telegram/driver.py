"""The test driver that plays one Telegram user, so an end-to-end test reads like the chat."""

from __future__ import annotations

import asyncio
from typing import Any

from sandbox.telegram.actions import Sent
from sandbox.telegram.models import JSON, User
from sandbox.telegram.standin import StandIn


class TelegramClient:
    """One user's Telegram app: every action returns once the bot has settled (or fails loudly)."""

    def __init__(self, standin: StandIn, user: User, *, timeout: float = 5.0, quiet: float = 0.05) -> None:
        self.standin = standin
        self.user = user
        self.timeout = timeout
        self.quiet = quiet

    async def _settled(self, sent: Sent) -> Sent:
        await self.standin.settle(sent.update_id, timeout=self.timeout, quiet=self.quiet)
        return sent

    # --- actions --------------------------------------------------------------------------------
    async def send(self, text: str) -> Sent:
        """Type and send text (commands like `/start ABC123` included)."""
        return await self._settled(await self.standin.send_text(self.user, text))

    async def tap(self, callback_data: str) -> Sent:
        """Tap the button with this callback_data on the newest bot message that carries it."""
        for message in reversed(self.bot_messages()):
            for row in message["buttons"]:
                if any(b.get("callback_data") == callback_data for b in row):
                    return await self._settled(await self.standin.tap(self.user, message["message_id"], callback_data))
        raise AssertionError(f"no button with callback_data {callback_data!r}; available: {self._all_buttons()}")

    async def tap_label(self, label: str) -> Sent:
        """Tap the button with this text on the newest bot message that shows it."""
        for message in reversed(self.bot_messages()):
            for row in message["buttons"]:
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return await self._settled(
                            await self.standin.tap(self.user, message["message_id"], button["callback_data"])
                        )
        raise AssertionError(f"no button labelled {label!r}; available: {self._all_buttons()}")

    async def press(self, label: str) -> Sent:
        """Press a reply-keyboard button: a request_contact one shares the own contact, others send their text."""
        markup = self.standin.reply_keyboard(self.user)
        for row in (markup or {}).get("keyboard", []):
            for button in row:
                text = button if isinstance(button, str) else button.get("text")
                if text != label:
                    continue
                if isinstance(button, dict) and button.get("request_contact"):
                    return await self.share_contact(own=True)
                return await self.send(label)
        raise AssertionError(f"no reply-keyboard button {label!r}; shown: {self.reply_keyboard()}")

    async def forge_tap(self, message_id: int, callback_data: str) -> Sent:
        """Send callback data that no button carries (what a tampered client could do)."""
        return await self._settled(await self.standin.tap(self.user, message_id, callback_data, forge=True))

    async def send_photo(self, caption: str | None = None, **kwargs: Any) -> Sent:
        """Send a photo (kwargs: width, height, content)."""
        return await self._settled(await self.standin.send_photo(self.user, caption=caption, **kwargs))

    async def send_document(self, name: str = "reporte.pdf", size: int = 2048, **kwargs: Any) -> Sent:
        """Send a file of `size` bytes (virtual unless content is given; may exceed 20 MB)."""
        return await self._settled(await self.standin.send_document(self.user, name, size, **kwargs))

    async def share_contact(self, phone: str | None = None, *, own: bool = True, **kwargs: Any) -> Sent:
        """Share a contact: own=True is the request_contact button; own=False someone else's card."""
        return await self._settled(await self.standin.share_contact(self.user, phone, own=own, **kwargs))

    async def send_sticker(self, emoji: str = "👍") -> Sent:
        """Send a sticker."""
        return await self._settled(await self.standin.send_sticker(self.user, emoji))

    async def send_voice(self, duration: int = 3) -> Sent:
        """Send a voice note."""
        return await self._settled(await self.standin.send_voice(self.user, duration))

    async def block(self) -> Sent:
        """Block the bot."""
        return await self._settled(await self.standin.block(self.user))

    # --- what the user sees ---------------------------------------------------------------------
    def messages(self) -> list[JSON]:
        """The whole chat, oldest first, deleted ones left out."""
        return self.standin.history(self.user, include_deleted=False)

    def bot_messages(self) -> list[JSON]:
        """The bot's visible messages, oldest first."""
        return [m for m in self.messages() if m["from"] == "bot"]

    def texts(self) -> list[str]:
        """Text (or caption) of every visible bot message."""
        return [m["text"] for m in self.bot_messages()]

    def last_text(self) -> str:
        """The newest bot message's text; fails if the bot said nothing."""
        texts = self.texts()
        if not texts:
            raise AssertionError("the bot has sent no message to this chat")
        return texts[-1]

    def last_buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data or url) of the newest bot message that has buttons."""
        for message in reversed(self.bot_messages()):
            if message["buttons"]:
                return [
                    (b["text"], b.get("callback_data") or b.get("url", "")) for row in message["buttons"] for b in row
                ]
        return []

    def reply_keyboard(self) -> list[list[str]]:
        """Labels of the reply keyboard shown now (empty when none)."""
        markup = self.standin.reply_keyboard(self.user)
        if not markup:
            return []
        return [[b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]]

    def callback_answer(self, sent: Sent) -> JSON | None:
        """The bot's answer to a tap (None when it did not answer)."""
        return None if sent.query_id is None else self.standin.callback_answer(sent.query_id)

    # The timeout is part of the assertion ("within N s"), not a cancellation knob.
    async def wait_for_text(self, substring: str, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait until a visible bot message contains `substring` (e.g. a reminder sent by a timer)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in reversed(self.bot_messages()):
                if substring in message["text"]:
                    return message
            if loop.time() > deadline:
                raise AssertionError(f"no bot message contains {substring!r} after {timeout:g} s; seen: {self.texts()}")
            await asyncio.sleep(0.01)

    def _all_buttons(self) -> list[tuple[int, str, str]]:
        return [
            (m["message_id"], b["text"], b.get("callback_data", ""))
            for m in self.bot_messages()
            for row in m["buttons"]
            for b in row
        ]
