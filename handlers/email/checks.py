"""`supportbot doctor`'s mailbox check (P-IN-6): the IMAP login and folder, and the SMTP login, as the bot
will use them (nothing is read, marked or sent)."""

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
    from bot.doctor import fail  # the doctor lists this check: imported when it runs

    s = c.settings
    if not s.imap_host and not s.smtp_host:
        return []  # the e-mail channel is off: nothing to check
    if not (s.imap_host and s.smtp_host):
        missing = "SMTP_HOST" if s.imap_host else "IMAP_HOST"
        return [fail("mailbox", f"{missing} is empty: the e-mail channel needs both servers")]
    return [await _imap(c), await _smtp(c)]


async def _imap(c: Checkup) -> Line:
    from bot.doctor import fail, ok

    s = c.settings
    item = f"mailbox IMAP {s.imap_user}@{s.imap_host}:{s.imap_port}"
    try:
        imap = await open_mailbox(s, wait=10)
    except MailboxError as exc:
        return fail(item, str(exc))
    try:
        selected = await imap.select(s.imap_folder)
        if selected.result != "OK":
            return fail(item, f"logged in, but the folder {s.imap_folder!r} cannot be opened")
        how = "IDLE" if imap.has_capability("IDLE") else f"polling every {s.imap_poll_seconds:g} s (no IDLE)"
        login = "XOAUTH2" if s.imap_oauth2_token else "password"
        return ok(item, f"logged in ({login}), folder {s.imap_folder!r} opened; new mail by {how}")
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(imap.logout(), 5)


async def _smtp(c: Checkup) -> Line:
    from bot.doctor import fail, ok

    s = c.settings
    item = f"mailbox SMTP {s.smtp_host}:{s.smtp_port} ({s.smtp_security})"
    login = {"username", "password", "oauth_token_generator"}
    client = aiosmtplib.SMTP(**{k: v for k, v in smtp_options(s).items() if k not in login})
    try:
        await client.connect()
        if s.smtp_user and s.smtp_oauth2_token:
            await client.auth_xoauth2(s.smtp_user, s.smtp_oauth2_token)
        elif s.smtp_user:
            await client.login(s.smtp_user, s.smtp_password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        return fail(item, f"the server refused the login of {s.smtp_user!r}: {exc.code} {exc.message}")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return fail(item, f"cannot use it: {exc or type(exc).__name__}")
    finally:
        with contextlib.suppress(Exception):
            await client.quit()
    who = f"logged in as {s.smtp_user!r}" if s.smtp_user else "no login configured (SMTP_USER empty)"
    return ok(item, f"connected, {who}; replies go out From {s.mailbox_address}")
