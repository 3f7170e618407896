"""Nothing said into the void: who hears why a thread message did not reach the client, and the files that do.

A message in a card's thread reaches the client only from the assignee. Anyone else who writes there is told
at once, in an ephemeral in that thread, why it stayed in Slack and what to do instead ("Tomar", or the
internal-note prefix). The assignee's files go to the client too (a photo as a photo, anything else as a
document), fetched from Slack when they are sent; one Telegram would refuse is refused here, with the reason.
"""

from __future__ import annotations

from datetime import datetime

from bot.i18n import Safe
from bot.services import desk_response, outbox
from bot.services.context import Services
from bot.services.desk_common import AGENT, TicketView, agent_text, audit, client_text
from bot.services.events import SharedFile, ThreadMessage
from storage import Tx

__all__ = [
    "DELIVERED",
    "MAX_DOCUMENT_BYTES",
    "MAX_PHOTO_BYTES",
    "NOT_DELIVERED",
    "PHOTO_TYPES",
    "relay_files",
    "tell_unheard",
]

DELIVERED = "white_check_mark"  # the reaction on a relayed message once Telegram accepted it
NOT_DELIVERED = "warning"  # ... and when it never can be delivered
# What the Bot API takes as an upload (LIMITS.md family): photos up to 10 MB, any file up to 50 MB.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


async def tell_unheard(
    tx: Tx, services: Services, message: ThreadMessage, key: str, at: datetime, **params: object
) -> None:
    """An ephemeral, to the author only, in the thread they wrote in: why the client did not get it."""
    text = agent_text(services, key, prefix=services.settings.internal_note_prefix.strip(), **params)
    await outbox.slack_ephemeral(tx, message.channel, message.user, text, at=at, thread_ts=message.thread_ts)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


async def relay_files(
    tx: Tx, services: Services, view: TicketView, agent_name: str, message: ThreadMessage, at: datetime
) -> int:
    """Queue the assignee's files for the client (after any text of the same message, in the chat's order).
    A file Telegram cannot take is not queued: its author hears why. Returns: how many were queued."""
    ticket = view.ticket
    chat = ticket.telegram_chat_id
    if chat is None:
        return 0
    queued = 0
    for n, shared in enumerate(message.files):
        problem = _refusal(shared)
        if problem is not None:
            key, params = problem
            await tell_unheard(tx, services, message, key, at, **params)
            await audit(tx, ticket.id, at, AGENT, message.user, "agent_file_refused", name=shared.name,
                        size=shared.size, reason=key.rsplit(".", 1)[-1])  # fmt: skip
            continue
        kind = outbox.TG_PHOTO if shared.mimetype in PHOTO_TYPES else outbox.TG_DOCUMENT
        caption = client_text(services, view.language, "tickets.agent_file", ticket=ticket.number, agent=agent_name)
        file = {"url": shared.url, "name": shared.name, "mimetype": shared.mimetype, "size": shared.size}
        await outbox.telegram_file(
            tx, chat, kind, caption, file, at=at, dedupe_key=f"relay-file:{message.channel}:{message.ts}:{n}",
            ticket_id=ticket.id, ticket=ticket.number, first_response=desk_response.REPLY,
            relayed={"channel": message.channel, "ts": message.ts},
        )  # fmt: skip
        queued += 1
    if queued:
        await audit(tx, ticket.id, at, AGENT, message.user, "agent_files_relayed", files=queued)
    return queued


def _refusal(shared: SharedFile) -> tuple[str, dict[str, object]] | None:
    """Why Telegram could not take this file (catalogue key and params), or None."""
    if not shared.url:
        return "desk.void.file_unreadable", {"name": shared.name}
    if shared.size > MAX_DOCUMENT_BYTES:
        return "desk.void.file_too_big", {
            "name": shared.name,
            "size": Safe(_megabytes(shared.size)),
            "max_mb": MAX_DOCUMENT_BYTES // 2**20,
        }
    return None
