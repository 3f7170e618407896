"""What every `supportbot` verb shares: the one-line error, the table of verbs, the database and its transaction
with friendly errors, and the services a verb that acts like the bot needs."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

from bot.cli.text import friendly, say
from bot.domain.errors import DomainError
from bot.keys import KeysUnavailable
from bot.services.context import Services
from bot.settings import Settings
from bot.validation import FieldError
from storage import SecretError, Store, StoreError, Tx
from storage.records import Client

__all__ = ["CliError", "command", "dispatch", "hours", "open_services", "require_client", "store", "transaction"]


class CliError(Exception):
    """An operator mistake or a failed operation: one line saying what to fix, exit status 1."""


Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]
_COMMANDS: dict[tuple[str, str | None], Command] = {}


def command(name: str, action: str | None = None) -> Callable[[Command], Command]:
    """Register the function that runs `supportbot NAME ACTION`."""

    def register(fn: Command) -> Command:
        _COMMANDS[(name, action)] = fn
        return fn

    return register


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the verb named by args. Returns the exit status; a refusal of the store or the policy is a CliError."""
    fn = _COMMANDS[(args.command, getattr(args, "action", None))]
    try:
        return await fn(args, settings)
    except FieldError as exc:
        raise CliError(say(f"invalid.{exc.key}", value=exc.value)) from None
    except StoreError as exc:
        raise CliError(friendly(str(exc))) from None
    except KeysUnavailable as exc:
        raise CliError(say(f"keys.{exc.key}", **exc.params)) from None
    except (DomainError, SecretError) as exc:
        raise CliError(str(exc)) from None


@asynccontextmanager
async def store(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Store]:
    """The configured database, closed afterwards; one that cannot be opened is one line."""
    from bot.wiring import open_store

    try:
        opened = await open_store(settings, migrate=migrate)
    except OSError as exc:
        raise CliError(say("db.cannot_open", where=settings.database_shown, why=exc.strerror or exc)) from None
    try:
        yield opened
    finally:
        await opened.close()


@asynccontextmanager
async def transaction(settings: Settings) -> AsyncIterator[Tx]:
    """One transaction on the configured database (an invalid field raised inside rolls it back; dispatch says
    it in one line)."""
    async with store(settings) as opened, opened.transaction() as tx:
        yield tx


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """What the bot's use cases need (store, calendar, tiers, catalogue, keys), for verbs that act like the bot."""
    from bot.i18n import Catalogue
    from bot.keys import configured_keys, secret_box
    from bot.wiring import build_calendar, response_targets, tier_rules

    async with store(settings) as opened:
        yield Services(
            settings=settings, store=opened, calendar=build_calendar(settings), tiers=tier_rules(settings),
            targets=response_targets(settings), catalogue=Catalogue.load(),
            box=secret_box(settings, configured_keys(settings)),
        )  # fmt: skip


async def require_client(tx: Tx, client_id: int) -> Client:
    client = await tx.get_client(client_id)
    if client is None:
        raise CliError(say("missing.client", id=client_id))
    return client


def hours(value: Decimal | float) -> str:
    """2.50 -> "2.5", 3.00 -> "3": hours as people write them."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"
