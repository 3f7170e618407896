"""The intake's detail steps: description (P-IN-2), since when, files, access (P-IN-3/4/5), the summary."""

from __future__ import annotations

import re

from bot.conversation import prompts as p
from bot.conversation.model import (
    Delete,
    Document,
    Input,
    IntakeContext,
    IntakeState,
    Msg,
    Photo,
    Reply,
    Secret,
    Status,
    Step,
    Text,
)
from bot.conversation.moves import Bad, Handler, Result, choice_of, go, refusal_msg, refused, text_of
from bot.conversation.prompts import prompt
from bot.domain.contracts import purchase_order_key
from bot.domain.entitlement import decide_entitlement
from bot.domain.remote_access import normalize_teamviewer_id
from bot.domain.since import parse_since, says_future

_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def description(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 4 (P-IN-2): what happens, detailed enough to act on; long messages kept whole."""
    if choice_of(event) == p.OK and state.description:
        return _check_description(state, ctx)
    text = text_of(event)
    if not text:
        return Bad(Msg("bad_input.expected_text"))
    whole = f"{state.description}\n{text}" if state.description else text
    if len(whole) > ctx.max_description_chars:
        return Bad(Msg("intake.description.too_long"))
    if len(text) >= ctx.split_hint_chars:
        # The Telegram app splits a long message: keep every part, ask for the rest or "continue".
        kept = state.with_(description=whole, seq=state.seq + 1)
        return kept, [prompt(kept, ctx)]
    return _check_description(state.with_(description=whole), ctx)


def _check_description(state: IntakeState, ctx: IntakeContext) -> Result | Bad:
    words = state.description.split()
    if len(state.description) < ctx.min_description_chars or len(words) < ctx.min_description_words:
        return Bad(Msg("intake.description.too_thin"))  # P-IN-2: detailed enough to act on
    return go(state, ctx, Step.SINCE)


def since(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 4b: since when, in free Spanish or English; asks again when unsure."""
    if choice_of(event) == p.DONT_KNOW:
        return go(state, ctx, Step.ATTACHMENTS, since_at=None, since_precision=None, since_text=None)
    text = text_of(event)
    if not text:
        return Bad(Msg("bad_input.expected_text"))
    understood = parse_since(text, ctx.now, ctx.tz)
    if understood is None:
        # "mañana" is understood, but a problem cannot start in the future: say that, not "I did not understand".
        return Bad(Msg("intake.since.future" if says_future(text, ctx.now, ctx.tz) else "intake.since.not_understood"))
    return go(
        state,
        ctx,
        Step.ATTACHMENTS,
        [Msg("intake.since.confirm", {"when": understood})],
        since_at=understood.instant.isoformat(),
        since_precision=understood.precision.value,
        since_part=understood.part.value if understood.part else None,
        since_text=understood.text,
    )


def attachments(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 5: photos and files (several), the getFile limit told; optional for severity 4."""
    if choice_of(event) == p.OK:
        if not state.attachments and not state.links and (state.severity or 4) < 4 and not state.nudged:
            # P-IN-2 asks for images; optional only for severity 4, so ask once more before going on.
            nudged = state.with_(nudged=True, seq=state.seq + 1)
            again = prompt(nudged, ctx)
            return nudged, [Reply((Msg("intake.attachments.nudge"), *again.lines), again.buttons)]
        return go(state, ctx, Step.ACCESS)
    if isinstance(event, Text):
        links = tuple(_URL.findall(event.text))
        if not links:
            return Bad(Msg("bad_input.expected_photo"))
        kept = state.with_(links=(*state.links, *links), seq=state.seq + 1)
        return kept, [prompt(kept, ctx)]
    if not isinstance(event, Photo | Document):
        return Bad(Msg("bad_input.expected_photo"))
    if len(state.attachments) >= ctx.max_attachments:
        return Bad(Msg("intake.attachments.too_many", {"max_count": ctx.max_attachments}))
    if event.size is not None and event.size > ctx.max_file_bytes:
        size_mb = f"{event.size / (1024 * 1024):.1f}"
        return Bad(Msg("intake.attachments.too_big", {"size_mb": size_mb, "max_mb": ctx.max_file_bytes // 2**20}))
    if isinstance(event, Photo):
        row: tuple[str, str, str | None, int | None, str | None] = ("photo", event.file_id, None, event.size, None)
    else:
        row = ("document", event.file_id, event.name, event.size, event.mime)
    kept = state.with_(attachments=(*state.attachments, row), seq=state.seq + 1)
    caption = (event.caption or "").strip()
    if caption and len(kept.description) + len(caption) < ctx.max_description_chars:
        # Words typed with a file belong to the report; they reach the consultant with the description.
        kept = kept.with_(description=f"{kept.description}\n📎 {caption}")
    return kept, [prompt(kept, ctx)]


def access(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 6: remote access (P-IN-3) or an on-site visit (P-IN-5)."""
    action = choice_of(event)
    if action == p.REMOTE:
        return go(state, ctx, Step.TV_ID, access="remote", onsite_address=None, onsite_contact=None, onsite_rules=None)
    if action == p.ONSITE:
        return go(
            state,
            ctx,
            Step.ONSITE_ADDRESS,
            access="onsite",
            teamviewer_id=None,
            tv_password=None,
            equipment_password=None,
        )
    return Bad(Msg("bad_input.expected_choice"))


def tv_id(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 6: the TeamViewer ID, validated (P-IN-3)."""
    text = text_of(event)
    tv_id = normalize_teamviewer_id(text) if text else None
    if tv_id is None:
        return Bad(Msg("intake.access.teamviewer_id_invalid"))
    return go(state, ctx, Step.TV_PASSWORD, teamviewer_id=tv_id)


def _stored(
    state: IntakeState, event: Input, ctx: IntakeContext, target: Step, field: str, *, remote: bool = False
) -> Result | Bad:
    if not isinstance(event, Secret):
        return Bad(Msg("bad_input.expected_text"))
    if event.empty:
        return Bad(Msg("intake.access.password_empty"))
    # P-IN-3: the message is deleted once stored encrypted; P-IN-4: do not use the machine meanwhile, said
    # once, with the remote-access password (the equipment's own password is no second remote session).
    # The notice heads the next question's message: one message less for the client to read.
    notice = [Msg("intake.access.stored_and_deleted")]
    if remote:
        notice.append(Msg("intake.access.do_not_use"))
    moved, replies = go(state, ctx, target, notice, **{field: event.token})
    return moved, [Delete(event.message_id), *replies]


def tv_password(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 6: the TeamViewer password, kept encrypted, its message deleted (P-IN-3/4)."""
    return _stored(state, event, ctx, Step.EQUIPMENT_QUESTION, "tv_password", remote=True)


def equipment_question(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 6: does the equipment have a password of its own (P-IN-3)?"""
    action = choice_of(event)
    if action == p.YES:
        return go(state, ctx, Step.EQUIPMENT_PASSWORD)
    if action == p.NO:
        return go(state, ctx, Step.SUMMARY, equipment_password=None)
    return Bad(Msg("bad_input.expected_choice"))


def equipment_password(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 6: the equipment password, kept encrypted, its message deleted (P-IN-3)."""
    return _stored(state, event, ctx, Step.SUMMARY, "equipment_password")


def free_text(target: Step, field: str, minimum: int = 3) -> Handler:
    def handle(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
        text = text_of(event)
        if not text or len(text) < minimum:
            return Bad(Msg("bad_input.expected_text"))
        return go(state, ctx, target, **{field: text[:1000]})

    return handle


def onsite_rules(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 6, on site (P-IN-5): the access rules; warns that a refused visit counts as given."""
    # P-IN-5: access rules before the visit; a refused visit counts as given. P-POL-6: travel costs.
    notes = [Msg("intake.onsite.rules_warning"), Msg("intake.onsite.travel_costs")]
    if choice_of(event) == p.RULES_NONE:
        return go(state, ctx, Step.SUMMARY, notes, onsite_rules="")
    text = text_of(event)
    if not text:
        return Bad(Msg("bad_input.expected_text"))
    return go(state, ctx, Step.SUMMARY, notes, onsite_rules=text[:1000])


def _event_taken(state: IntakeState, ctx: IntakeContext) -> Result | None:
    """R-EVENT: between the purchase order and the confirmation, another report (a colleague's) may have taken
    the per-event contract or used the same order: checked again, so no second ticket is opened."""
    if not state.charged or state.purchase_order is None or ctx.contract is None:
        return None
    decision = decide_entitlement(
        ctx.contract, None, ctx.today, fails_documented_spec=False, purchase_order=state.purchase_order,
        rules=ctx.tiers,
    )  # fmt: skip
    if not decision.allowed and decision.reason is not None:
        return refused(state, decision.reason.value, [refusal_msg(decision.reason, ctx)])
    used_by = ctx.used_purchase_orders.get(purchase_order_key(state.purchase_order))
    if used_by is None:
        return None
    said = Msg("contract.purchase_order_used", {"purchase_order": state.purchase_order, "ticket": used_by})
    return refused(state, "purchase_order_used", [said])


def summary(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 7: confirm, or edit one section and come back here."""
    action = choice_of(event)
    trail = (*state.trail, Step.SUMMARY.value)
    if action == p.OK:
        return _event_taken(state, ctx) or (state.with_(status=Status.CONFIRMED, seq=state.seq + 1), [])
    edits = {p.EDIT_SERVICE: Step.AREA, p.EDIT_DESCRIPTION: Step.DESCRIPTION, p.EDIT_ACCESS: Step.ACCESS}
    if action in edits:
        target = edits[action]
        moved = state.with_(step=target, seq=state.seq + 1, trail=trail, editing=True)
        if target is Step.DESCRIPTION:
            moved = moved.with_(description="")
        return moved, [prompt(moved, ctx)]
    return Bad(Msg("bad_input.expected_choice"))
