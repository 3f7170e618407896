"""Typed rows of the e-mail channel (P-IN-6): a ticket's mail thread, files that came by mail, mail with no client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["MailDirection", "MailFileRef", "MailTicket", "UnmatchedMail", "UnmatchedReason"]


class MailDirection(StrEnum):
    IN = "in"  # the client wrote it
    OUT = "out"  # the bot sent it


class UnmatchedReason(StrEnum):
    """Why a message waits in "correo sin cliente" instead of reaching a ticket."""

    UNKNOWN_SENDER = "unknown_sender"  # no contact has the address
    AMBIGUOUS = "ambiguous"  # contacts of several companies share the address
    FLOOD = "flood"  # the sender reached MAIL_MAX_TICKETS_PER_HOUR
    OLD = "old"  # the mailbox had it for longer than MAIL_MAX_AGE_DAYS (a first start on an old mailbox)


@dataclass(frozen=True, slots=True)
class MailTicket:
    """A ticket that talks by e-mail: where replies go and the Message-IDs they thread under."""

    ticket_id: int
    address: str
    subject: str
    root_message_id: str  # the client's first message: every reply names it in References
    last_message_id: str  # the latest message of the conversation: replies answer it (In-Reply-To)
    severity_pending: bool  # "severidad por confirmar" until the client or a consultant sets it
    opened_by_mail: bool  # False: a Telegram ticket whose client chose e-mail
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MailFileRef:
    """A file that came by e-mail, stored until it is in the card's thread."""

    id: int
    name: str
    mime: str
    size: int


@dataclass(frozen=True, slots=True)
class UnmatchedMail:
    """A message in "correo sin cliente" (passwords already taken out of its body)."""

    id: int
    message_id: str
    address: str
    name: str
    subject: str
    body: str
    files: tuple[MailFileRef, ...]
    reason: UnmatchedReason
    received_at: datetime
    handled_at: datetime | None
    ticket_id: int | None
