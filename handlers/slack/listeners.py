"""Slack listeners: card buttons, escalation decisions, modal submissions, thread messages, App Home.

Each listener acks at once and then only writes to the store (process_before_response): every message it
owes goes through the outbox. The one direct Web API call is views.open, because a trigger_id lives 3 s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

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
from bot.services import desk, desk_info, desk_queries, desk_resolve, escalation
from bot.services.context import Services
from bot.services.desk_common import NotAnAgent, NotTheAssignee, TicketGone, agent_text
from handlers.slack import blocks, modals
from storage import StaleVersion as StoreStale

__all__ = ["Click", "refusal", "register_listeners"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """A button press, parsed from the payload once (never dug into inline)."""

    user: str
    channel: str
    message_ts: str
    action_id: str
    value: str
    trigger_id: str
    key: str  # what a replay of this very press repeats

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Click:
        action = (body.get("actions") or [{}])[0]
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        user = (body.get("user") or {}).get("id", "")
        key = f"{user}:{action.get('action_ts', '')}:{action.get('action_id', '')}:{body.get('trigger_id', '')}"
        return cls(
            user=user,
            channel=channel,
            message_ts=container.get("message_ts", ""),
            action_id=action.get("action_id", ""),
            value=str(action.get("value", "")),
            trigger_id=body.get("trigger_id", ""),
            key=key,
        )

    @property
    def number(self) -> int | None:
        return int(self.value) if self.value.isdigit() else None


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
        return text(services, "desk.error.not_authorized", role=text(services, f"desk.level.{_level(exc)}"))
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
    if isinstance(exc, DomainStale | StoreStale):
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


def _level(exc: NotAuthorized) -> int:
    return 3 if exc.required.value == "operations_manager" else 2


_EXPECTED = (
    desk.AlreadyTaken,
    NotTheAssignee,
    NotAnAgent,
    NotAuthorized,
    NoPendingEscalation,
    EscalationAlreadyPending,
    EscalationLimitReached,
    EscalationNotAllowed,
    IllegalTransition,
    DomainStale,
    StoreStale,
    TicketGone,
    desk_info.NoClientChat,
    InvalidInput,
)


class Listeners:
    """The desk's Slack listeners, bound to the services built by the composition root."""

    def __init__(self, services: Services, client: AsyncWebClient) -> None:
        self.s = services
        self.client = client

    async def _tell(self, channel: str, user: str, exc: Exception) -> None:
        text = refusal(self.s, exc)
        if text is None:
            log.error("desk action failed", exc_info=exc)
            return
        if channel:
            await desk_queries.queue_ephemeral(self.s, channel, user, text)

    async def _fresh(self, click: Click) -> bool:
        """False for a replayed press (same user, action_ts and trigger): it must do nothing twice."""
        return await desk_queries.first_time(self.s, "slack_action", click.key)

    # --- card buttons ------------------------------------------------------------------------------
    async def claim(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        click = Click.parse(body)
        if click.number is None or not await self._fresh(click):
            return
        try:
            await desk.claim(self.s, ticket_id=click.number, slack_user_id=click.user)
        except _EXPECTED as exc:
            await self._tell(click.channel, click.user, exc)

    async def reveal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        click = Click.parse(body)
        if click.number is None or not await self._fresh(click):
            return
        try:
            await desk.request_credentials(
                self.s, ticket_id=click.number, slack_user_id=click.user, channel=click.channel
            )
        except _EXPECTED as exc:
            await self._tell(click.channel, click.user, exc)

    async def open_modal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Pedir información / Escalar / Resolver: check who asks, then open the modal with the fresh trigger."""
        await ack()
        click = Click.parse(body)
        if click.number is None or not await self._fresh(click):
            return
        try:
            ticket = await desk_queries.precheck(
                self.s,
                ticket_id=click.number,
                slack_user_id=click.user,
                escalation=click.action_id == blocks.ACTION_ESCALATE,
            )
        except _EXPECTED as exc:
            await self._tell(click.channel, click.user, exc)
            return
        cat = self.s.catalogue
        if click.action_id == blocks.ACTION_ASK:
            view = modals.ask_modal(cat, ticket.id, click.channel)
        elif click.action_id == blocks.ACTION_ESCALATE:
            view = modals.escalate_modal(cat, ticket.id, click.channel, ticket.severity)
        else:
            view = modals.resolve_modal(cat, ticket.id, click.channel)
        await self.client.views_open(trigger_id=click.trigger_id, view=view)

    # --- escalation decisions ----------------------------------------------------------------------
    async def approve(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        click = Click.parse(body)
        if click.number is None or not await self._fresh(click):
            return
        try:
            await escalation.decide_escalation(
                self.s, escalation_id=click.number, decider_slack_id=click.user, approve=True
            )
        except _EXPECTED as exc:
            await self._tell(click.channel, click.user, exc)
            return
        await self._mark_decided(click, "desk.escalation.approved_word")

    async def _mark_decided(self, click: Click, word_key: str) -> None:
        if click.channel and click.message_ts:
            note = agent_text(
                self.s, "desk.escalation.decided_note", who=_mention(click.user), decision=agent_text(self.s, word_key)
            )
            await desk_queries.queue_update(self.s, click.channel, click.message_ts, note)

    async def reject(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        click = Click.parse(body)
        if click.number is None or not await self._fresh(click):
            return
        try:
            await escalation.check_decider(self.s, escalation_id=click.number, decider_slack_id=click.user)
        except _EXPECTED as exc:
            await self._tell(click.channel, click.user, exc)
            return
        view = modals.reject_modal(self.s.catalogue, click.number, click.channel, click.message_ts)
        await self.client.views_open(trigger_id=click.trigger_id, view=view)

    # --- modal submissions -------------------------------------------------------------------------
    async def submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = (body.get("user") or {}).get("id", "")
        meta = modals.metadata(view)
        channel = str(meta.get("channel", ""))
        cat = self.s.catalogue
        try:
            callback = view.get("callback_id")
            if callback == modals.ASK:
                question = modals.parse_ask(view, cat)
                await desk_info.ask_client(
                    self.s, ticket_id=int(meta["ticket_id"]), slack_user_id=user, question=question
                )
            elif callback == modals.ESCALATE:
                form = modals.parse_escalate(view, cat)
                try:
                    await escalation.request_escalation(
                        self.s,
                        ticket_id=int(meta["ticket_id"]),
                        requested_by_kind="agent",
                        requested_by_id=user,
                        reason=form.reason,
                        new_severity=form.new_severity,
                    )
                except InvalidInput as exc:
                    raise modals.FormErrors({"severity": refusal(self.s, exc) or ""}) from None
            elif callback == modals.RESOLVE:
                done = modals.parse_resolve(view, cat)
                await desk_resolve.resolve(
                    self.s,
                    ticket_id=int(meta["ticket_id"]),
                    slack_user_id=user,
                    solution=done.solution,
                    hours=done.hours,
                    charged=done.charged,
                )
            elif callback == modals.REJECT:
                reason = modals.parse_reject(view, cat)
                await escalation.decide_escalation(
                    self.s,
                    escalation_id=int(meta["escalation_id"]),
                    decider_slack_id=user,
                    approve=False,
                    reason=reason,
                )
                ts = str(meta.get("ts", ""))
                click = Click(user, channel, ts, blocks.ACTION_REJECT, "", "", "")
                await self._mark_decided(click, "desk.escalation.rejected_word")
        except modals.FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        except _EXPECTED as exc:
            await ack()
            await self._tell(channel, user, exc)
            return
        except (KeyError, ValueError) as exc:
            log.warning("modal with bad metadata from %s: %r", user, exc)
            await ack()
            return
        await ack()

    # --- events ------------------------------------------------------------------------------------
    async def message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message in a card's thread: maybe a reply for the client (thread bridge)."""
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts") or event.get("bot_id"):
            return
        if event.get("subtype") not in (None, "file_share", "thread_broadcast"):
            return
        event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
        await desk.relay_agent_reply(
            self.s,
            event_id=event_id,
            channel=str(event.get("channel", "")),
            thread_ts=str(thread_ts),
            slack_user_id=str(event.get("user", "")),
            text=str(event.get("text", "")),
        )

    async def home_opened(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            await desk_queries.queue_home(self.s, str(event["user"]))


def register_listeners(app: AsyncApp, services: Services) -> None:
    """Attach every desk listener to the bolt app."""
    listeners = Listeners(services, app.client)
    app.action(blocks.ACTION_CLAIM)(listeners.claim)
    app.action(blocks.ACTION_REVEAL)(listeners.reveal)
    for action_id in (blocks.ACTION_ASK, blocks.ACTION_ESCALATE, blocks.ACTION_RESOLVE):
        app.action(action_id)(listeners.open_modal)
    app.action(blocks.ACTION_APPROVE)(listeners.approve)
    app.action(blocks.ACTION_REJECT)(listeners.reject)
    for callback_id in (modals.ASK, modals.ESCALATE, modals.RESOLVE, modals.REJECT):
        app.view(callback_id)(listeners.submitted)
    app.event("message")(listeners.message)
    app.event("app_home_opened")(listeners.home_opened)
