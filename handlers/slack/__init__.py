"""The Slack adapter: parses actions and events, checks roles, calls one service, renders blocks."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.delivery import Dispatcher
from bot.services.context import Services
from handlers.slack.listeners import register_listeners
from handlers.slack.senders import SlackSenders, register_senders


def register(app: AsyncApp, services: Services, dispatcher: Dispatcher, *, telegram_bot: Any = None) -> None:
    """Add the listeners to `app` and the Slack senders to `dispatcher`.

    `telegram_bot` (python-telegram-bot's Bot) lets the file sender download a client's file for the thread.
    """
    register_listeners(app, services)
    register_senders(dispatcher, SlackSenders(app.client, services, telegram_bot))
