"""Builds the policy core and the store from settings: the only place settings meet the domain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.domain.calendar import BusinessCalendar
from bot.domain.contracts import TierRules
from bot.domain.types import Severity
from bot.keys import KeysUnavailable, configured_keys, secret_box, stored_tokens, write_key_file
from bot.settings import Settings
from storage import Store, generate_key
from storage import open_store as _open_backend


def build_calendar(settings: Settings) -> BusinessCalendar:
    """P-SLA-5: windows, zone, Mexican holidays and the company's extra days off."""
    return BusinessCalendar.from_specs(settings.business_hours, settings.zone, settings.extra_days_off)


def tier_rules(settings: Settings) -> TierRules:
    """P-POL-1 / P-POL-6 with the configured hours (R-POOLS: on-site and in-office advice apart)."""
    return TierRules.from_mapping(
        {tier: Decimal(str(h)) for tier, h in settings.tier_hours.items()},
        {tier: Decimal(str(h)) for tier, h in settings.onsite_hours.items() if h},
        {tier: Decimal(str(h)) for tier, h in settings.office_hours.items() if h},
    )


def response_targets(settings: Settings) -> dict[Severity, timedelta]:
    """P-SLA-1..4 in business time."""
    return {sev: timedelta(hours=hours) for sev, hours in settings.sla_hours.items()}


async def open_store(settings: Settings, *, create_keys: bool = True, migrate: bool = True) -> Store:
    """Open the configured database with the secret keys.

    Without keys (no SECRETS_KEYS, no key file) a key file is made only for a database that holds no encrypted
    secret (a first start); otherwise KeysUnavailable says to restore the file: a new key would silently make
    every stored password unreadable. Raises KeysUnavailable."""
    keys = configured_keys(settings)
    if keys or not create_keys:
        return await _open_backend(settings.database_location, secret_box(settings, keys), migrate=migrate)
    candidate = generate_key()
    store = await _open_backend(settings.database_location, secret_box(settings, [candidate]), migrate=migrate)
    try:
        sealed = await stored_tokens(store)
        if sealed:
            raise KeysUnavailable(
                "lost_file", f"the key file {settings.secrets_key_file} is missing, but the database holds"
                f" {len(sealed)} encrypted secret(s): restore the key file from your backup (or set SECRETS_KEYS);"
                " a new key cannot open them", path=settings.secrets_key_file, count=len(sealed),
            )  # fmt: skip
        write_key_file(settings.secrets_key_file, [candidate])
    except BaseException:
        await store.close()
        raise
    return store
