"""A local stand-in of an IMAP4rev1 server with one mailbox: enough of RFC 3501 (and IDLE, RFC 2177) for the bot's
own client to read it exactly as it reads a real one: LOGIN or AUTHENTICATE XOAUTH2, SELECT, UID SEARCH, UID FETCH
with literals, UID STORE of flags and keywords, IDLE with EXISTS pushed when mail arrives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser

__all__ = ["ImapStandIn", "StoredMessage"]

log = logging.getLogger(__name__)

CAPABILITIES = "IMAP4rev1 IDLE UIDPLUS LITERAL+ AUTH=PLAIN AUTH=XOAUTH2"
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_PART = re.compile(r"BODY(?:\.PEEK)?\[([^\]]*)\]", re.I)


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    arrived_at: datetime
    flags: set[str] = field(default_factory=set)


def _internaldate(when: datetime) -> str:
    t = when.astimezone(UTC)
    return f"{t.day:02d}-{_MONTHS[t.month - 1]}-{t.year} {t:%H:%M:%S} +0000"


def _uids(spec: str, known: list[int]) -> list[int]:
    """An IMAP sequence set of UIDs ("1,3:5", "7:*") against the UIDs that exist."""
    top = max(known, default=0)
    chosen: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition(":")
        a = top if low == "*" else int(low)
        b = a if not high else (top if high == "*" else int(high))
        chosen.update(u for u in known if min(a, b) <= u <= max(a, b))
    return sorted(chosen)


def _header_fields(raw: bytes, names: list[str]) -> bytes:
    headers = BytesHeaderParser().parsebytes(raw)
    lines = [f"{key}: {value}" for key, value in headers.items() if key.lower() in {n.lower() for n in names}]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")


def _header_block(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    return raw if end < 0 else raw[: end + 4]


class ImapStandIn:
    """One mailbox on a loopback port. `deliver` puts a message in it (as the company's mail server would)."""

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password
        self.messages: list[StoredMessage] = []
        self._next_uid = 1
        self._idlers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._session, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._idlers):
            writer.close()
        for task in list(self._sessions):
            task.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)

    def deliver(self, raw: bytes, at: datetime) -> StoredMessage:
        stored = StoredMessage(self._next_uid, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), at)
        self._next_uid += 1
        self.messages.append(stored)
        for writer in list(self._idlers):
            with contextlib.suppress(Exception):
                writer.write(f"* {len(self.messages)} EXISTS\r\n".encode())
        return stored

    # --- one connection --------------------------------------------------------------------------------
    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._sessions.add(task)
        try:
            writer.write(f"* OK [CAPABILITY {CAPABILITIES}] sandbox mailbox ready\r\n".encode())
            while line := await reader.readline():
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                if not text:
                    continue
                tag, _, rest = text.partition(" ")
                command, _, args = rest.partition(" ")
                if command.upper() == "LOGOUT":
                    writer.write(f"* BYE see you\r\n{tag} OK LOGOUT completed\r\n".encode())
                    await writer.drain()
                    break
                if command.upper() == "IDLE":
                    await self._idle(tag, reader, writer)
                    continue
                writer.write(self._answer(tag, command.upper(), args))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._idlers.discard(writer)
            writer.close()
            if task is not None:
                self._sessions.discard(task)

    async def _idle(self, tag: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+ idling\r\n")
        await writer.drain()
        self._idlers.add(writer)
        try:
            while line := await reader.readline():
                if line.strip().upper() == b"DONE":
                    break
        finally:
            self._idlers.discard(writer)
        writer.write(f"{tag} OK IDLE terminated\r\n".encode())
        await writer.drain()

    def _answer(self, tag: str, command: str, args: str) -> bytes:
        if command == "CAPABILITY":
            return f"* CAPABILITY {CAPABILITIES}\r\n{tag} OK CAPABILITY completed\r\n".encode()
        if command == "LOGIN":
            given = [a.strip('"') for a in args.split(" ", 1)]
            if given == [self.user, self.password]:
                return f"{tag} OK [CAPABILITY {CAPABILITIES}] Logged in\r\n".encode()
            return f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".encode()
        if command == "AUTHENTICATE":
            return f"{tag} OK Logged in\r\n".encode()  # the sandbox takes any token
        if command in ("SELECT", "EXAMINE"):
            return (
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
                f"* {len(self.messages)} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
                f"* OK [UIDNEXT {self._next_uid}] Predicted next UID\r\n{tag} OK [READ-WRITE] SELECT completed\r\n"
            ).encode()
        if command in ("NOOP", "CHECK", "ENABLE", "ID"):
            return f"{tag} OK {command} completed\r\n".encode()
        if command == "UID":
            sub, _, rest = args.partition(" ")
            return self._uid(tag, sub.upper(), rest)
        return f"{tag} BAD the sandbox does not know {command}\r\n".encode()

    def _uid(self, tag: str, sub: str, args: str) -> bytes:
        if sub == "SEARCH":
            words = args.upper().split()
            found = [m.uid for m in self.messages]
            if "UNSEEN" in words:
                found = [m.uid for m in self.messages if "\\Seen" not in m.flags]
            if "UNKEYWORD" in words:
                keyword = args.split()[[w.upper() for w in args.split()].index("UNKEYWORD") + 1]
                found = [m.uid for m in self.messages if keyword not in m.flags]
            return f"* SEARCH {' '.join(map(str, found))}\r\n{tag} OK SEARCH completed\r\n".encode()
        if sub == "STORE":
            spec, _, change = args.partition(" ")
            flags = set(re.findall(r"[\\$]?\w+", change.split(" ", 1)[1] if " " in change else ""))
            for uid in _uids(spec, [m.uid for m in self.messages]):
                message = next(m for m in self.messages if m.uid == uid)
                if change.upper().startswith("+FLAGS"):
                    message.flags |= flags
                elif change.upper().startswith("-FLAGS"):
                    message.flags -= flags
            return f"{tag} OK STORE completed\r\n".encode()
        if sub == "FETCH":
            spec, _, items = args.partition(" ")
            out = bytearray()
            for uid in _uids(spec, [m.uid for m in self.messages]):
                out += self._fetch_one(uid, items)
            return bytes(out) + f"{tag} OK FETCH completed\r\n".encode()
        return f"{tag} BAD the sandbox does not know UID {sub}\r\n".encode()

    def _fetch_one(self, uid: int, items: str) -> bytes:
        message = next(m for m in self.messages if m.uid == uid)
        seq = self.messages.index(message) + 1
        upper = items.upper()
        parts: list[str] = [f"UID {uid}"]
        if "RFC822.SIZE" in upper:
            parts.append(f"RFC822.SIZE {len(message.raw)}")
        if "INTERNALDATE" in upper:
            parts.append(f'INTERNALDATE "{_internaldate(message.arrived_at)}"')
        if "FLAGS" in upper and "+FLAGS" not in upper:
            parts.append(f"FLAGS ({' '.join(sorted(message.flags))})")
        head = f"* {seq} FETCH ({' '.join(parts)}"
        literal: tuple[str, bytes] | None = None
        section = _PART.search(items)
        if section is not None:
            name = section.group(1)
            if name.upper().startswith("HEADER.FIELDS"):
                wanted = re.findall(r"[\w-]+", name[len("HEADER.FIELDS") :])
                literal = (f"BODY[{name}]", _header_fields(message.raw, wanted))
            elif name.upper() == "HEADER":
                literal = ("BODY[HEADER]", _header_block(message.raw))
            else:
                literal = ("BODY[]", message.raw)
        if literal is None:
            return f"{head})\r\n".encode()
        label, data = literal
        return f"{head} {label} {{{len(data)}}}\r\n".encode() + data + b")\r\n"
