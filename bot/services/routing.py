"""Where a ticket's card goes: by client, else by severity, else the support channel (SLACK_CARD_CHANNELS)."""

from __future__ import annotations

from bot.domain.types import Severity
from bot.settings import Settings

__all__ = ["card_channel"]


def card_channel(settings: Settings, client_id: int, severity: Severity) -> str:
    """The channel of a new ticket's card: a client's own channel wins over its severity's."""
    routes = settings.slack_card_channels
    return routes.get(f"client:{client_id}") or routes.get(f"sev{int(severity)}") or settings.slack_support_channel
