"""The severity of a ticket opened by e-mail (R-SEVERITY): "por confirmar" until the client answers the numbered
question (by e-mail, or with one tap on Telegram through the deep link) or a consultant sets it. The deadline is
recomputed from the clock start, the moment the mailbox received the message (P-SLA-5)."""

from __future__ import annotations

from datetime import datetime

from bot.conversation.model import Msg
from bot.dates import deadline_in_words
from bot.domain.types import Severity, TicketStatus
from bot.services import mail_out, outbox
from bot.services.context import Services
from bot.services.desk_common import AGENT_LANGUAGE, agent_text
from bot.services.desk_deadline import response_deadline, schedule_response_timers
from bot.services.intake_render import Renderer
from bot.services.mail_text import plain_from_html, severity_answer
from storage import Tx
from storage.mail_records import MailTicket
from storage.records import Ticket

__all__ = ["answer_by_mail", "confirm_by_desk", "is_pending", "set_by_client"]

_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)


async def is_pending(tx: Tx, ticket_id: int) -> bool:
    """Whether the ticket's severity still waits for an answer ("severidad por confirmar")."""
    mail = await tx.get_mail_ticket(ticket_id)
    return mail is not None and mail.severity_pending


async def _apply(tx: Tx, services: Services, ticket: Ticket, severity: Severity, now: datetime) -> Ticket:
    changes: dict[str, object] = {"severity": severity}
    if ticket.first_response_at is None and ticket.response_due_at is not None:
        changes["response_due_at"] = await response_deadline(tx, services, ticket, severity, now)
    updated = await tx.update_ticket(ticket.id, ticket.version, **changes)
    await schedule_response_timers(tx, services, updated)
    await tx.update_mail_ticket(ticket.id, severity_pending=False)
    await outbox.slack_card(tx, updated, at=now)
    return updated


async def set_by_client(
    tx: Tx, services: Services, ticket: Ticket, severity: Severity, *, name: str, actor: str, via: str, now: datetime
) -> Ticket | None:
    """The client answered the severity question (by e-mail or on Telegram): the ticket takes it, the thread
    and the card say so, and the client hears the deadline by e-mail. Returns: the ticket, None when it was
    not waiting for that answer any more."""
    mail = await tx.get_mail_ticket(ticket.id)
    if mail is None or not mail.severity_pending or ticket.status not in _OPEN:
        return None
    updated = await _apply(tx, services, ticket, severity, now)
    await tx.append_audit(
        ticket.id, at=now, actor_kind="client", actor_id=actor, action="severity_confirmed",
        data={"before": int(ticket.severity), "after": int(severity), "via": via},
    )  # fmt: skip
    due = updated.response_due_at
    deadline = (
        deadline_in_words(due, AGENT_LANGUAGE, services.calendar.tz, catalogue=services.catalogue) if due else "—"
    )
    note = agent_text(services, "mail.desk.severity_confirmed", name=name, severity=int(severity), deadline=deadline)
    await outbox.slack_thread(tx, updated, note, at=now)
    contact = None if ticket.contact_id is None else await tx.get_contact(ticket.contact_id)
    lang = contact.language if contact is not None else AGENT_LANGUAGE
    if due is not None and mail.address:
        words = Msg(f"intake.severity.name.{int(severity)}")
        line = Msg("mail.severity_confirmed", {"ticket": ticket.number, "severity": words, "deadline": due})
        body = plain_from_html(Renderer.for_services(services, lang).text(line))
        await mail_out.send_to_ticket(
            tx, services, updated, mail, mail_out.compose(services, lang, body, name=name),
            at=now, auto=True, dedupe_key=f"mail-severity:{ticket.id}",
        )  # fmt: skip
    return updated


async def answer_by_mail(
    tx: Tx, services: Services, ticket: Ticket, mail: MailTicket, name: str, text: str, now: datetime
) -> bool:
    """A reply that starts with 1-4 while the severity waits for the client. Returns: whether it answered."""
    answer = severity_answer(text)
    if answer is None or not mail.severity_pending:
        return False
    done = await set_by_client(
        tx, services, ticket, Severity(answer), name=name, actor=mail.address, via="email", now=now
    )
    return done is not None


async def confirm_by_desk(tx: Tx, ticket: Ticket, severity: Severity, *, slack_user_id: str, at: datetime) -> bool:
    """A consultant sets the severity of a ticket whose severity was "por confirmar" (bot.services.desk_assign's
    change of severity calls it before its own checks). Setting the severity the ticket already has only confirms
    it (the change of severity itself refuses "the same severity"). Returns: True when that confirmation was all
    there was to do; False when the change of severity goes on as usual (and the mark is cleared)."""
    mail = await tx.get_mail_ticket(ticket.id)
    if mail is None or not mail.severity_pending:
        return False
    await tx.update_mail_ticket(ticket.id, severity_pending=False)
    if severity != ticket.severity:
        return False
    await tx.append_audit(
        ticket.id, at=at, actor_kind="agent", actor_id=slack_user_id, action="severity_confirmed",
        data={"before": int(ticket.severity), "after": int(severity), "via": "desk"},
    )  # fmt: skip
    await outbox.slack_card(tx, ticket, at=at)
    return True
