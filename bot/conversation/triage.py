"""The impact questions of the intake (P-SLA-1..4): buttons to the domain's triage tree, then entitlement."""

from __future__ import annotations

from bot.conversation import prompts as p
from bot.conversation.model import (
    Input,
    IntakeContext,
    IntakeState,
    Msg,
    Reply,
    Status,
    Step,
)
from bot.conversation.moves import Bad, Result, choice_of, go, refusal_msg
from bot.domain.entitlement import Outcome, decide_entitlement
from bot.domain.severity import (
    BusinessSystem,
    Impact,
    Question,
    Reach,
    Symptom,
    TriageAnswers,
    next_question,
    triage_leaf,
)

_TRIAGE_STEP = {Question.REACH: Step.TRIAGE_REACH, Question.BUSINESS_SYSTEM: Step.TRIAGE_BUSINESS}
# Symptoms that mean the product fails its documented specification (P-POL-4) or is a usage question.
_SPEC_FAILURES = frozenset({Symptom.DOWN, Symptom.WORKS_INCORRECTLY, Symptom.NOT_AS_DOCUMENTED})
_USAGE = frozenset({Symptom.USAGE_QUESTION, Symptom.DOCUMENTATION})
_CLEARED = {"symptom": None, "impact": None, "reach": None, "business_system": None, "severity": None}


def triage_down(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 3 (P-SLA-1..4): is the service completely down?"""
    action = choice_of(event)
    if action == "t.down":
        return _after_triage(state.with_(**{**_CLEARED, "symptom": Symptom.DOWN.value}), ctx)
    if action == "t.wrong":
        return go(state, ctx, Step.TRIAGE_IMPACT, **_CLEARED)
    if action == "t.question":
        return go(state, ctx, Step.TRIAGE_KIND, **_CLEARED)
    return Bad(Msg("bad_input.expected_choice"))


def triage_kind(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 3, a question: usage, suggestion or documentation (P-SLA-4)."""
    action = choice_of(event) or ""
    kinds = {Symptom.USAGE_QUESTION, Symptom.SUGGESTION, Symptom.DOCUMENTATION}
    symptom = next((s for s in kinds if action == f"t.{s.value}"), None)
    if symptom is None:
        return Bad(Msg("bad_input.expected_choice"))
    return _after_triage(state.with_(symptom=symptom.value), ctx)


def triage_impact(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 3, working wrongly: how much it hurts (P-SLA-2/3)."""
    action = choice_of(event)
    if action == "t.high":
        return _after_triage(state.with_(symptom=Symptom.WORKS_INCORRECTLY.value, impact=Impact.HIGH.value), ctx)
    if action == "t.medium":
        return go(state, ctx, Step.TRIAGE_DOCUMENTED)
    return Bad(Msg("bad_input.expected_choice"))


def triage_documented(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 3, medium impact: not as documented (P-SLA-3)?"""
    action = choice_of(event)
    if action == p.YES:  # P-SLA-3: does not work as documented
        return _after_triage(state.with_(symptom=Symptom.NOT_AS_DOCUMENTED.value), ctx)
    if action == p.NO:
        return _after_triage(state.with_(symptom=Symptom.WORKS_INCORRECTLY.value, impact=Impact.MEDIUM.value), ctx)
    return Bad(Msg("bad_input.expected_choice"))


def triage_reach(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 3: how many people it affects (P-SLA-1)."""
    action = choice_of(event) or ""
    reach = next((r for r in Reach if action == f"t.{r.value}"), None)
    if reach is None:
        return Bad(Msg("bad_input.expected_choice"))
    return _after_triage(state.with_(reach=reach.value, business_system=None), ctx)


def triage_business(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 3, one person: is a business system inoperable (P-SLA-1)?"""
    action = choice_of(event)
    if action not in (p.YES, p.NO):
        return Bad(Msg("bad_input.expected_choice"))
    value = BusinessSystem.INOPERABLE if action == p.YES else BusinessSystem.WORKING
    return _after_triage(state.with_(business_system=value.value), ctx)


def _answers(state: IntakeState) -> TriageAnswers:
    return TriageAnswers(
        symptom=Symptom(state.symptom) if state.symptom else None,
        impact=Impact(state.impact) if state.impact else None,
        reach=Reach(state.reach) if state.reach else None,
        business_system=BusinessSystem(state.business_system) if state.business_system else None,
    )


def _after_triage(state: IntakeState, ctx: IntakeContext) -> Result:
    """Ask the domain tree's next question (P-SLA-1..4), or tell the severity in words and its target."""
    answers = _answers(state)
    question = next_question(answers)
    if question is not None:
        return go(state, ctx, _TRIAGE_STEP[question])
    leaf = triage_leaf(answers)
    symptom = answers.symptom
    product = next((o.product for o in ctx.products if o.id == state.product_id), None)
    decision = decide_entitlement(
        ctx.contract,
        product,
        ctx.today,
        fails_documented_spec=symptom in _SPEC_FAILURES,
        usage_question=symptom in _USAGE,
        purchase_order=state.purchase_order,
        rules=ctx.tiers,
    )
    if not decision.allowed and decision.reason is not None:
        refused = state.with_(status=Status.REFUSED, refusal=decision.reason.value)
        return refused, [Reply((refusal_msg(decision.reason, ctx),))]
    key = "intake.severity.decided_question" if leaf.severity == 4 else "intake.severity.decided"
    said = [
        Msg(key, {"severity": Msg(f"intake.severity.name.{int(leaf.severity)}"), "target": ctx.targets[leaf.severity]})
    ]
    if decision.outcome is Outcome.ALLOWED_FREE:
        said.append(Msg("intake.warranty_free"))  # P-POL-4
    return go(
        state,
        ctx,
        Step.DESCRIPTION,
        said,
        severity=int(leaf.severity),
        charged=decision.charged,
        entitlement_rule=decision.rule,
    )
