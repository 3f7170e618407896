"""The sandbox's mail stand-ins (P-IN-6): the support mailbox as a local IMAP server the bot reads, and a local
SMTP server that receives what the bot sends; the page's third pane writes as a client and shows the replies."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.clock import Clock, utcnow
from sandbox.mail.imap import ImapStandIn

__all__ = ["MAIL_PEOPLE", "MailStandIn", "Shown"]

MAILBOX_USER = "soporte-sandbox"
MAILBOX_PASSWORD = "sandbox"  # noqa: S105 - the local stand-in's own login, nothing real
# Who the pane lets you write as: demo contacts get these addresses (sandbox.mail.demo), and a stranger.
MAIL_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("laura.perez@comercializadora.test", "Laura Pérez", "contacto de Comercializadora del Valle (y en Telegram)"),
    ("jorge@ferreterianorte.test", "Jorge Ramírez", "Ferretería del Norte: póliza vencida"),
    ("rosa.diaz@comercializadora.test", "Rosa Díaz", "de Comercializadora del Valle, sin registrar"),
    ("alguien@desconocida.test", "Alguien", "no es cliente"),
)


@dataclass
class Shown:
    """One message as the page shows it."""

    id: int
    direction: str  # "in": a client wrote it to the mailbox; "out": the bot sent it
    sender: str
    to: str
    subject: str
    text: str
    at: str
    message_id: str
    in_reply_to: str = ""
    automatic: bool = False
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _shown(n: int, direction: str, msg: EmailMessage, at: datetime) -> Shown:
    body = msg.get_body(preferencelist=("plain", "html"))
    text = str(body.get_content()) if body is not None else ""
    files = [p.get_filename() or "archivo" for p in msg.iter_attachments()]
    return Shown(
        id=n, direction=direction, sender=str(msg.get("From", "")), to=str(msg.get("To", "")),
        subject=str(msg.get("Subject", "")), text=text.strip(), at=at.isoformat(),
        message_id=str(msg.get("Message-ID", "")), in_reply_to=str(msg.get("In-Reply-To", "") or ""),
        automatic=str(msg.get("Auto-Submitted", "no")).lower() != "no", files=files,
    )  # fmt: skip


class MailStandIn:
    """The support mailbox (IMAP) and the outgoing server (SMTP) on loopback ports, with what crossed them."""

    def __init__(self, *, clock: Clock = utcnow) -> None:
        self.imap = ImapStandIn(MAILBOX_USER, MAILBOX_PASSWORD)
        self.smtp_port = 0
        self.log: list[Shown] = []
        self._ids = itertools.count(1)
        self._clock = clock
        self._smtp: asyncio.Server | None = None
        self.changed = asyncio.Event()

    async def start(self, host: str = "127.0.0.1") -> None:
        await self.imap.start(host)
        loop = asyncio.get_running_loop()
        self._smtp = await loop.create_server(lambda: SMTP(self, hostname="sandbox", loop=loop), host, 0)
        self.smtp_port = int(self._smtp.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        await self.imap.stop()
        if self._smtp is not None:
            self._smtp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._smtp.wait_closed(), 2)

    def settings(self) -> dict[str, Any]:
        """The bot's e-mail settings pointing at these stand-ins."""
        return {
            "imap_host": "127.0.0.1", "imap_port": self.imap.port, "imap_security": "none",
            "imap_user": MAILBOX_USER, "imap_password": MAILBOX_PASSWORD, "imap_poll_seconds": 5,
            "smtp_host": "127.0.0.1", "smtp_port": self.smtp_port, "smtp_security": "none",
        }  # fmt: skip

    # --- a client writes ---------------------------------------------------------------------------------
    def write(self, sender: str, name: str, subject: str, text: str, *, reply_to: str = "",
              files: tuple[tuple[str, str, bytes], ...] = ()) -> Shown:  # fmt: skip
        """A client's e-mail to the support mailbox (reply_to: the Message-ID it answers, as a mail program does)."""
        msg = EmailMessage()
        msg["From"] = f"{name} <{sender}>" if name else sender
        msg["To"] = "Soporte <soporte@intecnia.com.mx>"
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "sandbox.test")
        earlier = next((m for m in self.log if m.message_id == reply_to), None) if reply_to else None
        if earlier is not None:
            msg["In-Reply-To"] = earlier.message_id
            msg["References"] = " ".join(x for x in (earlier.in_reply_to, earlier.message_id) if x)
        msg.set_content(text)
        for filename, mime, content in files:
            maintype, _, subtype = mime.partition("/")
            msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
        now = self._clock()
        self.imap.deliver(msg.as_bytes(), now)
        shown = _shown(next(self._ids), "in", msg, now)
        self.log.append(shown)
        self.changed.set()
        return shown

    # --- aiosmtpd's handler: what the bot sends ---------------------------------------------------------
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        msg = message_from_bytes(content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.log.append(_shown(next(self._ids), "out", msg, self._clock()))
        self.changed.set()
        return "250 OK"

    def conversation(self, address: str) -> list[Shown]:
        """What one client wrote and received, oldest first."""
        key = address.lower()
        return [m for m in self.log if key in (m.sender.lower() if m.direction == "in" else m.to.lower())]
