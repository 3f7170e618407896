"""The Slack file senders of the outbox: a client's Telegram file uploaded into its card's thread, and a chart of
the weekly digest uploaded to the managers' channel. Each is uploaded once, even across a crash (the lookups of
handlers.slack.recovery), and takes its pacing turn before every Web API call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import FileTooBig, Outgoing, PermanentFailure
from bot.services import desk_queries, digest, outbox
from bot.services.context import Services
from bot.services.desk_common import agent_text
from handlers.slack.recovery import find_channel_file, find_upload
from handlers.slack.webapi import call_slack

__all__ = ["TELEGRAM_DOWNLOAD_LIMIT", "FileFetcher", "SlackUploads"]

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files (LIMITS.md)

# Downloads a client's Telegram file (bytes) by its file id: file transfer is a delivery concern, so the
# composition root hands the Telegram side's fetcher to these senders (it raises FileTooBig over 20 MB).
FileFetcher = Callable[[str], Awaitable[bytes]]


class SlackUploads:
    """Turns the outbox's file rows into Slack uploads."""

    def __init__(self, client: AsyncWebClient, services: Services, fetch_file: FileFetcher | None = None) -> None:
        self.client = client
        self.services = services
        self.fetch_file = fetch_file

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
            found = await find_upload(self.client, out, channel, ts, name, recorded)
            if found is not None:
                return {"attachment_id": attachment_id, "file_id": found}
        # files_upload_v2 makes two Tier 4 calls (get an upload URL, complete the upload): both lanes.
        async with out.turn(outbox.method_lane("files.completeUploadExternal")):
            response = await call_slack(
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
        if out.tried_before and await find_channel_file(self.client, out, channel, name):
            return None  # an earlier try uploaded it and died before it was marked sent
        content = await digest.draw(self.services, date.fromisoformat(monday), chart)
        async with out.turn(outbox.method_lane("files.completeUploadExternal")):
            await call_slack(
                out, outbox.method_lane("files.getUploadURLExternal"), self.client.files_upload_v2,
                channel=channel, file=content, filename=name, title=name,
            )  # fmt: skip
        return None

    async def _notice(self, out: Outgoing, channel: str, ts: str, text: str) -> None:
        await call_slack(
            out, outbox.post_lane(channel), self.client.chat_postMessage, channel=channel, thread_ts=ts, text=text
        )
