"""The Slack senders of the outbox: card (post once, then update in place), thread (posted once), ephemeral, DM,
channel, modal, App Home, reaction, message update; the file senders are in handlers.slack.uploads. Each takes its
pacing turn before every Web API call (handlers.slack.webapi) and returns what Slack answered for the row's hook
(bot.services.delivered records it); content is read from the store at send time. A row taken again first looks
for what an earlier try may have posted (handlers.slack.recovery).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Dispatcher, Outgoing, PermanentFailure, Sender
from bot.services import desk_queries, mail_desk, outbox
from bot.services.context import Services
from bot.services.desk_common import TicketGone, agent_text
from handlers.slack import blocks, home_blocks, mail_modals, modals
from handlers.slack.recovery import CARD_EVENT, POST_EVENT, find_card, find_post
from handlers.slack.uploads import FileFetcher, SlackUploads
from handlers.slack.webapi import call_slack

__all__ = ["CARD_EVENT", "POST_EVENT", "FileFetcher", "SlackSenders", "register_senders"]

log = logging.getLogger(__name__)

_NO_REACTION_NEEDED = frozenset({"already_reacted", "message_not_found"})


class SlackSenders:
    """Turns outbox rows into Web API calls."""

    def __init__(self, client: AsyncWebClient, services: Services, fetch_file: FileFetcher | None = None) -> None:
        self.client = client
        self.services = services
        self.uploads = SlackUploads(client, services, fetch_file)  # thread_file, channel_file
        self._dm_channels: dict[str, str] = {}  # user -> DM channel id (conversations.open is Tier 3)

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
            found = await find_card(self.client, out, channel, ticket.id, ticket.opened_at.timestamp())
            if found is not None:
                await self._update(out, channel, found, text, content)
                return {"channel": channel, "ts": found}
        metadata = {"event_type": CARD_EVENT, "event_payload": {"ticket_id": ticket.id, "number": ticket.number}}
        response = await call_slack(
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
        await call_slack(
            out, outbox.method_lane("chat.update"), self.client.chat_update,
            channel=channel, ts=ts, text=text, blocks=content,
        )  # fmt: skip

    async def _where(self, ticket_id: int) -> tuple[str, str]:
        """Where the ticket's card is. Its thread rows queue behind the card row (one ordering key), so the
        card is recorded by now unless its row failed for good: then this row fails too, and is retried."""
        place = await desk_queries.card_place(self.services, ticket_id)
        if place is None:
            raise RuntimeError(f"the card of ticket {ticket_id} is not posted")
        return place

    # --- thread ----------------------------------------------------------------------------------------
    async def thread(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        channel, ts = await self._where(int(payload["ticket_id"]))
        text = str(payload["text"])[:3900]
        content = None
        if "escalation_id" in payload:
            text, content = await self._request(text, int(payload["escalation_id"]))
        if out.tried_before:
            # An earlier try may have posted it and died before recording it: find it, never post twice.
            found = await find_post(self.client, out, channel, ts, out.row.id)
            if found is not None:
                return {"channel": channel, "ts": found}
        metadata = {"event_type": POST_EVENT, "event_payload": {"outbox_id": out.row.id}}
        response = await call_slack(
            out, outbox.post_lane(channel), self.client.chat_postMessage,
            channel=channel, thread_ts=ts, text=text, blocks=content, metadata=metadata,
        )  # fmt: skip
        return {"channel": channel, "ts": str(response.get("ts", ""))}

    # --- people --------------------------------------------------------------------------------------
    async def ephemeral(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        text = str(payload.get("text") or "")
        if "credentials_of" in payload:
            text = await self._credentials_text(int(payload["credentials_of"]))
        await call_slack(
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
            opened = await call_slack(
                out, outbox.method_lane("conversations.open"), self.client.conversations_open, users=user
            )
            channel = self._dm_channels[user] = str(opened["channel"]["id"])
        text = str(payload["text"])
        content = payload.get("blocks")
        if "escalation_id" in payload:
            text, content = await self._request(text, int(payload["escalation_id"]))
        response = await call_slack(
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
        await call_slack(
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
        await call_slack(
            out, outbox.method_lane("views.open"), self.client.views_open, trigger_id=str(p["trigger_id"]), view=view
        )
        return None

    async def home(self, out: Outgoing) -> Mapping[str, Any] | None:
        user = str(out.payload["user"])
        facts = await desk_queries.home_facts(self.services, user)
        view = home_blocks.home_view(facts, self.services.catalogue, self.services.calendar.tz)
        await call_slack(out, outbox.method_lane("views.publish"), self.client.views_publish, user_id=user, view=view)
        return None

    async def reaction(self, out: Outgoing) -> Mapping[str, Any] | None:
        """reactions.add; a reaction already there is the same mark, and a message deleted since needs none."""
        payload = out.payload
        try:
            await call_slack(
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
        await call_slack(
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
        outbox.SLACK_THREAD_FILE: senders.uploads.thread_file,
        outbox.SLACK_EPHEMERAL: senders.ephemeral,
        outbox.SLACK_DM: senders.dm,
        outbox.SLACK_CHANNEL: senders.channel,
        outbox.SLACK_MODAL: senders.modal,
        outbox.SLACK_HOME: senders.home,
        outbox.SLACK_UPDATE: senders.update,
        outbox.SLACK_REACTION: senders.reaction,
        outbox.SLACK_CHANNEL_FILE: senders.uploads.channel_file,
    }
    for kind, sender in table.items():
        dispatcher.register(outbox.SLACK, kind, sender)
