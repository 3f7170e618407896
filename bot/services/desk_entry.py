"""The service entries of the desk: a Slack action (button, modal, App Home) and a message in a card's thread.

Each is one transaction: the inbox entry is marked done, the use case runs in a savepoint, and a refusal (not
the assignee, already taken, already decided...) rolls back only the use case's own writes while the person
is told why in an ephemeral of the same transaction. Nothing is lost between the click and the answer.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.errors import (
    EscalationAlreadyPending,
    EscalationLimitReached,
    EscalationNotAllowed,
    IllegalTransition,
    InvalidInput,
    NoPendingEscalation,
    NotAuthorized,
)
from bot.domain.errors import StaleVersion as DomainStale
from bot.i18n import Safe
from bot.inbox import Receipt
from bot.services import (
    desk,
    desk_assign,
    desk_info,
    desk_queries,
    desk_resolve,
    desk_response,
    digest,
    escalation,
    mail_desk,
    mail_severity,
    outbox,
)
from bot.services.client_entry import LeaseLost
from bot.services.context import Services
from bot.services.desk_common import AGENT, NotAnAgent, NotTheAssignee, TicketGone, agent_text, audit, load
from bot.services.events import (
    AskForm,
    CardButton,
    DeskAction,
    EscalateForm,
    FormSubmitted,
    HomeOpened,
    ReassignForm,
    RejectForm,
    ResolveForm,
    SeverityForm,
    ThreadMessage,
)
from bot.services.mail_events import MailAttachForm
from storage import Tx

__all__ = [
    "ACTIONS",
    "handle_action",
    "handle_message",
    "refusal",
]

log = logging.getLogger(__name__)

# The action names a CardButton carries (the Slack adapter maps its action_ids onto these).
CLAIM, REVEAL, ASK, ESCALATE, RESOLVE, APPROVE, REJECT = (
    "claim",
    "reveal",
    "ask",
    "escalate",
    "resolve",
    "approve",
    "reject",
)
SEVERITY, RELEASE, REASSIGN = "severity", "release", "reassign"
CONTACT = "contact"  # R-RESPONSE: "Registré llamada/sesión"
ACTIONS = frozenset(
    {CLAIM, REVEAL, ASK, ESCALATE, RESOLVE, APPROVE, REJECT, SEVERITY, RELEASE, REASSIGN, CONTACT, mail_desk.ATTACH,
     digest.NOTIFY_SALES}
)  # fmt: skip

_EXPECTED = (
    NotTheAssignee,
    NotAnAgent,
    NotAuthorized,
    NoPendingEscalation,
    EscalationAlreadyPending,
    EscalationLimitReached,
    EscalationNotAllowed,
    IllegalTransition,
    DomainStale,
    TicketGone,
    desk_info.NoClientChat,
    InvalidInput,
    desk_assign.NotAManager,
    desk_assign.NotAConsultant,
    desk_assign.SameAssignee,
)


def refusal(services: Services, exc: Exception) -> str | None:
    """The sentence a refused person reads; None for errors that are bugs (logged, not explained)."""
    text = agent_text
    if isinstance(exc, desk.AlreadyTaken) and exc.assignee is not None:
        return text(services, "desk.error.already_claimed", who=_mention(exc.assignee.slack_user_id))
    if isinstance(exc, NotTheAssignee):
        if exc.assignee is None:
            return text(services, "desk.error.unclaimed")
        return text(services, "desk.error.not_assignee", who=_mention(exc.assignee.slack_user_id))
    if isinstance(exc, NotAnAgent):
        return text(services, "desk.error.not_agent")
    if isinstance(exc, NotAuthorized):
        level = 3 if exc.required.value == "operations_manager" else 2
        return text(services, "desk.error.not_authorized", role=text(services, f"desk.level.{level}"))
    if isinstance(exc, NoPendingEscalation):
        return text(services, "desk.error.already_decided")
    if isinstance(exc, EscalationAlreadyPending):
        return text(services, "desk.error.escalation_pending")
    if isinstance(exc, EscalationLimitReached):
        return text(services, "desk.error.escalation_top")
    if isinstance(exc, EscalationNotAllowed):
        return text(services, "desk.error.escalation_finished")
    if isinstance(exc, IllegalTransition):
        return text(services, "desk.error.illegal", status=text(services, f"desk.status.{exc.status.value}"))
    if isinstance(exc, DomainStale):
        return text(services, "desk.error.stale")
    if isinstance(exc, TicketGone):
        return text(services, "desk.error.gone")
    if isinstance(exc, desk_info.NoClientChat):
        return text(services, "desk.error.no_client_chat")
    if isinstance(exc, desk_assign.NotAManager):
        return text(services, "desk.error.not_manager")
    if isinstance(exc, desk_assign.NotAConsultant):
        return text(services, "desk.error.not_consultant")
    if isinstance(exc, desk_assign.SameAssignee):
        return text(services, "desk.error.same_assignee", who=_mention(exc.agent.slack_user_id))
    if isinstance(exc, InvalidInput):
        return text(services, "desk.error.severity")
    return None


def _mention(slack_user_id: str) -> Safe:
    return Safe(f"<@{slack_user_id}>")


async def _begin(tx: Tx, receipt: Receipt | None, now: datetime) -> None:
    if receipt is not None and not await tx.finish_inbox(receipt.entry_id, receipt.worker, now):
        raise LeaseLost(f"inbox entry {receipt.entry_id} was taken over")


async def handle_action(
    services: Services, receipt: Receipt | None, action: DeskAction | None
) -> dict[str, str] | None:
    """Handle one desk action in one transaction (None: an entry that carries nothing to do, only marked
    done). Returns: errors to show under a modal's fields ({block_id: text}) when a submitted form is
    refused as filled in; else None."""
    now = services.clock()
    errors: dict[str, str] | None = None
    async with services.store.transaction() as tx:
        await _begin(tx, receipt, now)
        if action is None:
            pass
        elif isinstance(action, HomeOpened):
            await outbox.slack_home(tx, action.user, at=now)
        else:
            channel = action.channel
            try:
                async with tx.savepoint():
                    if isinstance(action, CardButton):
                        await _button(tx, services, action, now)
                    else:
                        await _form(tx, services, action, now)
            except desk_resolve.BillingReasonRequired:
                # R-WARRANTY: a billing other than the ticket's warranty mark needs its reason, under the field.
                errors = {"billing_reason": agent_text(services, "desk.error.billing_reason")}
            except InvalidInput as exc:
                if isinstance(action, FormSubmitted) and isinstance(action.form, EscalateForm):
                    errors = {"severity": refusal(services, exc) or ""}  # shown under the field
                elif isinstance(action, FormSubmitted) and isinstance(action.form, SeverityForm):
                    errors = {"severity": agent_text(services, "desk.error.same_severity")}
                else:
                    await _tell(tx, services, channel, action.user, exc, now)
            except _EXPECTED as exc:
                if isinstance(exc, _ROLE_REFUSALS):
                    await _audit_refusal(tx, action, exc, now)
                await _tell(tx, services, channel, action.user, exc, now)
    services.wake_delivery()
    return errors


# Refused for who the person is (no role, not the assignee, not the level's manager: P-ESC-2), not for the
# ticket's state. Escalation decisions audit their own refusals (they return them instead of raising).
_ROLE_REFUSALS = (NotAnAgent, NotTheAssignee, NotAuthorized, desk_assign.NotAManager)
_FORM_ACTIONS = {
    AskForm: ASK,
    EscalateForm: ESCALATE,
    ResolveForm: RESOLVE,
    RejectForm: REJECT,
    SeverityForm: SEVERITY,
    ReassignForm: REASSIGN,
    MailAttachForm: mail_desk.ATTACH,
}


async def _audit_refusal(tx: Tx, action: CardButton | FormSubmitted, exc: Exception, now: datetime) -> None:
    """Slack keeps its role checks; like a client's, every refusal leaves an audit row (after the savepoint
    undid the action's own writes)."""
    if isinstance(action, CardButton):
        attempted = action.action
        ticket_id = action.value if action.action not in (APPROVE, REJECT) else None
    else:
        attempted = _FORM_ACTIONS.get(type(action.form), type(action.form).__name__)
        ticket_id = getattr(action.form, "ticket_id", None)
    if ticket_id is not None and await tx.get_ticket(ticket_id) is None:
        ticket_id = None  # a button naming no ticket: the row is kept, tied to none
    await audit(tx, ticket_id, now, AGENT, action.user, "desk_action_refused", attempted=attempted,
                reason=type(exc).__name__)  # fmt: skip


async def _tell(tx: Tx, services: Services, channel: str, user: str, exc: Exception, now: datetime) -> None:
    text = refusal(services, exc)
    if text is None:
        raise exc
    if channel:
        await outbox.slack_ephemeral(tx, channel, user, text, at=now)
    else:
        await outbox.slack_dm(tx, user, text, at=now)


async def _button(tx: Tx, services: Services, b: CardButton, now: datetime) -> None:
    if b.value is None:
        return  # not a button of ours: a tampered value names nothing
    if b.action == CLAIM:
        await desk.claim(tx, services, ticket_id=b.value, slack_user_id=b.user, at=now)
    elif b.action == digest.NOTIFY_SALES:  # issue 12: the digest's "Avisar a ventas"
        await digest.notify_sales(tx, services, b, now)
    elif b.action == mail_desk.ATTACH:  # P-IN-6: the value names a message of "correo sin cliente"
        await mail_desk.open_attach(tx, services, b, now)
    elif b.action == REVEAL:
        await desk.request_credentials(tx, services, ticket_id=b.value, slack_user_id=b.user, channel=b.channel, at=now)
    elif b.action in (ASK, ESCALATE, RESOLVE):
        # The check comes first, so nobody fills a form only to be refused; the modal opens from the outbox
        # within the trigger's 3 s (its own ordering key: nothing waits before it).
        ticket = await desk_queries.precheck(
            tx, ticket_id=b.value, slack_user_id=b.user, escalation=b.action == ESCALATE
        )
        view = {"view": b.action, "ticket_id": ticket.id, "channel": b.channel, "ts": b.message_ts}
        if b.action == ESCALATE:
            view["severity"] = int(ticket.severity)
        if b.action == RESOLVE:
            view["warranty"] = ticket.warranty  # R-WARRANTY: the modal's billing defaults to the mark
        await outbox.slack_modal(tx, b.trigger_id, view, at=now)
    elif b.action == SEVERITY:
        # R-SEVERITY: the assignee or a manager (a manager may change it before anyone took the ticket).
        found = await load(tx, b.value)
        await desk_assign.require_severity_changer(tx, found, b.user)
        # P-IN-6: "por confirmar" has no current severity yet: the modal offers all four.
        current = 0 if await mail_severity.is_pending(tx, found.ticket.id) else int(found.ticket.severity)
        view = {"view": SEVERITY, "ticket_id": found.ticket.id, "channel": b.channel, "ts": b.message_ts,
                "severity": current}  # fmt: skip
        await outbox.slack_modal(tx, b.trigger_id, view, at=now)
    elif b.action == CONTACT:
        await desk_response.record_contact(tx, services, ticket_id=b.value, slack_user_id=b.user, at=now)
    elif b.action == RELEASE:
        await desk_assign.release(tx, services, ticket_id=b.value, slack_user_id=b.user, at=now)
    elif b.action == REASSIGN:
        await desk_assign.require_manager(tx, b.user)
        found = await load(tx, b.value)
        view = {"view": REASSIGN, "ticket_id": found.ticket.id, "channel": b.channel, "ts": b.message_ts}
        await outbox.slack_modal(tx, b.trigger_id, view, at=now)
    elif b.action == APPROVE:
        decided = await escalation.decide_in_tx(
            tx, services, escalation_id=b.value, decider_slack_id=b.user, approve=True, reason=None, at=now,
            pressed=(b.channel, b.message_ts),
        )  # fmt: skip
        if isinstance(decided, Exception):
            await _tell(tx, services, b.channel, b.user, decided, now)  # its audit row stays
        elif not b.message_ts:  # pressed on the decider's App Home: it shows the request gone (issue 12)
            await outbox.slack_home(tx, b.user, at=now)
    elif b.action == REJECT:
        checked = await escalation.check_decider(tx, escalation_id=b.value, decider_slack_id=b.user, at=now)
        if isinstance(checked, Exception):
            await _tell(tx, services, b.channel, b.user, checked, now)
            return
        view = {"view": REJECT, "escalation_id": b.value, "channel": b.channel, "ts": b.message_ts}
        await outbox.slack_modal(tx, b.trigger_id, view, at=now)


async def _form(tx: Tx, services: Services, f: FormSubmitted, now: datetime) -> None:
    form = f.form
    if isinstance(form, MailAttachForm):
        await mail_desk.attach(tx, services, f, now)
    elif isinstance(form, AskForm):
        await desk_info.ask_client(
            tx, services, ticket_id=form.ticket_id, slack_user_id=f.user, question=form.question, at=now
        )
    elif isinstance(form, EscalateForm):
        await escalation.request_in_tx(
            tx,
            services,
            ticket_id=form.ticket_id,
            requested_by_kind=AGENT,
            requested_by_id=f.user,
            reason=form.reason,
            new_severity=form.new_severity,
            at=now,
        )
    elif isinstance(form, ResolveForm):
        await desk_resolve.resolve(
            tx,
            services,
            ticket_id=form.ticket_id,
            slack_user_id=f.user,
            solution=form.solution,
            hours=form.hours,
            charged=form.charged,
            billing_reason=form.billing_reason,
            at=now,
        )
    elif isinstance(form, SeverityForm):
        await desk_assign.change_severity(
            tx, services, ticket_id=form.ticket_id, slack_user_id=f.user, severity=form.severity,
            reason=form.reason, at=now,
        )  # fmt: skip
    elif isinstance(form, ReassignForm):
        await desk_assign.reassign(
            tx, services, ticket_id=form.ticket_id, slack_user_id=f.user, to_slack_id=form.to_user, at=now
        )
    elif isinstance(form, RejectForm):
        decided = await escalation.decide_in_tx(
            tx,
            services,
            escalation_id=form.escalation_id,
            decider_slack_id=f.user,
            approve=False,
            reason=form.reason,
            at=now,
            pressed=(f.channel, f.message_ts),
        )
        if isinstance(decided, Exception):
            await _tell(tx, services, f.channel, f.user, decided, now)
        elif not f.message_ts:  # "Rechazar" was pressed on the decider's App Home (issue 12)
            await outbox.slack_home(tx, f.user, at=now)


async def handle_message(services: Services, receipt: Receipt | None, message: ThreadMessage) -> desk.RelayOutcome:
    """A message in a channel thread: maybe a reply for the client (thread bridge), in one transaction.
    Raises NotYet while the card it may answer is not recorded (it waits in the inbox, never dropped)."""
    now = services.clock()
    async with services.store.transaction() as tx:
        await _begin(tx, receipt, now)
        outcome = await desk.relay_agent_reply(tx, services, message, now)
    services.wake_delivery()
    return outcome
