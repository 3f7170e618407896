"""The Slack adapter: parses actions and events, checks roles, calls one service, renders blocks."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.delivery import Dispatcher
from bot.services.context import Services


def register(app: AsyncApp, services: Services, dispatcher: Dispatcher) -> None:
    """Add the listeners to `app` and the Slack senders to `dispatcher`."""
