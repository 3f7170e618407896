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
from bot.services import desk, desk_info, desk_queries, desk_resolve, escalation, outbox
from bot.services.client_entry import LeaseLost
from bot.services.context import Services
from bot.services.desk_common import AGENT, NotAnAgent, NotTheAssignee, TicketGone, agent_text
from bot.services.events import (
    AskForm,
    CardButton,
    DeskAction,
    EscalateForm,
    FormSubmitted,
    HomeOpened,
    RejectForm,
    ResolveForm,
    ThreadMessage,
)
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
ACTIONS = frozenset({CLAIM, REVEAL, ASK, ESCALATE, RESOLVE, APPROVE, REJECT})

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
            except InvalidInput as exc:
                if isinstance(action, FormSubmitted) and isinstance(action.form, EscalateForm):
                    errors = {"severity": refusal(services, exc) or ""}  # shown under the field
                else:
                    await _tell(tx, services, channel, action.user, exc, now)
            except _EXPECTED as exc:
                await _tell(tx, services, channel, action.user, exc, now)
    services.wake_delivery()
    return errors


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
        await outbox.slack_modal(tx, b.trigger_id, view, at=now)
    elif b.action == APPROVE:
        decided = await escalation.decide_in_tx(
            tx, services, escalation_id=b.value, decider_slack_id=b.user, approve=True, reason=None, at=now
        )
        if isinstance(decided, Exception):
            await _tell(tx, services, b.channel, b.user, decided, now)  # its audit row stays
            return
        await _mark_decided(tx, services, b.channel, b.message_ts, b.user, "desk.escalation.approved_word", now)
    elif b.action == REJECT:
        checked = await escalation.check_decider(tx, escalation_id=b.value, decider_slack_id=b.user, at=now)
        if isinstance(checked, Exception):
            await _tell(tx, services, b.channel, b.user, checked, now)
            return
        view = {"view": REJECT, "escalation_id": b.value, "channel": b.channel, "ts": b.message_ts}
        await outbox.slack_modal(tx, b.trigger_id, view, at=now)


async def _form(tx: Tx, services: Services, f: FormSubmitted, now: datetime) -> None:
    form = f.form
    if isinstance(form, AskForm):
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
            at=now,
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
        )
        if isinstance(decided, Exception):
            await _tell(tx, services, f.channel, f.user, decided, now)
            return
        await _mark_decided(tx, services, f.channel, f.message_ts, f.user, "desk.escalation.rejected_word", now)


async def _mark_decided(
    tx: Tx, services: Services, channel: str, ts: str, user: str, word_key: str, now: datetime
) -> None:
    """The request the decider pressed shows the decision instead of its buttons."""
    if channel and ts:
        note = agent_text(
            services, "desk.escalation.decided_note", who=_mention(user), decision=agent_text(services, word_key)
        )
        await outbox.slack_update(tx, channel, ts, note, at=now)


async def handle_message(services: Services, receipt: Receipt | None, message: ThreadMessage) -> desk.RelayOutcome:
    """A message in a channel thread: maybe a reply for the client (thread bridge), in one transaction.
    Raises NotYet while the card it may answer is not recorded (it waits in the inbox, never dropped)."""
    now = services.clock()
    async with services.store.transaction() as tx:
        await _begin(tx, receipt, now)
        outcome = await desk.relay_agent_reply(tx, services, message, now)
    services.wake_delivery()
    return outcome
