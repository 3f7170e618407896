"""SQLite repository methods of the e-mail channel (storage.tx_mail.MailTx)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from storage import sqlite_codec as c
from storage.base import InvalidValue, NotFound, StaleVersion
from storage.mail_records import MailDirection, MailFileRef, MailTicket, UnmatchedMail, UnmatchedReason
from storage.records import Contact, InboxStatus
from storage.sqlite_txbase import TxBase

__all__ = ["MailRepo", "normal_address"]

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def normal_address(email: str) -> str:
    """An address as compared: trimmed, lower case. Raises InvalidValue when it is not one."""
    value = email.strip().lower()
    if not _ADDRESS.match(value) or len(value) > 320:
        raise InvalidValue(f"not an e-mail address: {email!r}")
    return value


def _mail_ticket(row: sqlite3.Row) -> MailTicket:
    return MailTicket(
        ticket_id=row["ticket_id"],
        address=row["address"],
        subject=row["subject"],
        root_message_id=row["root_message_id"],
        last_message_id=row["last_message_id"],
        severity_pending=bool(row["severity_pending"]),
        opened_by_mail=bool(row["opened_by_mail"]),
        created_at=c.from_ts(row["created_at"]),
    )


def _unmatched(row: sqlite3.Row) -> UnmatchedMail:
    files = tuple(MailFileRef(int(f[0]), str(f[1]), str(f[2]), int(f[3])) for f in json.loads(row["files"]))
    return UnmatchedMail(
        id=row["id"],
        message_id=row["message_id"],
        address=row["address"],
        name=row["name"],
        subject=row["subject"],
        body=row["body"],
        files=files,
        reason=UnmatchedReason(row["reason"]),
        received_at=c.from_ts(row["received_at"]),
        handled_at=c.from_ts_opt(row["handled_at"]),
        ticket_id=row["ticket_id"],
    )


class MailRepo(TxBase):
    # --- the mailbox --------------------------------------------------------------------------------------
    async def inbox_statuses(self, source: str, keys: Sequence[str]) -> dict[str, InboxStatus]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, InboxStatus] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's limit on parameters
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self._all(
                f"SELECT key, status FROM inbox WHERE source = ? AND key IN ({marks})", (source, *chunk)
            )
            found.update({str(r["key"]): InboxStatus(r["status"]) for r in rows})
        return found

    # --- contacts' addresses ---------------------------------------------------------------------------
    async def set_contact_email(self, contact_id: int, email: str | None) -> Contact:
        value = None if email is None or not email.strip() else normal_address(email)
        found = await self._one("SELECT forgotten_at FROM contacts WHERE id = ?", (contact_id,))
        if found is None:
            raise NotFound(f"contact {contact_id}")
        if found["forgotten_at"] is not None and value is not None:
            raise InvalidValue(f"contact {contact_id} was forgotten: their data does not come back")
        row = await self._must(
            "UPDATE contacts SET email = ?, email_failing_since = NULL WHERE id = ? RETURNING *",
            (value, contact_id),
            f"contact {contact_id}",
        )
        return c.contact(row)

    async def find_contacts_by_email(self, email: str) -> list[Contact]:
        try:
            value = normal_address(email)
        except InvalidValue:
            return []
        rows = await self._all(
            "SELECT * FROM contacts WHERE email IS NOT NULL AND lower(email) = ? ORDER BY id", (value,)
        )
        return [c.contact(r) for r in rows]

    async def mark_email_failing(self, email: str, since: datetime | None) -> list[Contact]:
        try:
            value = normal_address(email)
        except InvalidValue:
            return []
        if since is None:
            sql = (
                "UPDATE contacts SET email_failing_since = NULL WHERE email IS NOT NULL AND lower(email) = ?"
                " AND email_failing_since IS NOT NULL RETURNING *"
            )
            rows = await self._all(sql, (value,))
        else:
            sql = (
                "UPDATE contacts SET email_failing_since = ? WHERE email IS NOT NULL AND lower(email) = ?"
                " AND email_failing_since IS NULL RETURNING *"
            )
            rows = await self._all(sql, (c.ts(since), value))
        return sorted((c.contact(r) for r in rows), key=lambda contact: contact.id)

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
        row = await self._must(
            "INSERT INTO mail_tickets (ticket_id, address, subject, root_message_id, last_message_id,"
            " severity_pending, opened_by_mail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (ticket_id, normal_address(address), subject, message_id, message_id, int(severity_pending),
             int(opened_by_mail), c.ts(at)),
            "mail ticket insert returned nothing",
        )  # fmt: skip
        return _mail_ticket(row)

    async def get_mail_ticket(self, ticket_id: int) -> MailTicket | None:
        row = await self._one("SELECT * FROM mail_tickets WHERE ticket_id = ?", (ticket_id,))
        return None if row is None else _mail_ticket(row)

    async def update_mail_ticket(
        self, ticket_id: int, *, last_message_id: str | None = None, severity_pending: bool | None = None
    ) -> MailTicket:
        row = await self._must(
            "UPDATE mail_tickets SET last_message_id = COALESCE(?, last_message_id),"
            " severity_pending = COALESCE(?, severity_pending) WHERE ticket_id = ? RETURNING *",
            (last_message_id, None if severity_pending is None else int(severity_pending), ticket_id),
            f"mail ticket {ticket_id}",
        )
        return _mail_ticket(row)

    async def add_mail_message(self, message_id: str, ticket_id: int, direction: MailDirection, at: datetime) -> bool:
        changed = await self._exec(
            "INSERT OR IGNORE INTO mail_messages (message_id, ticket_id, direction, at) VALUES (?, ?, ?, ?)",
            (message_id, ticket_id, MailDirection(direction).value, c.ts(at)),
        )
        return changed > 0

    async def find_mail_message_ticket(self, message_ids: Sequence[str]) -> int | None:
        ids = [m for m in message_ids if m]
        if not ids:
            return None
        marks = ", ".join("?" for _ in ids)
        row = await self._one(
            f"SELECT ticket_id FROM mail_messages WHERE message_id IN ({marks}) ORDER BY at DESC, rowid DESC LIMIT 1",
            ids,
        )
        return None if row is None else int(row["ticket_id"])

    async def count_mail_tickets(self, address: str, since: datetime) -> int:
        try:
            value = normal_address(address)
        except InvalidValue:
            return 0
        row = await self._must(
            "SELECT COUNT(*) AS n FROM mail_tickets WHERE lower(address) = ? AND opened_by_mail = 1"
            " AND created_at >= ?",
            (value, c.ts(since)),
            "count",
        )
        return int(row["n"])

    # --- files that came by e-mail --------------------------------------------------------------------
    async def add_mail_file(self, name: str, mime: str, content: bytes, *, at: datetime) -> MailFileRef:
        row = await self._must(
            "INSERT INTO mail_files (name, mime, size, content, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (name, mime, len(content), content, c.ts(at)),
            "mail file insert returned nothing",
        )
        return MailFileRef(int(row["id"]), name, mime, len(content))

    async def get_mail_file(self, file_id: int) -> bytes | None:
        row = await self._one("SELECT content FROM mail_files WHERE id = ?", (file_id,))
        return None if row is None or row["content"] is None else bytes(row["content"])

    async def prune_mail_files(self, limit: int | None = None) -> int:
        uploaded = (
            "SELECT CAST(substr(telegram_file_id, 6) AS INTEGER) FROM attachments"
            " WHERE telegram_file_id LIKE 'mail:%' AND slack_file_id IS NOT NULL"
        )
        return await self._exec(
            f"UPDATE mail_files SET content = NULL WHERE id IN (SELECT id FROM mail_files WHERE content IS NOT NULL"
            f" AND id IN ({uploaded}) ORDER BY id LIMIT ?)",
            (-1 if limit is None else limit,),
        )

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
        listed = json.dumps([[f.id, f.name, f.mime, f.size] for f in files], ensure_ascii=False)
        row = await self._one(
            "INSERT OR IGNORE INTO mail_unmatched (message_id, address, name, subject, body, files, reason,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (message_id, address.strip().lower(), name, subject, body, listed, UnmatchedReason(reason).value,
             c.ts(at)),
        )  # fmt: skip
        return None if row is None else _unmatched(row)

    async def list_unmatched_mail(self, *, open_only: bool = True, limit: int = 100) -> list[UnmatchedMail]:
        where = "WHERE handled_at IS NULL " if open_only else ""
        rows = await self._all(f"SELECT * FROM mail_unmatched {where}ORDER BY received_at, id LIMIT ?", (limit,))
        return [_unmatched(r) for r in rows]

    async def get_unmatched_mail(self, mail_id: int) -> UnmatchedMail | None:
        row = await self._one("SELECT * FROM mail_unmatched WHERE id = ?", (mail_id,))
        return None if row is None else _unmatched(row)

    async def close_unmatched_mail(self, mail_id: int, *, at: datetime, ticket_id: int | None) -> UnmatchedMail:
        row = await self._one(
            "UPDATE mail_unmatched SET handled_at = ?, ticket_id = ? WHERE id = ? AND handled_at IS NULL RETURNING *",
            (c.ts(at), ticket_id, mail_id),
        )
        if row is None:
            if await self.get_unmatched_mail(mail_id) is None:
                raise NotFound(f"unmatched mail {mail_id}")
            raise StaleVersion(f"unmatched mail {mail_id} was handled already")
        return _unmatched(row)
