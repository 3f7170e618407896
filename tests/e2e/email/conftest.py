"""Fixtures of the e-mail end-to-end tests: dovecot and an SMTP server on loopback around the whole bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.demo import LAURA_ID
from sandbox.testing import World, running_world
from storage import Store
from storage.records import Ticket
from tests.email.messages import LAURA_MAIL
from tests.email.servers import MAILBOX_PASSWORD, MAILBOX_USER, Dovecot, SmtpSink, running_dovecot, running_smtp


def mail_settings(dovecot: Dovecot, smtp: SmtpSink) -> dict[str, Any]:
    """The bot's e-mail settings, pointed at the loopback servers (plaintext: nothing leaves this machine)."""
    return {
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_user": MAILBOX_USER,
        "imap_password": MAILBOX_PASSWORD,
        "imap_poll_seconds": 2,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "telegram_bot_username": "IntecniaSoporteBot",
    }


@dataclass
class MailWorld:
    world: World
    dovecot: Dovecot
    smtp: SmtpSink

    @property
    def store(self) -> Store:
        assert self.world.bot.store is not None
        return self.world.bot.store

    async def until(self, check: Callable[[], Any], what: str, limit: float = 15.0) -> Any:
        """Settle the bot until check() (sync or async) is truthy: the mailbox is read in the background."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            await self.world.settle()
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                await self.world.settle()
                return value
            if loop.time() > deadline:
                raise AssertionError(f"waited {limit:g} s for {what}; dovecot log:\n{self.dovecot.log()[-2000:]}")
            await asyncio.sleep(0.05)

    async def tickets(self) -> list[Ticket]:
        async with self.store.transaction() as tx:
            return await tx.list_tickets()

    async def one_ticket(self) -> Ticket:
        async def found() -> list[Ticket]:
            return await self.tickets()

        [ticket] = await self.until(found, "a ticket")
        return ticket  # type: ignore[no-any-return]

    async def handled_on_server(self, message_id: str) -> bool:
        flags = await self.dovecot.flags()
        return "$Supportbot" in flags.get(message_id, "") and "\\Seen" in flags.get(message_id, "")


@pytest.fixture
async def mail_world(tmp_path: Path) -> AsyncIterator[MailWorld]:
    """The whole bot with the e-mail channel on; Laura (the demo client) has an address."""
    with running_dovecot() as dovecot:
        async with running_smtp() as smtp:
            async with running_world(tmp_path, **mail_settings(dovecot, smtp)) as world:
                assert world.bot.store is not None
                async with world.bot.store.transaction() as tx:
                    laura = await tx.get_contact_by_telegram_user(LAURA_ID)
                    assert laura is not None
                    await tx.set_contact_email(laura.id, LAURA_MAIL)
                yield MailWorld(world, dovecot, smtp)
                world.assert_no_violations()
