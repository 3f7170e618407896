"""The Slack senders of the outbox: card (post once, then update in place), thread, file, ephemeral, DM, channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Dispatcher, PermanentFailure, RetryLater
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_common import TicketGone, agent_text, escape_mrkdwn
from bot.services.desk_queries import HOME, UPDATE, card_facts, home_facts, revealed_credentials
from bot.services.sla import start_response_clock
from handlers.slack import blocks
from storage import StaleVersion
from storage.records import Ticket

__all__ = ["TELEGRAM_DOWNLOAD_LIMIT", "THREAD_CHUNK", "SlackSenders", "register_senders", "split_for_mrkdwn"]

log = logging.getLogger(__name__)

THREAD_CHUNK = 3500  # escaped characters of a description per thread message (a message holds 4000)


def split_for_mrkdwn(text: str, limit: int) -> list[str]:
    """Cut user text into pieces whose mrkdwn-escaped form fits `limit`, never inside an entity."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        cost = len(escape_mrkdwn(char))
        if size + cost > limit and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += cost
    if current or not pieces:
        pieces.append("".join(current))
    return pieces


TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files (LIMITS.md)
# Errors after which trying again cannot help: the row is dropped (and logged) instead of blocking its chat.
_PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "invalid_blocks",
        "msg_too_long",
        "cant_update_message",
        "invalid_auth",
        "account_inactive",
        "no_text",
        "user_not_in_channel",
    }
)


def _slack_call(error: SlackApiError) -> Exception:
    """A Slack error as the dispatcher understands it: 429 waits Retry-After, a hopeless error is permanent."""
    response = error.response
    status = getattr(response, "status_code", 0)
    if status == 429:
        headers = getattr(response, "headers", {}) or {}
        retry = headers.get("Retry-After") or headers.get("retry-after") or "1"
        return RetryLater(float(retry), "slack rate limited")
    code = response.get("error") if hasattr(response, "get") else None
    if code in _PERMANENT:
        return PermanentFailure(str(code))
    return error


class SlackSenders:
    """Turns outbox rows into Web API calls; every content is read from the store at send time."""

    def __init__(self, client: AsyncWebClient, services: Services, telegram: Any = None) -> None:
        self.client = client
        self.services = services
        self.telegram = telegram  # python-telegram-bot's Bot, to download client files for the thread

    async def _call(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            raise _slack_call(exc) from exc

    @property
    def _channel(self) -> str:
        return self.services.settings.slack_support_channel

    # --- card ------------------------------------------------------------------------------------------
    async def card(self, payload: Mapping[str, Any]) -> None:
        ticket_id = int(payload["ticket_id"])
        s = self.services
        try:
            async with s.store.transaction() as tx:
                facts = await card_facts(tx, s, ticket_id)
        except TicketGone as exc:
            raise PermanentFailure(str(exc)) from None
        text, content = blocks.card(facts, s.catalogue, s.calendar.tz)
        ticket = facts.ticket
        if ticket.slack_ts and ticket.slack_channel:
            try:
                await self.client.chat_update(
                    channel=ticket.slack_channel, ts=ticket.slack_ts, text=text, blocks=content
                )
                return
            except SlackApiError as exc:
                if exc.response.get("error") != "message_not_found":
                    raise _slack_call(exc) from exc
                # Someone deleted the card: post it again rather than leave the ticket without one.
                log.warning("card of ticket %s was deleted; posting it again", ticket.number)
        response = await self._call(self.client.chat_postMessage, channel=self._channel, text=text, blocks=content)
        await self._remember_card(ticket, str(response["channel"]), str(response["ts"]))

    async def _remember_card(self, ticket: Ticket, channel: str, ts: str) -> None:
        """Store where the card lives (so the next change updates it, never posts twice), start the response
        clock, and put the full description in the thread."""
        s = self.services
        now = s.clock()
        for _ in range(5):  # another change may bump the version between our read and this write
            async with s.store.transaction() as tx:
                current = await tx.get_ticket(ticket.id)
                if current is None:
                    return
                try:
                    updated = await tx.update_ticket(current.id, current.version, slack_channel=channel, slack_ts=ts)
                except StaleVersion:
                    continue
                await start_response_clock(tx, s, updated)
                for n, part in enumerate(split_for_mrkdwn(updated.description, THREAD_CHUNK)):
                    text = agent_text(s, "desk.thread.description", text=part) if n == 0 else escape_mrkdwn(part)
                    await outbox.slack_thread(tx, ticket.id, text, at=now, dedupe_key=f"description:{ticket.id}:{n}")
                for attachment in await tx.list_attachments(ticket.id):
                    if attachment.slack_file_id is None:
                        await outbox.slack_thread_file(tx, ticket.id, attachment.id, at=now)
                s.wake_delivery()
                return
        raise RuntimeError(f"could not record the card of ticket {ticket.id}")

    async def _where(self, ticket_id: int) -> tuple[str, str]:
        async with self.services.store.transaction() as tx:
            ticket = await tx.get_ticket(ticket_id)
        if ticket is None:
            raise PermanentFailure(f"ticket {ticket_id} not found")
        if ticket.slack_ts and ticket.slack_channel:
            return ticket.slack_channel, ticket.slack_ts
        # A thread row queued before its card (same ordering key, so nothing else posts it meanwhile):
        # post the card now rather than wait behind ourselves; the card row then updates it in place.
        await self.card({"ticket_id": ticket_id})
        async with self.services.store.transaction() as tx:
            ticket = await tx.get_ticket(ticket_id)
        if ticket is None or not ticket.slack_ts or not ticket.slack_channel:
            raise RetryLater(2.0, "the card is not posted yet")
        return ticket.slack_channel, ticket.slack_ts

    # --- thread, files ---------------------------------------------------------------------------------
    async def thread(self, payload: Mapping[str, Any]) -> None:
        channel, ts = await self._where(int(payload["ticket_id"]))
        text = str(payload["text"])[:3900]
        content = None
        if "escalation_id" in payload:
            content = blocks.escalation_dm(text, int(payload["escalation_id"]), self.services.catalogue)
        await self._call(self.client.chat_postMessage, channel=channel, thread_ts=ts, text=text, blocks=content)

    async def thread_file(self, payload: Mapping[str, Any]) -> None:
        ticket_id, attachment_id = int(payload["ticket_id"]), int(payload["attachment_id"])
        channel, ts = await self._where(ticket_id)
        async with self.services.store.transaction() as tx:
            attachment = next((a for a in await tx.list_attachments(ticket_id) if a.id == attachment_id), None)
        if attachment is None or attachment.slack_file_id is not None:
            return  # gone, or uploaded by an earlier attempt
        name = attachment.file_name or f"{attachment.kind.value}-{attachment.id}"
        if attachment.size is not None and attachment.size > TELEGRAM_DOWNLOAD_LIMIT:
            # Zammad #2289: a file too big must be said, not dropped silently.
            size = f"{attachment.size / 1024 / 1024:.1f} MB"
            await self._notice(channel, ts, agent_text(self.services, "desk.thread.file_too_big", name=name, size=size))
            return
        if self.telegram is None:
            raise PermanentFailure("no Telegram bot to download files from")
        try:
            tg_file = await self.telegram.get_file(attachment.telegram_file_id)
            content = bytes(await tg_file.download_as_bytearray())
        except Exception as exc:
            if "too big" in str(exc).lower():
                size = f"{(attachment.size or 0) / 1024 / 1024:.1f} MB"
                await self._notice(
                    channel, ts, agent_text(self.services, "desk.thread.file_too_big", name=name, size=size)
                )
                return
            raise
        response = await self._call(
            self.client.files_upload_v2, channel=channel, thread_ts=ts, file=content, filename=name, title=name
        )
        file_id = str((response.get("file") or {}).get("id") or (response.get("files") or [{}])[0].get("id") or "")
        if file_id:
            async with self.services.store.transaction() as tx:
                await tx.set_attachment_slack_file(attachment_id, file_id)

    async def _notice(self, channel: str, ts: str, text: str) -> None:
        await self._call(self.client.chat_postMessage, channel=channel, thread_ts=ts, text=text)

    # --- people --------------------------------------------------------------------------------------
    async def ephemeral(self, payload: Mapping[str, Any]) -> None:
        text = str(payload.get("text") or "")
        if "credentials_of" in payload:
            text = await self._credentials_text(int(payload["credentials_of"]))
        await self._call(
            self.client.chat_postEphemeral, channel=str(payload["channel"]), user=str(payload["user"]), text=text
        )

    async def _credentials_text(self, ticket_id: int) -> str:
        s = self.services
        async with s.store.transaction() as tx:
            ticket, credentials = await revealed_credentials(tx, ticket_id)
        if ticket is None or not credentials:
            return agent_text(s, "desk.credentials.none")
        lines = [agent_text(s, "desk.credentials.title", ticket=ticket.number)]
        # Backticks show the secret verbatim; one inside it would end the code span, so it is swapped.
        lines += [
            agent_text(s, "desk.credentials.item", label=c.label, secret=c.secret.replace("`", "ˋ"))
            for c in credentials
        ]
        return "\n".join(lines)

    async def dm(self, payload: Mapping[str, Any]) -> None:
        opened = await self._call(self.client.conversations_open, users=str(payload["user"]))
        channel = str(opened["channel"]["id"])
        text = str(payload["text"])
        content = payload.get("blocks")
        if "escalation_id" in payload:
            content = blocks.escalation_dm(text, int(payload["escalation_id"]), self.services.catalogue)
        await self._call(self.client.chat_postMessage, channel=channel, text=text[:3900], blocks=content)

    async def channel(self, payload: Mapping[str, Any]) -> None:
        await self._call(
            self.client.chat_postMessage,
            channel=self._channel,
            text=str(payload["text"])[:3900],
            blocks=payload.get("blocks"),
        )

    async def home(self, payload: Mapping[str, Any]) -> None:
        user = str(payload["user"])
        facts = await home_facts(self.services, user)
        view = blocks.home(facts, self.services.catalogue, self.services.calendar.tz)
        await self._call(self.client.views_publish, user_id=user, view=view)

    async def update(self, payload: Mapping[str, Any]) -> None:
        text = str(payload["text"])[:3000]
        await self._call(
            self.client.chat_update,
            channel=str(payload["channel"]),
            ts=str(payload["ts"]),
            text=text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        )


def register_senders(dispatcher: Dispatcher, senders: SlackSenders) -> None:
    """Every Slack kind the services queue, plus the desk's own (App Home, message update)."""
    table: dict[str, Callable[[Mapping[str, Any]], Awaitable[None]]] = {
        outbox.SLACK_CARD: senders.card,
        outbox.SLACK_THREAD: senders.thread,
        outbox.SLACK_THREAD_FILE: senders.thread_file,
        outbox.SLACK_EPHEMERAL: senders.ephemeral,
        outbox.SLACK_DM: senders.dm,
        outbox.SLACK_CHANNEL: senders.channel,
        HOME: senders.home,
        UPDATE: senders.update,
    }
    for kind, sender in table.items():
        dispatcher.register(outbox.SLACK, kind, sender)
