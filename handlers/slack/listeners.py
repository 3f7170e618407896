"""Where Slack's events and interactions come in, and how an inbox entry becomes a desk event.

Every listener commits the request to the inbox and only then acknowledges (bolt's process_before_response):
a click, a submitted modal or a thread reply is never lost between Slack's request and our answer. A modal's
form errors are still returned in the acknowledgement: plain mistakes (an empty field) at once, refusals the
desk entry decides (a severity that is not more urgent) once the entry has run, within Slack's 3 s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.inbox import Arrival, InboxEntry, InboxWorker, Receipt
from bot.logs import log_context
from bot.services import desk_entry, digest, mail_desk
from bot.services.context import Services
from bot.services.events import CardButton, HomeOpened, SharedFile, ThreadMessage
from handlers.slack import blocks, modals

__all__ = ["ACTION_NAMES", "describe_request", "error_handler", "register_listeners", "to_button", "to_message"]

log = logging.getLogger(__name__)

SOURCE = "slack"
ACTION, VIEW, MESSAGE, HOME = "action", "view", "message", "home"
ACTION_NAMES = {
    blocks.ACTION_CLAIM: desk_entry.CLAIM,
    blocks.ACTION_REVEAL: desk_entry.REVEAL,
    blocks.ACTION_ASK: desk_entry.ASK,
    blocks.ACTION_ESCALATE: desk_entry.ESCALATE,
    blocks.ACTION_RESOLVE: desk_entry.RESOLVE,
    blocks.ACTION_APPROVE: desk_entry.APPROVE,
    blocks.ACTION_REJECT: desk_entry.REJECT,
    blocks.ACTION_SEVERITY: desk_entry.SEVERITY,
    blocks.ACTION_RELEASE: desk_entry.RELEASE,
    blocks.ACTION_REASSIGN: desk_entry.REASSIGN,
    blocks.ACTION_CONTACT: desk_entry.CONTACT,
    mail_desk.ACTION_ID: mail_desk.ATTACH,  # P-IN-6: "correo sin cliente" attached to a company
    digest.ACTION_ID: digest.NOTIFY_SALES,  # issue 12: the weekly digest's "Avisar a ventas"
}
# How long a modal's acknowledgement waits for the desk entry's verdict (Slack allows 3 s in all).
FORM_VERDICT_WAIT = 2.0
_RELAYED_SUBTYPES = (None, "file_share", "thread_broadcast")


def _card_key(channel: str, ts: str, user: str) -> str:
    """One card (and its thread) is one inbox ordering key: a claim and the reply after it stay in order."""
    return f"slack:msg:{channel}:{ts}" if channel and ts else f"slack:user:{user}"


def to_button(body: Mapping[str, Any]) -> CardButton | None:
    """A block_actions payload as a desk event (None for an action that is not one of ours)."""
    action = (body.get("actions") or [{}])[0]
    name = ACTION_NAMES.get(str(action.get("action_id", "")))
    if name is None:
        return None
    container = body.get("container") or {}
    value = str(action.get("value", ""))
    return CardButton(
        user=str((body.get("user") or {}).get("id", "")),
        action=name,
        value=int(value) if value.isdigit() and len(value) <= 12 else None,
        channel=str((body.get("channel") or {}).get("id") or container.get("channel_id") or ""),
        message_ts=str(container.get("message_ts", "")),
        trigger_id=str(body.get("trigger_id", "")),
    )


def to_message(event: Mapping[str, Any]) -> ThreadMessage | None:
    """A thread reply by a person as a desk event (None for a top-level message, a bot's, an edit)."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts") or event.get("bot_id"):
        return None
    if event.get("subtype") not in _RELAYED_SUBTYPES:
        return None
    files = tuple(
        SharedFile(
            str(f.get("id", "")),
            str(f.get("name") or f.get("title") or "archivo"),
            str(f.get("mimetype", "")),
            int(f.get("size") or 0),
            str(f.get("url_private_download") or f.get("url_private") or ""),
        )
        for f in event.get("files") or ()
        if isinstance(f, dict)
    )
    # A message shared into the thread ("Compartir mensaje") arrives as an attachment: its words go with it.
    shared = [
        str(a.get("text") or a.get("fallback") or "")
        for a in event.get("attachments") or ()
        if isinstance(a, dict) and (a.get("is_share") or a.get("is_msg_unfurl"))
    ]
    text = "\n".join(part for part in (str(event.get("text", "")), *shared) if part)
    return ThreadMessage(
        user=str(event.get("user", "")),
        channel=str(event.get("channel", "")),
        thread_ts=str(thread_ts),
        ts=str(event.get("ts", "")),
        text=text,
        files=files,
    )


def describe_request(body: Mapping[str, Any]) -> tuple[str, str, str]:
    """What a Slack request was, for a log line: (what, its id, who), e.g. ("event message", "Ev0123", "U0MARCO")."""
    kind = str(body.get("type") or "request")
    user = body.get("user")
    who = str(user.get("id", "")) if isinstance(user, Mapping) else str(user or "")
    if kind == "event_callback":
        event = body.get("event") or {}
        return f"event {event.get('type', '?')}", str(body.get("event_id", "")), who or str(event.get("user", ""))
    if kind == "block_actions":
        action = (body.get("actions") or [{}])[0]
        return f"action {action.get('action_id', '?')}", str(action.get("action_ts", "")), who
    if kind in ("view_submission", "view_closed"):
        view = body.get("view") or {}
        return f"{kind} {view.get('callback_id', '?')}", str(view.get("id", "")), who
    return kind, "", who


def _retry_after(error: Exception) -> float | None:
    """The wait Slack asked for when error is its 429 (None: another error)."""
    response = getattr(error, "response", None) if isinstance(error, SlackApiError) else None
    if response is None or getattr(response, "status_code", None) != 429:
        return None
    headers = getattr(response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After") or headers.get("retry-after") or 1)
    except (TypeError, ValueError):
        return 1.0


def error_handler(rate_limited: Callable[[str], None] | None = None) -> Callable[..., Any]:
    """bolt's app.error: a request bolt could not handle (Slack then gets a 500 and retries it), logged once
    with what it was; a 429 from Slack is a wait, logged at INFO without a traceback."""

    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        what, ident, who = describe_request(body or {})
        with log_context(event=f"slack:{ident}" if ident else None):
            seconds = _retry_after(error)
            if seconds is not None:
                if rate_limited is not None:
                    rate_limited("slack")
                log.info("slack %s by %s rate limited by Slack: waiting %.1f s", what, who or "?", seconds)
                return
            log.error("slack %s by %s failed: %s: %s", what, who or "?", type(error).__name__, error, exc_info=error)

    return on_error


def register_listeners(
    app: AsyncApp, inbox: InboxWorker, services: Services, *, rate_limited: Callable[[str], None] | None = None
) -> None:
    """The Slack edge (bolt listeners that commit, then acknowledge) and the inbox handlers behind it.
    rate_limited counts a 429 from Slack on the way in."""
    cat = services.catalogue

    async def on_action(ack: AsyncAck, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id", ""))
        container = body.get("container") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        # What a replay of this very press repeats (Slack retries, a double delivery).
        key = f"action:{user}:{action.get('action_ts', '')}:{action.get('action_id', '')}:{body.get('trigger_id', '')}"
        ordering = _card_key(channel, str(container.get("message_ts", "")), user)
        await inbox.receive([Arrival(SOURCE, key, ordering, ACTION, body)])
        await ack()

    async def on_view(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            form = modals.parse_submission(body, cat)
        except modals.FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        except ValueError as exc:
            log.warning("a modal that is not ours, or tampered with: %s", exc)
            await ack()
            return
        view = body.get("view") or {}
        state = json.dumps(view.get("state") or {}, sort_keys=True).encode()
        key = f"view:{view.get('id', '')}:{hashlib.sha256(state).hexdigest()[:32]}"
        ordering = _card_key(form.channel, form.message_ts, form.user)
        ids = await inbox.receive([Arrival(SOURCE, key, ordering, VIEW, body)])
        errors = None if ids[0] is None else await inbox.outcome(ids[0], FORM_VERDICT_WAIT)
        if errors:
            await ack(response_action="errors", errors=errors)
        else:
            await ack()

    async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        message = to_message(event)
        if message is None:
            return
        key = str(body.get("event_id") or f"message:{message.channel}:{message.ts}")
        ordering = _card_key(message.channel, message.thread_ts, message.user)
        await inbox.receive([Arrival(SOURCE, key, ordering, MESSAGE, event)])

    async def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = str(event.get("user") or "")
        if event.get("tab", "home") != "home" or not user:
            return
        key = str(body.get("event_id") or f"home:{user}:{event.get('event_ts', '')}")
        await inbox.receive([Arrival(SOURCE, key, f"slack:user:{user}", HOME, event)])

    app.action(re.compile(r"^desk_"))(on_action)
    app.view(re.compile(r"^desk_"))(on_view)
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home)
    app.error(error_handler(rate_limited))

    # --- behind the inbox: translate, then the desk entry ------------------------------------------------
    async def handle_action(entry: InboxEntry, receipt: Receipt) -> dict[str, str] | None:
        return await desk_entry.handle_action(services, receipt, to_button(entry.payload))

    async def handle_view(entry: InboxEntry, receipt: Receipt) -> dict[str, str] | None:
        return await desk_entry.handle_action(services, receipt, modals.parse_submission(dict(entry.payload), cat))

    async def handle_message(entry: InboxEntry, receipt: Receipt) -> None:
        message = to_message(entry.payload)
        if message is None:
            await desk_entry.handle_action(services, receipt, None)
        else:
            await desk_entry.handle_message(services, receipt, message)

    async def handle_home(entry: InboxEntry, receipt: Receipt) -> None:
        await desk_entry.handle_action(services, receipt, HomeOpened(str(entry.payload.get("user", ""))))

    inbox.register(SOURCE, ACTION, handle_action)
    inbox.register(SOURCE, VIEW, handle_view)
    inbox.register(SOURCE, MESSAGE, handle_message)
    inbox.register(SOURCE, HOME, handle_home)
