"""Conversions between Python values and SQLite column values, and SQLite rows into records."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from bot.domain.types import EscalationStatus, HoursKind, Role, ServiceArea, Severity, TicketStatus, Tier
from storage.base import InvalidValue
from storage.records import (
    Agent,
    Attachment,
    AttachmentKind,
    AuditEvent,
    Client,
    Contact,
    Contract,
    Draft,
    Escalation,
    HoursEntry,
    InboxEntry,
    InboxStatus,
    Invite,
    OutboxMessage,
    OutboxStatus,
    Product,
    SlaPause,
    Ticket,
    Timer,
    TimerStatus,
)

_NON_DIGIT = re.compile(r"\D")
# Mexican national numbers have 10 digits; "+52 1 55 ..." and "55 ..." must meet on the same key.
PHONE_KEY_DIGITS = 10


def ts(value: datetime) -> str:
    """UTC text of fixed width, so that text comparison in SQL is time comparison. Rejects naive values."""
    if not isinstance(value, datetime):
        raise InvalidValue(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue("naive datetime refused: pass an aware datetime (UTC or with an offset)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def ts_opt(value: datetime | None) -> str | None:
    return None if value is None else ts(value)


def from_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def from_ts_opt(text: str | None) -> datetime | None:
    return None if text is None else from_ts(text)


def day(value: date) -> str:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue(f"expected a date, got {type(value).__name__}")
    return value.isoformat()


def day_opt(value: date | None) -> str | None:
    return None if value is None else day(value)


def from_day_opt(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def to_json(data: Mapping[str, Any] | None) -> str:
    try:
        return json.dumps(dict(data or {}), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(f"data is not JSON-serialisable: {exc}") from None


def from_json(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}


def phone_key(phone: str) -> str:
    """The last 10 digits of a phone number written in any format ('' when there are none)."""
    return _NON_DIGIT.sub("", phone)[-PHONE_KEY_DIGITS:]


def db_value(value: Any) -> Any:
    """A Python value as SQLite stores it (enums by value, times as UTC text, bools as 0/1)."""
    if isinstance(value, datetime):
        return ts(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


def client(row: sqlite3.Row) -> Client:
    return Client(row["id"], row["name"], row["phone"], row["tax_id"], row["notes"], from_ts(row["created_at"]))


def contact(row: sqlite3.Row) -> Contact:
    return Contact(
        row["id"],
        row["client_id"],
        row["name"],
        row["phone"],
        row["language"],
        row["telegram_user_id"],
        from_ts(row["created_at"]),
        from_ts_opt(row["unreachable_since"]),
        bool(row["acts_for_company"]),
        bool(row["active"]),
        from_ts_opt(row["forgotten_at"]),
        row["email"],
        from_ts_opt(row["email_failing_since"]),
    )


def contract(row: sqlite3.Row) -> Contract:
    return Contract(
        id=row["id"],
        number=row["number"],
        client_id=row["client_id"],
        tier=Tier(row["tier"]),
        starts_on=date.fromisoformat(row["starts_on"]),
        ends_on=date.fromisoformat(row["ends_on"]),
        minutes_total=row["minutes_total"],
        minutes_used=row["minutes_used"],
        onsite_minutes_total=row["onsite_minutes_total"],
        onsite_minutes_used=row["onsite_minutes_used"],
        purchase_order=row["purchase_order"],
        special_eol_support=bool(row["special_eol_support"]),
        version=row["version"],
        office_minutes_total=row["office_minutes_total"],
        office_minutes_used=row["office_minutes_used"],
    )


def hours_entry(row: sqlite3.Row) -> HoursEntry:
    return HoursEntry(
        row["id"],
        row["contract_id"],
        row["ticket_id"],
        row["minutes"],
        HoursKind(row["kind"]),
        bool(row["charged"]),
        from_ts(row["at"]),
    )


def product(row: sqlite3.Row) -> Product:
    return Product(
        id=row["id"],
        client_id=row["client_id"],
        contract_id=row["contract_id"],
        name=row["name"],
        service_area=ServiceArea(row["service_area"]),
        warranty_until=from_day_opt(row["warranty_until"]),
        discontinued=bool(row["discontinued"]),
        special_support=bool(row["special_support"]),
    )


def agent(row: sqlite3.Row) -> Agent:
    return Agent(row["id"], row["name"], row["slack_user_id"], Role(row["role"]), bool(row["active"]))


def invite(row: sqlite3.Row) -> Invite:
    return Invite(
        id=row["id"],
        code=row["code"],
        client_id=row["client_id"],
        contact_name=row["contact_name"],
        expires_at=from_ts(row["expires_at"]),
        used_at=from_ts_opt(row["used_at"]),
        used_by=row["used_by"],
        created_at=from_ts(row["created_at"]),
    )


def ticket(row: sqlite3.Row) -> Ticket:
    met = row["response_met"]
    return Ticket(
        id=row["id"],
        number=row["number"],
        client_id=row["client_id"],
        contact_id=row["contact_id"],
        contract_id=row["contract_id"],
        product_id=row["product_id"],
        service_area=ServiceArea(row["service_area"]),
        severity=Severity(row["severity"]),
        status=TicketStatus(row["status"]),
        escalation_level=row["escalation_level"],
        assignee_id=row["assignee_id"],
        description=row["description"],
        since_at=from_ts_opt(row["since_at"]),
        since_text=row["since_text"],
        onsite_details=row["onsite_details"],
        telegram_chat_id=row["telegram_chat_id"],
        slack_channel=row["slack_channel"],
        slack_ts=row["slack_ts"],
        opened_at=from_ts(row["opened_at"]),
        clock_started_at=from_ts_opt(row["clock_started_at"]),
        response_due_at=from_ts_opt(row["response_due_at"]),
        first_response_at=from_ts_opt(row["first_response_at"]),
        response_met=None if met is None else bool(met),
        resolved_at=from_ts_opt(row["resolved_at"]),
        closed_at=from_ts_opt(row["closed_at"]),
        solution=row["solution"],
        rating=row["rating"],
        version=row["version"],
        warranty=bool(row["warranty"]),
        purchase_order=row["purchase_order"],
    )


def pause(row: sqlite3.Row) -> SlaPause:
    return SlaPause(
        row["id"], row["ticket_id"], from_ts(row["started_at"]), from_ts_opt(row["ended_at"]), row["reason"]
    )


def escalation(row: sqlite3.Row) -> Escalation:
    sev = row["new_severity"]
    return Escalation(
        id=row["id"],
        ticket_id=row["ticket_id"],
        from_level=row["from_level"],
        to_level=row["to_level"],
        requested_by_kind=row["requested_by_kind"],
        requested_by_id=row["requested_by_id"],
        reason=row["reason"],
        new_severity=None if sev is None else Severity(sev),
        status=EscalationStatus(row["status"]),
        requested_at=from_ts(row["requested_at"]),
        decided_by=row["decided_by"],
        decided_at=from_ts_opt(row["decided_at"]),
        decision_reason=row["decision_reason"],
    )


def attachment(row: sqlite3.Row) -> Attachment:
    return Attachment(
        id=row["id"],
        ticket_id=row["ticket_id"],
        kind=AttachmentKind(row["kind"]),
        telegram_file_id=row["telegram_file_id"],
        file_name=row["file_name"],
        size=row["size"],
        mime=row["mime"],
        slack_file_id=row["slack_file_id"],
        created_at=from_ts(row["created_at"]),
    )


def audit(row: sqlite3.Row) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        ticket_id=row["ticket_id"],
        at=from_ts(row["at"]),
        actor_kind=row["actor_kind"],
        actor_id=row["actor_id"],
        action=row["action"],
        data=from_json(row["data"]),
    )


def draft(row: sqlite3.Row) -> Draft:
    return Draft(
        chat_id=row["chat_id"],
        user_id=row["user_id"],
        step=row["step"],
        data=from_json(row["data"]),
        language=row["language"],
        updated_at=from_ts(row["updated_at"]),
        version=row["version"],
    )


def outbox(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        destination=row["destination"],
        ordering_key=row["ordering_key"],
        kind=row["kind"],
        payload=from_json(row["payload"]),
        dedupe_key=row["dedupe_key"],
        created_at=from_ts(row["created_at"]),
        available_at=from_ts(row["available_at"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        status=OutboxStatus(row["status"]),
        locked_by=row["locked_by"],
        locked_until=from_ts_opt(row["locked_until"]),
        pace_key=row["pace_key"],
        claims=row["claims"],
        sent_at=from_ts_opt(row["sent_at"]),
    )


def inbox(row: sqlite3.Row) -> InboxEntry:
    return InboxEntry(
        id=row["id"],
        source=row["source"],
        key=row["key"],
        ordering_key=row["ordering_key"],
        kind=row["kind"],
        payload=from_json(row["payload"]),
        status=InboxStatus(row["status"]),
        received_at=from_ts(row["received_at"]),
        available_at=from_ts(row["available_at"]),
        attempts=row["attempts"],
        locked_by=row["locked_by"],
        locked_until=from_ts_opt(row["locked_until"]),
        finished_at=from_ts_opt(row["finished_at"]),
        error=row["error"],
    )


def timer(row: sqlite3.Row) -> Timer:
    return Timer(
        id=row["id"],
        kind=row["kind"],
        ticket_id=row["ticket_id"],
        due_at=from_ts(row["due_at"]),
        payload=from_json(row["payload"]),
        dedupe_key=row["dedupe_key"],
        status=TimerStatus(row["status"]),
        locked_by=row["locked_by"],
        locked_until=from_ts_opt(row["locked_until"]),
        attempts=row["attempts"],
    )
