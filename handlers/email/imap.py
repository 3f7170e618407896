"""The support mailbox over IMAP: new messages into the inbox, and marked handled on the server only once their
ticket or reply is committed (the inbox entry is done). IDLE where the server offers it, polling otherwise.

A cycle: search the messages not marked handled, read the Message-ID and sender of each; one the inbox has
handled is marked now; one it has never seen is read whole and committed (its Message-ID is the inbox key, so a
message read twice after a crash is one entry); one in the inbox's hands waits for the next cycle. A kill at any
point loses nothing (nothing is marked before its entry is done) and doubles nothing (the key).

This is the only module that imports aioimaplib (GPL-3.0-only): replacing the IMAP client touches nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parseaddr
from typing import Any

import aioimaplib

from bot.clock import Clock, utcnow
from bot.inbox import Arrival, InboxWorker
from bot.settings import Settings

__all__ = ["MESSAGE", "SOURCE", "MailPoller", "MailboxError", "open_mailbox", "tls_context"]

log = logging.getLogger(__name__)

SOURCE = "email"
MESSAGE = "message"
HANDLED = "$Supportbot"  # our keyword on a handled message, where the server keeps keywords (PERMANENTFLAGS \*)
_FETCH = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_DATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_MONTHS = {m: n for n, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}
_BATCH = 50  # messages read per cycle at most: the rest come in the next one


class MailboxError(Exception):
    """The mailbox cannot be used: refused login, unknown folder, unreachable server (the text says which)."""


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The system's trust, plus MAIL_CA_FILE when a server has a certificate of its own."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if settings.mail_ca_file:
        context.load_verify_locations(cafile=settings.mail_ca_file)
    return context


def _ok(response: Any, what: str) -> Any:
    if getattr(response, "result", None) != "OK":
        lines = b" ".join(bytes(x) for x in getattr(response, "lines", []) or [])
        raise MailboxError(f"{what}: {lines.decode(errors='replace')[:200]}")
    return response


async def open_mailbox(settings: Settings, *, wait: float = 15.0) -> Any:
    """Connect and log in (password, or XOAUTH2 with IMAP_OAUTH2_TOKEN). Returns: the aioimaplib client.
    Raises MailboxError."""
    s = settings
    where = f"{s.imap_host}:{s.imap_port}"
    try:
        if s.imap_security == "tls":
            imap = aioimaplib.IMAP4_SSL(host=s.imap_host, port=s.imap_port, timeout=wait, ssl_context=tls_context(s))
        else:
            imap = aioimaplib.IMAP4(host=s.imap_host, port=s.imap_port, timeout=wait)
        await imap.wait_hello_from_server()
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise MailboxError(f"cannot reach the IMAP server at {where}: {exc or type(exc).__name__}") from None
    try:
        if s.imap_oauth2_token:
            response = await imap.xoauth2(s.imap_user, s.imap_oauth2_token)
        else:
            response = await imap.login(s.imap_user, s.imap_password)
        _ok(response, f"the IMAP server at {where} refused the login of {s.imap_user!r}")
    except BaseException:
        with contextlib.suppress(Exception):
            await imap.logout()
        raise
    return imap


def _internaldate(text: str) -> datetime | None:
    """ "03-Dec-2026 07:55:17 +0000" (RFC 3501 date-time; month names are English whatever the locale)."""
    match = re.match(r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)", text)
    if match is None or match.group(2) not in _MONTHS:
        return None
    d, mon, y, hh, mm, ss, sign, oh, om = match.groups()
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    local = datetime(int(y), _MONTHS[mon], int(d), int(hh), int(mm), int(ss), tzinfo=timezone(offset))
    return local.astimezone(UTC)


@dataclass(frozen=True)
class _Listed:
    uid: int
    size: int
    arrived_at: datetime | None
    message_id: str
    sender: str
    content: bytes | None = None


def _records(lines: list[Any]) -> list[tuple[bytes, bytes]]:
    """A FETCH response as (its attribute line, its literal) pairs."""
    out: list[tuple[bytes, bytes]] = []
    for n, line in enumerate(lines):
        if type(line) is bytes and _FETCH.match(line):
            literal = lines[n + 1] if n + 1 < len(lines) and isinstance(lines[n + 1], bytearray) else bytearray()
            out.append((bytes(line), bytes(literal)))
    return out


# Which of these Message-IDs the inbox holds, and which it has handled: (known, done).
InboxView = Callable[[list[str]], Awaitable[tuple[set[str], set[str]]]]


class MailPoller:
    """Reads the support mailbox into the inbox; marks on the server what the inbox has handled."""

    def __init__(self, settings: Settings, inbox: InboxWorker, view: InboxView, *, clock: Clock = utcnow) -> None:
        self._settings = settings
        self._inbox = inbox
        self._view = view
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._keywords = False
        self.alive_at = 0.0  # loop time of the latest cycle (health checks)
        self.connected = False
        self.last_error = ""
        self.counts: dict[str, int] = {"received": 0, "marked": 0, "cycles": 0}

    # --- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="MailPoller")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Look at the mailbox now (an entry was handled: its message can be marked)."""
        self._wake.set()

    async def _run(self) -> None:
        pause = 1.0
        while not self._stopping:
            try:
                await self._session()
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server went away, a timeout, a refused login: try again, say why
                self.connected = False
                self.last_error = str(exc) or type(exc).__name__
                log.warning("mailbox: %s; trying again in %.0f s", self.last_error, pause)
                await self._sleep(pause)
                pause = min(pause * 2, 60.0)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _session(self) -> None:
        imap = await open_mailbox(self._settings)
        try:
            selected = _ok(await imap.select(self._settings.imap_folder), f"folder {self._settings.imap_folder!r}")
            self._keywords = any(b"PERMANENTFLAGS" in bytes(x) and b"\\*" in bytes(x) for x in selected.lines)
            self.connected = True
            self.last_error = ""
            idle = imap.has_capability("IDLE")
            while not self._stopping:
                self._wake.clear()
                await self.cycle(imap)
                self.alive_at = asyncio.get_running_loop().time()
                if idle:
                    await self._idle(imap)
                else:
                    await self._sleep(self._settings.imap_poll_seconds)
        finally:
            self.connected = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(imap.logout(), 5)

    async def _idle(self, imap: Any) -> None:
        """Wait in IDLE for new mail, a wake-up, or the poll interval (servers drop IDLE after 30 minutes)."""
        seconds = min(self._settings.imap_poll_seconds * 10, 25 * 60)
        idle = await imap.idle_start(timeout=seconds)
        push = asyncio.ensure_future(imap.wait_server_push(timeout=seconds + 5))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({push, woken, idle}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            push.cancel()
            woken.cancel()
            if imap.has_pending_idle():
                imap.idle_done()
            await asyncio.wait_for(idle, 15)

    # --- one cycle -----------------------------------------------------------------------------------------
    async def cycle(self, imap: Any) -> int:
        """Mark what was handled, receive what is new. Returns: how many messages it received."""
        self.counts["cycles"] += 1
        criteria = ("UNKEYWORD", HANDLED) if self._keywords else ("UNSEEN",)
        found = _ok(await imap.uid_search(*criteria), "search")
        uids = [int(u) for line in found.lines[:-1] for u in bytes(line).split() if u.isdigit()]
        if not uids:
            return 0
        listed = await self._list(imap, uids[:_BATCH])
        known, handled = await self._view([m.message_id for m in listed])
        done = [m.uid for m in listed if m.message_id in handled]
        if done:
            flags = f"({HANDLED} \\Seen)" if self._keywords else "(\\Seen)"
            _ok(await imap.uid("store", ",".join(map(str, done)), "+FLAGS.SILENT", flags), "store")
            self.counts["marked"] += len(done)
        new = [m for m in listed if m.message_id not in known]
        arrivals = [await self._arrival(imap, m) for m in new]
        if arrivals:
            await self._inbox.receive(arrivals)
            self.counts["received"] += len(arrivals)
        return len(arrivals)

    async def _list(self, imap: Any, uids: list[int]) -> list[_Listed]:
        parts = "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM)])"
        response = _ok(await imap.uid("fetch", ",".join(map(str, uids)), parts), "fetch")
        listed = []
        for line, literal in _records(response.lines):
            uid, size, date = _UID.search(line), _SIZE.search(line), _DATE.search(line)
            if uid is None:
                continue
            headers = literal.decode("utf-8", "replace")
            found = re.search(r"(?im)^message-id:\s*(<[^>\s]+>)", headers)
            sender = parseaddr(next(iter(re.findall(r"(?im)^from:\s*(.+)$", headers)), ""))[1].lower()
            # Without a Message-ID the server's (UID validity is per folder) names it, the same on every read.
            message_id = found.group(1) if found else f"<imap-{self._settings.imap_folder}-{int(uid.group(1))}@nomid>"
            arrived = _internaldate(date.group(1).decode()) if date else None
            listed.append(_Listed(int(uid.group(1)), int(size.group(1)) if size else 0, arrived, message_id, sender))
        return listed

    async def _arrival(self, imap: Any, m: _Listed) -> Arrival:
        too_big = m.size > self._settings.imap_max_message_mb * 1024 * 1024
        part = "BODY.PEEK[HEADER]" if too_big else "BODY.PEEK[]"
        response = _ok(await imap.uid("fetch", str(m.uid), f"(UID {part})"), "fetch")
        content = next((literal for _line, literal in _records(response.lines)), b"")
        payload = {
            "raw": base64.b64encode(content).decode("ascii"),
            "message_id": m.message_id,
            "arrived_at": (m.arrived_at or self._clock()).isoformat(),
            "too_big": too_big,
        }
        return Arrival(SOURCE, m.message_id, f"mail:{m.sender or m.message_id}", MESSAGE, payload)
