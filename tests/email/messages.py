"""E-mails as clients' mail programs write them, for the e-mail tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

LAURA_MAIL = "laura.perez@comercializadora.test"
STRANGER_MAIL = "alguien@desconocida.test"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def mail(
    *,
    sender: str = LAURA_MAIL,
    name: str = "Laura Pérez",
    subject: str = "Sin internet en la oficina",
    text: str | None = "No hay internet en toda la oficina desde las 9.",
    html: str | None = None,
    files: Sequence[tuple[str, str, bytes]] = (),
    reply_to: EmailMessage | None = None,
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """One message; `reply_to` threads it under another (In-Reply-To, References) as a mail program does."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = "Soporte Intecnia <soporte@intecnia.com.mx>"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain=sender.split("@")[1])
    if date is not None:
        msg["Date"] = format_datetime(date)
    if reply_to is not None:
        earlier = str(reply_to["Message-ID"])
        chain = str(reply_to.get("References") or "").split()
        msg["In-Reply-To"] = earlier
        msg["References"] = " ".join([*chain, earlier])
    for key, value in (headers or {}).items():
        msg[key] = value
    if html is not None and text is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text or "")
        if html is not None:
            msg.add_alternative(html, subtype="html")
    for filename, mime, content in files:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg
