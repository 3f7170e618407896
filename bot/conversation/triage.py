"""The impact questions of the intake (P-SLA-1..4, R-SEVERITY): buttons to the domain's triage tree, then
entitlement (R-WARRANTY: for a product in warranty, whether the failure is the product's own)."""

from __future__ import annotations

from bot.conversation import prompts as p
from bot.conversation.model import (
    Input,
    IntakeContext,
    IntakeState,
    Msg,
    Step,
)
from bot.conversation.moves import Bad, Result, choice_of, go, refusal_msg, refused
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
_USAGE = frozenset({Symptom.USAGE_QUESTION, Symptom.SUGGESTION, Symptom.DOCUMENTATION})
_CLEARED = {
    "symptom": None,
    "impact": None,
    "reach": None,
    "business_system": None,
    "severity": None,
    "cause": None,
}
_CAUSES = {p.CAUSE_PRODUCT: "product", p.CAUSE_CHANGE: "change", p.CAUSE_UNSURE: "unsure"}


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


def triage_cause(state: IntakeState, event: Input, ctx: IntakeContext) -> Result | Bad:
    """Step 3, a product in warranty failing (R-WARRANTY): its own failure, or a change or a third party first?
    Misuse and third-party causes are not free ("uso incorrecto … dentro y fuera del periodo de garantía")."""
    cause = _CAUSES.get(choice_of(event) or "")
    if cause is None:
        return Bad(Msg("bad_input.expected_choice"))
    return _after_triage(state.with_(cause=cause), ctx)


def _answers(state: IntakeState) -> TriageAnswers:
    return TriageAnswers(
        symptom=Symptom(state.symptom) if state.symptom else None,
        impact=Impact(state.impact) if state.impact else None,
        reach=Reach(state.reach) if state.reach else None,
        business_system=BusinessSystem(state.business_system) if state.business_system else None,
    )


def _after_triage(state: IntakeState, ctx: IntakeContext) -> Result:
    """Ask the domain tree's next question (P-SLA-1..4), then, for a product in warranty failing, what caused it
    (R-WARRANTY); then tell the severity in words, its target and the route (free or charged), or refuse."""
    answers = _answers(state)
    question = next_question(answers)
    if question is not None:
        return go(state, ctx, _TRIAGE_STEP[question])
    leaf = triage_leaf(answers)
    symptom = answers.symptom
    product = next((o.product for o in ctx.products if o.id == state.product_id), None)
    failing = symptom in _SPEC_FAILURES  # severities 1-3: the product does not do what it should
    in_warranty = product is not None and product.in_warranty(ctx.today) and not product.discontinued
    if in_warranty and failing and state.cause is None:
        return go(state, ctx, Step.TRIAGE_CAUSE, severity=int(leaf.severity))
    decision = decide_entitlement(
        ctx.contract,
        product,
        ctx.today,
        fails_documented_spec=failing and state.cause != "change",
        usage_question=symptom in _USAGE,
        purchase_order=state.purchase_order,
        rules=ctx.tiers,
    )
    if not decision.allowed and decision.reason is not None:
        why = [refusal_msg(decision.reason, ctx)]
        if state.warranty_only:
            # R-WARRANTY: a question, a suggestion or a change is not free, and there is no contract route.
            return refused(state, decision.reason.value, [Msg("intake.warranty.not_free"), *why], way_back=True)
        return refused(state, decision.reason.value, why)
    key = "intake.severity.decided_question" if leaf.severity == 4 else "intake.severity.decided"
    said = [
        Msg(key, {"severity": Msg(f"intake.severity.name.{int(leaf.severity)}"), "target": ctx.targets[leaf.severity]})
    ]
    if decision.outcome is Outcome.ALLOWED_FREE:  # P-POL-4, R-WARRANTY
        with_contract = ctx.contract is not None and not state.warranty_only
        said.append(Msg("intake.warranty_free" if with_contract else "intake.warranty.free_no_contract"))
    elif in_warranty and failing:
        said.append(Msg("intake.warranty.charged_change"))  # R-WARRANTY: a change came first: the contract route
    return go(
        state,
        ctx,
        Step.DESCRIPTION,
        said,
        severity=int(leaf.severity),
        charged=decision.charged,
        entitlement_rule=decision.rule,
    )
