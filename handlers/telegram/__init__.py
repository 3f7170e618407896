"""The Telegram adapter: parses updates, calls one service, renders the answer."""

from __future__ import annotations

from telegram.ext import Application

from bot.delivery import Dispatcher
from bot.services.context import Services


def register(application: Application, services: Services, dispatcher: Dispatcher) -> None:  # type: ignore[type-arg]
    """Add the bot's handlers to `application` and its senders to `dispatcher`."""
