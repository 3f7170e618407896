"""The Slack adapter: requests in through the inbox (translated into desk events), Web API calls out through the
outbox senders. It decides nothing: bot.services.desk_entry does."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.delivery import Dispatcher
from bot.inbox import InboxWorker
from bot.services.context import Services
from handlers.slack.listeners import register_listeners
from handlers.slack.senders import FileFetcher, SlackSenders, register_senders

__all__ = ["register"]


def register(
    app: AsyncApp, inbox: InboxWorker, dispatcher: Dispatcher, services: Services, *, fetch_file: FileFetcher | None
) -> None:
    """Add the listeners to `app` and the inbox, and the Slack senders to `dispatcher`.

    `fetch_file` downloads a client's Telegram file for the card's thread (None: no Telegram side).
    """
    register_listeners(app, inbox, services, rate_limited=dispatcher.note_rate_limited)
    register_senders(dispatcher, SlackSenders(app.client, services, fetch_file))
