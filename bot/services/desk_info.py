"""Waiting for the client: ask (pause, P-SLA-7), three business-day reminders, close unanswered (P-CLOSE-3)."""

from __future__ import annotations

from datetime import datetime

from bot.domain import lifecycle
from bot.domain.errors import InvalidInput
from bot.domain.types import TicketStatus
from bot.i18n import Safe
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk import require_assignee
from bot.services.desk_common import (
    AGENT,
    CLIENT,
    SYSTEM,
    DeskError,
    TicketView,
    agent_text,
    audit,
    drop_pending_escalation,
    load,
    notify_client,
)
from storage import Tx
from storage.records import Ticket, Timer

__all__ = [
    "INFO_CLOSE",
    "INFO_REMINDER",
    "NoClientChat",
    "ask_client",
    "business_days_words",
    "on_info_close",
    "on_info_reminder",
    "reopen_keyboard",
    "resume_from_waiting",
]

INFO_REMINDER = "info_reminder"
INFO_CLOSE = "info_close"
REOPEN_DATA = "desk:reopen:{ticket_id}"


class NoClientChat(DeskError):
    """The ticket's client has no Telegram chat, so nothing can be asked there."""


def business_days_words(services: Services, lang: str, days: int) -> str:
    """ "1 día hábil" / "3 días hábiles" in the client's language."""
    key = "tickets.business_days_one" if days == 1 else "tickets.business_days_other"
    return services.catalogue.plain(lang, key, days=days)


def reopen_keyboard(services: Services, lang: str, ticket_id: int) -> list[list[dict[str, str]]]:
    """The single Reabrir button (P-CLOSE-2) sent with a closing notice."""
    label = services.catalogue.plain(lang, "tickets.reopen")
    return [[{"text": label, "data": REOPEN_DATA.format(ticket_id=ticket_id)}]]


async def ask_client(
    tx: Tx, services: Services, *, ticket_id: int, slack_user_id: str, question: str, at: datetime
) -> Ticket:
    """ "Pedir información": the question goes to the client, the ticket waits for them and its SLA clock
    pauses (P-SLA-7); reminders follow on the next business days (P-CLOSE-3).
    Raises NotAnAgent, NotTheAssignee, NoClientChat, IllegalTransition, InvalidInput (empty question)."""
    if not question.strip():
        raise InvalidInput("the question is empty")
    view = await load(tx, ticket_id)
    agent = await require_assignee(tx, view, slack_user_id)
    ticket = view.ticket
    if ticket.telegram_chat_id is None and await tx.get_mail_ticket(ticket_id) is None:  # P-IN-6: or by e-mail
        raise NoClientChat(ticket.number)
    lifecycle.apply(view.state(), lifecycle.Action.ASK_CLIENT, expected_version=ticket.version)
    updated = await tx.update_ticket(ticket_id, ticket.version, status=TicketStatus.WAITING_CLIENT)
    pause = await tx.open_pause(ticket_id, at, "info_requested")
    attempts = services.settings.info_reminder_count
    first = services.calendar.add_business_days(at, 1)
    await tx.schedule_timer(
        INFO_REMINDER,
        first,
        ticket_id=ticket_id,
        payload={"attempt": 1, "wait": pause.started_at.isoformat()},
        dedupe_key=f"{INFO_REMINDER}:{ticket_id}:{pause.id}:1",
    )
    await audit(tx, ticket_id, at, AGENT, slack_user_id, "info_requested", question=question.strip())
    await notify_client(
        tx,
        view,
        services,
        "tickets.info_requested",
        at=at,
        request=question.strip(),
        remaining=business_days_words(services, view.language, attempts + 1),
    )
    text = agent_text(services, "desk.thread.asked", who=Safe(f"<@{agent.slack_user_id}>"), question=question.strip())
    await outbox.slack_thread(tx, updated, text, at=at)
    await outbox.slack_card(tx, updated, at=at)
    return updated


async def _current_wait(tx: Tx, view: TicketView, timer: Timer) -> bool:
    """Whether the timer belongs to the wait the ticket is in now (an answered wait's timers do nothing)."""
    if view.ticket.status is not TicketStatus.WAITING_CLIENT:
        return False
    open_pauses = [p for p in await tx.list_pauses(view.ticket.id) if p.ended_at is None]
    return bool(open_pauses) and open_pauses[-1].started_at == datetime.fromisoformat(str(timer.payload.get("wait")))


async def on_info_reminder(services: Services, tx: Tx, timer: Timer) -> None:
    """Timer: contact attempt n of INFO_REMINDER_COUNT, each saying when the ticket closes (P-CLOSE-3)."""
    if timer.ticket_id is None:
        return
    view = await load(tx, timer.ticket_id)
    if not await _current_wait(tx, view, timer):
        return
    attempts = services.settings.info_reminder_count
    attempt = int(timer.payload["attempt"])
    ticket = view.ticket
    lifecycle.apply(
        view.state(reminders_sent=attempt - 1),
        lifecycle.Action.REMIND,
        expected_version=ticket.version,
        max_reminders=attempts,
    )
    await tx.update_ticket(ticket.id, ticket.version)
    now = services.clock()
    # The thread hears "Aviso n de 3 enviado" only once Telegram accepted it (a blocked client is said so).
    sent = await notify_client(
        tx,
        view,
        services,
        "tickets.reminder",
        at=now,
        attempt=attempt,
        attempts=attempts,
        remaining=business_days_words(services, view.language, attempts + 1 - attempt),
        dedupe_key=f"reminder:{timer.id}",
        thread_note=agent_text(services, "desk.thread.reminder", attempt=attempt, attempts=attempts),
    )
    await audit(tx, ticket.id, now, SYSTEM, INFO_REMINDER, "info_reminder", attempt=attempt, queued=sent)
    await outbox.slack_card(tx, ticket, at=now)  # "avisos enviados: n de 3" on the card
    next_at = services.calendar.add_business_days(timer.due_at, 1)
    kind, payload = (INFO_REMINDER, {"attempt": attempt + 1}) if attempt < attempts else (INFO_CLOSE, {})
    await tx.schedule_timer(
        kind,
        next_at,
        ticket_id=ticket.id,
        payload={**payload, "wait": timer.payload["wait"]},
        dedupe_key=f"{kind}:{ticket.id}:{timer.payload['wait']}:{attempt + 1}",
    )


async def on_info_close(services: Services, tx: Tx, timer: Timer) -> None:
    """Timer: every attempt went unanswered -> close with a note; the assignee is told, the client may reopen."""
    if timer.ticket_id is None:
        return
    view = await load(tx, timer.ticket_id)
    if not await _current_wait(tx, view, timer):
        return
    attempts = services.settings.info_reminder_count
    ticket = view.ticket
    lifecycle.apply(
        view.state(reminders_sent=attempts),
        lifecycle.Action.CLOSE_UNANSWERED,
        expected_version=ticket.version,
        max_reminders=attempts,
    )
    now = services.clock()
    await drop_pending_escalation(tx, view, now, "closed", services)
    await tx.close_pause(ticket.id, now)
    await tx.update_ticket(ticket.id, ticket.version, status=TicketStatus.CLOSED, closed_at=now)
    erased = await tx.erase_credentials(ticket.id)
    await audit(
        tx, ticket.id, now, SYSTEM, INFO_CLOSE, "closed_unanswered", attempts=attempts, credentials_erased=erased
    )
    await notify_client(
        tx,
        view,
        services,
        "tickets.closed_unanswered",
        at=now,
        keyboard=reopen_keyboard(services, view.language, ticket.id),
    )
    # P-CLOSE-3 as it happened: a client who blocked the bot was not "unanswering", they were unreachable.
    unreachable = view.contact is not None and view.contact.unreachable_since is not None
    key = "desk.thread.closed_unreachable" if unreachable else "desk.thread.closed_unanswered"
    note = agent_text(services, key, ticket=ticket.number, attempts=attempts)
    closed = await tx.get_ticket(ticket.id)
    assert closed is not None
    await outbox.slack_thread(tx, closed, note, at=now)
    await outbox.slack_card(tx, closed, at=now)
    if view.assignee is not None:
        await outbox.slack_dm(tx, view.assignee.slack_user_id, note, at=now)


async def resume_from_waiting(tx: Tx, services: Services, ticket_id: int, at: datetime) -> bool:
    """The client answered while the ticket waited for them: the pause ends, the reminders stop and the
    ticket goes back to its assignee (P-SLA-7). For the client bridge to call in its own transaction.
    Returns: False when the ticket was not waiting (nothing changed)."""
    view = await load(tx, ticket_id)
    ticket = view.ticket
    if ticket.status is not TicketStatus.WAITING_CLIENT:
        return False
    lifecycle.apply(view.state(), lifecycle.Action.CLIENT_ANSWERED, expected_version=ticket.version)
    await tx.close_pause(ticket_id, at)
    await tx.cancel_timers(ticket_id, INFO_REMINDER)
    await tx.cancel_timers(ticket_id, INFO_CLOSE)
    updated = await tx.update_ticket(ticket_id, ticket.version, status=TicketStatus.ASSIGNED)
    await audit(tx, ticket_id, at, CLIENT, str(ticket.telegram_chat_id), "client_answered")
    await outbox.slack_card(tx, updated, at=at)
    return True
