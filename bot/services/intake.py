"""The intake use cases: begin, answer a step, resume, cancel, expire; each is one transaction with its replies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.conversation import flow
from bot.conversation.model import (
    SECRET_STEPS,
    Command,
    Delete,
    Input,
    IntakeContext,
    IntakeState,
    Msg,
    Out,
    Reply,
    Secret,
    Status,
    Text,
)
from bot.conversation.prompts import prompt
from bot.delivery import Scheduler
from bot.services import outbox
from bot.services.context import Services
from bot.services.identity import ClientTurn, Profile, send, unknown_user
from bot.services.intake_open import AGENT_LANGUAGE, escape_mrkdwn, open_ticket
from bot.services.intake_render import Renderer
from storage import Tx
from storage.records import Draft, Timer

__all__ = [
    "DRAFT_EXPIRY",
    "INTAKE",
    "answer",
    "arm_expiry",
    "begin",
    "cancel",
    "register_timers",
    "resume",
    "stale_choice",
]

INTAKE = "intake"  # the draft's data["kind"] for an intake (other kinds: client_requests, bridge)
DRAFT_EXPIRY = "draft_expiry"
_SALES_REASONS = frozenset(
    {"no_contract", "not_started", "expired", "hours_exhausted", "discontinued_product", "event_used"}
)


def _context(services: Services, profile: Profile, now: datetime) -> IntakeContext:
    return IntakeContext(
        now=now,
        tz=services.settings.zone,
        contract=profile.domain_contract(),
        products=profile.options(),
        tiers=services.tiers,
        targets=services.targets,
        used_purchase_orders=profile.used_purchase_orders(),  # R-EVENT
    )


async def _emit(t: ClientTurn, renderer: Renderer, outs: list[Out]) -> None:
    for out in outs:
        if isinstance(out, Delete):
            await outbox.telegram_delete(t.tx, t.chat_id, out.message_id, at=t.now)
        else:
            await t.say(out, renderer=renderer)


async def _save(t: ClientTurn, lang: str, state: IntakeState, version: int) -> None:
    """Save the draft (compare-and-set) and (re)arm its expiry: a timer per answer, the newest one wins."""
    data: dict[str, Any] = {"kind": INTAKE, "intake": state.to_data()}
    t.draft = await t.tx.save_draft(
        t.chat_id, user_id=t.user_id, step=state.step.value, data=data, language=lang, at=t.now,
        expected_version=version,
    )  # fmt: skip
    await arm_expiry(t.tx, t.services, t.draft, t.now)


async def arm_expiry(tx: Tx, services: Services, draft: Draft, now: datetime) -> None:
    """Schedule the expiry of this version of a chat's draft (DRAFT_EXPIRY_HOURS after its last answer).
    Every kind of draft expires: an unanswered "why escalate?" must not swallow a message a day later."""
    due = now + timedelta(hours=services.settings.draft_expiry_hours)
    await tx.schedule_timer(
        DRAFT_EXPIRY,
        due,
        payload={"chat_id": draft.chat_id, "version": draft.version},
        dedupe_key=f"draft_expiry:{draft.chat_id}:{draft.version}",
    )


async def _finish(t: ClientTurn, state: IntakeState, *, lang: str, version: int, renderer: Renderer) -> None:
    """Persist what step() decided: the next draft, the ticket, or the end of the draft."""
    assert t.profile is not None
    if state.status is Status.ACTIVE:
        await _save(t, lang, state, version)
        return
    if version:
        await t.tx.delete_draft(t.chat_id)
        t.draft = None
    if state.status is Status.CONFIRMED:
        await open_ticket(
            t.tx, t.services, t.box, t.profile, state, chat_id=t.chat_id, user_id=t.user_id, renderer=renderer,
            now=t.now,
        )  # fmt: skip
    elif state.status is Status.REFUSED and state.refusal in _SALES_REASONS:
        await _notify_sales(t.tx, t.services, t.profile, state.refusal, t.now)
    await t.tx.append_audit(
        None,
        at=t.now,
        actor_kind="client",
        actor_id=str(t.user_id),
        action=f"intake_{state.status.value}",
        data={"refusal": state.refusal, "step": state.step.value},
    )


async def _notify_sales(tx: Tx, services: Services, profile: Profile, reason: str, now: datetime) -> None:
    """P-POL-3 / P-POL-7: sales hears about a client who could not get support, through the outbox."""
    cat = services.catalogue
    text = cat.render(
        AGENT_LANGUAGE,
        "sales.refused_notice",
        {
            "client": profile.client.name,
            "contact": profile.contact.name,
            "phone": profile.contact.phone or "—",
            "contract": profile.contract.number if profile.contract is not None else "—",
            "reason": cat.plain(AGENT_LANGUAGE, f"sales.reason.{reason}"),
        },
        escape_mrkdwn,
    )
    await outbox.slack_channel(tx, services.settings.slack_support_channel, text, at=now)


async def begin(t: ClientTurn, *, fresh: bool = False) -> None:
    """Start a report: the contract is checked first (P-POL-2/3/7); per-event asks the purchase order."""
    if t.profile is None:
        await unknown_user(t)
        return
    if t.draft_kind == INTAKE and not fresh:
        await _reprompt(t)
        return
    if t.draft is not None:
        await t.tx.delete_draft(t.chat_id)
        t.draft = None
    state, outs = flow.start(_context(t.services, t.profile, t.now))
    renderer = t.renderer()
    await _emit(t, renderer, outs)
    await _finish(t, state, lang=t.lang, version=0, renderer=renderer)


async def _reprompt(t: ClientTurn) -> None:
    """Ask the pending question of the chat's intake again."""
    assert t.profile is not None and t.draft is not None
    state = IntakeState.from_data(t.draft.data["intake"])
    renderer = t.renderer(t.draft.language)
    await t.say(prompt(state, _context(t.services, t.profile, t.now)), renderer=renderer)


def stale_choice(t: ClientTurn, data: str) -> bool:
    """Whether an intake button ("i:<seq>:…") belongs to a question already answered or an intake that is over:
    it gets a toast, not the question again."""
    if t.draft is None or t.draft_kind != INTAKE:
        return True
    seq = data.split(":", 2)[1] if data.count(":") >= 2 else ""
    return seq != str(IntakeState.from_data(t.draft.data["intake"]).seq)


async def answer(t: ClientTurn, event: Input) -> bool:
    """One client input to the intake in progress: step(), then the draft, replies and ticket.
    Returns: False when the chat has no intake in progress (nothing was written: the entry routes on)."""
    draft = t.draft
    if draft is None or t.draft_kind != INTAKE:
        return False
    if t.profile is None:
        return True  # unlinked meanwhile: the intake cannot go on, and says nothing
    state = IntakeState.from_data(draft.data["intake"])
    if isinstance(event, Command) and state.step in SECRET_STEPS:
        event = Text(event.text, event.message_id)
    if isinstance(event, Text) and state.step in SECRET_STEPS:
        # P-IN-3: the password never rests in clear, not even in the draft.
        blank = not event.text.strip()
        event = Secret(t.box.encrypt(event.text) if not blank else "", event.message_id, empty=blank)
    lang = draft.language or t.lang
    renderer = t.renderer(lang)
    new_state, outs = flow.step(state, event, _context(t.services, t.profile, t.now))
    await _emit(t, renderer, outs)
    await _finish(t, new_state, lang=lang, version=draft.version, renderer=renderer)
    return True


async def resume(t: ClientTurn, *, fresh: bool) -> None:
    """The greeting's "continue" (ask the pending question again) or "start again" (a new draft)."""
    if fresh:
        await begin(t, fresh=True)
    elif t.profile is not None and t.draft_kind == INTAKE:
        await _reprompt(t)


async def cancel(t: ClientTurn) -> bool:
    """`/cancelar`: drop whatever the chat had in progress. Returns: whether there was something."""
    if t.draft is not None and t.draft_kind == INTAKE:
        # A report left unfinished, as the intake's own Cancel button records it (the metrics count both).
        await t.tx.append_audit(
            None,
            at=t.now,
            actor_kind="client",
            actor_id=str(t.user_id),
            action=f"intake_{Status.CANCELLED.value}",
            data={"refusal": None, "step": t.draft.step, "via": "command"},
        )
    had = await t.tx.delete_draft(t.chat_id)
    t.draft = None
    key = "commands.cancel_done" if had else "commands.cancel_nothing"
    await t.say(Reply((Msg(key),)), renderer=Renderer.for_services(t.services, t.lang))
    return had


def register_timers(scheduler: Scheduler, services: Services) -> None:
    """Abandoned drafts expire after DRAFT_EXPIRY_HOURS with a message to the client."""

    async def expire(tx: Tx, timer: Timer) -> None:
        chat_id = int(timer.payload["chat_id"])
        draft = await tx.get_draft(chat_id)
        if draft is None or draft.version != timer.payload.get("version"):
            return  # answered since (a newer timer watches it) or already gone
        now = services.clock()
        await tx.delete_draft(chat_id)
        if draft.data.get("kind") != INTAKE:
            return  # a pending question (escalation reason, which ticket) just lapses
        renderer = Renderer.for_services(services, draft.language)
        await send(tx, chat_id, renderer, Reply((Msg("intake.draft_expired"),)), now)
        await tx.append_audit(
            None,
            at=now,
            actor_kind="system",
            actor_id="scheduler",
            action="draft_expired",
            data={"chat_id": chat_id, "step": draft.step},
        )

    scheduler.register(DRAFT_EXPIRY, expire)
