"""The e-mail adapter (P-IN-6): the support mailbox in through the inbox (translated into MailReceived), replies
out through the outbox's e-mail sender. It decides nothing: bot.services.mail_entry does."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.delivery import Dispatcher, PermanentFailure
from bot.inbox import InboxEntry, InboxWorker, Receipt
from bot.services import mail_delivered, mail_entry
from bot.services.context import Services
from bot.services.mail_events import MailReceived
from bot.services.mail_open import MAIL_FILE_PREFIX
from bot.services.mail_out import EMAIL, MAIL_SEND
from handlers.email.imap import MESSAGE, SOURCE, MailPoller
from handlers.email.parse import parse_message
from handlers.email.smtp import MailSender
from handlers.slack.files import SlackFileFetcher
from handlers.slack.uploads import FileFetcher

__all__ = ["FileFetcher", "MailPoller", "poller", "register", "to_event", "with_mail_files"]


def to_event(payload: Mapping[str, Any], own: frozenset[str]) -> MailReceived:
    """An inbox entry of the mailbox as the service entry reads it."""
    raw = base64.b64decode(str(payload.get("raw") or ""))
    arrived = datetime.fromisoformat(str(payload["arrived_at"]))
    mail = parse_message(raw, arrived, own, fallback_id=str(payload.get("message_id") or ""))
    if payload.get("too_big"):
        from dataclasses import replace

        mail = replace(mail, too_big=True)
    return mail


def poller(services: Services, inbox: InboxWorker) -> MailPoller:
    """The mailbox's reader, asking the inbox (through the service layer) what it holds and has handled."""

    async def view(keys: list[str]) -> tuple[set[str], set[str]]:
        return await mail_entry.mailbox_view(services, SOURCE, keys)

    return MailPoller(services.settings, inbox, view, clock=services.clock)


def register(
    inbox: InboxWorker,
    dispatcher: Dispatcher,
    services: Services,
    *,
    poller: MailPoller | None = None,
    fetch_slack_file: SlackFileFetcher | None = None,
) -> None:
    """Route the mailbox's inbox entries to the mail entry; register the e-mail sender and its hooks.
    `fetch_slack_file` downloads the files an agent shared in a thread (None: no Slack side)."""
    own = frozenset({services.settings.mailbox_address.lower(), services.settings.support_email.lower()})

    async def handle(entry: InboxEntry, receipt: Receipt) -> None:
        await mail_entry.handle(services, receipt, to_event(entry.payload, own))
        if poller is not None:
            poller.wake()  # the message can be marked handled on the server now

    async def failed(entry: InboxEntry, receipt: Receipt, error: str) -> None:
        await mail_entry.failed(services, receipt, error)

    inbox.register(SOURCE, MESSAGE, handle, failed)
    sender = MailSender(services.settings, clock=services.clock, fetch_slack_file=fetch_slack_file)
    dispatcher.register(EMAIL, MAIL_SEND, sender.send)
    mail_delivered.register(dispatcher, services)


def with_mail_files(services: Services, telegram: FileFetcher | None) -> FileFetcher:
    """The card's thread uploads an attachment by its file id: one that came by e-mail ("mail:<id>") is read from
    the store, any other from Telegram."""

    async def fetch(file_id: str) -> bytes:
        if file_id.startswith(MAIL_FILE_PREFIX):
            content = await mail_entry.read_file(services, int(file_id.removeprefix(MAIL_FILE_PREFIX)))
            if content is None:
                raise PermanentFailure(f"the file {file_id} that came by e-mail is gone")
            return content
        if telegram is None:
            raise PermanentFailure("no Telegram side to download files from")
        return await telegram(file_id)

    return fetch
