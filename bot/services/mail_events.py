"""A message that came to the support mailbox, as the e-mail adapter translates it (P-IN-6): no wire format here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["MailAttachForm", "MailFile", "MailReceived"]


@dataclass(frozen=True)
class MailFile:
    """An attachment (or an inline image), with the name the client gave it."""

    name: str
    mime: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class MailReceived:
    """One received message. `automatic` says why it is a machine's message (an out-of-office, a list, a bounce,
    our own): it opens nothing and gets no answer. `bounced`: the addresses a delivery failure report names."""

    message_id: str
    address: str  # the sender, lower case
    name: str
    subject: str
    text: str  # the body as text (an HTML-only body converted)
    arrived_at: datetime  # when the mailbox received it: the deadline counts from here
    files: tuple[MailFile, ...] = ()
    answers: tuple[str, ...] = ()  # Message-IDs it replies to: In-Reply-To first, then References, newest first
    automatic: str | None = None
    bounced: tuple[str, ...] = ()
    too_big: bool = False  # over IMAP_MAX_MESSAGE_MB: only its headers were read


@dataclass(frozen=True)
class MailAttachForm:
    """The desk attaches a message of "correo sin cliente" to a company (its sender becomes a contact)."""

    mail_id: int
    client_id: int
    name: str = ""
