"""kill -9 while the bot reads the mailbox: the real bot as its own process (`python -m bot run`), killed with
SIGKILL in the middle of fetching big messages, then while handling them, then started again. Every message
becomes exactly one ticket, and every one is marked handled on the server (P-IN-6: nothing is marked before its
ticket is committed; the Message-ID is the inbox key)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.demo import LAURA_ID, Demo
from storage import Tx
from tests.email.messages import LAURA_MAIL, PNG, mail
from tests.email.servers import (
    MAILBOX_PASSWORD,
    MAILBOX_USER,
    Dovecot,
    SmtpSink,
    Tap,
    running_dovecot,
    running_smtp,
    running_tap,
)
from tests.faults.process import Outside, running_outside

pytestmark = pytest.mark.mailserver

MESSAGES = 8
ATTACHMENT = PNG + os.urandom(600_000)  # big enough that reading the mailbox takes a while


async def _laura_has_mail(tx: Tx, demo: Demo) -> None:
    laura = await tx.get_contact_by_telegram_user(LAURA_ID)
    assert laura is not None
    await tx.set_contact_email(laura.id, LAURA_MAIL)


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Dovecot, Tap, SmtpSink]]:
    with running_dovecot() as dovecot:
        async with running_tap(dovecot.port) as tap, running_smtp() as smtp:
            yield dovecot, tap, smtp


async def test_sigkill_mid_fetch_loses_and_doubles_nothing(
    tmp_path: Path, servers: tuple[Dovecot, Tap, SmtpSink]
) -> None:
    dovecot, tap, smtp = servers
    sent = [mail(subject=f"Reporte {n}", files=[(f"foto-{n}.png", "image/png", ATTACHMENT)]) for n in range(MESSAGES)]
    for message in sent:
        await dovecot.deliver(message)
    env = {
        "IMAP_HOST": "127.0.0.1", "IMAP_PORT": str(tap.port), "IMAP_SECURITY": "none",
        "IMAP_USER": MAILBOX_USER, "IMAP_PASSWORD": MAILBOX_PASSWORD, "IMAP_POLL_SECONDS": "1",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "none",
        "MAIL_MAX_TICKETS_PER_HOUR": "1000",
    }  # fmt: skip
    # 1. In the middle of reading the mailbox: the transfer is held half-way, nothing can be committed yet.
    tap.arm(len(ATTACHMENT) * MESSAGES // 2)
    async with running_outside(tmp_path, seed=_laura_has_mail, **env) as outside:
        await asyncio.wait_for(tap.tripped.wait(), 30)
        await outside.bot.kill9()
        tap.release()
        assert await outside.open_work() == 0 and await outside.tickets() == []  # nothing was committed
        assert not any("$Supportbot" in f for f in (await dovecot.flags()).values())  # nothing was marked
        await outside.bot.start()
        # 2. While handling them: the first tickets are committed (their cards and replies on their way).
        await outside.until(_some_tickets(outside), "the first tickets", limit=60)
        await outside.bot.kill9()
        await outside.bot.start()
        # 3. Whatever it is doing a moment after starting again.
        await asyncio.sleep(0.5)
        await outside.bot.kill9()
        await outside.bot.start()

        async def settled() -> bool:
            flags = await dovecot.flags()
            handled = all("$Supportbot" in flags.get(str(m["Message-ID"]), "") for m in sent)
            return handled and len(await outside.tickets()) >= MESSAGES and await outside.open_work() == 0

        await outside.until(settled, "every message handled and marked", limit=90)
        tickets = await outside.tickets()

        async def roots(tx: Tx) -> list[str]:
            found = [await tx.get_mail_ticket(t.id) for t in tickets]
            return [m.root_message_id for m in found if m is not None]

        assert sorted(await outside.read(roots)) == sorted(str(m["Message-ID"]) for m in sent)  # one each, none twice
        assert len(tickets) == MESSAGES and outside.bot.kills == 3
        # Each ticket's automatic reply went out; a reply sent twice (killed between the server's OK and the
        # record of it) carries the same Message-ID, so the client's mail program shows it once.
        replies = {str(m["Message-ID"]) for m in smtp.to(LAURA_MAIL)}
        assert len(replies) == MESSAGES


def _some_tickets(outside: Outside):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return len(await outside.tickets()) > 0

    return check
