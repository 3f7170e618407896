"""The intake's pure transition function: step(state, input, ctx) -> (next state, what to answer)."""

from __future__ import annotations

import re

from bot.conversation import details as d
from bot.conversation import prompts as p
from bot.conversation import triage as tr
from bot.conversation.model import (
    Choice,
    Command,
    Document,
    Input,
    IntakeContext,
    IntakeState,
    Media,
    Msg,
    Photo,
    Reply,
    Status,
    Step,
    Text,
)
from bot.conversation.moves import Bad, Handler, Result, choice_of, go, refusal_msg, refused, text_of
from bot.conversation.prompts import prompt
from bot.domain.contracts import purchase_order_key
from bot.domain.entitlement import RefusalReason, decide_entitlement, warranty_candidates
from bot.domain.scope import check_scope
from bot.domain.types import ExcludedTopic, ServiceArea

__all__ = ["Bad", "start", "step"]

_CHOICE = re.compile(r"^i:(\d{1,9}):([a-z_.]{1,32}|p\.\d{1,12})$")
_PURCHASE_ORDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/\-]{1,39}$")
_BUTTON_STEPS = frozenset(
    {
        Step.AREA,
        Step.EXCLUDED,
        Step.PRODUCT,
        Step.TRIAGE_DOWN,
        Step.TRIAGE_KIND,
        Step.TRIAGE_IMPACT,
        Step.TRIAGE_DOCUMENTED,
        Step.TRIAGE_REACH,
        Step.TRIAGE_BUSINESS,
        Step.TRIAGE_CAUSE,
        Step.ACCESS,
        Step.EQUIPMENT_QUESTION,
        Step.SUMMARY,
    }
)


# --- starting -----------------------------------------------------------------------------------
def start(ctx: IntakeContext) -> Result:
    """A new intake: the contract is checked before any question (P-POL-2/3/7, P-POL-1, R-EVENT). Without an
    open contract route, a client with a product in warranty still takes the free route (R-WARRANTY)."""
    state = IntakeState()
    decision = decide_entitlement(
        ctx.contract, None, ctx.today, fails_documented_spec=False, purchase_order=None, rules=ctx.tiers
    )
    per_event = ctx.contract is not None and ctx.tiers[ctx.contract.tier].needs_purchase_order
    # P-POL-1: every per-event report names its purchase order (checked against the one on file, if any).
    if decision.reason is RefusalReason.PURCHASE_ORDER_REQUIRED or (decision.allowed and per_event):
        state = state.with_(step=Step.PURCHASE_ORDER)
        return state, [prompt(state, ctx)]
    if not decision.allowed and decision.reason is not None:
        if warranty_candidates((o.product for o in ctx.products), ctx.today):
            # R-WARRANTY: "Soporte Técnico gratuito ... y Soporte Técnico que derive de ... las pólizas".
            state = state.with_(warranty_only=True, contract_refusal=decision.reason.value)
            ask = prompt(state, ctx)
            return state, [Reply((Msg("intake.warranty.only"), *ask.lines), ask.buttons)]
        return refused(state, decision.reason.value, [refusal_msg(decision.reason, ctx)])
    return state, [prompt(state, ctx)]


# --- the one entry point ------------------------------------------------------------------------
def step(state: IntakeState, event: Input, ctx: IntakeContext) -> Result:
    """The next state and the replies for one client input; a bad input repeats the step with a hint."""
    if state.status is not Status.ACTIVE:
        return state, []
    if isinstance(event, Choice):
        parsed = _CHOICE.match(event.data)
        if parsed is None:
            return _repeat(state, ctx, Msg("bad_input.expected_choice"))
        if int(parsed.group(1)) != state.seq:
            return _repeat(state, ctx, Msg("bad_input.old_button"))
        action = parsed.group(2)
        if action == p.CANCEL:
            return state.with_(status=Status.CANCELLED), [Reply((Msg("intake.cancelled"),))]
        if action == p.BACK:
            return _back(state, ctx)
        event = Choice(action)
    elif isinstance(event, Media):
        key = {"sticker": "bad_input.sticker", "voice": "bad_input.voice"}.get(event.kind)
        if key is None:
            key = "bad_input.expected_choice" if state.step in _BUTTON_STEPS else "bad_input.expected_text"
        return _repeat(state, ctx, Msg(key))
    elif isinstance(event, Command):
        return _repeat(state, ctx, Msg("bad_input.unknown_command"))
    elif isinstance(event, Text) and state.step in _BUTTON_STEPS:
        return _repeat(state, ctx, Msg("bad_input.expected_choice"))
    elif isinstance(event, Photo | Document) and state.step is not Step.ATTACHMENTS:
        key = "bad_input.expected_choice" if state.step in _BUTTON_STEPS else "bad_input.expected_text"
        return _repeat(state, ctx, Msg(key))
    result = HANDLERS[state.step](state, event, ctx)
    if isinstance(result, Bad):
        return _repeat(state, ctx, result.msg)
    return result


def _repeat(state: IntakeState, ctx: IntakeContext, msg: Msg) -> Result:
    again = prompt(state, ctx)
    return state, [Reply((msg, *again.lines), again.buttons)]


def _back(state: IntakeState, ctx: IntakeContext) -> Result:
    if not state.trail:
        return _repeat(state, ctx, Msg("menu.prompt"))
    previous = state.with_(step=Step(state.trail[-1]), trail=state.trail[:-1], seq=state.seq + 1)
    return previous, [prompt(previous, ctx)]


# --- the steps ----------------------------------------------------------------------------------
def _purchase_order(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """P-POL-1: the per-event purchase order, checked against the one on file."""
    text = text_of(event)
    if text is None:
        return Bad(Msg("bad_input.expected_text"))
    if not _PURCHASE_ORDER.match(text):
        return Bad(Msg("contract.purchase_order_format"))  # it was text: say what a purchase order looks like
    on_file = ctx.contract.purchase_order if ctx.contract is not None else None
    if on_file and purchase_order_key(on_file) != purchase_order_key(text):
        return Bad(Msg("contract.purchase_order_invalid"))
    used_by = ctx.used_purchase_orders.get(purchase_order_key(text))
    if used_by is not None:  # R-EVENT: an order covers one ticket, never a second
        return Bad(Msg("contract.purchase_order_used", {"purchase_order": text, "ticket": used_by}))
    return go(state, ctx, Step.AREA, purchase_order=text)


def _area(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 1 (P-SCOPE-1): the service area, or "another topic"."""
    action = choice_of(event) or ""
    if action == p.AREA_OTHER:
        return go(state, ctx, Step.EXCLUDED)
    area = action.removeprefix("a.")
    if not action.startswith("a.") or area not in ServiceArea.__members__.values():
        return Bad(Msg("bad_input.expected_choice"))
    decision = check_scope(ServiceArea(area))  # P-SCOPE-1
    if not decision.covered:
        return refused(state, "scope", [Msg("intake.excluded.explain.third_party")], way_back=True)
    fresh = state.with_(area=area, product_id=None, product_name=None)
    if state.warranty_only and not p.products_for(fresh, ctx):
        # R-WARRANTY: without a contract, only a registered product in warranty is supported.
        return _warranty_refused(state, ctx, Msg("intake.warranty.none_here"))
    target = Step.PRODUCT if p.products_for(fresh, ctx) else Step.PRODUCT_OTHER
    return go(fresh, ctx, target)


def _excluded(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 1b (P-SCOPE-2): an excluded topic is explained with its alternative; no ticket."""
    action = choice_of(event) or ""
    if action == p.EXCLUDED_NONE:
        # The contact card is in the text already; the buttons make it no dead end.
        return refused(state, "none", [Msg("intake.excluded.none_reply")], way_back=True, reach_us=False)
    topic = action.removeprefix("x.")
    if not action.startswith("x.") or topic not in ExcludedTopic.__members__.values():
        return Bad(Msg("bad_input.expected_choice"))
    decision = check_scope(ExcludedTopic(topic))  # P-SCOPE-2: explained, alternative named, no ticket
    explain = Msg(f"intake.excluded.explain.{decision.topic.value}")
    return refused(state, f"scope:{topic}", [explain], way_back=True, excluded=topic)


def _product(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 2: a covered product; discontinued ones are refused (P-POL-7)."""
    action = choice_of(event) or ""
    if action == p.PRODUCT_OTHER:
        return go(state, ctx, Step.PRODUCT_OTHER)
    chosen = next(
        (o for o in p.offered(state, ctx) if action == f"p.{o.id}" and o.product.area.value == state.area),
        None,
    )
    if chosen is None:
        return Bad(Msg("bad_input.expected_choice"))
    decision = decide_entitlement(
        ctx.contract,
        chosen.product,
        ctx.today,
        fails_documented_spec=False,
        purchase_order=state.purchase_order,
        rules=ctx.tiers,
    )
    if decision.reason is RefusalReason.DISCONTINUED_PRODUCT:  # P-POL-7
        said = Msg("contract.refused.discontinued", {"product": chosen.product.name})
        return refused(state, decision.reason.value, [said], way_back=True, product_id=chosen.id)
    return go(state, ctx, Step.TRIAGE_DOWN, product_id=chosen.id, product_name=chosen.product.name)


def _warranty_refused(state: IntakeState, ctx: IntakeContext, why: Msg) -> Result:
    """R-WARRANTY: the free route does not cover this report and the contract route is closed: why, and the
    contract's own refusal (renewal, sales)."""
    reason = RefusalReason(state.contract_refusal or RefusalReason.NO_CONTRACT.value)
    return refused(state, reason.value, [why, refusal_msg(reason, ctx)], way_back=True)


def _product_other(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 2b: a product not on the contract, named in words."""
    text = text_of(event)
    if not text or len(text) < 2:
        return Bad(Msg("bad_input.expected_text"))
    return go(state, ctx, Step.TRIAGE_DOWN, product_id=None, product_name=text[:200])


HANDLERS: dict[Step, Handler] = {
    Step.PURCHASE_ORDER: _purchase_order,
    Step.AREA: _area,
    Step.EXCLUDED: _excluded,
    Step.PRODUCT: _product,
    Step.PRODUCT_OTHER: _product_other,
    Step.TRIAGE_DOWN: tr.triage_down,
    Step.TRIAGE_KIND: tr.triage_kind,
    Step.TRIAGE_IMPACT: tr.triage_impact,
    Step.TRIAGE_DOCUMENTED: tr.triage_documented,
    Step.TRIAGE_REACH: tr.triage_reach,
    Step.TRIAGE_BUSINESS: tr.triage_business,
    Step.TRIAGE_CAUSE: tr.triage_cause,
    Step.DESCRIPTION: d.description,
    Step.SINCE: d.since,
    Step.ATTACHMENTS: d.attachments,
    Step.ACCESS: d.access,
    Step.TV_ID: d.tv_id,
    Step.TV_PASSWORD: d.tv_password,
    Step.EQUIPMENT_QUESTION: d.equipment_question,
    Step.EQUIPMENT_PASSWORD: d.equipment_password,
    Step.ONSITE_ADDRESS: d.free_text(Step.ONSITE_CONTACT, "onsite_address", 5),
    Step.ONSITE_CONTACT: d.free_text(Step.ONSITE_RULES, "onsite_contact"),
    Step.ONSITE_RULES: d.onsite_rules,
    Step.SUMMARY: d.summary,
}
