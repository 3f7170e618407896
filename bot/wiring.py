"""Builds the policy core and the store from settings: the only place settings meet the domain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.domain.calendar import BusinessCalendar
from bot.domain.contracts import TierRules
from bot.domain.types import Severity
from bot.keys import configured_keys, ensure_keys
from bot.settings import Settings
from storage import SecretBox, Store
from storage import open_store as _open_backend


def build_calendar(settings: Settings) -> BusinessCalendar:
    """P-SLA-5: windows, zone, Mexican holidays and the company's extra days off."""
    return BusinessCalendar.from_specs(settings.business_hours, settings.zone, settings.extra_days_off)


def tier_rules(settings: Settings) -> TierRules:
    """P-POL-1 / P-POL-6 with the configured hours."""
    return TierRules.from_mapping(
        {tier: Decimal(str(h)) for tier, h in settings.tier_hours.items()},
        {tier: Decimal(str(h)) for tier, h in settings.onsite_hours.items() if h},
    )


def response_targets(settings: Settings) -> dict[Severity, timedelta]:
    """P-SLA-1..4 in business time."""
    return {sev: timedelta(hours=hours) for sev, hours in settings.sla_hours.items()}


async def open_store(settings: Settings, *, create_keys: bool = True, migrate: bool = True) -> Store:
    """Open the configured database with the secret keys (generated on first start when allowed)."""
    keys = ensure_keys(settings) if create_keys else configured_keys(settings)
    return await _open_backend(settings.database_path, SecretBox(keys), migrate=migrate)
