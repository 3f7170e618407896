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
from bot.services.identity import Profile, load_profile, send, unknown_user
from bot.services.intake_open import AGENT_LANGUAGE, escape_mrkdwn, open_ticket
from bot.services.intake_render import Renderer
from storage import SecretBox, StaleVersion, Tx
from storage.records import Draft, Timer

__all__ = [
    "DRAFT_EXPIRY",
    "INTAKE",
    "answer",
    "arm_expiry",
    "begin",
    "cancel",
    "draft_kind",
    "register_timers",
    "resume",
]

TELEGRAM = "telegram"
INTAKE = "intake"  # the draft's data["kind"] for an intake (other kinds: client_requests, bridge)
DRAFT_EXPIRY = "draft_expiry"
_SALES_REASONS = frozenset({"no_contract", "not_started", "expired", "hours_exhausted", "discontinued_product"})


def _context(services: Services, profile: Profile, now: datetime) -> IntakeContext:
    return IntakeContext(
        now=now,
        tz=services.settings.zone,
        contract=profile.domain_contract(),
        products=profile.options(),
        tiers=services.tiers,
        targets=services.targets,
    )


def _renderer(services: Services, profile: Profile, lang: str) -> Renderer:
    return Renderer.for_services(services, lang, client=profile.client.name, name=profile.first_name)


async def draft_kind(services: Services, chat_id: int) -> str | None:
    """What the chat's open draft is for ("intake", "escalate", "bridge"), or None: lets the adapter route."""
    async with services.store.transaction() as tx:
        draft = await tx.get_draft(chat_id)
    return None if draft is None else str(draft.data.get("kind", INTAKE))


async def _emit(tx: Tx, chat_id: int, renderer: Renderer, outs: list[Out], now: datetime) -> None:
    for out in outs:
        if isinstance(out, Delete):
            await outbox.telegram_delete(tx, chat_id, out.message_id, at=now)
        else:
            await send(tx, chat_id, renderer, out, now)


async def _save(
    tx: Tx, services: Services, chat_id: int, user_id: int, lang: str, state: IntakeState, version: int, now: datetime
) -> None:
    """Save the draft (compare-and-set) and (re)arm its expiry: a timer per answer, the newest one wins."""
    data: dict[str, Any] = {"kind": INTAKE, "intake": state.to_data()}
    draft = await tx.save_draft(
        chat_id, user_id=user_id, step=state.step.value, data=data, language=lang, at=now, expected_version=version
    )
    await arm_expiry(tx, services, draft, now)


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


async def _finish(
    tx: Tx,
    services: Services,
    box: SecretBox,
    profile: Profile,
    state: IntakeState,
    *,
    chat_id: int,
    user_id: int,
    lang: str,
    version: int,
    renderer: Renderer,
    now: datetime,
) -> None:
    """Persist what step() decided: the next draft, the ticket, or the end of the draft."""
    if state.status is Status.ACTIVE:
        await _save(tx, services, chat_id, user_id, lang, state, version, now)
        return
    if version:
        await tx.delete_draft(chat_id)
    if state.status is Status.CONFIRMED:
        await open_ticket(
            tx, services, box, profile, state, chat_id=chat_id, user_id=user_id, renderer=renderer, now=now
        )
    elif state.status is Status.REFUSED and state.refusal in _SALES_REASONS:
        await _notify_sales(tx, services, profile, state.refusal, now)
    await tx.append_audit(
        None,
        at=now,
        actor_kind="client",
        actor_id=str(user_id),
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
    await outbox.slack_channel(tx, text, at=now)


async def begin(
    services: Services,
    box: SecretBox,
    *,
    update_key: str,
    chat_id: int,
    user_id: int,
    lang: str,
    fresh: bool = False,
) -> None:
    """Start a report: the contract is checked first (P-POL-2/3/7); per-event asks the purchase order."""
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    async with services.store.transaction() as tx:
        if not await tx.mark_processed(TELEGRAM, update_key, now):
            return
        profile = await load_profile(tx, user_id, today)
        if profile is None:
            await unknown_user(tx, services, chat_id, lang)
        else:
            draft = await tx.get_draft(chat_id)
            renderer = _renderer(services, profile, lang)
            if draft is not None and draft.data.get("kind") == INTAKE and not fresh:
                await _reprompt(tx, services, profile, draft, chat_id, renderer, now)
            else:
                if draft is not None:
                    await tx.delete_draft(chat_id)
                state, outs = flow.start(_context(services, profile, now))
                await _emit(tx, chat_id, renderer, outs, now)
                await _finish(
                    tx, services, box, profile, state, chat_id=chat_id, user_id=user_id, lang=lang,
                    version=0, renderer=renderer, now=now,
                )  # fmt: skip
    services.wake_delivery()


async def _reprompt(
    tx: Tx, services: Services, profile: Profile, draft: Draft, chat_id: int, renderer: Renderer, now: datetime
) -> None:
    state = IntakeState.from_data(draft.data["intake"])
    await send(tx, chat_id, renderer, prompt(state, _context(services, profile, now)), now)


async def answer(
    services: Services,
    box: SecretBox,
    *,
    update_key: str,
    chat_id: int,
    user_id: int,
    lang: str,
    event: Input,
) -> bool:
    """One client input to the intake in progress: step(), then the draft, replies and ticket in one transaction.
    Returns: False when the chat has no intake in progress (nothing was written: the adapter routes on)."""
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    try:
        async with services.store.transaction() as tx:
            draft = await tx.get_draft(chat_id)
            if draft is None or draft.data.get("kind") != INTAKE:
                return False
            if not await tx.mark_processed(TELEGRAM, update_key, now):
                return True
            profile = await load_profile(tx, user_id, today)
            if profile is None:
                return True
            state = IntakeState.from_data(draft.data["intake"])
            if isinstance(event, Command) and state.step in SECRET_STEPS:
                event = Text(event.text, event.message_id)
            if isinstance(event, Text) and state.step in SECRET_STEPS:
                # P-IN-3: the password never rests in clear, not even in the draft.
                blank = not event.text.strip()
                event = Secret(box.encrypt(event.text) if not blank else "", event.message_id, empty=blank)
            renderer = _renderer(services, profile, draft.language or lang)
            new_state, outs = flow.step(state, event, _context(services, profile, now))
            await _emit(tx, chat_id, renderer, outs, now)
            await _finish(
                tx, services, box, profile, new_state, chat_id=chat_id, user_id=user_id,
                lang=draft.language or lang, version=draft.version, renderer=renderer, now=now,
            )  # fmt: skip
    except StaleVersion:
        # Another replica answered this chat's draft meanwhile: this update changed nothing (rolled back).
        return True
    services.wake_delivery()
    return True


async def resume(
    services: Services, box: SecretBox, *, update_key: str, chat_id: int, user_id: int, lang: str, fresh: bool
) -> None:
    """The greeting's "continue" (ask the pending question again) or "start again" (a new draft)."""
    if fresh:
        await begin(services, box, update_key=update_key, chat_id=chat_id, user_id=user_id, lang=lang, fresh=True)
        return
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    async with services.store.transaction() as tx:
        if not await tx.mark_processed(TELEGRAM, update_key, now):
            return
        profile = await load_profile(tx, user_id, today)
        draft = await tx.get_draft(chat_id)
        if profile is None or draft is None or draft.data.get("kind") != INTAKE:
            return
        await _reprompt(tx, services, profile, draft, chat_id, _renderer(services, profile, draft.language), now)
    services.wake_delivery()


async def cancel(services: Services, *, update_key: str, chat_id: int, lang: str) -> bool:
    """`/cancelar`: drop whatever the chat had in progress. Returns: whether there was something."""
    now = services.clock()
    async with services.store.transaction() as tx:
        if not await tx.mark_processed(TELEGRAM, update_key, now):
            return True
        had = await tx.delete_draft(chat_id)
        renderer = Renderer.for_services(services, lang)
        key = "commands.cancel_done" if had else "commands.cancel_nothing"
        await send(tx, chat_id, renderer, Reply((Msg(key),)), now)
    services.wake_delivery()
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
            None, at=now, actor_kind="system", actor_id="scheduler", action="draft_expired", data={"chat_id": chat_id}
        )

    scheduler.register(DRAFT_EXPIRY, expire)
