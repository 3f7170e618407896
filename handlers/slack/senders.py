"""The Slack senders of the outbox: card (post once, then update in place), thread and file (posted once), ephemeral,
DM, channel, modal, App Home, message update. Each takes its pacing turn before every Web API call and returns
what Slack answered for the row's hook (bot.services.delivered records it); content is read from the store at
send time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Dispatcher, FileTooBig, Outgoing, PermanentFailure, RetryLater, Sender, Unavailable
from bot.services import desk_queries, digest, mail_desk, outbox
from bot.services.context import Services
from bot.services.desk_common import TicketGone, agent_text
from handlers.slack import blocks, home_blocks, mail_modals, modals

__all__ = ["CARD_EVENT", "POST_EVENT", "FileFetcher", "SlackSenders", "register_senders"]

log = logging.getLogger(__name__)

CARD_EVENT = "supportbot_ticket"  # message metadata event_type naming a card's ticket
POST_EVENT = "supportbot_post"  # message metadata event_type naming the outbox row a thread post came from
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files (LIMITS.md)
_HISTORY_PAGES = 5
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
        "expired_trigger_id",
        "invalid_trigger_id",
        "exchanged_trigger_id",
    }
)

_NO_REACTION_NEEDED = frozenset({"already_reacted", "message_not_found"})

# Downloads a client's Telegram file (bytes) by its file id: file transfer is a delivery concern, so the
# composition root hands the Telegram side's fetcher to these senders (it raises FileTooBig over 20 MB).
FileFetcher = Callable[[str], Awaitable[bytes]]


def _slack_error(error: SlackApiError, lane: str) -> Exception:
    """A Slack error as the dispatcher understands it: 429 waits Retry-After, 5xx is an outage, a hopeless
    error is permanent, anything else is a failed attempt."""
    response = error.response
    status = getattr(response, "status_code", 0) or 0
    if status == 429:
        headers = getattr(response, "headers", {}) or {}
        retry = headers.get("Retry-After") or headers.get("retry-after") or "1"
        return RetryLater(float(retry), "slack rate limited", lane=lane)
    if status >= 500:
        return Unavailable(f"slack answered {status}")
    code = response.get("error") if hasattr(response, "get") else None
    if code in _PERMANENT:
        return PermanentFailure(str(code))
    return error


class SlackSenders:
    """Turns outbox rows into Web API calls."""

    def __init__(self, client: AsyncWebClient, services: Services, fetch_file: FileFetcher | None = None) -> None:
        self.client = client
        self.services = services
        self.fetch_file = fetch_file
        self._dm_channels: dict[str, str] = {}  # user -> DM channel id (conversations.open is Tier 3)

    async def _call(self, out: Outgoing, lane: str, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        """One Web API call in its lane's turn, with Slack's answers mapped for the dispatcher."""
        async with out.turn(lane):
            try:
                return await method(**kwargs)
            except SlackApiError as exc:
                raise _slack_error(exc, lane) from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise Unavailable(f"{type(exc).__name__}: {exc}") from exc

    # --- card ------------------------------------------------------------------------------------------
    async def card(self, out: Outgoing) -> Mapping[str, Any] | None:
        s = self.services
        try:
            facts = await desk_queries.read_card(s, int(out.payload["ticket_id"]))
        except TicketGone as exc:
            raise PermanentFailure(str(exc)) from None
        text, content = blocks.card(facts, s.catalogue, s.calendar.tz)
        ticket = facts.ticket
        channel = ticket.slack_channel or s.settings.slack_support_channel
        if ticket.slack_ts:
            try:
                await self._update(out, channel, ticket.slack_ts, text, content)
                return None
            except PermanentFailure as exc:
                if str(exc) != "message_not_found":
                    raise
                # Someone deleted the card: post it again rather than leave the ticket without one.
                log.warning("card of ticket %s was deleted; posting it again", ticket.number)
        elif out.tried_before:
            # An earlier try may have posted it and died before recording where: find it, never post twice.
            found = await self._find_card(out, channel, ticket.id, ticket.opened_at.timestamp())
            if found is not None:
                await self._update(out, channel, found, text, content)
                return {"channel": channel, "ts": found}
        metadata = {"event_type": CARD_EVENT, "event_payload": {"ticket_id": ticket.id, "number": ticket.number}}
        response = await self._call(
            out,
            outbox.post_lane(channel),
            self.client.chat_postMessage,
            channel=channel,
            text=text,
            blocks=content,
            metadata=metadata,
        )
        return {"channel": str(response["channel"]), "ts": str(response["ts"])}

    async def _update(self, out: Outgoing, channel: str, ts: str, text: str, content: Any) -> None:
        await self._call(
            out, outbox.method_lane("chat.update"), self.client.chat_update,
            channel=channel, ts=ts, text=text, blocks=content,
        )  # fmt: skip

    async def _find_card(self, out: Outgoing, channel: str, ticket_id: int, since: float) -> str | None:
        """The ts of the card already posted for ticket_id (message metadata), looked up in the channel's
        history since the ticket opened; None when there is none."""
        pages = self._pages(
            out, "conversations.history", self.client.conversations_history,
            channel=channel, oldest=f"{since - 60:.6f}", include_all_metadata=True,
        )  # fmt: skip
        async for message in pages:
            if _marked(message, CARD_EVENT, "ticket_id", ticket_id):
                return str(message["ts"])
        return None

    async def _pages(
        self, out: Outgoing, method: str, call: Callable[..., Awaitable[Any]], **params: Any
    ) -> AsyncIterator[Mapping[str, Any]]:
        """The messages of a paged history call (conversations.history / .replies), at most _HISTORY_PAGES
        pages of 200: how an earlier try's post is found again after a crash."""
        cursor: str | None = None
        for _ in range(_HISTORY_PAGES):
            response = await self._call(out, outbox.method_lane(method), call, limit=200, cursor=cursor, **params)
            for message in response.get("messages") or []:
                yield message
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    async def _where(self, ticket_id: int) -> tuple[str, str]:
        """Where the ticket's card is. Its thread rows queue behind the card row (one ordering key), so the
        card is recorded by now unless its row failed for good: then this row fails too, and is retried."""
        place = await desk_queries.card_place(self.services, ticket_id)
        if place is None:
            raise RuntimeError(f"the card of ticket {ticket_id} is not posted")
        return place

    # --- thread, files ---------------------------------------------------------------------------------
    async def thread(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        channel, ts = await self._where(int(payload["ticket_id"]))
        text = str(payload["text"])[:3900]
        content = None
        if "escalation_id" in payload:
            text, content = await self._request(text, int(payload["escalation_id"]))
        if out.tried_before:
            # An earlier try may have posted it and died before recording it: find it, never post twice.
            found = await self._find_post(out, channel, ts, out.row.id)
            if found is not None:
                return {"channel": channel, "ts": found}
        metadata = {"event_type": POST_EVENT, "event_payload": {"outbox_id": out.row.id}}
        response = await self._call(
            out, outbox.post_lane(channel), self.client.chat_postMessage,
            channel=channel, thread_ts=ts, text=text, blocks=content, metadata=metadata,
        )  # fmt: skip
        return {"channel": channel, "ts": str(response.get("ts", ""))}

    async def _find_post(self, out: Outgoing, channel: str, thread_ts: str, row_id: int) -> str | None:
        """The ts of the reply in the thread that outbox row row_id posted (message metadata); None if none."""
        pages = self._pages(
            out, "conversations.replies", self.client.conversations_replies,
            channel=channel, ts=thread_ts, include_all_metadata=True,
        )  # fmt: skip
        async for message in pages:
            if _marked(message, POST_EVENT, "outbox_id", row_id):
                return str(message["ts"])
        return None

    async def thread_file(self, out: Outgoing) -> Mapping[str, Any] | None:
        ticket_id, attachment_id = int(out.payload["ticket_id"]), int(out.payload["attachment_id"])
        place, attachment = await desk_queries.read_upload(self.services, ticket_id, attachment_id)
        if place is None:
            raise RuntimeError(f"the card of ticket {ticket_id} is not posted")
        channel, ts = place
        if attachment is None or attachment.slack_file_id is not None:
            return None  # gone, or uploaded by an earlier attempt
        name = attachment.file_name or f"{attachment.kind.value}-{attachment.id}"
        size = f"{(attachment.size or 0) / 1024 / 1024:.1f} MB"
        too_big = agent_text(self.services, "desk.thread.file_too_big", name=name, size=size)
        if attachment.size is not None and attachment.size > TELEGRAM_DOWNLOAD_LIMIT:
            # Zammad #2289: a file too big must be said, not dropped silently.
            await self._notice(out, channel, ts, too_big)
            return None
        if self.fetch_file is None:
            raise PermanentFailure("no Telegram side to download files from")
        try:
            content = await self.fetch_file(attachment.telegram_file_id)
        except FileTooBig:
            await self._notice(out, channel, ts, too_big)
            return None
        if out.tried_before:
            # An earlier try may have uploaded it and died before recording it: find it, never upload twice.
            recorded = await desk_queries.uploaded_files(self.services, ticket_id)
            found = await self._find_upload(out, channel, ts, name, recorded)
            if found is not None:
                return {"attachment_id": attachment_id, "file_id": found}
        # files_upload_v2 makes two Tier 4 calls (get an upload URL, complete the upload): both lanes.
        async with out.turn(outbox.method_lane("files.completeUploadExternal")):
            response = await self._call(
                out, outbox.method_lane("files.getUploadURLExternal"), self.client.files_upload_v2,
                channel=channel, thread_ts=ts, file=content, filename=name, title=name,
            )  # fmt: skip
        file_id = str((response.get("file") or {}).get("id") or (response.get("files") or [{}])[0].get("id") or "")
        return {"attachment_id": attachment_id, "file_id": file_id}

    async def channel_file(self, out: Outgoing) -> Mapping[str, Any] | None:
        """One chart of the weekly digest, drawn now from that week's figures (as of the week's end, so the
        same whenever it is drawn) and uploaded to the managers' channel, never twice."""
        channel, monday, chart = str(out.payload["channel"]), str(out.payload["monday"]), str(out.payload["chart"])
        name = f"{monday}-{chart}"
        if out.tried_before and await self._find_channel_file(out, channel, name):
            return None  # an earlier try uploaded it and died before it was marked sent
        content = await digest.draw(self.services, date.fromisoformat(monday), chart)
        async with out.turn(outbox.method_lane("files.completeUploadExternal")):
            await self._call(
                out, outbox.method_lane("files.getUploadURLExternal"), self.client.files_upload_v2,
                channel=channel, file=content, filename=name, title=name,
            )  # fmt: skip
        return None

    async def _find_channel_file(self, out: Outgoing, channel: str, name: str) -> bool:
        response = await self._call(
            out, outbox.method_lane("conversations.history"), self.client.conversations_history,
            channel=channel, limit=200,
        )  # fmt: skip
        return any(
            f.get("name") == name
            for message in response.get("messages") or []
            if message.get("bot_id")
            for f in message.get("files") or []
        )

    async def _find_upload(
        self, out: Outgoing, channel: str, thread_ts: str, name: str, recorded: set[str]
    ) -> str | None:
        """The id of a file named `name` the bot shared in the thread and no attachment has recorded yet (files
        carry no metadata: the one not recorded is the one a dead process uploaded); None if none."""
        pages = self._pages(
            out, "conversations.replies", self.client.conversations_replies, channel=channel, ts=thread_ts
        )
        async for message in pages:
            if not message.get("bot_id"):
                continue
            for file in message.get("files") or []:
                if file.get("name") == name and file.get("id") and str(file["id"]) not in recorded:
                    return str(file["id"])
        return None

    async def _notice(self, out: Outgoing, channel: str, ts: str, text: str) -> None:
        await self._call(
            out, outbox.post_lane(channel), self.client.chat_postMessage, channel=channel, thread_ts=ts, text=text
        )

    # --- people --------------------------------------------------------------------------------------
    async def ephemeral(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        text = str(payload.get("text") or "")
        if "credentials_of" in payload:
            text = await self._credentials_text(int(payload["credentials_of"]))
        await self._call(
            out,
            outbox.method_lane("chat.postEphemeral"),
            self.client.chat_postEphemeral,
            channel=str(payload["channel"]),
            user=str(payload["user"]),
            text=text,
            thread_ts=payload.get("thread_ts") or None,  # in the thread the person wrote in
        )
        return None

    async def _credentials_text(self, ticket_id: int) -> str:
        s = self.services
        number, credentials = await desk_queries.read_credentials(s, ticket_id)
        if number is None or not credentials:
            return agent_text(s, "desk.credentials.none")
        lines = [agent_text(s, "desk.credentials.title", ticket=number)]
        # Backticks show the secret verbatim; one inside it would end the code span, so it is swapped.
        lines += [
            agent_text(s, "desk.credentials.item", label=c.label, secret=c.secret.replace("`", "ˋ"))
            for c in credentials
        ]
        return "\n".join(lines)

    async def dm(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        user = str(payload["user"])
        channel = self._dm_channels.get(user)
        if channel is None:
            opened = await self._call(
                out, outbox.method_lane("conversations.open"), self.client.conversations_open, users=user
            )
            channel = self._dm_channels[user] = str(opened["channel"]["id"])
        text = str(payload["text"])
        content = payload.get("blocks")
        if "escalation_id" in payload:
            text, content = await self._request(text, int(payload["escalation_id"]))
        response = await self._call(
            out, outbox.dm_lane(user), self.client.chat_postMessage, channel=channel, text=text[:3900], blocks=content
        )
        return {"channel": channel, "ts": str(response.get("ts", ""))}

    async def _request(self, text: str, escalation_id: int) -> tuple[str, list[dict[str, Any]]]:
        """A copy of an escalation request as it must look now: Aprobar / Rechazar while it waits, its decided
        form (no buttons) when it was decided before this copy went out."""
        decided = await desk_queries.decided_request(self.services, escalation_id)
        if decided is None:
            return text, blocks.escalation_dm(text, escalation_id, self.services.catalogue)
        return decided[:3900], [{"type": "section", "text": {"type": "mrkdwn", "text": decided[:3000]}}]

    async def channel(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        channel = str(payload.get("channel") or self.services.settings.slack_support_channel)
        await self._call(
            out,
            outbox.post_lane(channel),
            self.client.chat_postMessage,
            channel=channel,
            text=str(payload["text"])[:3900],
            blocks=payload.get("blocks"),
        )
        return None

    async def modal(self, out: Outgoing) -> Mapping[str, Any] | None:
        p = out.payload
        cat = self.services.catalogue
        channel, ts = str(p.get("channel", "")), str(p.get("ts", ""))
        kind = str(p["view"])
        if kind == "ask":
            view = modals.ask_modal(cat, int(p["ticket_id"]), channel, ts)
        elif kind == "escalate":
            view = modals.escalate_modal(cat, int(p["ticket_id"]), channel, ts, int(p["severity"]))
        elif kind == "resolve":
            view = modals.resolve_modal(cat, int(p["ticket_id"]), channel, ts, warranty=bool(p.get("warranty")))
        elif kind == "severity":
            view = modals.severity_modal(cat, int(p["ticket_id"]), channel, ts, int(p["severity"]))
        elif kind == "reassign":
            view = modals.reassign_modal(cat, int(p["ticket_id"]), channel, ts)
        elif kind == mail_desk.VIEW:  # P-IN-6: which company a message of "correo sin cliente" is from
            choices = await mail_desk.attach_choices(self.services, int(p["mail_id"]))
            if choices is None:
                raise PermanentFailure(f"unmatched mail {p['mail_id']} is gone")
            view = mail_modals.attach_modal(cat, choices, channel, ts)
        else:
            view = modals.reject_modal(cat, int(p["escalation_id"]), channel, ts)
        await self._call(
            out, outbox.method_lane("views.open"), self.client.views_open, trigger_id=str(p["trigger_id"]), view=view
        )
        return None

    async def home(self, out: Outgoing) -> Mapping[str, Any] | None:
        user = str(out.payload["user"])
        facts = await desk_queries.home_facts(self.services, user)
        view = home_blocks.home_view(facts, self.services.catalogue, self.services.calendar.tz)
        await self._call(out, outbox.method_lane("views.publish"), self.client.views_publish, user_id=user, view=view)
        return None

    async def reaction(self, out: Outgoing) -> Mapping[str, Any] | None:
        """reactions.add; a reaction already there is the same mark, and a message deleted since needs none."""
        payload = out.payload
        try:
            await self._call(
                out, outbox.method_lane("reactions.add"), self.client.reactions_add,
                channel=str(payload["channel"]), timestamp=str(payload["ts"]), name=str(payload["name"]),
            )  # fmt: skip
        except SlackApiError as exc:
            if exc.response.get("error") in _NO_REACTION_NEEDED:
                return None
            raise
        except PermanentFailure as exc:
            if str(exc) in _NO_REACTION_NEEDED:
                return None
            raise
        return None

    async def update(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        text = str(payload["text"])[:3000]
        await self._call(
            out,
            outbox.method_lane("chat.update"),
            self.client.chat_update,
            channel=str(payload["channel"]),
            ts=str(payload["ts"]),
            text=text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        )
        return None


def register_senders(dispatcher: Dispatcher, senders: SlackSenders) -> None:
    """Every Slack kind the services queue."""
    table: dict[str, Sender] = {
        outbox.SLACK_CARD: senders.card,
        outbox.SLACK_THREAD: senders.thread,
        outbox.SLACK_THREAD_FILE: senders.thread_file,
        outbox.SLACK_EPHEMERAL: senders.ephemeral,
        outbox.SLACK_DM: senders.dm,
        outbox.SLACK_CHANNEL: senders.channel,
        outbox.SLACK_MODAL: senders.modal,
        outbox.SLACK_HOME: senders.home,
        outbox.SLACK_UPDATE: senders.update,
        outbox.SLACK_REACTION: senders.reaction,
        outbox.SLACK_CHANNEL_FILE: senders.channel_file,
    }
    for kind, sender in table.items():
        dispatcher.register(outbox.SLACK, kind, sender)


def _marked(message: Mapping[str, Any], event_type: str, key: str, value: int) -> bool:
    """Whether a Slack message carries our metadata of event_type with payload[key] == value."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return bool(meta.get("event_type") == event_type and str(payload.get(key)) == str(value))
