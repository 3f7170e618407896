"""What every use case and adapter receives: the store, the policy core built from settings, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.clock import Clock, utcnow
from bot.domain.calendar import BusinessCalendar
from bot.domain.contracts import TierRules
from bot.domain.types import Severity
from bot.i18n import Catalogue
from bot.settings import Settings
from storage import SecretBox, Store


def _nothing() -> None:
    return None


@dataclass
class Services:
    """Built once in the composition root and handed to every adapter (never a module global)."""

    settings: Settings
    store: Store
    calendar: BusinessCalendar
    tiers: TierRules
    targets: dict[Severity, timedelta]
    catalogue: Catalogue
    box: SecretBox  # encrypts what clients type at a password step (P-IN-3) and opens it for the assignee
    clock: Clock = utcnow
    # Called after a transaction that queued outbox rows or timers, so they go out now, not at the next poll.
    wake_delivery: Callable[[], None] = field(default=_nothing)
