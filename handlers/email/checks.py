"""`supportbot doctor`'s mailbox check (P-IN-6): the IMAP login and folder, and the SMTP login, as the bot
will use them (nothing is read, marked or sent). Its lines are sentences of the catalogues (`cli.doctor.*`)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import aiosmtplib

from handlers.email.imap import MailboxError, open_mailbox
from handlers.email.smtp import smtp_options

if TYPE_CHECKING:
    from bot.doctor import Checkup, Line

__all__ = ["mailbox"]


async def mailbox(c: Checkup) -> list[Line]:
    """The support mailbox: IMAP login and folder (IDLE or polling), SMTP login."""
    from bot.cli.text import say
    from bot.doctor import fail, item  # the doctor lists this check: imported when it runs

    s = c.settings
    if not s.imap_host and not s.smtp_host:
        return []  # the e-mail channel is off: nothing to check
    if not (s.imap_host and s.smtp_host):
        missing = "SMTP_HOST" if s.imap_host else "IMAP_HOST"
        return [fail(item("mailbox"), say("doctor.mailbox.half", missing=missing))]
    return [await _imap(c), await _smtp(c)]


async def _imap(c: Checkup) -> Line:
    from bot.cli.text import say
    from bot.doctor import fail, item, ok

    s = c.settings
    name = item("mailbox_imap", user=s.imap_user, host=s.imap_host, port=s.imap_port)
    try:
        imap = await open_mailbox(s, wait=10)
    except MailboxError as exc:
        return fail(name, str(exc))
    try:
        selected = await imap.select(s.imap_folder)
        if selected.result != "OK":
            return fail(name, say("doctor.mailbox.no_folder", folder=s.imap_folder))
        idle = imap.has_capability("IDLE")
        how = "IDLE" if idle else say("doctor.mailbox.polling", seconds=s.imap_poll_seconds)
        login = "XOAUTH2" if s.imap_oauth2_token else say("doctor.mailbox.password")
        return ok(name, say("doctor.mailbox.imap_ok", login=login, folder=s.imap_folder, how=how))
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(imap.logout(), 5)


async def _smtp(c: Checkup) -> Line:
    from bot.cli.text import say
    from bot.doctor import fail, item, ok

    s = c.settings
    name = item("mailbox_smtp", host=s.smtp_host, port=s.smtp_port, security=s.smtp_security)
    login = {"username", "password", "oauth_token_generator"}
    client = aiosmtplib.SMTP(**{k: v for k, v in smtp_options(s).items() if k not in login})
    try:
        await client.connect()
        if s.smtp_user and s.smtp_oauth2_token:
            await client.auth_xoauth2(s.smtp_user, s.smtp_oauth2_token)
        elif s.smtp_user:
            await client.login(s.smtp_user, s.smtp_password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        return fail(name, say("doctor.mailbox.refused", user=s.smtp_user, code=exc.code, message=exc.message))
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return fail(name, say("doctor.mailbox.unusable", error=str(exc) or type(exc).__name__))
    finally:
        with contextlib.suppress(Exception):
            await client.quit()
    if s.smtp_user:
        who = say("doctor.mailbox.logged_in_as", user=s.smtp_user)
    else:
        who = say("doctor.mailbox.no_login")
    return ok(name, say("doctor.mailbox.smtp_ok", who=who, address=s.mailbox_address))
