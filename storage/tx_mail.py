"""The repository protocol of the e-mail channel: contacts' addresses, tickets' mail threads, files, unmatched mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from storage.mail_records import MailDirection, MailFileRef, MailTicket, UnmatchedMail, UnmatchedReason
from storage.records import Contact, InboxStatus

__all__ = ["MailTx"]


class MailTx(Protocol):
    """What the e-mail channel keeps (P-IN-6)."""

    # --- the mailbox --------------------------------------------------------------------------------------
    async def inbox_statuses(self, source: str, keys: Sequence[str]) -> dict[str, InboxStatus]:
        """Args: an inbox source and event keys (Message-IDs). Returns: the status of each key the inbox holds
        (a key it never received, or pruned, is missing): the mailbox marks a message handled once it is done."""
        ...

    # --- contacts' addresses ---------------------------------------------------------------------------
    async def set_contact_email(self, contact_id: int, email: str | None) -> Contact:
        """Set (or clear) a contact's address; a failing mark is cleared with it.
        Returns: the updated Contact. Raises NotFound, InvalidValue (not an address, or a forgotten contact)."""
        ...

    async def find_contacts_by_email(self, email: str) -> list[Contact]:
        """Args: an address in any case. Returns: the contacts that have it, by id (inactive ones too)."""
        ...

    async def mark_email_failing(self, email: str, since: datetime | None) -> list[Contact]:
        """Mark (since = when it bounced) or clear (None) the address as failing on every contact that has it.
        Returns: the contacts whose mark changed."""
        ...

    # --- tickets that talk by e-mail -------------------------------------------------------------------
    async def add_mail_ticket(
        self,
        ticket_id: int,
        *,
        address: str,
        subject: str,
        message_id: str,
        severity_pending: bool,
        opened_by_mail: bool = True,
        at: datetime,
    ) -> MailTicket:
        """Record that a ticket talks by e-mail (message_id: the conversation's first message).
        Returns: the MailTicket. Raises DuplicateError (the ticket has one), NotFound (no such ticket)."""
        ...

    async def get_mail_ticket(self, ticket_id: int) -> MailTicket | None:
        """Args: ticket id. Returns: its MailTicket, or None when it does not talk by e-mail."""
        ...

    async def update_mail_ticket(
        self, ticket_id: int, *, last_message_id: str | None = None, severity_pending: bool | None = None
    ) -> MailTicket:
        """Change what is given (None: keep). Returns: the updated MailTicket. Raises NotFound."""
        ...

    async def add_mail_message(self, message_id: str, ticket_id: int, direction: MailDirection, at: datetime) -> bool:
        """Remember a Message-ID of the ticket's conversation. Returns: False when it was known already."""
        ...

    async def find_mail_message_ticket(self, message_ids: Sequence[str]) -> int | None:
        """Args: Message-IDs a message answers (In-Reply-To, References). Returns: the ticket of the latest one
        known, or None."""
        ...

    async def count_mail_tickets(self, address: str, since: datetime) -> int:
        """Returns: how many tickets mail from this address (any case) opened at or after since."""
        ...

    # --- files that came by e-mail --------------------------------------------------------------------
    async def add_mail_file(self, name: str, mime: str, content: bytes, *, at: datetime) -> MailFileRef:
        """Keep a file until it is in the card's thread. Returns: its reference."""
        ...

    async def get_mail_file(self, file_id: int) -> bytes | None:
        """Args: id. Returns: the file's bytes, or None when it is gone."""
        ...

    async def prune_mail_files(self, limit: int | None = None) -> int:
        """Forget the bytes of files that are in their card's thread already (their attachment has a Slack file),
        at most limit of them (None: all); name, type and size stay. Returns: how many."""
        ...

    # --- "correo sin cliente" ----------------------------------------------------------------------------
    async def add_unmatched_mail(
        self,
        *,
        message_id: str,
        address: str,
        name: str,
        subject: str,
        body: str,
        files: Sequence[MailFileRef],
        reason: UnmatchedReason,
        at: datetime,
    ) -> UnmatchedMail | None:
        """Keep a message no ticket took. Returns: it, or None when that Message-ID is kept already."""
        ...

    async def list_unmatched_mail(self, *, open_only: bool = True, limit: int = 100) -> list[UnmatchedMail]:
        """Returns: kept messages (open_only: those nobody attached yet), oldest first."""
        ...

    async def get_unmatched_mail(self, mail_id: int) -> UnmatchedMail | None:
        """Args: id. Returns: the kept message or None."""
        ...

    async def close_unmatched_mail(self, mail_id: int, *, at: datetime, ticket_id: int | None) -> UnmatchedMail:
        """Mark a kept message handled (attached to ticket_id, or dismissed with None), once.
        Returns: the updated message. Raises NotFound, StaleVersion (it was handled already)."""
        ...
